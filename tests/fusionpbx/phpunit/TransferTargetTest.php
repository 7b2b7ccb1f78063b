<?php
/*
	A transfer rule (and the domain's settings) can name only the tenant's own context and only a
	destination the edge would dial: another domain's context, a gateway path, another domain's user,
	channel variables or extra legs are refused with the form's error and nothing is stored.
*/

class TransferTargetTest extends StandinTestCase {

	private function save_rule(array $fields): string {
		[, $html] = $this->submit('/app/voice_secretary/voice_transfer_rule_edit.php', $fields + ['department_name' => 'Vendas',
			'transfer_extension' => '2001', 'priority' => '10', 'fallback_action' => 'message', 'enabled' => 'true']);
		return $html;
	}

	public function test_a_rule_names_only_its_own_context_and_a_plain_destination(): void {
		$a = $this->make_domain();
		$b = $this->make_domain();
		$this->login($a, 'admin');
		$refused = [['transfer_context' => $b[1]], ['transfer_context' => 'public'], ['transfer_context' => 'default'],
			['transfer_extension' => 'sofia/gateway/carrier/00551199999'], ['transfer_extension' => '1000@'.$b[1]],
			['transfer_extension' => '{origination_caller_id_number=1}1000'], ['transfer_extension' => '1000,1001'],
			['transfer_extension' => '1000 XML '.$b[1]], ['fallback_destination' => 'loopback/1000/'.$b[1]]];
		foreach ($refused as $fields) {
			$html = $this->save_rule($fields);
			$this->assertStringContainsString("id='form_errors'", $html, json_encode($fields));
			$this->assertNull($this->fetch_row('v_voice_transfer_rules', 'domain_uuid', $a[0]), json_encode($fields).' was stored');
		}
		$html = $this->save_rule(['transfer_context' => $a[1], 'transfer_extension' => '*98']);
		$this->assertStringNotContainsString("id='form_errors'", $html);
		$rule = $this->fetch_row('v_voice_transfer_rules', 'domain_uuid', $a[0]);
		$this->assertSame([$a[1], '*98'], [$rule['transfer_context'], $rule['transfer_extension']]);
	}

	public function test_the_domain_default_context_is_the_domains_own(): void {
		$a = $this->make_domain();
		$b = $this->make_domain();
		$this->login($a, 'admin');
		[, $html] = $this->submit('/app/voice_secretary/voice_domain_settings.php', ['operator_destination' => '1000', 'fallback_destination' => '', 'transfer_context' => $b[1]]);
		$this->assertStringContainsString("id='form_errors'", $html);
		[, $html] = $this->submit('/app/voice_secretary/voice_domain_settings.php', ['operator_destination' => 'user/1000@'.$b[1], 'fallback_destination' => '', 'transfer_context' => '']);
		$this->assertStringContainsString("id='form_errors'", $html);
		$this->assertNull($this->fetch_row('v_voice_domain_settings', 'domain_uuid', $a[0]));
	}
}
