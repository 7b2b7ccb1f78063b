<?php
/*
	Stand-in for FusionPBX's database class: PDO on PostgreSQL with named parameters.
	select()/execute() take ($sql, $parameters, $return_type) with return types 'all' (fetchAll),
	'row' (fetch: false when no row) and 'column' (fetchColumn), and return false on a database
	error (the error text is kept in $message), as FusionPBX's do.
*/

class database {

	/** @var PDO */
	public $db;

	/** @var array */
	public $message = [];

	/** @var database|null */
	private static $instance = null;

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
