<?php
/*
	Voice Secretary — voice_tenant_store: every read and write of a v_voice_* row, bound to one domain.

	FusionPBX's database::save() does not check that an updated or deleted row belongs to the session's
	domain, and our primary keys do not follow its singular-name convention. So this app never calls
	save()/delete(): every statement goes through database::select()/execute() with parameters, and
	every WHERE clause carries "domain_uuid = :domain_uuid" for the domain given to the constructor.
	A page makes one store for $_SESSION['domain_uuid']; a UUID edited in a URL or form that names
	another domain's row simply finds nothing.

	Because save() is not used, the store writes the audit record save() would: every insert, update
	and delete adds a v_database_transactions row (domain, the session's user, this app, add/update/
	delete, the old and new row as JSON, secrets replaced by "********") in the same database
	transaction, when FusionPBX's Database Transactions app is installed — so Advanced > Database
	Transactions lists the app's changes with their user, as it lists FusionPBX's own.
*/

class voice_tenant_store {

	/** Table => primary key, for every table the app reads or writes. */
	const tables = [
		'v_voice_ai_providers' => 'provider_uuid',
		'v_voice_secretaries' => 'voice_secretary_uuid',
		'v_voice_documents' => 'document_uuid',
		'v_voice_transfer_rules' => 'transfer_rule_uuid',
		'v_voice_conversations' => 'conversation_uuid',
		'v_voice_messages' => 'message_uuid',
		'v_voice_domain_settings' => 'domain_setting_uuid',
	];

	/** @var database */
	private $database;

	/** @var string */
	private $domain_uuid;

	/**
	 * @param database $database    FusionPBX's database object
	 * @param string   $domain_uuid the domain every statement is limited to (the session's)
	 */
	public function __construct($database, string $domain_uuid) {
		if (!is_uuid($domain_uuid)) {
			throw new InvalidArgumentException('voice_tenant_store needs a domain uuid');
		}
		$this->database = $database;
		$this->domain_uuid = $domain_uuid;
	}

	/** The domain this store is bound to. */
	public function domain_uuid(): string {
		return $this->domain_uuid;
	}

	/**
	 * Rows of $table in this domain.
	 *
	 * @param string $where      extra conditions starting with "and", using named parameters only
	 * @param array  $parameters values for the named parameters of $where
	 * @param string $order_by   "column [asc|desc], ..." made of identifiers only
	 */
	public function all(string $table, string $where = '', array $parameters = [], string $order_by = '', int $limit = 0, int $offset = 0): array {
		self::check_table($table);
		$sql = "select * from ".$table." where domain_uuid = :domain_uuid ".$where." ".self::order_and_limit($order_by, $limit, $offset);
		$parameters['domain_uuid'] = $this->domain_uuid;
		$rows = $this->database->select($sql, $parameters, 'all');
		return is_array($rows) ? $rows : [];
	}

	/** The columns $table has in this database (a form shows a field only once its migration ran). */
	public function columns(string $table): array {
		self::check_table($table);
		$rows = $this->database->select("select column_name from information_schema.columns where table_schema = current_schema() and table_name = :table", ['table' => $table], 'all');
		return is_array($rows) ? array_column($rows, 'column_name') : [];
	}

	/** How many rows of $table in this domain match $where. */
	public function count(string $table, string $where = '', array $parameters = []): int {
		self::check_table($table);
		$sql = "select count(*) from ".$table." where domain_uuid = :domain_uuid ".$where;
		$parameters['domain_uuid'] = $this->domain_uuid;
		return intval($this->database->select($sql, $parameters, 'column'));
	}

	/** The row of $table with primary key $uuid in this domain, or null (also for a malformed uuid). */
	public function find(string $table, $uuid): ?array {
		self::check_table($table);
		if (!is_string($uuid) || !is_uuid($uuid)) {
			return null;
		}
		$sql = "select * from ".$table." where domain_uuid = :domain_uuid and ".self::tables[$table]." = :uuid";
		$row = $this->database->select($sql, ['domain_uuid' => $this->domain_uuid, 'uuid' => $uuid], 'row');
		return is_array($row) && !empty($row) ? $row : null;
	}

	/**
	 * Insert a row into this domain; domain_uuid is always this store's, whatever $row says.
	 *
	 * @return string the new row's primary key
	 */
	public function insert(string $table, array $row): string {
		self::check_table($table);
		$key = self::tables[$table];
		$row[$key] = (isset($row[$key]) && is_uuid($row[$key])) ? $row[$key] : uuid();
		$row['domain_uuid'] = $this->domain_uuid;
		$columns = array_keys($row);
		array_walk($columns, [self::class, 'check_identifier']);
		$sql = "insert into ".$table." (".implode(', ', $columns).") ";
		$sql .= "values (:".implode(', :', $columns).") returning *";
		$result = $this->database->execute($sql, self::parameters($row), 'row');
		if (!is_array($result) || empty($result)) {
			throw new RuntimeException('insert into '.$table.' failed');
		}
		$this->record($table, 'add', null, $result);
		return $row[$key];
	}

