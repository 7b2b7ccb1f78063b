<?php
/*
	Voice Secretary — voice_address_policy: which hosts a provider's base_url may name.

	The edge and the workers send the provider's API key to its base_url. A tenant admin must not be
	able to point them at the PBX's own network (loopback, private, link-local — the cloud metadata
	address 169.254.169.254 included —, shared/CGNAT, multicast, reserved), so such a URL is refused
	unless the operator allows private addresses (default setting voice_secretary →
	provider_allow_private, the counterpart of WEBHOOK_ALLOW_PRIVATE for webhooks). A host name is
	checked by every address it resolves to now; the request itself is made later, elsewhere.
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
		$addresses = filter_var($host, FILTER_VALIDATE_IP) !== false ? [$host] : ($this->resolver)($host);
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
