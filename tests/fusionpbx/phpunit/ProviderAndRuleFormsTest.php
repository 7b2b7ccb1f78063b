<?php
/*
	Forms that transform what they store: provider API keys (masked, never echoed back, kept when the
	field is left empty) and transfer rules (keywords, business hours, fallback).
*/

class ProviderAndRuleFormsTest extends StandinTestCase {

	const key = 'sk-test-abcdefghijklmnop1234';

	public function test_an_api_key_is_stored_but_never_sent_back_to_the_browser(): void {
		$domain = $this->make_domain();
		$this->login($domain, 'admin');
		$this->submit('/app/voice_secretary/voice_ai_provider_edit.php', ['provider_type' => 'llm', 'provider_name' => 'openai_realtime', 'api_key' => self::key,
			'model' => 'gpt-realtime', 'base_url' => 'https://8.8.8.8/v1', 'is_default' => 'true', 'enabled' => 'true', 'extra' => '{"temperature": 0.6}']);
		$provider = $this->fetch_row('v_voice_ai_providers', 'domain_uuid', $domain[0]);
		$config = json_decode($provider['config'], true);
		$this->assertSame(self::key, $config['api_key']);
		$this->assertSame('gpt-realtime', $config['model']);
		$this->assertSame(0.6, $config['temperature']);
		$this->assertTrue($provider['is_default']);

		foreach (['/app/voice_secretary/voice_ai_providers.php', '/app/voice_secretary/voice_ai_provider_edit.php?id='.$provider['provider_uuid']] as $page) {
			[, $html] = $this->get($page);
			$this->assertStringNotContainsString('abcdefghijklmnop', $html, $page);
			$this->assertStringContainsString('••••••••1234', $html, $page);
		}

		//saving with the key field empty keeps the key; "remove" clears it
		$edit = '/app/voice_secretary/voice_ai_provider_edit.php?id='.$provider['provider_uuid'];
		$fields = ['id' => $provider['provider_uuid'], 'provider_type' => 'llm', 'provider_name' => 'openai_realtime', 'api_key' => '', 'model' => 'gpt-realtime-mini', 'enabled' => 'true', 'is_default' => 'true'];
		$this->submit('/app/voice_secretary/voice_ai_provider_edit.php', $fields, [], $edit);
		$config = json_decode($this->fetch_row('v_voice_ai_providers', 'provider_uuid', $provider['provider_uuid'])['config'], true);
		$this->assertSame(self::key, $config['api_key']);
		$this->assertSame('gpt-realtime-mini', $config['model']);
		$this->submit('/app/voice_secretary/voice_ai_provider_edit.php', $fields + ['api_key_clear' => 'true'], [], $edit);
		$config = json_decode($this->fetch_row('v_voice_ai_providers', 'provider_uuid', $provider['provider_uuid'])['config'], true);
		$this->assertArrayNotHasKey('api_key', $config);
	}

	public function test_a_new_default_replaces_the_old_one_of_the_same_type(): void {
		$domain = $this->make_domain();
		$this->login($domain, 'admin');
		foreach (['openai', 'offline'] as $name) {
			$this->submit('/app/voice_secretary/voice_ai_provider_edit.php', ['provider_type' => 'tts', 'provider_name' => $name, 'is_default' => 'true', 'enabled' => 'true']);
		}
		$statement = $this->pdo()->prepare("select provider_name from v_voice_ai_providers where domain_uuid = ? and is_default");
		$statement->execute([$domain[0]]);
		$this->assertSame(['offline'], $statement->fetchAll(PDO::FETCH_COLUMN));
	}

