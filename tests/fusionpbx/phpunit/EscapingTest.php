<?php
/*
	Everything a page prints from the database is escaped: markup stored in any text column comes
	back as text, never as HTML.
*/

class EscapingTest extends StandinTestCase {

	const evil = '<script>alert("x")</script><img src=x onerror=alert(1)>';

	public function test_stored_markup_is_printed_as_text_on_every_page(): void {
		$domain = $this->make_domain();
		$d = $domain[0];
		$secretary = $this->insert_row('v_voice_secretaries', ['domain_uuid' => $d, 'name' => self::evil, 'description' => self::evil, 'system_prompt' => self::evil, 'extension' => '8100']);
		$provider = $this->insert_row('v_voice_ai_providers', ['domain_uuid' => $d, 'provider_type' => 'llm', 'provider_name' => 'openai', 'display_name' => self::evil, 'config' => json_encode(['model' => self::evil, 'extra' => self::evil])]);
		$document = $this->insert_row('v_voice_documents', ['domain_uuid' => $d, 'file_name' => self::evil, 'storage_path' => '/nonexistent', 'status' => 'failed', 'error_message' => self::evil]);
		$rule = $this->insert_row('v_voice_transfer_rules', ['domain_uuid' => $d, 'department_name' => self::evil, 'transfer_extension' => '2001', 'keywords' => voice_tenant_store::text_array([self::evil])]);
		$conversation = $this->insert_row('v_voice_conversations', ['domain_uuid' => $d, 'call_uuid' => uuid(), 'caller_name' => self::evil, 'summary' => self::evil,
			'voice_secretary_uuid' => $secretary['voice_secretary_uuid'], 'taken_message' => json_encode(['message' => self::evil]), 'webhook_attempts' => json_encode([['error' => self::evil]])]);
		$this->insert_row('v_voice_messages', ['domain_uuid' => $d, 'conversation_uuid' => $conversation['conversation_uuid'], 'sequence' => 0, 'role' => 'user', 'content' => self::evil]);
		$this->insert_row('v_voice_messages', ['domain_uuid' => $d, 'conversation_uuid' => $conversation['conversation_uuid'], 'sequence' => 1, 'role' => 'tool', 'tool_name' => self::evil, 'tool_arguments' => json_encode(['q' => self::evil])]);
		$this->login($domain, 'admin');
		$pages = [
			'voice_secretaries.php', 'voice_secretary_edit.php?id='.$secretary['voice_secretary_uuid'],
			'voice_ai_providers.php', 'voice_ai_provider_edit.php?id='.$provider['provider_uuid'],
			'voice_documents.php', 'voice_document_edit.php?id='.$document['document_uuid'],
			'voice_transfer_rules.php', 'voice_transfer_rule_edit.php?id='.$rule['transfer_rule_uuid'],
			'voice_conversations.php', 'voice_conversation.php?id='.$conversation['conversation_uuid'],
			'voice_conversations.php?search='.urlencode(self::evil),
		];
		foreach ($pages as $page) {
			[, $html] = $this->get('/app/voice_secretary/'.$page);
			$this->assertStringNotContainsString('<script>alert', $html, $page);
			$this->assertStringNotContainsString('<img src=x', $html, $page);
			$this->assertStringContainsString('&lt;script&gt;', $html, $page.' shows the text');
		}
	}
}
