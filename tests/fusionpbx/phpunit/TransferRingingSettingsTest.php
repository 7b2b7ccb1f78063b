<?php
/*
	The call handling settings show "While a transfer rings" (ring time, ringback country, hold music) once
	the database has migration 014's columns (ringback_tone, hold_music_file, transfer_ring_seconds), and
	not before. Where the migrated test database lacks them, the test adds those columns itself (as 014
	does) and removes them afterwards.
*/

class TransferRingingSettingsTest extends StandinTestCase {

	const columns = ['ringback_tone' => 'VARCHAR(16)', 'hold_music_file' => 'VARCHAR(1024)', 'transfer_ring_seconds' => 'INTEGER'];

	/** @var string[] columns this test added */
	private $added = [];

	private function have_columns(): array {
		$rows = $this->pdo()->query("select column_name from information_schema.columns where table_schema = current_schema() and table_name = 'v_voice_domain_settings'")->fetchAll(PDO::FETCH_COLUMN);
		return array_values(array_intersect(array_keys(self::columns), $rows));
	}

	protected function tearDown(): void {
		foreach ($this->added as $column) {
			$this->pdo()->exec("alter table v_voice_domain_settings drop column if exists ".$column);
		}
		$this->added = [];
		parent::tearDown();
	}

	public function test_the_section_appears_with_the_columns_and_saves_them(): void {
		$domain = $this->make_domain();
		$this->login($domain, 'admin');
		if (count($this->have_columns()) < 3) {
			[, $html] = $this->get('/app/voice_secretary/voice_domain_settings.php');
			$this->assertStringNotContainsString('While a transfer rings', $html, 'no fields for columns the database lacks');
			foreach (self::columns as $column => $type) {
				if (!in_array($column, $this->have_columns(), true)) {
					$this->pdo()->exec("alter table v_voice_domain_settings add column ".$column." ".$type);
					$this->added[] = $column;
				}
			}
		}
		[, $html] = $this->get('/app/voice_secretary/voice_domain_settings.php');
		$this->assertStringContainsString('While a transfer rings', $html);
		$this->assertStringContainsString("<option value='br'>Brazil (425 Hz)</option>", $html);

		foreach ([['transfer_ring_seconds' => '0'], ['transfer_ring_seconds' => '301'], ['ringback_tone' => 'de'], ['hold_music_file' => 'music.wav'], ['hold_music_file' => "/tmp/a\nb.wav"]] as $bad) {
			[, $html] = $this->submit('/app/voice_secretary/voice_domain_settings.php', $bad + ['operator_destination' => '2000']);
			$this->assertStringContainsString("id='form_errors'", $html, json_encode($bad));
		}
		$this->assertNull($this->fetch_row('v_voice_domain_settings', 'domain_uuid', $domain[0]));
		$this->submit('/app/voice_secretary/voice_domain_settings.php', ['operator_destination' => '2000', 'transfer_ring_seconds' => '40', 'ringback_tone' => 'us', 'hold_music_file' => '/var/lib/voice-ai/hold/jazz.wav']);
		$row = $this->fetch_row('v_voice_domain_settings', 'domain_uuid', $domain[0]);
		$this->assertSame([40, 'us', '/var/lib/voice-ai/hold/jazz.wav'], [$row['transfer_ring_seconds'], $row['ringback_tone'], $row['hold_music_file']]);
		$this->submit('/app/voice_secretary/voice_domain_settings.php', ['operator_destination' => '2000', 'transfer_ring_seconds' => '', 'ringback_tone' => '', 'hold_music_file' => '']);
		$row = $this->fetch_row('v_voice_domain_settings', 'domain_uuid', $domain[0]);
		$this->assertSame([null, null, null], [$row['transfer_ring_seconds'], $row['ringback_tone'], $row['hold_music_file']], 'empty: the defaults');
	}
}
