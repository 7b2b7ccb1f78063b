<?php
/*
	A save the database refuses is reported as an error, never as "Add/Update Completed", and
	leaves nothing half done; values longer than their column are refused with a message before
	they reach the database; an upload whose row cannot be stored leaves no file behind; an upload
	larger than PHP's post_max_size gets a clear message.

	The database refuses writes through a trigger armed on one table for one domain, so the failure
	comes from PostgreSQL itself, as a constraint or an outage would.
*/

class SaveFailureTest extends StandinTestCase {

	/** @var string[] triggers armed by the test: "trigger on table" */
	private $armed = [];

	/** From now on, every insert or update of $table rows of $domain_uuid fails in the database. */
	private function refuse_writes(string $table, string $domain_uuid): void {
		$this->pdo()->exec("create or replace function standin_refuse_write() returns trigger language plpgsql as \$\$ begin raise exception 'stand-in: write refused'; end \$\$");
		$name = 'standin_refuse_'.bin2hex(random_bytes(4));
		$this->pdo()->exec("create trigger ".$name." before insert or update on ".$table." for each row when (new.domain_uuid = '".$domain_uuid."') execute function standin_refuse_write()");
		$this->armed[] = $name." on ".$table;
	}

	/** Disarm the triggers armed so far. */
	private function disarm(): void {
		foreach ($this->armed as $trigger) {
			$this->pdo()->exec("drop trigger if exists ".$trigger);
		}
		$this->armed = [];
	}

	protected function tearDown(): void {
		$this->disarm();
		parent::tearDown();
	}

	private function assert_not_saved(string $html, string $where): void {
		$this->assertStringContainsString("id='form_errors'", $html, $where);
		$this->assertStringContainsString('Not saved: the database refused the change', $html, $where);
		$this->assertStringNotContainsString('Completed', $html, $where);
	}

	/** The fields of a valid secretary form. */
	private static function secretary_fields(array $fields): array {
		return $fields + ['language' => 'pt-BR', 'rag_similarity_threshold' => '0.5', 'rag_top_k' => '3', 'max_conversation_turns' => '10',
			'silence_timeout_seconds' => '8', 'silence_hangup_seconds' => '8', 'max_call_seconds' => '900', 'enabled' => 'true'];
	}

	public function test_a_refused_update_is_reported_as_an_error_on_every_edit_page(): void {
		$domain = $this->make_domain();
		$secretary = $this->insert_row('v_voice_secretaries', ['domain_uuid' => $domain[0], 'name' => 'Ana']);
		$provider = $this->insert_row('v_voice_ai_providers', ['domain_uuid' => $domain[0], 'provider_type' => 'llm', 'provider_name' => 'openai']);
		$rule = $this->insert_row('v_voice_transfer_rules', ['domain_uuid' => $domain[0], 'department_name' => 'Vendas', 'transfer_extension' => '2001']);
		$document = $this->insert_row('v_voice_documents', ['domain_uuid' => $domain[0], 'file_name' => 'a.txt', 'storage_path' => '/nonexistent/a.txt', 'status' => 'failed']);
		$settings = $this->insert_row('v_voice_domain_settings', ['domain_uuid' => $domain[0], 'operator_destination' => '1000']);
		foreach (['v_voice_secretaries', 'v_voice_ai_providers', 'v_voice_transfer_rules', 'v_voice_documents', 'v_voice_domain_settings'] as $table) {
			$this->refuse_writes($table, $domain[0]);
		}
		$this->login($domain, 'admin');
		$edits = [
			['voice_secretary_edit.php?id='.$secretary['voice_secretary_uuid'], self::secretary_fields(['id' => $secretary['voice_secretary_uuid'], 'name' => 'Renamed'])],
			['voice_ai_provider_edit.php?id='.$provider['provider_uuid'], ['id' => $provider['provider_uuid'], 'provider_type' => 'llm', 'provider_name' => 'openai', 'display_name' => 'Renamed', 'enabled' => 'true']],
			['voice_transfer_rule_edit.php?id='.$rule['transfer_rule_uuid'], ['id' => $rule['transfer_rule_uuid'], 'department_name' => 'Renamed', 'transfer_extension' => '2001', 'priority' => '1', 'fallback_action' => 'message', 'enabled' => 'true']],
			['voice_document_edit.php?id='.$document['document_uuid'], ['id' => $document['document_uuid'], 'reprocess' => 'true']],
			['voice_domain_settings.php', ['operator_destination' => '2000']],
		];
		foreach ($edits as [$form, $fields]) {
			$page = '/app/voice_secretary/'.explode('?', $form)[0];
			[$status, $html] = $this->submit($page, $fields, [], '/app/voice_secretary/'.$form);
			$this->assertSame(200, $status, $form);
			$this->assert_not_saved($html, $form);
		}
		$this->assertSame($secretary, $this->fetch_row('v_voice_secretaries', 'voice_secretary_uuid', $secretary['voice_secretary_uuid']));
		$this->assertSame($provider, $this->fetch_row('v_voice_ai_providers', 'provider_uuid', $provider['provider_uuid']));
		$this->assertSame($rule, $this->fetch_row('v_voice_transfer_rules', 'transfer_rule_uuid', $rule['transfer_rule_uuid']));
		$this->assertSame($document, $this->fetch_row('v_voice_documents', 'document_uuid', $document['document_uuid']));
		$this->assertSame($settings, $this->fetch_row('v_voice_domain_settings', 'domain_setting_uuid', $settings['domain_setting_uuid']));
	}

