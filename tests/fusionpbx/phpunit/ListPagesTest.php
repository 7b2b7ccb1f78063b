<?php
/*
	Every list page works like FusionPBX 5.5's own lists: sorting by a column heading (?order_by=&order=),
	search, paging with the user's Domain > Paging rows (?page= from 0), and the Copy / Toggle / Delete
	actions on the checked rows (the action bar's hidden buttons and confirmation modals are in the page;
	the browser test clicks them). Three rows per list, named so that their order is visible.
*/

class ListPagesTest extends StandinTestCase {

	/** page => [table, key, name column, the rows' names in ascending order, actions the page offers] */
	const pages = [
		'voice_secretaries.php' => ['v_voice_secretaries', 'voice_secretary_uuid', 'name', ['Alpha desk', 'Bravo desk', 'Charlie line'], ['copy', 'toggle', 'delete']],
		//a provider is unique per domain, type and vendor: no copy
		'voice_ai_providers.php' => ['v_voice_ai_providers', 'provider_uuid', 'display_name', ['Alpha desk', 'Bravo desk', 'Charlie line'], ['toggle', 'delete']],
		'voice_transfer_rules.php' => ['v_voice_transfer_rules', 'transfer_rule_uuid', 'department_name', ['Alpha desk', 'Bravo desk', 'Charlie line'], ['copy', 'toggle', 'delete']],
		'voice_documents.php' => ['v_voice_documents', 'document_uuid', 'file_name', ['Alpha desk.txt', 'Bravo desk.txt', 'Charlie line.txt'], ['delete']],
		'voice_conversations.php' => ['v_voice_conversations', 'conversation_uuid', 'caller_id', ['5511000000001', '5511000000002', '5511000000003'], []],
	];

	/** The sort column of each page's name column. */
	const sort_column = ['voice_secretaries.php' => 'name', 'voice_ai_providers.php' => 'display_name', 'voice_transfer_rules.php' => 'department_name',
		'voice_documents.php' => 'file_name', 'voice_conversations.php' => 'caller_id'];

	private function add_rows(array $domain, string $page): array {
		[$table, , $name_column, $names] = self::pages[$page];
		$rows = [];
		foreach ([1, 2, 0] as $i) { //inserted out of order
			$row = ['domain_uuid' => $domain[0], $name_column => $names[$i]];
			if ($table === 'v_voice_ai_providers') {
				$row += ['provider_type' => ['llm', 'stt', 'tts'][$i], 'provider_name' => 'openai'];
			}
			if ($table === 'v_voice_transfer_rules') {
				$row += ['transfer_extension' => '200'.$i];
			}
			if ($table === 'v_voice_documents') {
				$row += ['storage_path' => '/nonexistent/'.$i, 'status' => 'ready'];
			}
			if ($table === 'v_voice_conversations') {
				$row += ['call_uuid' => uuid(), 'summary' => 'summary '.$names[$i]];
			}
			$rows[$names[$i]] = $this->insert_row($table, $row);
		}
		return $rows;
	}

	/** The names of $names in the order the page shows them. */
	private static function shown(string $html, array $names): array {
		$positions = [];
		foreach ($names as $name) {
			$at = strpos($html, '>'.$name.'<');
			if ($at !== false) {
				$positions[$name] = $at;
			}
		}
		asort($positions);
		return array_map("strval", array_keys($positions));
	}

