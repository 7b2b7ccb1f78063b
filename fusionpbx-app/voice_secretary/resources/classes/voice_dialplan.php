<?php
/*
	Voice Secretary — voice_dialplan: the FusionPBX dialplan entry that sends an extension to the edge.

	Dialling the secretary's extension inside its domain runs:
		set domain_uuid=<domain>, set voice_secretary_uuid=<secretary>, answer,
		socket <edge host>:<port> async full
	The row lives in FusionPBX's own v_dialplans table (dialplan_uuid remembered on the secretary);
	after every change the domain's dialplan cache is cleared, as FusionPBX's own apps do, so the
	next call reads the new XML.
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

	/** The dialplan XML for one secretary (a pure function: tests read it as XML). */
	public static function xml(string $dialplan_uuid, string $domain_uuid, string $voice_secretary_uuid, string $name, string $extension, string $edge): string {
		$expression = '^'.str_replace(['*', '+'], ['\\*', '\\+'], $extension).'$';
		$e = function (string $value): string {
			return htmlspecialchars($value, ENT_XML1 | ENT_QUOTES, 'UTF-8');
		};
		$xml = "<extension name=\"".$e('voice_secretary_'.$name)."\" continue=\"false\" uuid=\"".$e($dialplan_uuid)."\">\n";
		$xml .= "\t<condition field=\"destination_number\" expression=\"".$e($expression)."\">\n";
		$xml .= "\t\t<action application=\"set\" data=\"domain_uuid=".$e($domain_uuid)."\"/>\n";
		$xml .= "\t\t<action application=\"set\" data=\"voice_secretary_uuid=".$e($voice_secretary_uuid)."\"/>\n";
		$xml .= "\t\t<action application=\"answer\" data=\"\"/>\n";
		$xml .= "\t\t<action application=\"socket\" data=\"".$e($edge)." async full\"/>\n";
		$xml .= "\t</condition>\n";
		$xml .= "</extension>\n";
		return $xml;
	}

	/**
	 * Create or update the dialplan of a saved secretary row, or remove it when the secretary has no
	 * extension any more.
	 *
	 * @return string|null the dialplan uuid to store on the secretary (null: no dialplan)
	 * @throws RuntimeException when the database refuses the entry
	 */
	public function save(array $secretary, string $edge): ?string {
		$dialplan_uuid = (!empty($secretary['dialplan_uuid']) && is_uuid($secretary['dialplan_uuid'])) ? $secretary['dialplan_uuid'] : null;
		$extension = (string) ($secretary['extension'] ?? '');
		if ($extension === '') {
			$this->delete($dialplan_uuid);
			return null;
		}
		if (!self::valid_extension($extension)) {
			throw new InvalidArgumentException('invalid extension');
		}
		$dialplan_uuid = $dialplan_uuid ?? uuid();
		$enabled = in_array($secretary['enabled'] ?? true, [true, 't', 'true', 1, '1'], true) ? 'true' : 'false';
		$parameters = [
			'domain_uuid' => $this->domain_uuid,
			'dialplan_uuid' => $dialplan_uuid,
			'app_uuid' => self::app_uuid,
			'dialplan_context' => $this->domain_name,
			'dialplan_name' => 'voice_secretary_'.$secretary['name'],
			'dialplan_number' => $extension,
			'dialplan_continue' => 'false',
			'dialplan_xml' => self::xml($dialplan_uuid, $this->domain_uuid, $secretary['voice_secretary_uuid'], $secretary['name'], $extension, $edge),
			'dialplan_order' => self::order,
			'dialplan_enabled' => $enabled,
			'dialplan_description' => 'Voice Secretary: '.$secretary['name'],
		];
		$sql = "update v_dialplans set app_uuid = :app_uuid, dialplan_context = :dialplan_context, ";
		$sql .= "dialplan_name = :dialplan_name, dialplan_number = :dialplan_number, dialplan_continue = :dialplan_continue, ";
		$sql .= "dialplan_xml = :dialplan_xml, dialplan_order = :dialplan_order, dialplan_enabled = :dialplan_enabled, ";
		$sql .= "dialplan_description = :dialplan_description ";
		$sql .= "where domain_uuid = :domain_uuid and dialplan_uuid = :dialplan_uuid returning dialplan_uuid";
		$updated = $this->database->execute($sql, $parameters, 'all');
		if (!is_array($updated) || count($updated) === 0) {
			$sql = "insert into v_dialplans (domain_uuid, dialplan_uuid, app_uuid, dialplan_context, dialplan_name, ";
			$sql .= "dialplan_number, dialplan_continue, dialplan_xml, dialplan_order, dialplan_enabled, dialplan_description) ";
			$sql .= "values (:domain_uuid, :dialplan_uuid, :app_uuid, :dialplan_context, :dialplan_name, :dialplan_number, ";
			$sql .= ":dialplan_continue, :dialplan_xml, :dialplan_order, :dialplan_enabled, :dialplan_description)";
			if ($this->database->execute($sql, $parameters) === false) {
				throw new RuntimeException('the dialplan entry was not saved');
			}
		}
		$this->clear_cache();
		return $dialplan_uuid;
	}

	/** Remove a secretary's dialplan row (of this domain only). */
	public function delete(?string $dialplan_uuid): void {
		if ($dialplan_uuid === null || !is_uuid($dialplan_uuid)) {
			return;
		}
		$sql = "delete from v_dialplans where domain_uuid = :domain_uuid and dialplan_uuid = :dialplan_uuid";
		$this->database->execute($sql, ['domain_uuid' => $this->domain_uuid, 'dialplan_uuid' => $dialplan_uuid]);
		$this->clear_cache();
	}

	/** FusionPBX caches each context's dialplan under "dialplan:<context>". */
	private function clear_cache(): void {
		$cache = new cache;
		$cache->delete("dialplan:".$this->domain_name);
		$_SESSION["reload_xml"] = true;
	}
}
