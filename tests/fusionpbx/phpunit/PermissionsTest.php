<?php
/*
	Permissions: the app declares its permissions in FusionPBX's singular form, admins get them for
	their own domain only (no *_all), and every page refuses a user without them.
*/

class PermissionsTest extends StandinTestCase {

	const pages = [
		'voice_secretaries.php', 'voice_secretary_edit.php', 'voice_ai_providers.php', 'voice_ai_provider_edit.php',
		'voice_documents.php', 'voice_document_edit.php', 'voice_transfer_rules.php', 'voice_transfer_rule_edit.php',
		'voice_conversations.php', 'voice_conversation.php', 'voice_domain_settings.php',
	];

	private function permissions(): array {
		$groups = [];
		foreach ($this->app_config()['permissions'] as $permission) {
			$groups[$permission['name']] = $permission['groups'];
		}
		return $groups;
	}

	public function test_permissions_are_declared_in_singular_form_for_every_table(): void {
		$permissions = $this->permissions();
		foreach (['voice_secretary', 'voice_ai_provider', 'voice_document', 'voice_transfer_rule'] as $prefix) {
			foreach (['view', 'add', 'edit', 'delete'] as $action) {
				$this->assertArrayHasKey($prefix.'_'.$action, $permissions);
			}
		}
		//the call handling settings: one form per domain, nothing to delete
		foreach (['view', 'add', 'edit'] as $action) {
			$this->assertArrayHasKey('voice_domain_setting_'.$action, $permissions);
		}
		//*_all for each list page that offers Show All (the call handling settings are not a list)
		foreach (['voice_secretary', 'voice_ai_provider', 'voice_document', 'voice_transfer_rule', 'voice_conversation'] as $prefix) {
			$this->assertArrayHasKey($prefix.'_all', $permissions);
		}
		$this->assertArrayHasKey('voice_conversation_view', $permissions);
	}

	public function test_every_declared_permission_is_checked_by_the_app(): void {
		$source = '';
		foreach (array_merge(glob(STANDIN_DOCROOT.'/app/voice_secretary/*.php'), glob(STANDIN_DOCROOT.'/app/voice_secretary/resources/classes/*.php')) as $file) {
			if (basename($file) !== 'app_config.php') {
				$source .= file_get_contents($file);
			}
		}
		foreach (array_keys($this->permissions()) as $name) {
			if ($name === 'voice_secretary_destinations') {
				continue; //checked by FusionPBX's destination selects (app/destinations), not by the app
			}
			$this->assertTrue(strpos($source, "'".$name."'") !== false, $name.' is declared but no page checks it');
		}
	}

	public function test_admin_gets_domain_permissions_and_only_superadmin_crosses_domains(): void {
		foreach ($this->permissions() as $name => $groups) {
			$this->assertContains('superadmin', $groups, $name);
			if (substr($name, -4) === '_all') {
				$this->assertNotContains('admin', $groups, $name.' would let an admin read other domains');
			}
			else {
				$this->assertContains('admin', $groups, $name);
			}
		}
	}

	public function test_every_page_refuses_a_user_without_permission(): void {
		$domain = $this->make_domain();
		$this->login($domain, 'user');
		foreach (self::pages as $page) {
			[, $html] = $this->get('/app/voice_secretary/'.$page);
			$this->assertSame('access denied', trim($html), $page);
			[, $html] = $this->post('/app/voice_secretary/'.$page, ['action' => 'delete', 'name' => 'x']);
			$this->assertSame('access denied', trim($html), $page.' (POST)');
		}
	}