	public function test_a_refused_insert_is_reported_and_leaves_nothing_half_done(): void {
		$domain = $this->make_domain();
		$old_default = $this->insert_row('v_voice_ai_providers', ['domain_uuid' => $domain[0], 'provider_type' => 'tts', 'provider_name' => 'openai', 'is_default' => 'true']);
		$this->login($domain, 'admin');

		//the secretary row is refused: no dialplan entry either
		$this->refuse_writes('v_voice_secretaries', $domain[0]);
		[, $html] = $this->submit('/app/voice_secretary/voice_secretary_edit.php', self::secretary_fields(['name' => 'Ana', 'extension' => '8000']));
		$this->assert_not_saved($html, 'secretary');
		$this->assertStringContainsString('value="Ana"', $html, 'the form keeps what was typed');
		$this->assertNull($this->fetch_row('v_dialplans', 'domain_uuid', $domain[0]));

		//the dialplan entry is refused: the secretary row is rolled back with it
		$this->disarm();
		$this->refuse_writes('v_dialplans', $domain[0]);
		[, $html] = $this->submit('/app/voice_secretary/voice_secretary_edit.php', self::secretary_fields(['name' => 'Ana', 'extension' => '8000']));
		$this->assert_not_saved($html, 'dialplan');
		$this->assertNull($this->fetch_row('v_voice_secretaries', 'domain_uuid', $domain[0]));

		//a new default provider is refused: the old default stays the default
		$this->refuse_writes('v_voice_ai_providers', $domain[0]);
		[, $html] = $this->submit('/app/voice_secretary/voice_ai_provider_edit.php', ['provider_type' => 'tts', 'provider_name' => 'offline', 'is_default' => 'true', 'enabled' => 'true']);
		$this->assert_not_saved($html, 'provider');
		$this->assertSame($old_default, $this->fetch_row('v_voice_ai_providers', 'provider_uuid', $old_default['provider_uuid']));

		foreach ([['v_voice_transfer_rules', 'voice_transfer_rule_edit.php', ['department_name' => 'Vendas', 'transfer_extension' => '2001', 'priority' => '1', 'fallback_action' => 'message']],
			['v_voice_domain_settings', 'voice_domain_settings.php', ['operator_destination' => '2000']]] as [$table, $page, $fields]) {
			$this->refuse_writes($table, $domain[0]);
			[, $html] = $this->submit('/app/voice_secretary/'.$page, $fields);
			$this->assert_not_saved($html, $page);
			$this->assertNull($this->fetch_row($table, 'domain_uuid', $domain[0]), $page);
		}
	}

