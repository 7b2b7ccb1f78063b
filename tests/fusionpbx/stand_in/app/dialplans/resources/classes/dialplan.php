<?php
/*
	Stand-in for the part of FusionPBX's dialplan class (app/dialplans/resources/classes/dialplan.php)
	that turns v_dialplan_details into the dialplan_xml FreeSWITCH reads. Dialplan Manager's Save runs
	it on the posted details (prepare_details() then xml() with source "details", destination "array")
	and stores the result in v_dialplans.dialplan_xml; destination "database" writes it there itself.

	The generated text follows FusionPBX 5.5 byte for byte for the details it can hold:
	* <extension name="N" continue="C" uuid="U">, then per detail group: conditions (field/expression,
	  <condition regex="...">, <regex .../> lines, time conditions such as wday/time-of-day gathered as
	  attributes of one <condition>), break="..." on a condition, actions and anti-actions with
	  inline="..." when set; a condition followed by actions is closed by </condition>.
	* nothing is XML-escaped and "$$" becomes "$": what a detail holds lands in the XML verbatim.
	* details not enabled ('true') are left out; rows are taken by group, then order.
	* in a public context the first action of a group is preceded by export call_direction=inbound and
	  set domain_uuid / domain_name (inline).
	* its quirks are kept: a condition left without actions at a group change is closed as " <condition .../>"
	  with no line break.
*/

class dialplan {

	/** Detail types FusionPBX writes as attributes of a time condition. */
	const time_types = ['hour', 'minute', 'minute-of-day', 'mday', 'mweek', 'mon', 'time-of-day', 'yday', 'year', 'wday', 'week', 'date-time'];

	/** @var string "details" (build from details) or "dialplans" (read dialplan_xml) */
	public $source = 'details';

	/** @var string "array" (return uuid => xml) or "database" (store it in dialplan_xml) */
	public $destination = 'array';

	/** @var string|null limit to one dialplan */
	public $uuid = null;

	/** @var string|null limit to one context */
	public $context = null;

	/** @var array detail rows joined with their dialplan's columns */
	private $dialplan_details = [];

	/** @var database */
	private $database;

	public function __construct(array $setting_array = []) {
		$this->database = $setting_array['database'] ?? database::new();
	}

	/** Take the details from a save() array ($array['dialplans'][n]['dialplan_details']), enabled ones only, by group and order. */
	public function prepare_details($database_array) {
		$rows = [];
		foreach ($database_array['dialplans'] ?? [] as $dialplan) {
			foreach ($dialplan['dialplan_details'] ?? [] as $detail) {
				if (($detail['dialplan_detail_enabled'] ?? null) == 'true') {
					$rows[] = array_intersect_key($dialplan, array_flip(['domain_uuid', 'dialplan_uuid', 'dialplan_context', 'dialplan_name', 'dialplan_continue'])) + $detail;
				}
			}
		}
		usort($rows, function ($a, $b) {
			return [$a['dialplan_detail_group'], $a['dialplan_detail_order']] <=> [$b['dialplan_detail_group'], $b['dialplan_detail_order']];
		});
		$this->dialplan_details = $rows;
	}

	/** The XML of each dialplan (uuid => xml); with destination "database" it is stored instead. */
	public function xml() {
		$dialplans = [];
		if ($this->source === 'dialplans') {
			$sql = "select dialplan_uuid, dialplan_xml from v_dialplans where dialplan_uuid = :dialplan_uuid";
			foreach ($this->database->select($sql, ['dialplan_uuid' => $this->uuid], 'all') ?: [] as $row) {
				$dialplans[$row['dialplan_uuid']] = $row['dialplan_xml'];
			}
		}
		else {
			if (empty($this->dialplan_details)) {
				$this->dialplan_details = $this->details_from_database();
			}
			$dialplans = $this->build($this->dialplan_details);
		}
		if ($this->destination === 'database') {
			$p = permissions::new();
			$p->add('dialplan_edit', 'temp');
			foreach ($dialplans as $uuid => $xml) {
				$array = ['dialplans' => [['dialplan_uuid' => $uuid, 'dialplan_xml' => $xml]]];
				$this->database->save($array);
			}
			$p->delete('dialplan_edit', 'temp');
			return null;
		}
		return $dialplans;
	}

	/** The details of the selected dialplans as FusionPBX reads them: enabled (or unset) ones, dialplan by dialplan, conditions before actions. */
	private function details_from_database(): array {
		$sql = "select p.domain_uuid, p.dialplan_uuid, p.dialplan_context, p.dialplan_name, p.dialplan_continue, ";
		$sql .= "s.dialplan_detail_tag, s.dialplan_detail_type, s.dialplan_detail_data, s.dialplan_detail_break, ";
		$sql .= "s.dialplan_detail_inline, s.dialplan_detail_group, s.dialplan_detail_order ";
		$sql .= "from v_dialplans as p join v_dialplan_details as s on s.dialplan_uuid = p.dialplan_uuid ";
		$sql .= "where (s.dialplan_detail_enabled = true or s.dialplan_detail_enabled is null) ";
		$parameters = [];
		if (is_uuid($this->uuid)) {
			$sql .= "and p.dialplan_uuid = :dialplan_uuid ";
			$parameters['dialplan_uuid'] = $this->uuid;
		}
		$sql .= "order by p.dialplan_order, p.dialplan_name, p.dialplan_uuid, s.dialplan_detail_group, ";
		$sql .= "case s.dialplan_detail_tag when 'condition' then 0 when 'regex' then 1 when 'action' then 2 when 'anti-action' then 3 else 100 end, ";
		$sql .= "s.dialplan_detail_order";
		$rows = $this->database->select($sql, $parameters, 'all');
		return is_array($rows) ? $rows : [];
	}

