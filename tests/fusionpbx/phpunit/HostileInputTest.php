<?php
/*
	Every page takes any input without a PHP error: integer parameters are clamped
	(page=999999999999999999999 was a fatal "$offset must be of type int, float given"), and an array
	where a single value is expected (?caller[]=x) is treated as absent instead of reaching string
	functions ("Array to string conversion"). StandinTestCase fails a request whose page shows any PHP
	warning, notice or error; here each page must also answer 200 with its normal content.
*/

class HostileInputTest extends StandinTestCase {

	const pages = ['voice_secretaries.php', 'voice_secretary_edit.php', 'voice_ai_providers.php', 'voice_ai_provider_edit.php',
		'voice_documents.php', 'voice_document_edit.php', 'voice_transfer_rules.php', 'voice_transfer_rule_edit.php',
		'voice_conversations.php', 'voice_conversation.php', 'voice_domain_settings.php'];

	const queries = ['page=999999999999999999999', 'page=-999999999999999999999', 'page=1e9', 'page=abc', 'page[]=1',
		'caller[]=x', 'search[]=x', 'order_by[]=x', 'order_by=x;drop', 'date_from[]=2024-01-01', 'date_to[x]=1', 'outcome[]=resolved', 'voice_secretary_uuid[]=x', 'id[]=x',
		'id=%27%20or%201%3D1--', 'show[]=all', 'show=all&page=99999999999999999999999999&caller[]=x', 'action[]=delete'];

	public function test_every_page_answers_hostile_query_strings_normally(): void {
		$domain = $this->make_domain();
		$this->login($domain, 'superadmin');
		foreach (self::pages as $page) {
			foreach (self::queries as $query) {
				[$status, $html] = $this->get('/app/voice_secretary/'.$page.'?'.$query);
				$this->assertSame(200, $status, $page.'?'.$query);
				$this->assertStringContainsString("id='action_bar'", $html, $page.'?'.$query.' shows the app page');
				$this->assertStringContainsString("id='menu_applications'", $html, $page.'?'.$query.' shows the app page');
			}
		}
	}

	public function test_the_conversation_list_clamps_a_huge_page_number(): void {
		$domain = $this->make_domain();
		$this->login($domain, 'admin');
		[$status, $html] = $this->get('/app/voice_secretary/voice_conversations.php?page=999999999999999999999');
		$this->assertSame(200, $status);
		$this->assertStringContainsString("<div class='count'>0</div>", $html);
	}

	public function test_every_form_refuses_arrays_where_values_are_expected(): void {
		$domain = $this->make_domain();
		$this->login($domain, 'superadmin');
		foreach (['voice_secretary_edit.php', 'voice_ai_provider_edit.php', 'voice_document_edit.php', 'voice_transfer_rule_edit.php',
			'voice_domain_settings.php', 'voice_secretaries.php', 'voice_ai_providers.php', 'voice_documents.php', 'voice_transfer_rules.php'] as $page) {
			[, $html] = $this->get('/app/voice_secretary/'.$page);
			preg_match_all("/name='([a-z_]+)'/", $html, $m);
			$fields = [];
			foreach (array_unique($m[1]) as $name) {
				$fields[$name] = ['x' => ['y']];
			}
			$fields['action'] = ['delete'];
			[$status] = $this->submit('/app/voice_secretary/'.$page, $fields);
			$this->assertSame(200, $status, $page);
		}
		foreach (['v_voice_secretaries', 'v_voice_ai_providers', 'v_voice_transfer_rules', 'v_voice_documents'] as $table) {
			$this->assertNull($this->fetch_row($table, 'domain_uuid', $domain[0]), 'nothing stored in '.$table);
		}
		//the domain settings are all optional: arrays count as empty fields, never as the text "Array"
		$settings = $this->fetch_row('v_voice_domain_settings', 'domain_uuid', $domain[0]);
		$this->assertSame([null, null, null], [$settings['operator_destination'], $settings['fallback_destination'], $settings['transfer_context']]);
	}
}
