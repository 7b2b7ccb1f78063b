<?php
/*
	The tenant boundary: an admin of domain A cannot read, change or delete domain B's rows by
	editing a UUID in a URL or a form, on any page.
*/

class TenantIsolationTest extends StandinTestCase {

	/** @var array domain B's rows */
	private $b = [];

	/** @var array */
	private $domain_a;

	/** @var array */
	private $domain_b;

	protected function setUp(): void {
		$this->domain_a = $this->make_domain();
		$this->domain_b = $this->make_domain();
		$b = $this->domain_b[0];
		$this->b['provider'] = $this->insert_row('v_voice_ai_providers', ['domain_uuid' => $b, 'provider_type' => 'llm', 'provider_name' => 'openai', 'display_name' => 'B provider', 'config' => '{"api_key": "sk-secret-of-domain-b-0000"}']);
		$this->b['secretary'] = $this->insert_row('v_voice_secretaries', ['domain_uuid' => $b, 'name' => 'B secretary', 'system_prompt' => 'B private prompt']);
		$this->b['document'] = $this->insert_row('v_voice_documents', ['domain_uuid' => $b, 'file_name' => 'b-private.txt', 'storage_path' => '/nonexistent/b.txt', 'status' => 'ready', 'chunk_count' => 3]);
		$this->b['rule'] = $this->insert_row('v_voice_transfer_rules', ['domain_uuid' => $b, 'department_name' => 'B department', 'transfer_extension' => '2001']);
		$this->b['conversation'] = $this->insert_row('v_voice_conversations', ['domain_uuid' => $b, 'call_uuid' => uuid(), 'caller_id' => '5511988887777', 'summary' => 'B private summary']);
		$this->b['settings'] = $this->insert_row('v_voice_domain_settings', ['domain_uuid' => $b, 'operator_destination' => '1000']);
		$this->login($this->domain_a, 'admin');
	}

	private function assert_b_unchanged(): void {
		$tables = ['provider' => ['v_voice_ai_providers', 'provider_uuid'], 'secretary' => ['v_voice_secretaries', 'voice_secretary_uuid'],
			'document' => ['v_voice_documents', 'document_uuid'], 'rule' => ['v_voice_transfer_rules', 'transfer_rule_uuid'],
			'conversation' => ['v_voice_conversations', 'conversation_uuid'], 'settings' => ['v_voice_domain_settings', 'domain_setting_uuid']];
		foreach ($tables as $name => [$table, $key]) {
			$this->assertSame($this->b[$name], $this->fetch_row($table, $key, $this->b[$name][$key]), 'domain B '.$name.' is untouched');
		}
	}

	private function assert_no_b_data(string $html, string $where): void {
		foreach (['B provider', 'sk-secret', 'B secretary', 'B private prompt', 'b-private.txt', 'B department', '5511988887777', 'B private summary'] as $secret) {
			$this->assertStringNotContainsString($secret, $html, $where.' shows domain B data');
		}
	}

	public function test_lists_show_only_the_own_domain(): void {
		foreach (['voice_secretaries.php', 'voice_secretaries.php?show=all', 'voice_ai_providers.php', 'voice_documents.php', 'voice_transfer_rules.php', 'voice_conversations.php', 'voice_domain_settings.php'] as $page) {
			[, $html] = $this->get('/app/voice_secretary/'.$page);
			$this->assert_no_b_data($html, $page);
			$this->assertStringNotContainsString("value='1000'", $html, $page);
		}
	}

	public function test_another_domains_uuid_in_the_url_reads_nothing(): void {
		$urls = [
			'voice_secretary_edit.php?id='.$this->b['secretary']['voice_secretary_uuid'],
			'voice_ai_provider_edit.php?id='.$this->b['provider']['provider_uuid'],
			'voice_document_edit.php?id='.$this->b['document']['document_uuid'],
			'voice_transfer_rule_edit.php?id='.$this->b['rule']['transfer_rule_uuid'],
			'voice_conversation.php?id='.$this->b['conversation']['conversation_uuid'],
			'voice_documents.php?voice_secretary_uuid='.$this->b['secretary']['voice_secretary_uuid'],
		];
		foreach ($urls as $url) {
			[, $html] = $this->get('/app/voice_secretary/'.$url);
			$this->assert_no_b_data($html, $url);
		}
	}

