<?php
/*
	Saving a secretary with an extension writes its FusionPBX dialplan (v_dialplans): set domain_uuid,
	set voice_secretary_uuid, answer, socket <edge> async full — and clears the dialplan cache.
*/

class DialplanTest extends StandinTestCase {

	const form = ['language' => 'pt-BR', 'rag_enabled' => 'true', 'rag_similarity_threshold' => '0.5', 'rag_top_k' => '3', 'max_conversation_turns' => '10',
		'silence_timeout_seconds' => '8', 'silence_hangup_seconds' => '8', 'max_call_seconds' => '900', 'enabled' => 'true', 'webhook_enabled' => 'false'];

	private function cache_log(): string {
		$file = STANDIN_DOCROOT.'/cache_deleted.log';
		return is_file($file) ? file_get_contents($file) : '';
	}

	/** The actions of a dialplan's XML as [application, data] pairs, and the condition expression. */
	private function parse(string $xml): array {
		$document = simplexml_load_string($xml);
		$this->assertNotFalse($document, 'the dialplan is well-formed XML');
		$actions = [];
		foreach ($document->condition->action as $action) {
			$actions[] = [(string) $action['application'], (string) $action['data']];
		}
		return [(string) $document->condition['field'], (string) $document->condition['expression'], $actions, (string) $document['uuid']];
	}

	public function test_saving_a_secretary_with_an_extension_writes_its_dialplan_and_clears_the_cache(): void {
		$domain = $this->make_domain();
		$this->login($domain, 'admin');
		file_put_contents(STANDIN_DOCROOT.'/cache_deleted.log', '');
		$this->submit('/app/voice_secretary/voice_secretary_edit.php', ['name' => 'Recepção "A" <1>', 'extension' => '8000'] + self::form);

		$secretary = $this->fetch_row('v_voice_secretaries', 'domain_uuid', $domain[0]);
		$this->assertNotNull($secretary['dialplan_uuid']);
		$dialplan = $this->fetch_row('v_dialplans', 'dialplan_uuid', $secretary['dialplan_uuid']);
		$this->assertSame($domain[0], $dialplan['domain_uuid']);
		$this->assertSame($domain[1], $dialplan['dialplan_context']);
		$this->assertSame('8000', $dialplan['dialplan_number']);
		$this->assertTrue($dialplan['dialplan_enabled']);
		[$field, $expression, $actions, $uuid] = $this->parse($dialplan['dialplan_xml']);
		$this->assertSame('destination_number', $field);
		$this->assertSame('^8000$', $expression);
		$this->assertSame($secretary['dialplan_uuid'], $uuid);
		$this->assertSame([
			['set', 'domain_uuid='.$domain[0]],
			['set', 'voice_secretary_uuid='.$secretary['voice_secretary_uuid']],
			['answer', ''],
			['socket', '10.0.0.5:8022 async full'],
		], $actions);
		$this->assertStringContainsString('dialplan:'.$domain[1]."\n", $this->cache_log());

		//a new extension updates the same dialplan row
		file_put_contents(STANDIN_DOCROOT.'/cache_deleted.log', '');
		$this->submit('/app/voice_secretary/voice_secretary_edit.php', ['id' => $secretary['voice_secretary_uuid'], 'name' => 'Recepção', 'extension' => '*80'] + self::form,
			[], '/app/voice_secretary/voice_secretary_edit.php?id='.$secretary['voice_secretary_uuid']);
		$dialplan = $this->fetch_row('v_dialplans', 'dialplan_uuid', $secretary['dialplan_uuid']);
		$this->assertSame('^\*80$', $this->parse($dialplan['dialplan_xml'])[1]);
		$this->assertStringContainsString('dialplan:'.$domain[1], $this->cache_log());

		//no extension: the dialplan row goes away
		$this->submit('/app/voice_secretary/voice_secretary_edit.php', ['id' => $secretary['voice_secretary_uuid'], 'name' => 'Recepção', 'extension' => ''] + self::form,
			[], '/app/voice_secretary/voice_secretary_edit.php?id='.$secretary['voice_secretary_uuid']);
		$this->assertNull($this->fetch_row('v_dialplans', 'dialplan_uuid', $secretary['dialplan_uuid']));
		$this->assertNull($this->fetch_row('v_voice_secretaries', 'voice_secretary_uuid', $secretary['voice_secretary_uuid'])['dialplan_uuid']);
	}

