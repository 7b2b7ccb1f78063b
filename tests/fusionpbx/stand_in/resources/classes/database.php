<?php
/*
	Stand-in for FusionPBX's database class: PDO on PostgreSQL with named parameters.
	select()/execute() take ($sql, $parameters, $return_type) with return types 'all' (fetchAll),
	'row' (fetch: false when no row) and 'column' (fetchColumn), and return false on a database
	error (the error text is kept in $message), as FusionPBX's do.

	save() and delete() keep what FusionPBX 5.5's do and the app relies on:
	* $array['<name>'][n] = row is table v_<name>, primary key singular(<name>)_uuid ("dialplans" ->
	  dialplan_uuid, "dialplan_details" -> dialplan_detail_uuid); a value that is an array of rows is a
	  child table, whose rows get the parent's key.
	* a row whose key exists is updated (update_date, update_user), any other row is inserted
	  (insert_date, insert_user); '' is stored as NULL, strings are trimmed.
	* each row needs the user's permission <singular>_add / _edit / _delete (a temporary grant through
	  permissions::new()->add(..., 'temp') counts); a row without it is skipped and save() returns false.
	* all rows in one transaction of save()'s own: called while a transaction is open, it fails (PDO
	  refuses a nested beginTransaction) and returns false; a refused statement rolls everything back.
	* when app/database_transactions is installed, every save or delete that changed something is
	  recorded in v_database_transactions with the domain, user, app, type (add/update/delete), old and
	  new rows, which Advanced > Database Transactions lists.
	* save() returns the message array (code '200') on success, false otherwise.
*/

class database {

	/** @var PDO */
	public $db;

	/** @var array */
	public $message = [];

	/** @var database|null */
	private static $instance = null;

	/** @var string|null the session's user and domain, recorded by save() and delete() */
	public $user_uuid = null;
	public $domain_uuid = null;

	/** @var string|null the app whose change save() records (FusionPBX sets them from the page's class) */
	public $app_name = null;
	public $app_uuid = null;

	/** The shared instance (FusionPBX: database::new()). */
	public static function new(array $params = []) {
		if (self::$instance === null) {
			self::$instance = new database();
		}
		return self::$instance;
	}

	public function __construct() {
		global $standin_config;
		$this->db = new PDO($standin_config['dsn'], $standin_config['db_username'], $standin_config['db_password'], [
			PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION,
			PDO::ATTR_DEFAULT_FETCH_MODE => PDO::FETCH_ASSOC,
		]);
		$this->user_uuid = $_SESSION['user_uuid'] ?? null;
		$this->domain_uuid = $_SESSION['domain_uuid'] ?? null;
	}

	/** FusionPBX's singular(): "dialplans" -> "dialplan", "secretaries" -> "secretary", "addresses" -> "address". */
	public static function singular(string $word) {
		if (substr($word, -3) === 'ies') {
			return substr($word, 0, -3).'y';
		}
		if (substr($word, -4) === 'sses') {
			return substr($word, 0, -2);
		}
		if (preg_match('/(x|z|sh|ch)es$/', $word)) {
			return substr($word, 0, -2);
		}
		return rtrim($word, 's');
	}

	/** Add or update the rows of $array (see the header); the message array, or false. */
	public function save(array &$array, bool $transaction_save = true) {
		$this->message = [];
		$old = [];
		$new = [];
		$changed = false;
		$allowed = true;
		$done = $this->atomically(function () use ($array, &$old, &$new, &$changed, &$allowed): void {
			foreach ($array as $name => $rows) {
				foreach ((array) $rows as $row) {
					[$done, $granted] = $this->save_row((string) $name, $row, null, $old, $new);
					$changed = $changed || $done;
					$allowed = $allowed && $granted;
				}
			}
		});
		if (!$done) {
			return false;
		}
		$this->message = ['message' => 'OK', 'code' => $changed ? '200' : '304'];
		if ($transaction_save && $changed) {
			$this->record_transaction(empty($old) ? 'add' : 'update', $old, $new);
		}
		return $allowed ? $this->message : false;
	}

	/** Delete the rows of $array by their primary keys (permission <singular>_delete); true when allowed. */
	public function delete(array $array) {
		$old = [];
		$allowed = true;
		$done = $this->atomically(function () use ($array, &$old, &$allowed): void {
			foreach ($array as $name => $rows) {
				$key = self::identifier(self::singular((string) $name).'_uuid');
				$table = self::identifier('v_'.$name);
				foreach ((array) $rows as $row) {
					if (!permission_exists(self::singular((string) $name).'_delete')) {
						$allowed = false;
						continue;
					}
					if (!is_uuid($row[$key] ?? null)) {
						continue;
					}
					$statement = $this->db->prepare('delete from '.$table.' where '.$key.' = :key returning *');
					$statement->execute(['key' => $row[$key]]);
					foreach ($statement->fetchAll(PDO::FETCH_ASSOC) as $deleted) {
						$old[$name][] = $deleted;
					}
				}
			}
		});
		if (!$done) {
			return false;
		}
		if (!empty($old)) {
			$this->record_transaction('delete', $old, []);
		}
		return $allowed;
	}

	/** Run $work in a transaction of its own (PDO refuses one inside another); false, rolled back, on any error. */
	private function atomically(callable $work): bool {
		try {
			$this->db->beginTransaction();
			$work();
			$this->db->commit();
		}
		catch (Throwable $e) {
			if ($this->db->inTransaction()) {
				$this->db->rollBack();
			}
			$this->message = ['message' => $e->getMessage(), 'code' => '400'];
			return false;
		}
		return true;
	}