	public function test_another_domains_uuid_in_an_edit_form_changes_nothing(): void {
		$edits = [
			['voice_secretary_edit.php', ['id' => $this->b['secretary']['voice_secretary_uuid'], 'name' => 'Hijacked', 'language' => 'pt-BR', 'rag_similarity_threshold' => '0.5', 'rag_top_k' => '3', 'max_conversation_turns' => '10', 'silence_timeout_seconds' => '8', 'silence_hangup_seconds' => '8', 'max_call_seconds' => '900']],
			['voice_ai_provider_edit.php', ['id' => $this->b['provider']['provider_uuid'], 'provider_type' => 'llm', 'provider_name' => 'openai', 'base_url' => 'http://evil.example/v1']],
			['voice_document_edit.php', ['id' => $this->b['document']['document_uuid'], 'reprocess' => 'true']],
			['voice_transfer_rule_edit.php', ['id' => $this->b['rule']['transfer_rule_uuid'], 'department_name' => 'Hijacked', 'transfer_extension' => '666', 'priority' => '1', 'fallback_action' => 'hangup']],
		];
		foreach ($edits as [$page, $fields]) {
			[, $html] = $this->submit('/app/voice_secretary/'.$page, $fields);
			$this->assert_no_b_data($html, $page);
		}
		$this->assert_b_unchanged();

		//control: the very same secretary form does save a row of the admin's own domain
		$own = $this->insert_row('v_voice_secretaries', ['domain_uuid' => $this->domain_a[0], 'name' => 'Own']);
		$fields = $edits[0][1];
		$fields['id'] = $own['voice_secretary_uuid'];
		$this->submit('/app/voice_secretary/voice_secretary_edit.php', $fields);
		$this->assertSame('Hijacked', $this->fetch_row('v_voice_secretaries', 'voice_secretary_uuid', $own['voice_secretary_uuid'])['name']);
	}

	public function test_another_domains_uuid_in_a_delete_or_reprocess_changes_nothing(): void {
		$actions = [
			['voice_secretaries.php', 'delete', 'voice_secretaries', $this->b['secretary']['voice_secretary_uuid']],
			['voice_ai_providers.php', 'delete', 'voice_ai_providers', $this->b['provider']['provider_uuid']],
			['voice_documents.php', 'delete', 'voice_documents', $this->b['document']['document_uuid']],
			['voice_documents.php', 'reprocess', 'voice_documents', $this->b['document']['document_uuid']],
			['voice_transfer_rules.php', 'delete', 'voice_transfer_rules', $this->b['rule']['transfer_rule_uuid']],
		];
		foreach ($actions as [$page, $action, $list, $uuid]) {
			$this->submit('/app/voice_secretary/'.$page, ['action' => $action, $list => [['checked' => 'true', 'uuid' => $uuid]]]);
		}
		$this->assert_b_unchanged();
	}

	public function test_a_form_cannot_attach_another_domains_provider_or_secretary(): void {
		$fields = ['name' => 'Mine', 'language' => 'pt-BR', 'llm_provider_uuid' => $this->b['provider']['provider_uuid'], 'rag_similarity_threshold' => '0.5',
			'rag_top_k' => '3', 'max_conversation_turns' => '10', 'silence_timeout_seconds' => '8', 'silence_hangup_seconds' => '8', 'max_call_seconds' => '900'];
		[, $html] = $this->submit('/app/voice_secretary/voice_secretary_edit.php', $fields);
		$this->assertStringContainsString("id='form_errors'", $html);
		$statement = $this->pdo()->prepare("select count(*) from v_voice_secretaries where llm_provider_uuid = ?");
		$statement->execute([$this->b['provider']['provider_uuid']]);
		$this->assertSame(0, (int) $statement->fetchColumn());

		[, $html] = $this->submit('/app/voice_secretary/voice_transfer_rule_edit.php', ['department_name' => 'Mine', 'transfer_extension' => '2002', 'priority' => '1',
			'fallback_action' => 'message', 'voice_secretary_uuid' => $this->b['secretary']['voice_secretary_uuid']]);
		$this->assertStringContainsString("id='form_errors'", $html);
		$statement = $this->pdo()->prepare("select count(*) from v_voice_transfer_rules where voice_secretary_uuid = ?");
		$statement->execute([$this->b['secretary']['voice_secretary_uuid']]);
		$this->assertSame(0, (int) $statement->fetchColumn(), 'no rule points at domain B\'s secretary');
		$this->assert_b_unchanged();
	}

	public function test_the_store_itself_refuses_another_domains_rows(): void {
		$store = new voice_tenant_store(new class($this->pdo()) {
			private $pdo;
			public function __construct($pdo) { $this->pdo = $pdo; }
			public function select($sql, $p = null, $t = 'all') { return $this->execute($sql, $p, $t); }
			public function execute($sql, $p = null, $t = 'all') {
				$s = $this->pdo->prepare($sql); $s->execute($p ?? []);
				if ($s->columnCount() === 0) { return true; }
				return $t === 'row' ? ($s->fetch(PDO::FETCH_ASSOC) ?: []) : ($t === 'column' ? $s->fetchColumn() : $s->fetchAll(PDO::FETCH_ASSOC));
			}
		}, $this->make_domain()[0]);
		$uuid = $this->b['secretary']['voice_secretary_uuid'];
		$this->assertNull($store->find('v_voice_secretaries', $uuid));
		$this->assertFalse($store->update('v_voice_secretaries', $uuid, ['name' => 'Hijacked']));
		$this->assertFalse($store->delete('v_voice_secretaries', $uuid));
		$this->assertSame([], $store->all('v_voice_secretaries'));
		$this->assertNull($store->find('v_voice_secretaries', "' or 1=1 --"));
		$this->assert_b_unchanged();
	}
}
