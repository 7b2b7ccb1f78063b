<?php
/*
	A transfer rule's own ring time (v_voice_transfer_rules.ring_seconds, migration 017): the rule page
	shows it with the domain's ring time as the placeholder and in the description, refuses values
	outside 1–300 s, stores a valid one, and stores NULL (the domain's) when emptied.
*/

class RuleRingTimeTest extends StandinTestCase {

	const rule = ['department_name' => 'Vendas', 'transfer_extension' => '2001', 'priority' => '10', 'fallback_action' => 'message', 'enabled' => 'true'];

	public function test_the_rule_page_shows_validates_and_stores_the_ring_time(): void {
		$domain = $this->make_domain();
		$this->login($domain, 'admin');
		[, $html] = $this->get('/app/voice_secretary/voice_transfer_rule_edit.php');
		$this->assertStringContainsString('Ring time (seconds)', $html);
		$this->assertStringContainsString("name='ring_seconds'", $html);
		$this->assertStringContainsString("placeholder='25'", $html, 'a domain without its own ring time: 25 s');

		foreach (['0', '301', '5.5', 'abc'] as $bad) {
			[, $html] = $this->submit('/app/voice_secretary/voice_transfer_rule_edit.php', ['ring_seconds' => $bad] + self::rule);
			$this->assertStringContainsString("id='form_errors'", $html, $bad);
		}
		$this->assertNull($this->fetch_row('v_voice_transfer_rules', 'domain_uuid', $domain[0]), 'nothing stored for a refused ring time');

		$this->submit('/app/voice_secretary/voice_transfer_rule_edit.php', ['ring_seconds' => '5'] + self::rule);
		$rule = $this->fetch_row('v_voice_transfer_rules', 'domain_uuid', $domain[0]);
		$this->assertSame(5, $rule['ring_seconds']);

		$this->submit('/app/voice_secretary/voice_domain_settings.php', ['transfer_ring_seconds' => '40']);
		[, $html] = $this->get('/app/voice_secretary/voice_transfer_rule_edit.php?id='.$rule['transfer_rule_uuid']);
		$this->assertStringContainsString('value="5"', $html, 'the stored ring time is shown');
		$this->assertStringContainsString("placeholder='40'", $html, "the domain's ring time is the placeholder");
		$this->assertStringContainsString('now 40 s', $html, 'the description names the ring time an empty field means');

		$this->submit('/app/voice_secretary/voice_transfer_rule_edit.php', ['id' => $rule['transfer_rule_uuid'], 'ring_seconds' => ''] + self::rule, [],
			'/app/voice_secretary/voice_transfer_rule_edit.php?id='.$rule['transfer_rule_uuid']);
		$this->assertNull($this->fetch_row('v_voice_transfer_rules', 'domain_uuid', $domain[0])['ring_seconds'], "emptied: the domain's ring time");
	}
}