	public function test_sorting_search_and_paging_on_every_list(): void {
		foreach (self::pages as $page => [, , , $names]) {
			$domain = $this->make_domain();
			$this->login($domain, 'admin');
			$this->add_rows($domain, $page);
			$url = '/app/voice_secretary/'.$page;
			$column = self::sort_column[$page];

			[, $html] = $this->get($url.'?order_by='.$column.'&order=asc');
			$this->assertSame($names, self::shown($html, $names), $page.' sorted ascending');
			$this->assertStringContainsString("href='?order_by=".$column."&order=desc'", $html, $page.': the heading now sorts descending');
			[, $html] = $this->get($url.'?order_by='.$column.'&order=desc');
			$this->assertSame(array_reverse($names), self::shown($html, $names), $page.' sorted descending');
			[, $html] = $this->get($url.'?order_by=not_a_column&order=asc');
			$this->assertCount(3, self::shown($html, $names), $page.': an unknown column falls back to the default order');

			$term = $page === 'voice_conversations.php' ? '0000002' : 'bravo';
			[, $html] = $this->get($url.'?search='.$term);
			$this->assertSame([$names[1]], self::shown($html, $names), $page.' search');
			$this->assertStringContainsString("<div class='count'>1</div>", $html);

			$this->with_settings(['paging' => '2'], function () use ($url, $names, $column, $page) {
				[, $html] = $this->get($url.'?order_by='.$column.'&order=asc');
				$this->assertSame([$names[0], $names[1]], self::shown($html, $names), $page.' first page of 2 rows');
				$this->assertStringContainsString("<div class='count'>3</div>", $html);
				$this->assertMatchesRegularExpression('/\?page=1&(amp;)?order_by='.$column.'&(amp;)?order=asc/', $html, $page.': the next page keeps the sort');
				[, $html] = $this->get($url.'?page=1&order_by='.$column.'&order=asc');
				$this->assertSame([$names[2]], self::shown($html, $names), $page.' second page');
			}, 'domain');
		}
	}

	public function test_copy_toggle_and_delete_on_the_checked_rows(): void {
		foreach (self::pages as $page => [$table, $key, $name_column, $names, $actions]) {
			$domain = $this->make_domain();
			$this->login($domain, 'admin');
			$rows = $this->add_rows($domain, $page);
			$url = '/app/voice_secretary/'.$page;
			[, $html] = $this->get($url);
			foreach (['copy', 'toggle', 'delete'] as $action) {
				if (in_array($action, $actions, true)) {
					$this->assertStringContainsString("id='btn_".$action."' name='btn_".$action."' style='display: none;'", $html, $page.': '.$action.' waits for a checked row');
					$this->assertStringContainsString("id='modal-".$action."'", $html, $page.': '.$action.' asks first');
				}
				else {
					$this->assertStringNotContainsString("id='btn_".$action."'", $html, $page.' offers no '.$action);
				}
			}
			$checked = function (string $name) use ($rows, $key, $page): array {
				return [$page === 'voice_conversations.php' ? 'voice_conversations' : substr($page, 0, -4) => [['checked' => 'true', 'uuid' => $rows[$name][$key]], ['uuid' => $rows[array_keys($rows)[0] === $name ? array_keys($rows)[1] : array_keys($rows)[0]][$key]]]];
			};
			$count = function () use ($table, $domain): int {
				$statement = $this->pdo()->prepare("select count(*) from ".$table." where domain_uuid = ?");
				$statement->execute([$domain[0]]);
				return (int) $statement->fetchColumn();
			};
			if (in_array('toggle', $actions, true)) {
				$this->submit($url, ['action' => 'toggle'] + $checked($names[0]), [], $url);
				$this->assertFalse($this->fetch_row($table, $key, $rows[$names[0]][$key])['enabled'], $page.' toggle disables the checked row');
				$this->assertTrue($this->fetch_row($table, $key, $rows[$names[1]][$key])['enabled'], $page.' toggle leaves the others');
			}
			if (in_array('copy', $actions, true)) {
				$this->submit($url, ['action' => 'copy'] + $checked($names[1]), [], $url);
				$this->assertSame(4, $count(), $page.' copy adds one row');
				$statement = $this->pdo()->prepare("select count(*) from ".$table." where domain_uuid = ? and ".$name_column." like ?");
				$statement->execute([$domain[0], $names[1].' (Copy)']);
				$this->assertSame(1, (int) $statement->fetchColumn(), $page.': the copy is named as one');
			}
			$before = $count();
			[, $html] = $this->submit($url, ['action' => 'delete'] + $checked($names[2]), [], $url);
			if (in_array('delete', $actions, true)) {
				$this->assertNull($this->fetch_row($table, $key, $rows[$names[2]][$key]), $page.' delete removes the checked row');
				$this->assertSame($before - 1, $count());
				$this->assertStringContainsString('Delete Completed', $html);
			}
			else {
				$this->assertSame($before, $count(), $page.' deletes nothing');
			}
		}
	}
}
