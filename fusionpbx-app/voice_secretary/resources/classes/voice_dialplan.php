<?php
/*
	Voice Secretary — voice_dialplan: the FusionPBX dialplan entry that sends an extension to the edge.

	Dialling the secretary's extension inside its domain runs:
		set domain_uuid=<domain>, set voice_secretary_uuid=<secretary>, answer,
		socket <edge host>:<port> async full
	The entry is written the way Dialplan Manager writes one: a v_dialplans row with its
	v_dialplan_details (one condition, four actions), and dialplan_xml generated from those details by
	FusionPBX's own dialplan class (prepare_details() + xml(), what Dialplan Manager's Save runs). So
	Dialplan Manager shows the conditions and actions, and saving there produces the same XML.
	Both tables are FusionPBX's and follow its conventions, so they are written with $database->save()
	and delete() under temporary permissions: Advanced > Database Transactions records each change
	with the user. FusionPBX does not XML-escape details, so every value put in one is checked to
	hold no character XML or the dialplan would treat specially.
	After every change the domain's dialplan cache is cleared, as FusionPBX's own apps do.
*/

class voice_dialplan {

	/** The Voice Secretary app uuid (app_config.php), recorded on the dialplan rows it owns. */
	const app_uuid = '6a3621a7-2b17-4154-82c2-9a44dfeeee44';

	/** Dialplan order: after FusionPBX's local extensions (which use 100-300), before catch-alls. */
	const order = 340;

	/** @var database */
	private $database;

	/** @var string */
	private $domain_uuid;

	/** @var string the domain name, which FusionPBX uses as the dialplan context */
	private $domain_name;

	public function __construct($database, string $domain_uuid, string $domain_name) {
		$this->database = $database;
		$this->domain_uuid = $domain_uuid;
		$this->domain_name = $domain_name;
	}

	/**
	 * The socket application's target: "host:port", or a failover list "a:port|b:port" when
	 * $hosts names several edge hosts separated by commas.
	 */
	public static function edge_address(string $hosts, int $port): string {
		$targets = [];
		foreach (explode(',', $hosts) as $host) {
			$host = trim($host);
			if ($host === '') {
				continue;
			}
			$targets[] = (strpos($host, ':') !== false && substr_count($host, ':') === 1) ? $host : $host.':'.$port;
		}
		return implode('|', $targets);
	}

	/** True when $extension can be dialled and put in a regular expression safely. */
	public static function valid_extension(string $extension): bool {
		return (bool) preg_match('/^[0-9*#+]{1,32}$/', $extension);
	}

	/** Dialplan Manager's own rule for a name: spaces become "_" and "/" goes; we also keep only characters FusionPBX's unescaped XML can hold. */
	public static function dialplan_name(string $name): string {
		return 'voice_secretary_'.preg_replace('/[^\p{L}\p{N}_.-]+/u', '_', $name);
	}

	/** True when $edge ("host:port|host:port") can stand unescaped in a dialplan detail. */
	public static function valid_edge(string $edge): bool {
		return (bool) preg_match('/^[A-Za-z0-9.:\[\]_|-]+$/', $edge);
	}

	/**
	 * The v_dialplans row with its details (save() array shape: $array['dialplans'][0]), without dialplan_xml.
	 *
	 * @param array $detail_uuids uuids of the entry's existing details, reused in order so that saving again changes rows rather than adding new ones
	 */
	public function entry(string $dialplan_uuid, array $secretary, string $edge, array $detail_uuids = []): array {
		$extension = (string) $secretary['extension'];
		$details = [
			['condition', 'destination_number', '^'.str_replace(['*', '+'], ['\\*', '\\+'], $extension).'$'],
			['action', 'set', 'domain_uuid='.$this->domain_uuid],
			['action', 'set', 'voice_secretary_uuid='.$secretary['voice_secretary_uuid']],
			['action', 'answer', ''],
			['action', 'socket', $edge.' async full'],
		];
		$rows = [];
		foreach ($details as $i => [$tag, $type, $data]) {
			$rows[] = [
				'dialplan_detail_uuid' => $detail_uuids[$i] ?? uuid(),
				'domain_uuid' => $this->domain_uuid,
				'dialplan_detail_tag' => $tag,
				'dialplan_detail_type' => $type,
				'dialplan_detail_data' => $data,
				'dialplan_detail_break' => '',
				'dialplan_detail_inline' => '',
				'dialplan_detail_group' => '0',
				'dialplan_detail_order' => (string) (($i + 1) * 10),
				'dialplan_detail_enabled' => 'true',
			];
		}
		$enabled = in_array($secretary['enabled'] ?? true, [true, 't', 'true', 1, '1'], true) ? 'true' : 'false';
		return [
			'domain_uuid' => $this->domain_uuid,
			'dialplan_uuid' => $dialplan_uuid,
			'app_uuid' => self::app_uuid,
			'dialplan_context' => $this->domain_name,
			'dialplan_name' => self::dialplan_name((string) $secretary['name']),
			'dialplan_number' => $extension,
			'dialplan_destination' => 'false',
			'dialplan_continue' => 'false',
			'dialplan_order' => (string) self::order,
			'dialplan_enabled' => $enabled,
			'dialplan_description' => 'Voice Secretary: '.$secretary['name'],
			'dialplan_details' => $rows,
		];
	}

