<?php
/*
	Saving a secretary with an extension writes its FusionPBX dialplan entry (v_dialplans with its
	v_dialplan_details): set domain_uuid, set voice_secretary_uuid, answer, socket <edge> async full —
	and clears the dialplan cache. Dialplan Manager shows those details and its Save regenerates the
	same XML; each change is in Database Transactions with the user.
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

	public function test_a_name_becomes_a_dialplan_name_that_fusionpbxs_unescaped_xml_can_hold(): void {
		$this->assertSame('voice_secretary_A_B_C_', voice_dialplan::dialplan_name('A & "B" <C>'));
		$this->assertSame('voice_secretary_Recepção_2', voice_dialplan::dialplan_name('Recepção 2'));
		$this->assertFalse(voice_dialplan::valid_edge('10.0.0.5:8022" /><action application="system'));
		$this->assertTrue(voice_dialplan::valid_edge('a:8022|[::1]:9000'));
	}

	/** Dialplan Manager's Save (app/dialplans/dialplan_edit.php): the form shows the row and its details, posts them back as strings, the details become XML. */
	private function dialplan_manager_save(string $dialplan_uuid): void {
		$row = $this->fetch_row('v_dialplans', 'dialplan_uuid', $dialplan_uuid);
		$statement = $this->pdo()->prepare("select * from v_dialplan_details where dialplan_uuid = ? order by dialplan_detail_group, dialplan_detail_order");
		$statement->execute([$dialplan_uuid]);
		$posted = ['dialplan_uuid' => $dialplan_uuid, 'domain_uuid' => $row['domain_uuid'], 'dialplan_name' => str_replace([' ', '/'], ['_', ''], $row['dialplan_name']),
			'dialplan_number' => $row['dialplan_number'], 'dialplan_destination' => $row['dialplan_destination'] ? 'true' : 'false', 'dialplan_context' => $row['dialplan_context'],
			'dialplan_continue' => $row['dialplan_continue'] ? 'true' : 'false', 'dialplan_order' => (string) $row['dialplan_order'],
			'dialplan_enabled' => $row['dialplan_enabled'] ? 'true' : 'false', 'dialplan_description' => $row['dialplan_description'], 'dialplan_details' => []];
		foreach ($statement->fetchAll(PDO::FETCH_ASSOC) as $detail) {
			$posted['dialplan_details'][] = ['dialplan_detail_uuid' => $detail['dialplan_detail_uuid'], 'domain_uuid' => $detail['domain_uuid'],
				'dialplan_detail_tag' => $detail['dialplan_detail_tag'], 'dialplan_detail_type' => $detail['dialplan_detail_type'], 'dialplan_detail_data' => (string) $detail['dialplan_detail_data'],
				'dialplan_detail_break' => (string) $detail['dialplan_detail_break'], 'dialplan_detail_inline' => (string) $detail['dialplan_detail_inline'],
				'dialplan_detail_group' => (string) $detail['dialplan_detail_group'], 'dialplan_detail_order' => (string) $detail['dialplan_detail_order'],
				'dialplan_detail_enabled' => $detail['dialplan_detail_enabled'] ? 'true' : 'false'];
		}
		$generator = new dialplan();
		$generator->source = 'details';
		$generator->destination = 'array';
		$generator->uuid = $dialplan_uuid;
		$generator->prepare_details(['dialplans' => [$posted]]);
		$posted['dialplan_xml'] = $generator->xml()[$dialplan_uuid];
		$p = permissions::new();
		$p->add('dialplan_edit', 'temp');
		$p->add('dialplan_detail_edit', 'temp');
		$array = ['dialplans' => [$posted]];
		$this->assertNotFalse(database::new()->save($array));
		$p->delete('dialplan_edit', 'temp');
		$p->delete('dialplan_detail_edit', 'temp');
	}

	/** A v_dialplans row and its details, without the columns every save() sets. */
	private function stored_entry(string $dialplan_uuid): array {
		$statement = $this->pdo()->prepare("select * from v_dialplan_details where dialplan_uuid = ? order by dialplan_detail_order");
		$statement->execute([$dialplan_uuid]);
		$rows = array_merge([$this->fetch_row('v_dialplans', 'dialplan_uuid', $dialplan_uuid)], $statement->fetchAll(PDO::FETCH_ASSOC));
		return array_map(function (array $row) { return array_diff_key($row, ['update_date' => 1, 'update_user' => 1]); }, $rows);
	}

	public function test_the_entry_has_its_details_and_survives_a_dialplan_manager_save_unchanged(): void {
		$domain = $this->make_domain();
		$this->login($domain, 'admin');
		$this->submit('/app/voice_secretary/voice_secretary_edit.php', ['name' => 'Recepção Central', 'extension' => '*80'] + self::form);
		$secretary = $this->fetch_row('v_voice_secretaries', 'domain_uuid', $domain[0]);
		$statement = $this->pdo()->prepare("select dialplan_detail_tag, dialplan_detail_type, dialplan_detail_data, dialplan_detail_group, dialplan_detail_order, dialplan_detail_enabled, domain_uuid from v_dialplan_details where dialplan_uuid = ? order by dialplan_detail_order");
		$statement->execute([$secretary['dialplan_uuid']]);
		$this->assertSame([
			['condition', 'destination_number', '^\*80$'],
			['action', 'set', 'domain_uuid='.$domain[0]],
			['action', 'set', 'voice_secretary_uuid='.$secretary['voice_secretary_uuid']],
			['action', 'answer', null],
			['action', 'socket', '10.0.0.5:8022 async full'],
		], array_map(function ($d) use ($domain) {
			$this->assertTrue($d['dialplan_detail_enabled']);
			$this->assertSame($domain[0], $d['domain_uuid']);
			return [$d['dialplan_detail_tag'], $d['dialplan_detail_type'], $d['dialplan_detail_data']];
		}, $statement->fetchAll(PDO::FETCH_ASSOC)));

		$before = $this->fetch_row('v_dialplans', 'dialplan_uuid', $secretary['dialplan_uuid']);
		$this->assertSame("<extension name=\"voice_secretary_Recepção_Central\" continue=\"false\" uuid=\"".$secretary['dialplan_uuid']."\">\n"
			."\t<condition field=\"destination_number\" expression=\"^\\*80$\">\n"
			."\t\t<action application=\"set\" data=\"domain_uuid=".$domain[0]."\"/>\n"
			."\t\t<action application=\"set\" data=\"voice_secretary_uuid=".$secretary['voice_secretary_uuid']."\"/>\n"
			."\t\t<action application=\"answer\" data=\"\"/>\n"
			."\t\t<action application=\"socket\" data=\"10.0.0.5:8022 async full\"/>\n"
			."\t</condition>\n"
			."</extension>", $before['dialplan_xml'], 'the generated XML as save() stores it (trimmed)');

		$entry = $this->stored_entry($secretary['dialplan_uuid']);
		$this->dialplan_manager_save($secretary['dialplan_uuid']);
		$this->assertSame($entry, $this->stored_entry($secretary['dialplan_uuid']), 'Dialplan Manager\'s Save changes nothing');

		//FusionPBX rebuilding the XML from the stored details (source "details") gives the same XML
		$generator = new dialplan();
		$generator->uuid = $secretary['dialplan_uuid'];
		$this->assertSame($before['dialplan_xml'], trim($generator->xml()[$secretary['dialplan_uuid']]));

		//saving the secretary again reuses its detail rows
		$this->submit('/app/voice_secretary/voice_secretary_edit.php', ['id' => $secretary['voice_secretary_uuid'], 'name' => 'Recepção Central', 'extension' => '81'] + self::form,
			[], '/app/voice_secretary/voice_secretary_edit.php?id='.$secretary['voice_secretary_uuid']);
		$statement = $this->pdo()->prepare("select count(*) from v_dialplan_details where dialplan_uuid = ?");
		$statement->execute([$secretary['dialplan_uuid']]);
		$this->assertSame(5, (int) $statement->fetchColumn());
		$this->assertStringContainsString('expression="^81$"', $this->fetch_row('v_dialplans', 'dialplan_uuid', $secretary['dialplan_uuid'])['dialplan_xml']);
	}

	public function test_every_dialplan_change_is_a_database_transaction_with_its_user(): void {
		$domain = $this->make_domain();
		$this->login($domain, 'admin');
		$this->submit('/app/voice_secretary/voice_secretary_edit.php', ['name' => 'Ana', 'extension' => '8003'] + self::form);
		$secretary = $this->fetch_row('v_voice_secretaries', 'domain_uuid', $domain[0]);
		$this->submit('/app/voice_secretary/voice_secretaries.php', ['action' => 'delete', 'voice_secretaries' => [['checked' => 'true', 'uuid' => $secretary['voice_secretary_uuid']]]]);
		$statement = $this->pdo()->prepare("select transaction_type, app_name, user_uuid, transaction_new, transaction_old from v_database_transactions where domain_uuid = ? and (transaction_new like '%\"dialplans\"%' or transaction_old like '%\"dialplans\"%') order by transaction_date");
		$statement->execute([$domain[0]]);
		$rows = $statement->fetchAll(PDO::FETCH_ASSOC);
		$this->assertSame(['add', 'delete'], array_column($rows, 'transaction_type'));
		$this->assertSame(['Voice Secretary', 'Voice Secretary'], array_column($rows, 'app_name'));
		$this->assertNotNull($rows[0]['user_uuid']);
		$this->assertSame($rows[0]['user_uuid'], $rows[1]['user_uuid']);
		$this->assertStringContainsString('socket', $rows[0]['transaction_new']);
		$this->assertStringContainsString($secretary['dialplan_uuid'], $rows[1]['transaction_old']);
		$this->assertStringContainsString('"insert_user": "'.$rows[0]['user_uuid'].'"', $rows[1]['transaction_old'], 'the deleted entry was inserted by that user');
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
		//what FusionPBX's destinations class needs to show the group (seen on a real FusionPBX): its label from
		//app/<name>/app_languages.php, and the <singular of name>_destinations permission for admins
		$this->assertFileExists(STANDIN_DOCROOT.'/app/'.$destination['name'].'/app_languages.php');
		$text = [];
		include STANDIN_DOCROOT.'/app/'.$destination['name'].'/app_languages.php';
		$this->assertNotEmpty($text['label-'.$destination['name']]['en-us'] ?? $text['title-'.$destination['name']]['en-us'] ?? null);
		$granted = [];
		foreach ($apps[0]['permissions'] as $permission) {
			$granted[$permission['name']] = $permission['groups'] ?? [];
		}
		$this->assertContains('admin', $granted[database::singular($destination['name']).'_destinations'] ?? []);
	}
}
