<?php
/*
	A provider's base_url receives the API key from the edge and the workers: the form refuses one
	on a loopback, private, link-local (cloud metadata), shared or multicast address — written as
	an address or as a name that resolves to one — unless the operator allows private addresses
	(default setting voice_secretary → provider_allow_private).
*/

class BaseUrlPolicyTest extends StandinTestCase {

	const refused = [
		'http://127.0.0.1:11434/v1', 'http://localhost:8080/v1', 'http://169.254.169.254/latest/meta-data/', 'http://10.0.0.8/v1',
		'https://192.168.1.20/v1', 'http://172.16.5.4/', 'http://100.64.0.1/v1', 'http://0.0.0.0:9000/', 'http://[::1]:8080/v1',
		'http://[fd00:ec2::254]/', 'http://[fe80::1]/', 'http://[::ffff:127.0.0.1]/v1', 'http://2130706433/v1', 'wss://224.0.0.1/',
		'http://nonexistent-host.invalid/v1',
	];

	private function save_provider(string $base_url): array {
		return $this->submit('/app/voice_secretary/voice_ai_provider_edit.php', ['provider_type' => 'llm', 'provider_name' => 'openai',
			'api_key' => 'sk-test-abcdefghijklmnop1234', 'base_url' => $base_url, 'enabled' => 'true']);
	}

	public function test_internal_base_urls_are_refused_with_a_clear_message(): void {
		$domain = $this->make_domain();
		$this->login($domain, 'admin');
		foreach (self::refused as $url) {
			[$status, $html] = $this->save_provider($url);
			$this->assertSame(200, $status, $url);
			$this->assertStringContainsString("id='form_errors'", $html, $url);
			$this->assertMatchesRegularExpression('/Base URL: [^<]+? (is a loopback, private or link-local address|cannot be resolved from this server)/', $html, $url);
			$this->assertNull($this->fetch_row('v_voice_ai_providers', 'domain_uuid', $domain[0]), $url.' was stored');
		}
		[, $html] = $this->save_provider('http://169.254.169.254/latest/meta-data/');
		$this->assertStringContainsString('provider_allow_private', $html, 'the message says how the operator allows it');
		[, $html] = $this->save_provider('http://localhost:8080/v1');
		$this->assertStringContainsString('Base URL: localhost (127.0.0.1) is a loopback', $html, 'a name is shown with the address it resolves to');

		[, $html] = $this->save_provider('https://8.8.8.8/v1');
		$this->assertStringContainsString('Add Completed', $html, 'a public address is accepted');
	}

	public function test_the_operator_may_allow_private_addresses(): void {
		$domain = $this->make_domain();
		$this->login($domain, 'admin');
		[, $html] = $this->with_settings(['provider_allow_private' => true], function () {
			return $this->save_provider('http://127.0.0.1:11434/v1');
		});
		$this->assertStringContainsString('Add Completed', $html);
		$config = json_decode($this->fetch_row('v_voice_ai_providers', 'domain_uuid', $domain[0])['config'], true);
		$this->assertSame('http://127.0.0.1:11434/v1', $config['base_url']);
	}

	public function test_a_host_name_is_judged_by_every_address_it_resolves_to(): void {
		$names = ['api.vendor.test' => ['8.8.4.4', '2606:4700:4700::1111'], 'internal.vendor.test' => ['10.1.2.3'],
			'mixed.vendor.test' => ['8.8.4.4', '127.0.0.1'], 'gone.vendor.test' => []];
		$policy = new voice_address_policy(function (string $host) use ($names): array { return $names[$host]; });
		$this->assertNull($policy->refusal('https://api.vendor.test/v1', false));
		$this->assertSame(['message-base_url_private', 'internal.vendor.test', '10.1.2.3'], $policy->refusal('https://internal.vendor.test/v1', false));
		$this->assertSame(['message-base_url_private', 'mixed.vendor.test', '127.0.0.1'], $policy->refusal('https://mixed.vendor.test/v1', false));
		$this->assertSame(['message-base_url_unresolved', 'gone.vendor.test', ''], $policy->refusal('https://gone.vendor.test/v1', false));
		$this->assertNull($policy->refusal('https://internal.vendor.test/v1', true), 'allowed by the operator');
		$this->assertNull($policy->refusal('', false), 'empty: the vendor\'s default');
	}

	public function test_public_and_non_public_addresses(): void {
		foreach (['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8', '2002:808:808::1'] as $address) {
			$this->assertTrue(voice_address_policy::is_public_address($address), $address);
		}
		foreach (['127.0.0.1', '10.0.0.1', '172.31.255.255', '192.168.0.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1',
			'255.255.255.255', '192.0.2.1', '::1', '::', 'fe80::1', 'fd00::1', 'ff02::1', '::ffff:127.0.0.1', '64:ff9b::a00:1', '2002:7f00:1::1'] as $address) {
			$this->assertFalse(voice_address_policy::is_public_address($address), $address);
		}
	}
}