	public function test_an_admin_who_may_only_view_can_neither_edit_nor_delete(): void {
		$domain = $this->make_domain();
		$secretary = $this->insert_row('v_voice_secretaries', ['domain_uuid' => $domain[0], 'name' => 'Ana']);
		$provider = $this->insert_row('v_voice_ai_providers', ['domain_uuid' => $domain[0], 'provider_type' => 'llm', 'provider_name' => 'openai']);
		$document = $this->insert_row('v_voice_documents', ['domain_uuid' => $domain[0], 'file_name' => 'a.txt', 'storage_path' => '/nonexistent/a.txt', 'status' => 'failed', 'error_message' => 'no text']);
		$rule = $this->insert_row('v_voice_transfer_rules', ['domain_uuid' => $domain[0], 'department_name' => 'Vendas', 'transfer_extension' => '2001']);
		$settings = $this->insert_row('v_voice_domain_settings', ['domain_uuid' => $domain[0], 'operator_destination' => '1000']);
		$rows = [['v_voice_secretaries', 'voice_secretary_uuid', $secretary], ['v_voice_ai_providers', 'provider_uuid', $provider],
			['v_voice_documents', 'document_uuid', $document], ['v_voice_transfer_rules', 'transfer_rule_uuid', $rule],
			['v_voice_domain_settings', 'domain_setting_uuid', $settings]];
		$without = [];
		foreach (['voice_secretary', 'voice_ai_provider', 'voice_document', 'voice_transfer_rule', 'voice_domain_setting'] as $prefix) {
			$without = array_merge($without, [$prefix.'_edit', $prefix.'_delete']);
		}
		$this->login($domain, 'admin', $without);

		//the lists open, without delete or re-process buttons and without edit links
		foreach (['voice_secretaries.php' => 'voice_secretary_edit.php?id=', 'voice_ai_providers.php' => 'voice_ai_provider_edit.php?id=', 'voice_transfer_rules.php' => 'voice_transfer_rule_edit.php?id=', 'voice_documents.php' => null] as $page => $edit_link) {
			[, $html] = $this->get('/app/voice_secretary/'.$page);
			$this->assertStringNotContainsString('access denied', $html, $page);
			$this->assertStringNotContainsString("id='btn_delete'", $html, $page);
			$this->assertStringNotContainsString("id='btn_reprocess'", $html, $page);
			if ($edit_link !== null) {
				$this->assertStringNotContainsString($edit_link, $html, $page);
			}
		}

		//an existing row's edit page is refused, by GET and by a POST naming the row
		foreach ([['voice_secretary_edit.php', $secretary['voice_secretary_uuid'], ['name' => 'Changed', 'language' => 'pt-BR']],
			['voice_ai_provider_edit.php', $provider['provider_uuid'], ['provider_type' => 'llm', 'provider_name' => 'openai', 'display_name' => 'Changed']],
			['voice_transfer_rule_edit.php', $rule['transfer_rule_uuid'], ['department_name' => 'Changed', 'transfer_extension' => '2001', 'priority' => '1', 'fallback_action' => 'message']]] as [$page, $uuid, $fields]) {
			[, $html] = $this->get('/app/voice_secretary/'.$page.'?id='.$uuid);
			$this->assertSame('access denied', trim($html), $page);
			[, $html] = $this->post('/app/voice_secretary/'.$page, $fields + ['id' => $uuid]);
			$this->assertSame('access denied', trim($html), $page.' (POST)');
		}

		//the pages that may be viewed ignore a save with a valid token
		[, $html] = $this->get('/app/voice_secretary/voice_document_edit.php?id='.$document['document_uuid']);
		$this->assertStringContainsString('no text', $html, 'the document page shows the failure');
		$this->assertStringNotContainsString("id='btn_save'", $html);
		$this->assertStringNotContainsString("id='btn_reprocess'", $html);
		$this->submit('/app/voice_secretary/voice_document_edit.php', ['id' => $document['document_uuid'], 'reprocess' => 'true'], [], '/app/voice_secretary/voice_document_edit.php?id='.$document['document_uuid']);
		[, $html] = $this->submit('/app/voice_secretary/voice_domain_settings.php', ['operator_destination' => '2000']);
		$this->assertSame('access denied', trim($html), 'voice_domain_settings.php (POST)');

		//deletes and re-process from the lists, with valid tokens, change nothing
		foreach ([['voice_secretaries.php', 'delete', 'voice_secretaries', $secretary['voice_secretary_uuid']],
			['voice_ai_providers.php', 'delete', 'voice_ai_providers', $provider['provider_uuid']],
			['voice_documents.php', 'delete', 'voice_documents', $document['document_uuid']],
			['voice_documents.php', 'reprocess', 'voice_documents', $document['document_uuid']],
			['voice_transfer_rules.php', 'delete', 'voice_transfer_rules', $rule['transfer_rule_uuid']]] as [$page, $action, $list, $uuid]) {
			$this->submit('/app/voice_secretary/'.$page, ['action' => $action, $list => [['checked' => 'true', 'uuid' => $uuid]]]);
		}
		foreach ($rows as [$table, $key, $row]) {
			$this->assertSame($row, $this->fetch_row($table, $key, $row[$key]), $table.' is unchanged');
		}
	}

	public function test_every_page_refuses_a_visitor_who_is_not_logged_in(): void {
		foreach (self::pages as $page) {
			[$status, $html] = $this->get('/app/voice_secretary/'.$page);
			$this->assertSame('access denied', trim($html), $page);
		}
	}

	public function test_every_page_file_checks_a_permission_before_anything_else(): void {
		foreach (self::pages as $page) {
			$source = file_get_contents(STANDIN_DOCROOT.'/app/voice_secretary/'.$page);
			$check = strpos($source, 'permission_exists(');
			$this->assertNotFalse($check, $page);
			foreach (['$_POST', '$_GET', '$_REQUEST', '$database', 'new voice_'] as $use) {
				$first = strpos($source, $use);
				if ($first !== false) {
					$this->assertLessThan($first, $check, $page.' uses '.$use.' before checking a permission');
				}
			}
		}
	}
}
