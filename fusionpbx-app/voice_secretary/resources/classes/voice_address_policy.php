<?php
/*
	Voice Secretary — voice_address_policy: which hosts a provider's base_url may name.

	The edge and the workers send the provider's API key to its base_url. A tenant admin must not be
	able to point them at the PBX's own network (loopback, private, link-local — the cloud metadata
	address 169.254.169.254 included —, shared/CGNAT, multicast, reserved), so such a URL is refused
	unless the operator allows private addresses (default setting voice_secretary →
	provider_allow_private, the counterpart of WEBHOOK_ALLOW_PRIVATE for webhooks). A host name is
	checked by every address it resolves to now; the edge and the workers check it again at every call
	(shared/address_policy.py). An address in any spelling inet_aton accepts (2130706433, 0x7f.1,
	0177.0.0.1) is judged as the address it is. Both implementations pass the same table of cases,
	shared/policies/address_policy_cases.json (tests/fusionpbx/phpunit/SharedPolicyCasesTest.php).
*/

class voice_address_policy {

	/** @var callable(string): string[] host name => its IPv4 and IPv6 addresses */
	private $resolver;

	/** @param callable|null $resolver host name => addresses (default: the system resolver) */
	public function __construct(?callable $resolver = null) {
		$this->resolver = $resolver ?? [self::class, 'resolve'];
	}

	/**
	 * Why $url may not be used, as [language key, host, address], or null when it may.
	 * The URL's syntax is voice_provider_config::valid_base_url()'s business; this looks at its host.
	 */
	public function refusal(string $url, bool $allow_private): ?array {
		$host = (string) parse_url($url, PHP_URL_HOST);
		if ($url === '' || $allow_private || $host === '') {
			return null;
		}
		$host = trim($host, '[]');
		$literal = self::literal_address($host);
		$addresses = $literal !== null ? [$literal] : ($this->resolver)($host);
		if (empty($addresses)) {
			return ['message-base_url_unresolved', $host, ''];
		}
		foreach ($addresses as $address) {
			if (!self::is_public_address($address)) {
				return ['message-base_url_private', $host, $address];
			}
		}
		return null;
	}

	/** The address $host names literally: IPv6, or IPv4 in any spelling inet_aton accepts; null for a name. */
	public static function literal_address(string $host): ?string {
		if (filter_var($host, FILTER_VALIDATE_IP) !== false) {
			return $host;
		}
		$parts = explode('.', $host);
		if (count($parts) > 4) {
			return null;
		}
		$numbers = [];
		foreach ($parts as $part) {
			if (preg_match('/^0x([0-9a-f]*)$/i', $part, $m)) {
				$numbers[] = $m[1] === '' ? 0 : hexdec($m[1]);
			}
			elseif (preg_match('/^0[0-7]+$/', $part)) {
				$numbers[] = octdec($part);
			}
			elseif (preg_match('/^(0|[1-9][0-9]{0,9})$/', $part)) {
				$numbers[] = (int) $part;
			}
			else {
				return null;
			}
		}
		$last = array_pop($numbers);
		foreach ($numbers as $number) {
			if ($number > 255) {
				return null;
			}
		}
		if ($last >= 256 ** (4 - count($numbers))) {
			return null;
		}
		$value = 0;
		foreach ($numbers as $number) {
			$value = $value * 256 + $number;
		}
		$value = $value * 256 ** (4 - count($numbers)) + $last;
		return long2ip((int) $value);
	}

	/** True for a globally routable unicast address (an IPv4 address inside IPv6 is judged as IPv4). */
	public static function is_public_address(string $address): bool {
		$embedded = self::embedded_ipv4($address);
		if ($embedded !== null) {
			return self::is_public_address($embedded);
		}
		if (filter_var($address, FILTER_VALIDATE_IP, FILTER_FLAG_GLOBAL_RANGE) === false) {
			return false;
		}
		//FILTER_FLAG_GLOBAL_RANGE lets multicast through (224.0.0.0/4, ff00::/8)
		$packed = inet_pton($address);
		return strlen($packed) === 4 ? (ord($packed[0]) & 0xf0) !== 0xe0 : ord($packed[0]) !== 0xff;
	}

	/** The IPv4 address inside an IPv4-mapped (::ffff:0:0/96), NAT64 (64:ff9b::/96) or 6to4 (2002::/16) address. */
	private static function embedded_ipv4(string $address): ?string {
		if (filter_var($address, FILTER_VALIDATE_IP, FILTER_FLAG_IPV6) === false) {
			return null;
		}
		$packed = inet_pton($address);
		if (substr($packed, 0, 12) === str_repeat("\0", 10)."\xff\xff" || substr($packed, 0, 12) === "\0\x64\xff\x9b".str_repeat("\0", 8)) {
			return inet_ntop(substr($packed, 12, 4));
		}
		if (substr($packed, 0, 2) === "\x20\x02") {
			return inet_ntop(substr($packed, 2, 4));
		}
		return null;
	}

	/** Every IPv4 and IPv6 address of $host by the system resolver (hosts file included). */
	public static function resolve(string $host): array {
		$addresses = @gethostbynamel($host) ?: [];
		foreach (@dns_get_record($host, DNS_AAAA) ?: [] as $record) {
			if (!empty($record['ipv6'])) {
				$addresses[] = $record['ipv6'];
			}
		}
		return array_values(array_unique($addresses));
	}
}