	public function test_a_transfer_rule_stores_keywords_business_hours_and_fallback(): void {
		$domain = $this->make_domain();
		$this->login($domain, 'admin');
		$this->submit('/app/voice_secretary/voice_transfer_rule_edit.php', ['department_name' => 'Vendas', 'keywords' => 'comprar, orçamento , preço "especial"',
			'transfer_extension' => '2001', 'priority' => '10', 'timezone' => 'America/Sao_Paulo', 'hours_mon' => '08:00-12:00, 13:00-18:00', 'hours_sat' => '09:00-13:00',
			'fallback_action' => 'voicemail', 'fallback_destination' => '', 'announce' => 'true', 'enabled' => 'true']);
		$rule = $this->fetch_row('v_voice_transfer_rules', 'domain_uuid', $domain[0]);
		$this->assertTrue(in_array($rule['announce'], [true, 't', 'true', 1, '1'], true), 'an announced transfer is stored as the edge reads it (v_voice_transfer_rules.announce)');
		$this->assertSame(['comprar', 'orçamento', 'preço "especial"'], voice_tenant_store::parse_text_array($rule['keywords']));
		$hours = json_decode($rule['business_hours'], true);
		$this->assertSame('America/Sao_Paulo', $hours['timezone']);
		$this->assertSame([['08:00', '12:00'], ['13:00', '18:00']], $hours['weekdays']['mon']);
		$this->assertSame([], $hours['weekdays']['sun']);
		$this->assertSame('voicemail', $rule['fallback_action']);

		[, $html] = $this->get('/app/voice_secretary/voice_transfer_rule_edit.php?id='.$rule['transfer_rule_uuid']);
		$this->assertStringContainsString('value="08:00-12:00, 13:00-18:00"', $html);
		$this->assertStringContainsString('value="comprar, orçamento, preço &quot;especial&quot;"', $html);

		[, $html] = $this->submit('/app/voice_secretary/voice_transfer_rule_edit.php', ['department_name' => 'Suporte', 'transfer_extension' => '2002', 'priority' => '1',
			'hours_tue' => '08:00-08:00', 'fallback_action' => 'message']);
		$this->assertStringContainsString("id='form_errors'", $html, 'an interval that starts where it ends is refused');

		$this->submit('/app/voice_secretary/voice_transfer_rule_edit.php', ['department_name' => 'Plantão', 'transfer_extension' => '2003', 'priority' => '2',
			'hours_tue' => '18:00-08:00', 'fallback_action' => 'message']);
		$statement = $this->pdo()->prepare("select business_hours from v_voice_transfer_rules where domain_uuid = ? and department_name = 'Plantão'");
		$statement->execute([$domain[0]]);
		$night = json_decode($statement->fetchColumn(), true);
		$this->assertSame(['timezone' => 'UTC', 'tue' => [['18:00', '08:00']]], ['timezone' => $night['timezone'], 'tue' => $night['weekdays']['tue']],
			'an overnight interval is stored as the edge reads it (shared/policies/business_hours_cases.json); no timezone is UTC');
	}

	public function test_business_hours_all_empty_means_always_open(): void {
		$this->assertNull(voice_business_hours::from_form('America/Sao_Paulo', []));
		$this->assertFalse(voice_business_hours::from_form('Mars/Olympus', ['mon' => '08:00-18:00']));
		$this->assertFalse(voice_business_hours::from_form('', ['mon' => '8h-18h']));
	}

	public function test_domain_settings_are_one_row_per_domain(): void {
		$domain = $this->make_domain();
		$this->login($domain, 'admin');
		$this->submit('/app/voice_secretary/voice_domain_settings.php', ['operator_destination' => '1000', 'fallback_destination' => '*98', 'transfer_context' => '']);
		$this->submit('/app/voice_secretary/voice_domain_settings.php', ['operator_destination' => '1001', 'fallback_destination' => '', 'transfer_context' => $domain[1]]);
		$statement = $this->pdo()->prepare("select operator_destination, fallback_destination, transfer_context from v_voice_domain_settings where domain_uuid = ?");
		$statement->execute([$domain[0]]);
		$this->assertSame([['operator_destination' => '1001', 'fallback_destination' => null, 'transfer_context' => $domain[1]]], $statement->fetchAll(PDO::FETCH_ASSOC));
	}
}