	public function test_deleting_a_secretary_removes_its_dialplan(): void {
		$domain = $this->make_domain();
		$this->login($domain, 'admin');
		$this->submit('/app/voice_secretary/voice_secretary_edit.php', ['name' => 'Ana', 'extension' => '8001'] + self::form);
		$secretary = $this->fetch_row('v_voice_secretaries', 'domain_uuid', $domain[0]);
		$this->submit('/app/voice_secretary/voice_secretaries.php', ['action' => 'delete', 'voice_secretaries' => [['checked' => 'true', 'uuid' => $secretary['voice_secretary_uuid']]]]);
		$this->assertNull($this->fetch_row('v_voice_secretaries', 'voice_secretary_uuid', $secretary['voice_secretary_uuid']));
		$this->assertNull($this->fetch_row('v_dialplans', 'dialplan_uuid', $secretary['dialplan_uuid']));
	}

	public function test_an_extension_is_unique_in_its_domain_and_must_be_dialable(): void {
		$domain = $this->make_domain();
		$this->login($domain, 'admin');
		$this->submit('/app/voice_secretary/voice_secretary_edit.php', ['name' => 'Ana', 'extension' => '8002'] + self::form);
		[, $html] = $this->submit('/app/voice_secretary/voice_secretary_edit.php', ['name' => 'Bia', 'extension' => '8002'] + self::form);
		$this->assertStringContainsString('already used by another secretary', $html);
		[, $html] = $this->submit('/app/voice_secretary/voice_secretary_edit.php', ['name' => 'Caio', 'extension' => '80"/><action application="system'] + self::form);
		$this->assertStringContainsString("id='form_errors'", $html);
		$statement = $this->pdo()->prepare("select count(*) from v_voice_secretaries where domain_uuid = ?");
		$statement->execute([$domain[0]]);
		$this->assertSame(1, (int) $statement->fetchColumn());
	}

	public function test_edge_address_lists_failover_hosts(): void {
		$this->assertSame('10.0.0.5:8022', voice_dialplan::edge_address('10.0.0.5', 8022));
		$this->assertSame('a:8022|b:9000', voice_dialplan::edge_address('a, b:9000', 8022));
	}

	public function test_the_xml_escapes_names(): void {
		$xml = voice_dialplan::xml(uuid(), uuid(), uuid(), 'A & "B" <C>', '100', '127.0.0.1:8022');
		$this->assertStringContainsString('name="voice_secretary_A &amp; &quot;B&quot; &lt;C&gt;"', $xml);
		$this->assertNotFalse(simplexml_load_string($xml));
	}

	public function test_the_destinations_entry_lists_enabled_secretaries_with_an_extension(): void {
		$apps = [];
		$x = 0;
		include STANDIN_DOCROOT.'/app/voice_secretary/app_config.php';
		$destination = $apps[0]['destinations'][0];
		$domain = $this->make_domain();
		$other = $this->make_domain();
		$this->insert_row('v_voice_secretaries', ['domain_uuid' => $domain[0], 'name' => 'Recepção', 'extension' => '8000']);
		$this->insert_row('v_voice_secretaries', ['domain_uuid' => $domain[0], 'name' => 'Off', 'extension' => '8001', 'enabled' => 'false']);
		$this->insert_row('v_voice_secretaries', ['domain_uuid' => $domain[0], 'name' => 'No extension']);
		$this->insert_row('v_voice_secretaries', ['domain_uuid' => $other[0], 'name' => 'Other', 'extension' => '8000']);
		//FusionPBX substitutes ${domain_uuid} and appends the order by; natural_sort is FusionPBX's SQL function
		$sql = $destination['sql'].str_replace('${domain_uuid}', $domain[0], $destination['where']).' order by '.str_replace('natural_sort(s.extension)', 's.extension', $destination['order_by']);
		$rows = $this->pdo()->query($sql)->fetchAll(PDO::FETCH_ASSOC);
		$this->assertCount(1, $rows);
		$row = $rows[0];
		$this->assertSame(['Recepção', '8000', $domain[1]], [$row[$destination['field']['name']], $row[$destination['field']['destination']], $row[$destination['field']['context']]]);
		$this->assertSame('transfer:8000 XML '.$domain[1], str_replace(['${destination}', '${context}'], [$row['destination'], $row['context']], $destination['select_value']['dialplan']));
	}
}
