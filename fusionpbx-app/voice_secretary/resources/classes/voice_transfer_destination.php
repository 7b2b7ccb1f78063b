<?php
/*
	Voice Secretary — voice_transfer_destination: what a transfer destination and context may be.

	The characters refused are those of shared/policies/transfer_destination.json (reached through
	resources/policies), the table the edge reads too, so the page cannot save a destination the edge
	would refuse to dial (a gateway path, another domain, channel variables, more legs). The context is
	the tenant's own only: empty (the domain's) or the domain's name.
*/

class voice_transfer_destination {

	/** The shared table, read once per request. */
	private static function policy(): array {
		static $policy = null;
		if ($policy === null) {
			$policy = json_decode(file_get_contents(dirname(__DIR__).'/policies/transfer_destination.json'), true, 512, JSON_THROW_ON_ERROR);
		}
		return $policy;
	}

	/** Why $value may not be a destination, or null when it may. */
	public static function problem(string $value): ?string {
		$policy = self::policy();
		if ($value === '') {
			return 'empty';
		}
		if (!mb_check_encoding($value, 'UTF-8')) {
			return 'not UTF-8';
		}
		$chars = mb_str_split($value, 1, 'UTF-8');
		if (count($chars) > $policy['max_length']) {
			return 'longer than '.$policy['max_length'].' characters';
		}
		$forbidden = mb_str_split($policy['forbidden_characters'], 1, 'UTF-8');
		foreach ($chars as $char) {
			if (in_array($char, $forbidden, true)) {
				return 'contains '.json_encode($char);
			}
			if ($policy['forbid_control_characters'] && strlen($char) === 1 && (ord($char) < 0x20 || ord($char) === 0x7f)) {
				return 'contains a control character';
			}
		}
		return null;
	}

	/** Whether $context may be saved for a rule of the domain named $domain_name: empty or that name. */
	public static function context_allowed(string $context, string $domain_name): bool {
		return $context === '' || $context === $domain_name;
	}
}
