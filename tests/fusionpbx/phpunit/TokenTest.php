<?php
/*
	Every state-changing POST needs the form's token: without it (or with a forged one) nothing is
	written.
*/

class TokenTest extends StandinTestCase {

	public function test_posts_without_a_valid_token_change_nothing(): void {
		$redis = new voice_redis_client(STANDIN_REDIS_URL);
		$redis->command(['DEL', 'documents']);
		$domain = $this->make_domain();
		$secretary = $this->insert_row('v_voice_secretaries', ['domain_uuid' => $domain[0], 'name' => 'Ana']);
		$provider = $this->insert_row('v_voice_ai_providers', ['domain_uuid' => $domain[0], 'provider_type' => 'tts', 'provider_name' => 'offline']);
		$document = $this->insert_row('v_voice_documents', ['domain_uuid' => $domain[0], 'file_name' => 'a.txt', 'storage_path' => '/nonexistent/a.txt', 'status' => 'failed', 'error_message' => 'no text']);
		$rule = $this->insert_row('v_voice_transfer_rules', ['domain_uuid' => $domain[0], 'department_name' => 'Vendas', 'transfer_extension' => '2001']);
		$rows = [['v_voice_secretaries', 'voice_secretary_uuid', $secretary], ['v_voice_ai_providers', 'provider_uuid', $provider],
			['v_voice_documents', 'document_uuid', $document], ['v_voice_transfer_rules', 'transfer_rule_uuid', $rule]];
		$upload = tempnam(STANDIN_TMP, 'upload');
		file_put_contents($upload, "Horário: 8h às 18h.\n");
		$this->login($domain, 'admin');
		//every POST handler of the app: [page, fields, files]
		$attempts = [
			['voice_secretary_edit.php', ['name' => 'Forged', 'language' => 'pt-BR'], []],
			['voice_ai_provider_edit.php', ['provider_type' => 'llm', 'provider_name' => 'openai', 'enabled' => 'true'], []],
			['voice_transfer_rule_edit.php', ['department_name' => 'Forged', 'transfer_extension' => '2001'], []],
			['voice_domain_settings.php', ['operator_destination' => '9999'], []],
			['voice_document_edit.php', [], ['document' => [$upload, 'forged.txt']]],
			['voice_document_edit.php', ['id' => $document['document_uuid'], 'reprocess' => 'true'], []],
			['voice_secretaries.php', ['action' => 'delete', 'voice_secretaries' => [['checked' => 'true', 'uuid' => $secretary['voice_secretary_uuid']]]], []],
			['voice_ai_providers.php', ['action' => 'delete', 'voice_ai_providers' => [['checked' => 'true', 'uuid' => $provider['provider_uuid']]]], []],
			['voice_documents.php', ['action' => 'delete', 'voice_documents' => [['checked' => 'true', 'uuid' => $document['document_uuid']]]], []],
			['voice_documents.php', ['action' => 'reprocess', 'voice_documents' => [['checked' => 'true', 'uuid' => $document['document_uuid']]]], []],
			['voice_transfer_rules.php', ['action' => 'delete', 'voice_transfer_rules' => [['checked' => 'true', 'uuid' => $rule['transfer_rule_uuid']]]], []],
		];
		foreach ([[], ['token_00000000' => str_repeat('0', 64)]] as $forged) {
			foreach ($attempts as [$page, $fields, $files]) {
				[, $html] = $this->post('/app/voice_secretary/'.$page, $fields + $forged, $files);
				$this->assertStringContainsString('Invalid Token', $html, $page);
			}
		}
		$count = function (string $table) use ($domain): int {
			$statement = $this->pdo()->prepare("select count(*) from ".$table." where domain_uuid = ?");
			$statement->execute([$domain[0]]);
			return (int) $statement->fetchColumn();
		};
		foreach ($rows as [$table, $key, $row]) {
			$this->assertSame(1, $count($table), $table);
			$this->assertSame($row, $this->fetch_row($table, $key, $row[$key]), $table.' is unchanged');
		}
		$this->assertSame(0, $count('v_voice_domain_settings'));
		$this->assertSame([], glob(STANDIN_TMP.'/uploads/'.$domain[0].'/*') ?: [], 'no file was stored');
		$this->assertSame(0, $redis->command(['LLEN', 'documents']), 'no task was queued');
	}

	public function test_a_token_from_another_page_is_refused(): void {
		$domain = $this->make_domain();
		$this->login($domain, 'admin');
		[, $html] = $this->get('/app/voice_secretary/voice_ai_provider_edit.php');
		$token = $this->token($html);
		[, $html] = $this->post('/app/voice_secretary/voice_secretary_edit.php', ['name' => 'X', 'language' => 'pt-BR', $token[0] => $token[1]]);
		$this->assertStringContainsString('Invalid Token', $html);
		$this->assertNull($this->fetch_row('v_voice_secretaries', 'domain_uuid', $domain[0]));
	}
}
