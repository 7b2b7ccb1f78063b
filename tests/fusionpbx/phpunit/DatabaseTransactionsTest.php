<?php
/*
	Advanced > Database Transactions lists every change the app makes, with the user who made it:
	the dialplan entry through FusionPBX's $database->save()/delete(), the v_voice_* rows through the
	tenant store, which writes the same record itself (save() cannot be told to keep an update inside
	the session's domain, and the app's keys do not follow its singular-name rule). Secrets never
	reach the record.
*/

class DatabaseTransactionsTest extends StandinTestCase {

	const key = 'sk-audit-abcdefghijklmnop9876';

	/** The domain's transaction records, oldest first. */
	private function records(string $domain_uuid): array {
		$statement = $this->pdo()->prepare("select * from v_database_transactions where domain_uuid = ? order by transaction_date, transaction_new is null");
		$statement->execute([$domain_uuid]);
		return $statement->fetchAll(PDO::FETCH_ASSOC);
	}

	public function test_each_change_is_recorded_with_its_user_and_without_secrets(): void {
		$domain = $this->make_domain();
		$this->login($domain, 'admin');
		$this->submit('/app/voice_secretary/voice_ai_provider_edit.php', ['provider_type' => 'llm', 'provider_name' => 'openai', 'api_key' => self::key, 'model' => 'gpt-4o-mini', 'enabled' => 'true']);
		$provider = $this->fetch_row('v_voice_ai_providers', 'domain_uuid', $domain[0]);
		$this->submit('/app/voice_secretary/voice_secretary_edit.php', ['name' => 'Ana', 'language' => 'pt-BR', 'rag_enabled' => 'true', 'rag_similarity_threshold' => '0.5', 'rag_top_k' => '3',
			'max_conversation_turns' => '10', 'silence_timeout_seconds' => '8', 'silence_hangup_seconds' => '8', 'max_call_seconds' => '900', 'enabled' => 'true',
			'webhook_enabled' => 'false', 'webhook_secret' => 'whsec-very-private']);
		$first = $this->records($domain[0]);

		//another user of the domain deletes the provider
		$this->login($domain, 'admin');
		$this->submit('/app/voice_secretary/voice_ai_providers.php', ['action' => 'delete', 'voice_ai_providers' => [['checked' => 'true', 'uuid' => $provider['provider_uuid']]]]);
		$records = $this->records($domain[0]);

		$this->assertSame(['add', 'add'], array_column($first, 'transaction_type'));
		$this->assertSame('delete', end($records)['transaction_type']);
		$this->assertSame(['Voice Secretary'], array_values(array_unique(array_column($records, 'app_name'))));
		$this->assertStringContainsString('"voice_ai_providers"', $first[0]['transaction_new']);
		$this->assertStringContainsString('gpt-4o-mini', $first[0]['transaction_new']);
		$this->assertStringContainsString('"voice_secretaries"', $first[1]['transaction_new']);
		$secretary = $this->fetch_row('v_voice_secretaries', 'domain_uuid', $domain[0]);
		$this->assertStringContainsString('"voice_secretary_uuid": "'.$secretary['voice_secretary_uuid'].'"', $first[1]['transaction_new'], 'the record names its secretary (a uuid is no secret)');
		$this->assertStringContainsString($provider['provider_uuid'], end($records)['transaction_old']);
		$this->assertNotNull($first[0]['user_uuid']);
		$this->assertSame($first[0]['user_uuid'], $first[1]['user_uuid']);
		$this->assertNotSame($first[0]['user_uuid'], end($records)['user_uuid'], 'the second user is named on the delete');
		foreach ($records as $record) {
			$this->assertStringNotContainsString('abcdefghijklmnop', $record['transaction_new'].$record['transaction_old']);
			$this->assertStringNotContainsString('very-private', $record['transaction_new'].$record['transaction_old']);
		}
	}
}
