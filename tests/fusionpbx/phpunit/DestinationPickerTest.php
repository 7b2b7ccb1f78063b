<?php
/*
	Transfer rules and the call handling settings pick their destinations from the domain's own
	FusionPBX objects: extensions (do-not-disturb shown), ring groups, call-center queues, voicemail
	boxes (*99<box>) and IVR menus, enabled ones, never another domain's. The stored value is a plain
	number the edge dials in the domain's context.
*/

class DestinationPickerTest extends StandinTestCase {

	private function fill(array $domain): void {
		$d = $domain[0];
		$this->insert_row('v_extensions', ['extension_uuid' => uuid(), 'domain_uuid' => $d, 'extension' => '101', 'effective_caller_id_name' => 'Ana', 'do_not_disturb' => 'false', 'enabled' => 'true']);
		$this->insert_row('v_extensions', ['extension_uuid' => uuid(), 'domain_uuid' => $d, 'extension' => '102', 'effective_caller_id_name' => 'Bia', 'do_not_disturb' => 'true', 'enabled' => 'true']);
		$this->insert_row('v_extensions', ['extension_uuid' => uuid(), 'domain_uuid' => $d, 'extension' => '103', 'effective_caller_id_name' => 'Off', 'do_not_disturb' => 'false', 'enabled' => 'false']);
		$this->insert_row('v_ring_groups', ['ring_group_uuid' => uuid(), 'domain_uuid' => $d, 'ring_group_name' => 'Vendas', 'ring_group_extension' => '600', 'ring_group_enabled' => 'true']);
		$this->insert_row('v_call_center_queues', ['call_center_queue_uuid' => uuid(), 'domain_uuid' => $d, 'queue_name' => 'Suporte', 'queue_extension' => '700']);
		$this->insert_row('v_voicemails', ['voicemail_uuid' => uuid(), 'domain_uuid' => $d, 'voicemail_id' => '101', 'voicemail_enabled' => 'true', 'voicemail_description' => 'Ana']);
		$this->insert_row('v_ivr_menus', ['ivr_menu_uuid' => uuid(), 'domain_uuid' => $d, 'ivr_menu_name' => 'Principal', 'ivr_menu_extension' => '800', 'ivr_menu_enabled' => 'true']);
	}

	public function test_the_picker_lists_the_domains_objects_and_stores_a_plain_destination(): void {
		$domain = $this->make_domain();
		$other = $this->make_domain();
		$this->fill($domain);
		$this->insert_row('v_extensions', ['extension_uuid' => uuid(), 'domain_uuid' => $other[0], 'extension' => '999', 'effective_caller_id_name' => 'Other tenant', 'enabled' => 'true']);
		$this->login($domain, 'admin');
		foreach (['/app/voice_secretary/voice_transfer_rule_edit.php', '/app/voice_secretary/voice_domain_settings.php'] as $page) {
			[, $html] = $this->get($page);
			$this->assertStringContainsString('<option value="101">101 Ana</option>', $html, $page);
			$this->assertStringContainsString('<option value="102">102 Bia (do not disturb)</option>', $html, $page);
			$this->assertStringNotContainsString('value="103"', $html, $page.': a disabled extension');
			$this->assertStringContainsString('<optgroup label="Ring groups">', $html, $page);
			$this->assertStringContainsString('<option value="600">600 Vendas</option>', $html, $page);
			$this->assertStringContainsString('<option value="700">700 Suporte</option>', $html, $page);
			$this->assertStringContainsString('<option value="*99101">101 Ana</option>', $html, $page);
			$this->assertStringContainsString('<option value="800">800 Principal</option>', $html, $page);
			$this->assertStringNotContainsString('Other tenant', $html, $page);
		}
		$this->submit('/app/voice_secretary/voice_transfer_rule_edit.php', ['department_name' => 'Vendas', 'transfer_extension' => '600', 'priority' => '1',
			'fallback_action' => 'voicemail', 'fallback_destination' => '*99101', 'enabled' => 'true']);
		$rule = $this->fetch_row('v_voice_transfer_rules', 'domain_uuid', $domain[0]);
		$this->assertSame(['600', '*99101'], [$rule['transfer_extension'], $rule['fallback_destination']]);
		[, $html] = $this->get('/app/voice_secretary/voice_transfer_rule_edit.php?id='.$rule['transfer_rule_uuid']);
		$this->assertStringContainsString('<option value="600" selected=\'selected\'>600 Vendas</option>', $html, 'the stored destination is selected');

		//a value stored before (not one of the objects) stays selectable as it is
		$this->pdo()->prepare("update v_voice_transfer_rules set transfer_extension = '4321' where transfer_rule_uuid = ?")->execute([$rule['transfer_rule_uuid']]);
		[, $html] = $this->get('/app/voice_secretary/voice_transfer_rule_edit.php?id='.$rule['transfer_rule_uuid']);
		$this->assertStringContainsString('<option value="4321" selected=\'selected\'>4321</option>', $html);

		//a posted value the edge would refuse is refused here too
		[, $html] = $this->submit('/app/voice_secretary/voice_transfer_rule_edit.php', ['department_name' => 'X', 'transfer_extension' => 'sofia/gateway/x/123', 'priority' => '1', 'fallback_action' => 'message', 'enabled' => 'true']);
		$this->assertStringContainsString("id='form_errors'", $html);
	}
}