	/** The XML FusionPBX generates from an entry's details (its dialplan class, as Dialplan Manager's Save). */
	public static function xml(array $entry): string {
		$generator = new dialplan(['database' => database::new()]);
		$generator->source = 'details';
		$generator->destination = 'array';
		$generator->uuid = $entry['dialplan_uuid'];
		$generator->prepare_details(['dialplans' => [$entry]]);
		$xml = $generator->xml();
		return $xml[$entry['dialplan_uuid']] ?? '';
	}

	/**
	 * Write the dialplan entry of a saved secretary row (which has an extension) under $dialplan_uuid.
	 *
	 * @throws InvalidArgumentException for an extension or edge address a dialplan cannot hold
	 * @throws RuntimeException when the database refuses the entry
	 */
	public function save(string $dialplan_uuid, array $secretary, string $edge): void {
		$extension = (string) ($secretary['extension'] ?? '');
		if (!self::valid_extension($extension) || !is_uuid($dialplan_uuid)) {
			throw new InvalidArgumentException('invalid extension');
		}
		if (!self::valid_edge($edge)) {
			throw new InvalidArgumentException('invalid edge address');
		}
		$existing = $this->database->select("select dialplan_detail_uuid from v_dialplan_details where dialplan_uuid = :dialplan_uuid and domain_uuid = :domain_uuid order by dialplan_detail_group, dialplan_detail_order",
			['dialplan_uuid' => $dialplan_uuid, 'domain_uuid' => $this->domain_uuid], 'all');
		$existing = is_array($existing) ? array_column($existing, 'dialplan_detail_uuid') : [];
		$entry = $this->entry($dialplan_uuid, $secretary, $edge, $existing);
		$entry['dialplan_xml'] = self::xml($entry);
		$stale = array_slice($existing, count($entry['dialplan_details']));
		$this->with_permissions(['dialplan_add', 'dialplan_edit', 'dialplan_detail_add', 'dialplan_detail_edit', 'dialplan_detail_delete'], function () use ($entry, $stale): void {
			$array = ['dialplans' => [$entry]];
			if ($this->database->save($array) === false) {
				throw new RuntimeException('the dialplan entry was not saved');
			}
			if (!empty($stale)) {
				$this->database->delete(['dialplan_details' => array_map(function ($uuid) { return ['dialplan_detail_uuid' => $uuid]; }, $stale)]);
			}
		});
		$this->clear_cache();
	}

	/** Remove a secretary's dialplan entry and its details (of this domain only). */
	public function delete(?string $dialplan_uuid): void {
		if ($dialplan_uuid === null || !is_uuid($dialplan_uuid)) {
			return;
		}
		$found = $this->database->select("select dialplan_uuid from v_dialplans where domain_uuid = :domain_uuid and dialplan_uuid = :dialplan_uuid",
			['domain_uuid' => $this->domain_uuid, 'dialplan_uuid' => $dialplan_uuid], 'column');
		if ($found !== $dialplan_uuid) {
			return;
		}
		$details = $this->database->select("select dialplan_detail_uuid from v_dialplan_details where dialplan_uuid = :dialplan_uuid", ['dialplan_uuid' => $dialplan_uuid], 'all');
		$this->with_permissions(['dialplan_delete', 'dialplan_detail_delete'], function () use ($dialplan_uuid, $details): void {
			$array = [];
			if (is_array($details) && !empty($details)) {
				$array['dialplan_details'] = $details;
			}
			$array['dialplans'] = [['dialplan_uuid' => $dialplan_uuid]];
			$this->database->delete($array);
		});
		$this->clear_cache();
	}

	/** Run $work with FusionPBX permissions granted for this request only (as FusionPBX's apps write v_dialplans). */
	private function with_permissions(array $names, callable $work): void {
		$p = permissions::new();
		foreach ($names as $name) {
			$p->add($name, 'temp');
		}
		$this->database->app_name = 'Voice Secretary';
		$this->database->app_uuid = self::app_uuid;
		try {
			$work();
		}
		finally {
			foreach ($names as $name) {
				$p->delete($name, 'temp');
			}
		}
	}

	/** FusionPBX caches each context's dialplan under "dialplan:<context>". */
	private function clear_cache(): void {
		$cache = new cache;
		$cache->delete("dialplan:".$this->domain_name);
		$_SESSION["reload_xml"] = true;
	}
}