	/** PostgreSQL hands booleans to PHP as true/false; FusionPBX prints them as "true"/"false". */
	private static function text($value): string {
		if (is_bool($value)) {
			return $value ? 'true' : 'false';
		}
		return (string) $value;
	}

	private static function is_public(string $context): bool {
		return $context === 'public' || strpos($context, 'public@') === 0 || substr($context, -7) === '.public';
	}

	/** Generate uuid => xml from detail rows already in dialplan/group/order order. */
	private function build(array $rows): array {
		$domains = [];
		foreach ($this->database->select("select domain_uuid, domain_name from v_domains", [], 'all') ?: [] as $domain) {
			$domains[$domain['domain_uuid']] = $domain['domain_name'];
		}
		//split into dialplans, then groups, keeping the order
		$plans = [];
		foreach ($rows as $row) {
			$uuid = $row['dialplan_uuid'];
			if (!isset($plans[$uuid])) {
				$plans[$uuid] = ['row' => $row, 'groups' => []];
			}
			$plans[$uuid]['groups'][self::text($row['dialplan_detail_group'])][] = $row;
		}
		$result = [];
		$uuids = array_keys($plans);
		foreach ($uuids as $p => $uuid) {
			$head = $plans[$uuid]['row'];
			$xml = "<extension name=\"".self::text($head['dialplan_name'])."\" continue=\"".self::text($head['dialplan_continue'])."\" uuid=\"".$uuid."\">\n";
			$public = self::is_public(self::text($head['dialplan_context']));
			$groups = array_values($plans[$uuid]['groups']);
			foreach ($groups as $g => $details) {
				$very_last = ($p === count($uuids) - 1) && ($g === count($groups) - 1);
				$xml .= $this->group_xml($details, $public, $domains, $very_last);
			}
			$result[$uuid] = $xml."</extension>\n";
		}
		return $result;
	}

	/** One detail group's conditions and actions; $very_last: the last group generated in this run. */
	private function group_xml(array $details, bool $public, array $domains, bool $very_last): string {
		$xml = '';
		$pending = '';      //a condition tag not written yet (without its ending unless it ends in ">")
		$time = '';         //attributes of a time condition being gathered
		$break = '';
		$open = false;      //a condition was started in this group
		$first_action = true;
		foreach ($details as $row) {
			$tag = (string) $row['dialplan_detail_tag'];
			$type = (string) $row['dialplan_detail_type'];
			$data = str_replace('$$', '$', (string) ($row['dialplan_detail_data'] ?? ''));
			$inline = (string) ($row['dialplan_detail_inline'] ?? '') !== '' ? " inline=\"".$row['dialplan_detail_inline']."\"" : '';
			if ($tag === 'condition' || $tag === 'regex') {
				$is_time = in_array($type, self::time_types, true);
				if ($open) {
					if ($pending !== '') {
						$xml .= $pending.(substr($pending, -1) === '>' ? "\n" : "/>\n");
						$pending = '';
						$open = false;
					}
					elseif ($time !== '' && !$is_time) {
						$xml .= "\t<condition ".$time.$break."/>\n";
						$time = '';
						$open = false;
					}
				}
				$break = (string) ($row['dialplan_detail_break'] ?? '') !== '' ? " break=\"".$row['dialplan_detail_break']."\"" : '';
				if ($is_time) {
					$time .= $type."=\"".$data."\" ";
					$pending = '';
				}
				elseif ($tag === 'condition' && $type === 'regex') {
					$pending = "\t<condition regex=\"".$data."\"".$break.">";
				}
				elseif ($tag === 'regex') {
					$pending = "\t\t<regex field=\"".$type."\" expression=\"".$data."\"".$break."/>";
				}
				else {
					$pending = "\t<condition field=\"".$type."\" expression=\"".$data."\"".$break;
				}
				$open = true;
			}
			if (($tag === 'action' || $tag === 'anti-action') && $open) {
				if ($time !== '') {
					$xml .= "\t<condition ".$time.$break.">\n";
					$time = '';
				}
				elseif ($pending !== '') {
					$xml .= $pending.(substr($pending, -1) === '>' ? "\n" : ">\n");
					$pending = '';
				}
			}
			if ($tag === 'action' && $public && $first_action) {
				$xml .= "\t\t<action application=\"export\" data=\"call_direction=inbound\" inline=\"true\"/>\n";
				if (!empty($row['domain_uuid']) && isset($domains[$row['domain_uuid']])) {
					$xml .= "\t\t<action application=\"set\" data=\"domain_uuid=".$row['domain_uuid']."\" inline=\"true\"/>\n";
					$xml .= "\t\t<action application=\"set\" data=\"domain_name=".$domains[$row['domain_uuid']]."\" inline=\"true\"/>\n";
				}
				$first_action = false;
			}
			if ($tag === 'action' || $tag === 'anti-action') {
				$xml .= "\t\t<".$tag." application=\"".$type."\" data=\"".$data."\"".$inline."/>\n";
			}
		}
		if ($open) {
			if ($time !== '') {
				$xml .= "\t<condition ".$time.$break."/>\n";
			}
			elseif ($pending !== '' && substr($pending, -1) === '>') {
				$xml .= $very_last ? $pending."\n" : " ".$pending;
			}
			elseif ($pending !== '') {
				$xml .= $very_last ? $pending."/>\n" : " ".$pending."/>";
			}
			else {
				$xml .= "\t</condition>\n";
			}
		}
		return $xml;
	}
}
