<?php
/*
	Voice Secretary — voice_provider_config: a provider's config JSON as the edit page shows and saves it.

	An API key is never sent back to the browser: the page shows a masked hint, the key input starts
	empty, and an empty submission keeps the stored key (a "clear" checkbox removes it).
*/

class voice_provider_config {

	/** provider_type => provider names the engines understand (docs/contract.md). */
	const names = [
		'llm' => ['openai_realtime', 'openai', 'offline'],
		'stt' => ['openai', 'google', 'offline'],
		'tts' => ['elevenlabs', 'openai', 'offline'],
		'embeddings' => ['openai', 'offline'],
	];

	/** Keys with their own form fields; anything else is edited as JSON "extras". */
	const fields = ['model', 'base_url', 'voice', 'eagerness'];

	/** A hint that a key is set, without revealing it (only the last 4 characters of a long key). */
	public static function mask(?string $api_key): string {
		if ($api_key === null || $api_key === '') {
			return '';
		}
		return strlen($api_key) >= 16 ? '••••••••'.substr($api_key, -4) : '••••••••';
	}

	/** The config minus the api key: what the edit page may render. */
	public static function visible(array $config): array {
		unset($config['api_key']);
		return $config;
	}

	/**
	 * The config to store, from the stored one and the submitted form fields.
	 *
	 * @param array  $stored     the current config (may hold api_key)
	 * @param string $api_key    the submitted key ('' = keep the stored one)
	 * @param bool   $clear_key  remove the stored key
	 * @param array  $fields     model, base_url, voice, eagerness as submitted
	 * @param string $extra_json other vendor keys, a JSON object ('' = none)
	 * @return array|null null when $extra_json is not a JSON object
	 */
	public static function merge(array $stored, string $api_key, bool $clear_key, array $fields, string $extra_json): ?array {
		$config = [];
		if (trim($extra_json) !== '') {
			$extra = json_decode($extra_json, true);
			if (!is_array($extra) || array_is_list($extra) && !empty($extra)) {
				return null;
			}
			unset($extra['api_key']);
			$config = $extra;
		}
		foreach (self::fields as $key) {
			$value = trim((string) ($fields[$key] ?? ''));
			if ($value !== '') {
				$config[$key] = $value;
			}
		}
		$api_key = trim($api_key);
		if ($api_key !== '') {
			$config['api_key'] = $api_key;
		}
		elseif (!$clear_key && isset($stored['api_key']) && $stored['api_key'] !== '') {
			$config['api_key'] = $stored['api_key'];
		}
		return $config;
	}

	/** The vendor extras (everything but api_key and the dedicated fields) as pretty JSON. */
	public static function extra_json(array $config): string {
		$extra = self::visible($config);
		foreach (self::fields as $key) {
			unset($extra[$key]);
		}
		return empty($extra) ? '' : json_encode($extra, JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE);
	}

	/** True when a base_url is an http(s) URL (a local fake server is allowed). */
	public static function valid_base_url(string $url): bool {
		return $url === '' || (filter_var($url, FILTER_VALIDATE_URL) !== false && in_array(parse_url($url, PHP_URL_SCHEME), ['http', 'https', 'ws', 'wss'], true));
	}
}