	/**
	 * Update the row with primary key $uuid, only if it belongs to this domain.
	 *
	 * @return bool false when no row of this domain has that key (nothing was changed)
	 */
	public function update(string $table, $uuid, array $row): bool {
		self::check_table($table);
		if (!is_string($uuid) || !is_uuid($uuid)) {
			return false;
		}
		$key = self::tables[$table];
		unset($row[$key], $row['domain_uuid']);
		if (empty($row)) {
			return $this->find($table, $uuid) !== null;
		}
		$assignments = [];
		foreach (array_keys($row) as $column) {
			self::check_identifier($column);
			$assignments[] = $column." = :".$column;
		}
		$sql = "update ".$table." set ".implode(', ', $assignments)." ";
		$sql .= "where domain_uuid = :domain_uuid and ".$key." = :primary_key returning *";
		$parameters = self::parameters($row);
		$parameters['domain_uuid'] = $this->domain_uuid;
		$parameters['primary_key'] = $uuid;
		$old = $this->find($table, $uuid);
		$result = $this->database->execute($sql, $parameters, 'all');
		if (!is_array($result) || count($result) === 0) {
			return false;
		}
		$this->record($table, 'update', $old, $result[0]);
		return true;
	}

	/**
	 * Insert $row ($uuid null) or update the row $uuid of this domain.
	 *
	 * @return bool false when the database refused the statement or no row of this domain has $uuid
	 */
	public function save(string $table, ?string $uuid, array $row): bool {
		if ($uuid !== null) {
			return $this->update($table, $uuid, $row);
		}
		try {
			$this->insert($table, $row);
			return true;
		}
		catch (RuntimeException $e) {
			return false;
		}
	}

	/**
	 * Insert a copy of this domain's row $uuid under a new key, with $changes applied (a name made
	 * unique, a default flag cleared); the timestamps start anew.
	 *
	 * @return string|null the new row's key, null when no row of this domain has $uuid
	 */
	public function copy(string $table, $uuid, array $changes = []): ?string {
		$row = $this->find($table, $uuid);
		if ($row === null) {
			return null;
		}
		unset($row[self::tables[$table]], $row['created_at'], $row['updated_at']);
		return $this->insert($table, array_merge($row, $changes));
	}

	/**
	 * Delete the row with primary key $uuid, only if it belongs to this domain.
	 *
	 * @return bool false when no row of this domain has that key
	 */
	public function delete(string $table, $uuid): bool {
		self::check_table($table);
		if (!is_string($uuid) || !is_uuid($uuid)) {
			return false;
		}
		$key = self::tables[$table];
		$sql = "delete from ".$table." where domain_uuid = :domain_uuid and ".$key." = :uuid returning *";
		$result = $this->database->execute($sql, ['domain_uuid' => $this->domain_uuid, 'uuid' => $uuid], 'all');
		if (!is_array($result) || count($result) === 0) {
			return false;
		}
		$this->record($table, 'delete', $result[0], null);
		return true;
	}

	/**
	 * Run $work($this) in one database transaction: committed when it returns true, rolled back
	 * when it returns false or throws a RuntimeException (a failed insert), so that a save of
	 * several rows is all or nothing.
	 *
	 * @return bool true when committed
	 */
	public function transaction(callable $work): bool {
		if (empty($this->database->db) && method_exists($this->database, 'connect')) {
			$this->database->connect(); //FusionPBX's database connects on first use
		}
		$pdo = $this->database->db;
		$pdo->beginTransaction();
		try {
			$done = $work($this) === true;
		}
		catch (Throwable $e) {
			$pdo->rollBack();
			if (!($e instanceof RuntimeException)) {
				throw $e;
			}
			return false;
		}
		if ($done) {
			return $pdo->commit();
		}
		$pdo->rollBack();
		return false;
	}

	/** Column names (and JSON keys) whose values never go into the audit record (webhook_secret, not voice_secretary_uuid). */
	const secret = '/secret(?!ar(y|ies))|api_key|apikey|password|token/i';