	/**
	 * One row (and its child rows) of save(); returns [changed, permitted].
	 *
	 * @param array|null $parent [key name, key value] of the parent row for a child table
	 */
	private function save_row(string $name, array $row, ?array $parent, array &$old, array &$new): array {
		$key = self::identifier(self::singular($name).'_uuid');
		$table = self::identifier('v_'.$name);
		if ($parent !== null) {
			$row[$parent[0]] = $parent[1];
		}
		if (!isset($row[$key])) {
			$row[$key] = uuid();
		}
		if (!is_uuid($row[$key])) {
			throw new InvalidArgumentException('Invalid UUID: '.$row[$key]);
		}
		$values = [];
		$children = [];
		foreach ($row as $column => $value) {
			if (is_array($value)) {
				$children[$column] = $value;
			}
			elseif (!in_array($column, ['insert_user', 'insert_date', 'update_user', 'update_date'], true)) {
				$values[self::identifier($column)] = ($value === null || $value === '') ? null : (is_string($value) ? trim($value) : $value);
			}
		}
		$statement = $this->db->prepare('select * from '.$table.' where '.$key.' = :key');
		$statement->execute(['key' => $row[$key]]);
		$existing = $statement->fetch(PDO::FETCH_ASSOC);
		$action = $existing === false ? 'add' : 'edit';
		$changed = false;
		$permitted = permission_exists(self::singular($name).'_'.$action);
		if ($permitted) {
			$parameters = [];
			foreach ($values as $column => $value) {
				$parameters[$column] = is_bool($value) ? ($value ? 'true' : 'false') : $value;
			}
			$parameters['standin_user'] = is_uuid($this->user_uuid) ? $this->user_uuid : null;
			if ($action === 'add') {
				$columns = array_keys($values);
				$sql = 'insert into '.$table.' ('.implode(', ', $columns).', insert_date, insert_user) ';
				$sql .= 'values (:'.implode(', :', $columns).', now(), :standin_user)';
			}
			else {
				$assignments = [];
				foreach (array_keys($values) as $column) {
					if ($column !== $key) {
						$assignments[] = $column.' = :'.$column;
					}
				}
				$assignments[] = 'update_date = now()';
				$assignments[] = 'update_user = :standin_user';
				$sql = 'update '.$table.' set '.implode(', ', $assignments).' where '.$key.' = :'.$key;
				$old[$name][] = $existing;
			}
			$this->db->prepare($sql)->execute($parameters);
			$new[$name][] = $values;
			$changed = true;
		}
		foreach ($children as $child_name => $child_rows) {
			foreach ($child_rows as $child_row) {
				[$child_changed, $child_permitted] = $this->save_row((string) $child_name, (array) $child_row, [$key, $row[$key]], $old, $new);
				$changed = $changed || $child_changed;
				$permitted = $permitted && $child_permitted;
			}
		}
		return [$changed, $permitted];
	}

	/** The row Advanced > Database Transactions shows, when that app is installed (as FusionPBX checks it). */
	private function record_transaction(string $type, array $old, array $new): void {
		if (!is_file(dirname(__DIR__, 2).'/app/database_transactions/app_config.php')) {
			return;
		}
		$sql = 'insert into v_database_transactions (database_transaction_uuid, domain_uuid, user_uuid, app_uuid, app_name, ';
		$sql .= 'transaction_code, transaction_address, transaction_type, transaction_date, transaction_old, transaction_new, transaction_result) ';
		$sql .= 'values (:uuid, :domain_uuid, :user_uuid, :app_uuid, :app_name, :code, :address, :type, now(), :old, :new, :result)';
		$this->db->prepare($sql)->execute([
			'uuid' => uuid(),
			'domain_uuid' => is_uuid($this->domain_uuid) ? $this->domain_uuid : null,
			'user_uuid' => is_uuid($this->user_uuid) ? $this->user_uuid : null,
			'app_uuid' => is_uuid($this->app_uuid) ? $this->app_uuid : null,
			'app_name' => $this->app_name,
			'code' => $this->message['code'] ?? '200',
			'address' => $_SERVER['REMOTE_ADDR'] ?? null,
			'type' => $type,
			'old' => empty($old) ? null : json_encode($old, JSON_PRETTY_PRINT),
			'new' => empty($new) ? null : json_encode($new, JSON_PRETTY_PRINT),
			'result' => json_encode($this->message, JSON_PRETTY_PRINT),
		]);
	}

	/** Table and column names made of FusionPBX's identifier characters only. */
	private static function identifier(string $name): string {
		if (!preg_match('/^[a-z_][a-z0-9_]*$/', $name)) {
			throw new InvalidArgumentException('bad identifier '.$name);
		}
		return $name;
	}

	public function select($sql, $parameters = null, $return_type = 'all') {
		return $this->run($sql, $parameters, $return_type);
	}

	public function execute($sql, $parameters = null, $return_type = 'all') {
		return $this->run($sql, $parameters, $return_type);
	}

	private function run($sql, $parameters, $return_type) {
		try {
			$statement = $this->db->prepare($sql);
			$statement->execute(is_array($parameters) ? $parameters : []);
			switch ($return_type) {
				case 'row':
					return $statement->fetch(PDO::FETCH_ASSOC);
				case 'column':
					return $statement->fetchColumn();
				default:
					return $statement->fetchAll(PDO::FETCH_ASSOC);
			}
		}
		catch (PDOException $e) {
			$this->message = ['message' => $e->getMessage(), 'code' => $e->getCode(), 'sql' => $sql];
			error_log('stand-in database: '.$e->getMessage());
			return false;
		}
	}
}
