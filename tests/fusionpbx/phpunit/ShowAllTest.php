<?php
/*
	"Show All": a superadmin holding a table's *_all permission sees every domain's rows on that
	list page (with their domain), read-only, as FusionPBX's own list pages offer; an admin never
	does, whatever the URL says. Other domains' rows are never editable or deletable from a list.
*/

class ShowAllTest extends StandinTestCase {

	/** list page => [*_all permission, text of domain B's row on it] */
	const lists = [
		'voice_secretaries.php' => ['voice_secretary_all', 'B secretary'],
		'voice_ai_providers.php' => ['voice_ai_provider_all', 'B provider'],
		'voice_documents.php' => ['voice_document_all', 'b-private.txt'],
		'voice_transfer_rules.php' => ['voice_transfer_rule_all', 'B department'],
		'voice_conversations.php' => ['voice_conversation_all', '5511988887777'],
	];

	/** @var array */
	private $domain_a;

	/** @var array */
	private $domain_b;

	/** @var array domain B's rows */
	private $b = [];

	protected function setUp(): void {
		$this->domain_a = $this->make_domain();
		$this->domain_b = $this->make_domain();
		$b = $this->domain_b[0];
		$this->b['secretary'] = $this->insert_row('v_voice_secretaries', ['domain_uuid' => $b, 'name' => 'B secretary']);
		$this->b['provider'] = $this->insert_row('v_voice_ai_providers', ['domain_uuid' => $b, 'provider_type' => 'llm', 'provider_name' => 'openai', 'display_name' => 'B provider', 'config' => '{"api_key": "sk-secret-of-domain-b-0000"}']);
		$this->b['document'] = $this->insert_row('v_voice_documents', ['domain_uuid' => $b, 'voice_secretary_uuid' => $this->b['secretary']['voice_secretary_uuid'], 'file_name' => 'b-private.txt', 'storage_path' => '/nonexistent/b.txt', 'status' => 'ready']);
		$this->b['rule'] = $this->insert_row('v_voice_transfer_rules', ['domain_uuid' => $b, 'department_name' => 'B department', 'transfer_extension' => '2001']);
		$this->b['conversation'] = $this->insert_row('v_voice_conversations', ['domain_uuid' => $b, 'voice_secretary_uuid' => $this->b['secretary']['voice_secretary_uuid'], 'call_uuid' => uuid(), 'caller_id' => '5511988887777', 'summary' => 'B private summary']);
		$this->insert_row('v_voice_secretaries', ['domain_uuid' => $this->domain_a[0], 'name' => 'A secretary']);
	}

	public function test_a_superadmin_sees_every_domains_rows_read_only(): void {
		$this->login($this->domain_a, 'superadmin');
		foreach (self::lists as $page => [, $b_text]) {
			[, $html] = $this->get('/app/voice_secretary/'.$page);
			$this->assertStringNotContainsString($b_text, $html, $page.' without show=all lists only the own domain');
			$this->assertStringContainsString("id='btn_show_all'", $html, $page.' offers Show All');

			[, $html] = $this->get('/app/voice_secretary/'.$page.'?show=all');
			$this->assertStringContainsString($b_text, $html, $page.'?show=all lists domain B');
			$this->assertStringContainsString($this->domain_b[1], $html, $page.'?show=all names the domain');
			foreach (['secretary' => 'voice_secretary_uuid', 'provider' => 'provider_uuid', 'document' => 'document_uuid', 'rule' => 'transfer_rule_uuid'] as $name => $key) {
				$uuid = $this->b[$name][$key];
				$this->assertStringNotContainsString("[uuid]' value='".$uuid."'", $html, $page.': no checkbox for domain B\'s '.$name);
				$this->assertStringNotContainsString('_edit.php?id='.$uuid, $html, $page.': no edit link to domain B\'s '.$name);
			}
			$this->assertStringNotContainsString('sk-secret', $html, $page);
		}
		$this->assertStringContainsString('A secretary', $this->get('/app/voice_secretary/voice_secretaries.php?show=all')[1]);
	}

	public function test_a_superadmin_reads_another_domains_conversation_but_changes_no_row(): void {
		$this->login($this->domain_a, 'superadmin');
		[, $html] = $this->get('/app/voice_secretary/voice_conversations.php?show=all');
		$this->assertStringContainsString('voice_conversation.php?id='.$this->b['conversation']['conversation_uuid'], $html);
		[, $html] = $this->get('/app/voice_secretary/voice_conversation.php?id='.$this->b['conversation']['conversation_uuid']);
		$this->assertStringContainsString('B private summary', $html);
		$this->assertStringContainsString('B secretary', $html, 'the secretary is read in the conversation\'s domain');

		//lists and edit pages still write only the session's domain, even from a Show All page
		$before = $this->fetch_row('v_voice_transfer_rules', 'transfer_rule_uuid', $this->b['rule']['transfer_rule_uuid']);
		$this->submit('/app/voice_secretary/voice_transfer_rules.php', ['action' => 'delete', 'voice_transfer_rules' => [['checked' => 'true', 'uuid' => $this->b['rule']['transfer_rule_uuid']]]], [], '/app/voice_secretary/voice_transfer_rules.php?show=all');
		$this->assertSame($before, $this->fetch_row('v_voice_transfer_rules', 'transfer_rule_uuid', $this->b['rule']['transfer_rule_uuid']));
		[, $html] = $this->get('/app/voice_secretary/voice_secretary_edit.php?id='.$this->b['secretary']['voice_secretary_uuid']);
		$this->assertStringNotContainsString('B secretary', $html);
	}

	public function test_an_admin_never_sees_other_domains(): void {
		$this->login($this->domain_a, 'admin');
		foreach (self::lists as $page => [, $b_text]) {
			[, $html] = $this->get('/app/voice_secretary/'.$page.'?show=all');
			$this->assertStringNotContainsString($b_text, $html, $page);
			$this->assertStringNotContainsString("id='btn_show_all'", $html, $page);
		}
		[, $html] = $this->get('/app/voice_secretary/voice_conversation.php?id='.$this->b['conversation']['conversation_uuid']);
		$this->assertStringNotContainsString('B private summary', $html);
	}
}