	/** The row as an audit record shows it: secrets replaced, JSON columns decoded. */
	private static function redacted(array $row): array {
		foreach ($row as $column => $value) {
			if (is_string($value) && $value !== '' && ($value[0] === '{' || $value[0] === '[')) {
				$decoded = json_decode($value, true);
				if (is_array($decoded)) {
					$value = self::redacted($decoded);
				}
			}
			if (preg_match(self::secret, (string) $column) && $value !== null && $value !== '') {
				$value = '********';
			}
			$row[$column] = $value;
		}
		return $row;
	}

	/**
	 * The v_database_transactions row FusionPBX's save()/delete() would write for this change (only
	 * when Advanced > Database Transactions is installed, as FusionPBX checks).
	 */
	private function record(string $table, string $type, ?array $old, ?array $new): void {
		if (!is_file(dirname(__DIR__, 4).'/app/database_transactions/app_config.php')) {
			return;
		}
		$name = substr($table, 2);
		$sql = "insert into v_database_transactions (database_transaction_uuid, domain_uuid, user_uuid, app_uuid, app_name, transaction_code, ";
		$sql .= "transaction_address, transaction_type, transaction_date, transaction_old, transaction_new, transaction_result) ";
		$sql .= "values (:uuid, :domain_uuid, :user_uuid, :app_uuid, :app_name, '200', :address, :type, now(), :old, :new, :result)";
		$user_uuid = $_SESSION['user_uuid'] ?? null;
		$this->database->execute($sql, [
			'uuid' => uuid(),
			'domain_uuid' => $this->domain_uuid,
			'user_uuid' => is_string($user_uuid) && is_uuid($user_uuid) ? $user_uuid : null,
			'app_uuid' => voice_dialplan::app_uuid,
			'app_name' => 'Voice Secretary',
			'address' => $_SERVER['REMOTE_ADDR'] ?? null,
			'type' => $type,
			'old' => $old === null ? null : json_encode([$name => [self::redacted($old)]], JSON_PRETTY_PRINT | JSON_UNESCAPED_UNICODE),
			'new' => $new === null ? null : json_encode([$name => [self::redacted($new)]], JSON_PRETTY_PRINT | JSON_UNESCAPED_UNICODE),
			'result' => json_encode(['message' => 'OK', 'code' => '200']),
		]);
	}

	/** A PostgreSQL array literal ({"a","b"}) for a text[] column. */
	public static function text_array(array $values): string {
		$quoted = [];
		foreach ($values as $value) {
			$quoted[] = '"'.str_replace(['\\', '"'], ['\\\\', '\\"'], (string) $value).'"';
		}
		return '{'.implode(',', $quoted).'}';
	}

	/** The PHP list for a text[] value as PDO returns it ({a,"b c"}). */
	public static function parse_text_array(?string $literal): array {
		if ($literal === null || $literal === '' || $literal === '{}') {
			return [];
		}
		$inner = substr($literal, 1, -1);
		preg_match_all('/"((?:[^"\\\\]|\\\\.)*)"|([^,]+)/', $inner, $matches, PREG_SET_ORDER);
		$values = [];
		foreach ($matches as $match) {
			$values[] = isset($match[2]) && $match[2] !== '' ? $match[2] : preg_replace('/\\\\(.)/s', '$1', $match[1]);
		}
		return $values;
	}

	/** Parameters for PDO: booleans as 'true'/'false', arrays as JSON (jsonb columns). */
	private static function parameters(array $row): array {
		$parameters = [];
		foreach ($row as $column => $value) {
			if (is_bool($value)) {
				$value = $value ? 'true' : 'false';
			}
			elseif (is_array($value)) {
				$value = json_encode($value, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES);
			}
			$parameters[$column] = $value;
		}
		return $parameters;
	}

	/** "order by … limit … offset …" from identifiers and numbers only ('' when neither is asked). */
	public static function order_and_limit(string $order_by, int $limit = 0, int $offset = 0): string {
		$sql = '';
		if ($order_by !== '') {
			if (!preg_match('/^[a-z_][a-z0-9_]*( (asc|desc))?( nulls (first|last))?(, ?[a-z_][a-z0-9_]*( (asc|desc))?( nulls (first|last))?)*$/', $order_by)) {
				throw new InvalidArgumentException('bad order by');
			}
			$sql .= "order by ".$order_by." ";
		}
		if ($limit > 0) {
			$sql .= "limit ".intval($limit)." offset ".max(0, intval($offset))." ";
		}
		return $sql;
	}

	/** Refuses a table the app does not own. */
	public static function check_table(string $table): void {
		if (!isset(self::tables[$table])) {
			throw new InvalidArgumentException('unknown table '.$table);
		}
	}

	private static function check_identifier(string $name): void {
		if (!preg_match('/^[a-z_][a-z0-9_]*$/', $name)) {
			throw new InvalidArgumentException('bad column name');
		}
	}
}
