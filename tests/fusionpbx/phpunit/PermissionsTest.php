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
