<?php
/*
	Voice Secretary — voice_business_hours: the transfer rule's business_hours JSON <-> form fields.

	Stored form (migration 005): {"timezone": "America/Sao_Paulo", "weekdays": {"mon": [["08:00","18:00"]], ...}}.
	The form has a timezone and one text field per day such as "08:00-12:00, 13:00-18:00"; an empty
	day is closed. All days empty means "always open" and is stored as NULL. An empty timezone is UTC;
	an interval whose end is before its start runs past midnight ("22:00-06:00"); "24:00" only ends
	one; an interval that starts where it ends is refused. These are the edge's rules too
	(shared/transfer_rules.py): both pass shared/policies/business_hours_cases.json.
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
			$text = trim(is_string($days[$day] ?? null) ? $days[$day] : '');
			if ($text === '') {
				continue;
			}
			foreach (explode(',', $text) as $range) {
				if (!preg_match('/^\s*(\d\d:\d\d)\s*-\s*(\d\d:\d\d)\s*$/', $range, $m)) {
					return false;
				}
				$weekdays[$day][] = [$m[1], $m[2]];
				$any = true;
			}
		}
		if (!$any) {
			return null;
		}
		$hours = ['timezone' => trim($timezone) === '' ? 'UTC' : trim($timezone), 'weekdays' => $weekdays];
		return self::problem($hours) === null ? $hours : false;
	}

	/**
	 * Why a stored business_hours value (decoded JSON) is malformed, or null when it is well formed.
	 * The edge treats a malformed value as "closed" and logs it; the page never stores one.
	 */
	public static function problem($hours): ?string {
		if ($hours === null || $hours === [] ) {
			return null;
		}
		if (!is_array($hours) || array_is_list($hours)) {
			return 'not an object with timezone and weekdays';
		}
		$weekdays = $hours['weekdays'] ?? null;
		if ($weekdays === null || $weekdays === [] || $weekdays === '' || $weekdays === false || $weekdays === 0) {
			return null;
		}
		if (!is_array($weekdays) || array_is_list($weekdays)) {
			return 'weekdays is not an object of days';
		}
		foreach ($weekdays as $day => $intervals) {
			if (!in_array($day, self::days, true)) {
				return "unknown day ".$day;
			}
			if ($intervals === null) {
				continue;
			}
			if (!is_array($intervals) || !array_is_list($intervals)) {
				return $day.': not a list of [start, end] pairs';
			}
			foreach ($intervals as $interval) {
				if (!is_array($interval) || !array_is_list($interval) || count($interval) !== 2
					|| !is_string($interval[0]) || !is_string($interval[1])) {
					return $day.': not a [start, end] pair';
				}
				[$start, $end] = $interval;
				if (!self::is_clock($start) || !self::is_clock($end) || $start === '24:00' || $start === $end) {
					return $day.': '.$start.'-'.$end.' is not an interval';
				}
			}
		}
		$timezone = $hours['timezone'] ?? null;
		if ($timezone === null || $timezone === '') {
			return null;
		}
		if (!is_string($timezone) || !in_array($timezone, timezone_identifiers_list(DateTimeZone::ALL_WITH_BC), true)) {
			return 'unknown timezone';
		}
		return null;
	}

	/** "HH:MM" from 00:00 to 23:59, or 24:00. */
	private static function is_clock(string $text): bool {
		return preg_match('/^([01]\d|2[0-3]):[0-5]\d$/', $text) === 1 || $text === '24:00';
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
