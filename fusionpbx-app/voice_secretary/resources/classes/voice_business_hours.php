<?php
/*
	Voice Secretary — voice_business_hours: the transfer rule's business_hours JSON <-> form fields.

	Stored form (migration 005): {"timezone": "America/Sao_Paulo", "weekdays": {"mon": [["08:00","18:00"]], ...}}.
	The form has a timezone and one text field per day such as "08:00-12:00, 13:00-18:00"; an empty
	day is closed. All days empty means "always open" and is stored as NULL.
*/

class voice_business_hours {

	const days = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

	/**
	 * The JSON to store, null for "always open", or false when a field is malformed.
	 *
	 * @param string $timezone an IANA zone name
	 * @param array  $days     day => "HH:MM-HH:MM, ..."
	 * @return array|null|false
	 */
	public static function from_form(string $timezone, array $days) {
		$weekdays = [];
		$any = false;
		foreach (self::days as $day) {
			$weekdays[$day] = [];
			$text = trim((string) ($days[$day] ?? ''));
			if ($text === '') {
				continue;
			}
			foreach (explode(',', $text) as $range) {
				if (!preg_match('/^\s*([01]\d|2[0-3]):([0-5]\d)\s*-\s*([01]\d|2[0-4]):([0-5]\d)\s*$/', $range, $m)) {
					return false;
				}
				$start = $m[1].':'.$m[2];
				$end = $m[3].':'.$m[4];
				if ($end <= $start || ($m[3] === '24' && $m[4] !== '00')) {
					return false;
				}
				$weekdays[$day][] = [$start, $end];
				$any = true;
			}
		}
		if (!$any) {
			return null;
		}
		$timezone = trim($timezone) === '' ? 'America/Sao_Paulo' : trim($timezone);
		if (!in_array($timezone, timezone_identifiers_list(), true)) {
			return false;
		}
		return ['timezone' => $timezone, 'weekdays' => $weekdays];
	}

	/** [timezone, day => "HH:MM-HH:MM, ..."] for the form, from the stored JSON (string or null). */
	public static function to_form(?string $json): array {
		$hours = $json ? json_decode($json, true) : null;
		$days = array_fill_keys(self::days, '');
		if (!is_array($hours)) {
			return ['', $days];
		}
		foreach (self::days as $day) {
			$ranges = [];
			foreach ($hours['weekdays'][$day] ?? [] as $range) {
				if (is_array($range) && count($range) === 2) {
					$ranges[] = $range[0].'-'.$range[1];
				}
			}
			$days[$day] = implode(', ', $ranges);
		}
		return [(string) ($hours['timezone'] ?? ''), $days];
	}
}