	public function test_values_longer_than_their_column_are_refused_with_a_message(): void {
		$domain = $this->make_domain();
		$this->login($domain, 'admin');
		$cases = [
			['voice_secretary_edit.php', self::secretary_fields(['name' => 'Ana', 'voice_name' => str_repeat('a', 101)]), 'Voice: at most 100 characters.', 'v_voice_secretaries'],
			['voice_secretary_edit.php', self::secretary_fields(['name' => str_repeat('n', 256)]), 'Name: at most 255 characters.', 'v_voice_secretaries'],
			['voice_secretary_edit.php', self::secretary_fields(['name' => 'Ana', 'webhook_url' => 'https://example.com/'.str_repeat('p', 490)]), 'Webhook URL (OmniPlay): at most 500 characters.', 'v_voice_secretaries'],
			['voice_ai_provider_edit.php', ['provider_type' => 'llm', 'provider_name' => 'openai', 'display_name' => str_repeat('d', 256), 'enabled' => 'true'], 'Display name: at most 255 characters.', 'v_voice_ai_providers'],
			['voice_transfer_rule_edit.php', ['department_name' => str_repeat('v', 256), 'transfer_extension' => '2001', 'priority' => '1', 'fallback_action' => 'message'], 'Department: at most 255 characters.', 'v_voice_transfer_rules'],
		];
		foreach ($cases as [$page, $fields, $message, $table]) {
			[$status, $html] = $this->submit('/app/voice_secretary/'.$page, $fields);
			$this->assertSame(200, $status, $page);
			$this->assertStringContainsString("id='form_errors'", $html, $page);
			$this->assertStringContainsString($message, $html, $page);
			$this->assertNull($this->fetch_row($table, 'domain_uuid', $domain[0]), $page);
		}
		//the limit counts characters, as PostgreSQL does: 100 accented letters are 200 bytes and fit
		[, $html] = $this->submit('/app/voice_secretary/voice_secretary_edit.php', self::secretary_fields(['name' => str_repeat('ã', 255)]));
		$this->assertStringContainsString('Add Completed', $html);
		$this->assertSame(str_repeat('ã', 255), $this->fetch_row('v_voice_secretaries', 'domain_uuid', $domain[0])['name']);
	}

	public function test_an_upload_whose_row_is_refused_leaves_no_file_and_no_task(): void {
		$redis = new voice_redis_client(STANDIN_REDIS_URL);
		$redis->command(['DEL', 'documents']);
		$domain = $this->make_domain();
		$this->refuse_writes('v_voice_documents', $domain[0]);
		$this->login($domain, 'admin');
		$file = tempnam(STANDIN_TMP, 'upload');
		file_put_contents($file, "Horário: 8h às 18h.\n");
		[, $html] = $this->submit('/app/voice_secretary/voice_document_edit.php', [], ['document' => [$file, 'faq.txt']]);
		$this->assert_not_saved($html, 'upload');
		$this->assertSame([], glob(STANDIN_TMP.'/uploads/'.$domain[0].'/*') ?: [], 'the stored file was removed');
		$this->assertSame(0, $redis->command(['LLEN', 'documents']));
	}

	public function test_an_upload_larger_than_post_max_size_gets_a_clear_message(): void {
		$domain = $this->make_domain();
		$this->login($domain, 'admin');
		$file = tempnam(STANDIN_TMP, 'upload');
		file_put_contents($file, str_repeat("texto grande\n", 200000)); //2.6 MB; the server's post_max_size is 2M
		[, $form] = $this->get('/app/voice_secretary/voice_document_edit.php');
		$token = $this->token($form);
		[$status, $html] = $this->post('/app/voice_secretary/voice_document_edit.php', [$token[0] => $token[1]], ['document' => [$file, 'big.txt']]);
		$this->assertSame(200, $status);
		$this->assertStringContainsString("id='form_errors'", $html);
		$this->assertStringContainsString('larger than this server accepts (2M)', $html);
		$this->assertNull($this->fetch_row('v_voice_documents', 'domain_uuid', $domain[0]));
	}

	public function test_php_size_settings_are_read_in_bytes(): void {
		$this->assertSame(2097152, voice_document_upload::ini_bytes('2M'));
		$this->assertSame(524288, voice_document_upload::ini_bytes('512k'));
		$this->assertSame(1073741824, voice_document_upload::ini_bytes('1G'));
		$this->assertSame(1000, voice_document_upload::ini_bytes('1000'));
	}
}
