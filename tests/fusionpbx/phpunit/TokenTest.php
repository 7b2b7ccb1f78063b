<?php
/*
	Every state-changing POST needs the form's token: without it (or with a forged one) nothing is
	written.
*/

class TokenTest extends StandinTestCase {

	public function test_posts_without_a_valid_token_change_nothing(): void {
		$domain = $this->make_domain();
		$secretary = $this->insert_row('v_voice_secretaries', ['domain_uuid' => $domain[0], 'name' => 'Ana']);
		$this->login($domain, 'admin');
		$attempts = [
			['voice_secretary_edit.php', ['name' => 'Forged', 'language' => 'pt-BR']],
			['voice_ai_provider_edit.php', ['provider_type' => 'llm', 'provider_name' => 'openai', 'enabled' => 'true']],
			['voice_transfer_rule_edit.php', ['department_name' => 'Forged', 'transfer_extension' => '2001']],
			['voice_domain_settings.php', ['operator_destination' => '9999']],
			['voice_secretaries.php', ['action' => 'delete', 'voice_secretaries' => [['checked' => 'true', 'uuid' => $secretary['voice_secretary_uuid']]]]],
		];
		foreach ([[], ['token_00000000' => str_repeat('0', 64)]] as $forged) {
			foreach ($attempts as [$page, $fields]) {
				[, $html] = $this->post('/app/voice_secretary/'.$page, $fields + $forged);
				$this->assertStringContainsString('Invalid Token', $html, $page);
			}
		}
		$count = function (string $table) use ($domain): int {
			$statement = $this->pdo()->prepare("select count(*) from ".$table." where domain_uuid = ?");
			$statement->execute([$domain[0]]);
			return (int) $statement->fetchColumn();
		};
		$this->assertSame(1, $count('v_voice_secretaries'));
		$this->assertSame('Ana', $this->fetch_row('v_voice_secretaries', 'voice_secretary_uuid', $secretary['voice_secretary_uuid'])['name']);
		$this->assertSame(0, $count('v_voice_ai_providers'));
		$this->assertSame(0, $count('v_voice_transfer_rules'));
		$this->assertSame(0, $count('v_voice_domain_settings'));
	}

	public function test_a_token_from_another_page_is_refused(): void {
		$domain = $this->make_domain();
		$this->login($domain, 'admin');
		[, $html] = $this->get('/app/voice_secretary/voice_ai_provider_edit.php');
		$token = $this->token($html);
		[, $html] = $this->post('/app/voice_secretary/voice_secretary_edit.php', ['name' => 'X', 'language' => 'pt-BR', $token[0] => $token[1]]);
		$this->assertStringContainsString('Invalid Token', $html);
		$this->assertNull($this->fetch_row('v_voice_secretaries', 'domain_uuid', $domain[0]));
	}
}
