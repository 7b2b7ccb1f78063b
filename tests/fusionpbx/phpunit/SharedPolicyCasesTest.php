<?php
/*
	The shared policy tables (shared/policies/*.json) against the app's implementations; tests/test_policies.py
	runs the same tables against the edge's and the workers', so the page and the calls cannot drift apart.
*/

use PHPUnit\Framework\TestCase;

class SharedPolicyCasesTest extends TestCase {

	private static function table(string $name): array {
		return json_decode(file_get_contents(dirname(__DIR__, 3).'/shared/policies/'.$name), true, 512, JSON_THROW_ON_ERROR);
	}

	public function test_address_policy_cases(): void {
		$table = self::table('address_policy_cases.json');
		$policy = new voice_address_policy(function (string $host) use ($table): array { return $table['dns'][$host] ?? []; });
		foreach ($table['cases'] as $case) {
			$refusal = $policy->refusal($case['url'], $case['allow_private'] ?? false);
			$verdict = $refusal === null ? 'allowed' : ($refusal[0] === 'message-base_url_unresolved' ? 'unresolved' : 'refused');
			$this->assertSame($case['expect'], $verdict, $case['url'].' ('.$case['why'].')');
		}
	}

	public function test_stored_business_hours_cases(): void {
		foreach (self::table('business_hours_cases.json')['stored'] as $case) {
			$problem = voice_business_hours::problem($case['hours']);
			$this->assertSame($case['valid'], $problem === null, $case['why'].': '.($problem ?? 'valid'));
		}
	}

	public function test_business_hours_form_cases(): void {
		foreach (self::table('business_hours_cases.json')['form'] as $case) {
			$stored = voice_business_hours::from_form($case['timezone'], $case['days']);
			$this->assertSame($case['stored'], $stored, json_encode($case['days']));
		}
	}

	public function test_transfer_destination_cases(): void {
		foreach (self::table('transfer_destination.json')['cases'] as $case) {
			$problem = voice_transfer_destination::problem($case['value']);
			$this->assertSame($case['valid'], $problem === null, json_encode($case['value']).': '.($problem ?? 'valid'));
		}
	}
}
