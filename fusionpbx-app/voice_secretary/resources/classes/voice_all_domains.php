<?php
/*
	Voice Secretary — voice_all_domains: the rows of every domain, for the "Show All" view of a list
	page, which FusionPBX offers to a superadmin holding the table's *_all permission (the page
	checks it). It only reads. Each row carries its domain_name; a list shows other domains' rows
	without edit links or checkboxes, and every write still goes through the session's
	voice_tenant_store, which cannot reach another domain's row.
*/

class voice_all_domains {

	/** @var database */
	private $database;

	/** @param database $database FusionPBX's database object */
	public function __construct($database) {
		$this->database = $database;
	}

	/** Rows of $table in every domain, with domain_name; arguments as voice_tenant_store::all(). */
	public function all(string $table, string $where = '', array $parameters = [], string $order_by = '', int $limit = 0, int $offset = 0): array {
		voice_tenant_store::check_table($table);
		$sql = "select t.*, (select d.domain_name from v_domains as d where d.domain_uuid = t.domain_uuid) as domain_name ";
		$sql .= "from ".$table." as t where true ".$where." ".voice_tenant_store::order_and_limit($order_by, $limit, $offset);
		$rows = $this->database->select($sql, $parameters ?: null, 'all');
		return is_array($rows) ? $rows : [];
	}

	/** How many rows of $table in every domain match $where. */
	public function count(string $table, string $where = '', array $parameters = []): int {
		voice_tenant_store::check_table($table);
		return intval($this->database->select("select count(*) from ".$table." where true ".$where, $parameters ?: null, 'column'));
	}

	/** The row of $table with primary key $uuid, in whichever domain, or null. */
	public function find(string $table, $uuid): ?array {
		voice_tenant_store::check_table($table);
		if (!is_string($uuid) || !is_uuid($uuid)) {
			return null;
		}
		$row = $this->database->select("select * from ".$table." where ".voice_tenant_store::tables[$table]." = :uuid", ['uuid' => $uuid], 'row');
		return is_array($row) && !empty($row) ? $row : null;
	}
}
