<?php
/*
	FusionPBX's own upgrade (Advanced → Upgrade, core/upgrade/upgrade.php) runs schema::upgrade()
	over every app_config.php. Run against the database our migrations created, it must change
	nothing: no CREATE TABLE, no ADD, no ALTER COLUMN … TYPE.

	fusionpbx_schema_rule below restates, for PostgreSQL, the rule of resources/classes/schema.php
	in fusionpbx/fusionpbx (read at commit c7a00dcb, 2026-08-21):
	  * schema::__construct() loads information_schema.columns of the current catalog (every schema
	    but pg_catalog and information_schema), keyed by table name;
	  * schema::upgrade(): a table of app_config.php that does not exist is created by
	    schema::create_table() (each field with its type text, only PRIMARY KEY as a constraint);
	    a field that does not exist is added ("ALTER TABLE … ADD <field> <type>");
	  * for every field, schema::data_type() (the column's information_schema data_type) is compared,
	    case-sensitively, with the app_config pgsql type text cut at its first "(". When they differ,
	    the column is altered to that cut text ("ALTER TABLE … ALTER COLUMN … TYPE <text>"), except
	    for the pairs it treats as equal (integer/serial, integer/numeric, character/char,
	    json/jsonb, timestamp without time zone/timestamp or datetime, timestamp with time zone/timestamptz).
	So "varchar(50)" becomes "varchar" against "character varying" and the column loses its length;
	"vector(1536)" becomes "vector" against "USER-DEFINED" and the column loses its dimension.

	The schema step ends with database::update_indexes() (resources/classes/database.php, branch 5.5):
	pg_indexes of every schema but pg_catalog/information_schema, keyed by index name; for each field
	whose key type is "foreign", the name <table>_<column>_fkey cut to 63 bytes; when no index has that
	name: "CREATE INDEX <name> ON <table> (<column>)". fusionpbx_schema_rule::index_sql() restates it.
*/

class fusionpbx_schema_rule {

	/** [information_schema data_type, lower-case app_config type] pairs schema::upgrade() leaves alone. */
	const same = [
		['integer', 'serial'], ['timestamp without time zone', 'timestamp'], ['timestamp without time zone', 'datetime'],
		['timestamp with time zone', 'timestamptz'], ['integer', 'numeric'], ['character', 'char'], ['json', 'jsonb'],
	];

	/** table => [column => data_type], as schema::__construct() reads it. */
	public static function columns(PDO $pdo): array {
		$sql = "select table_name, column_name, data_type from information_schema.columns
			where table_catalog = current_database() and table_schema not in ('pg_catalog', 'information_schema')
			order by ordinal_position";
		$columns = [];
		foreach ($pdo->query($sql)->fetchAll(PDO::FETCH_NUM) as [$table, $column, $data_type]) {
			$columns[$table][$column] = $data_type;
		}
		return $columns;
	}

	/** index name => [table, definition], as database::get_database_indexes() reads pg_indexes. */
	public static function indexes(PDO $pdo): array {
		$indexes = [];
		foreach ($pdo->query("select indexname, tablename, indexdef from pg_indexes where schemaname not in ('pg_catalog', 'information_schema')")->fetchAll(PDO::FETCH_NUM) as [$name, $table, $definition]) {
			$indexes[$name] = [$table, $definition];
		}
		return $indexes;
	}

	/** The CREATE INDEX statements database::update_indexes() would run: [index name, table, column, sql]. */
	public static function index_sql(array $db, array $indexes): array {
		$statements = [];
		foreach ($db as $table) {
			foreach ($table['fields'] as $field) {
				if (($field['key']['type'] ?? '') !== 'foreign') {
					continue;
				}
				$name = substr($table['table']['name'].'_'.$field['name'].'_fkey', 0, 63);
				if (!isset($indexes[$name])) {
					$statements[] = [$name, $table['table']['name'], $field['name'], "CREATE INDEX ".$name." ON ".$table['table']['name']." (".$field['name'].")"];
					$indexes[$name] = true;
				}
			}
		}
		return $statements;
	}

	/** The statements schema::upgrade() would run for the tables $db (an app's 'db' array). */
	public static function upgrade_sql(array $db, array $columns): array {
		$statements = [];
		foreach ($db as $table) {
			$name = $table['table']['name'];
			if (!isset($columns[$name])) {
				$fields = [];
				foreach ($table['fields'] as $field) {
					$fields[] = $field['name'].' '.$field['type']['pgsql'].(($field['key']['type'] ?? '') === 'primary' ? ' PRIMARY KEY' : '');
				}
				$statements[] = "CREATE TABLE ".$name." (".implode(', ', $fields).")";
				continue;
			}
			foreach ($table['fields'] as $field) {
				$type = $field['type']['pgsql'];
				if (!isset($columns[$name][$field['name']])) {
					$statements[] = "ALTER TABLE ".$name." ADD ".$field['name']." ".$type;
					continue;
				}
				$data_type = $columns[$name][$field['name']];
				$declared = explode('(', $type)[0];
				if (trim($data_type) !== trim($declared) && !in_array([$data_type, strtolower($declared)], self::same, true)) {
					$statements[] = "ALTER TABLE ".$name." ALTER COLUMN ".$field['name']." TYPE ".$declared;
				}
			}
		}
		return $statements;
	}
}

class FusionpbxUpgradeTest extends StandinTestCase {

	public function test_fusionpbx_upgrade_changes_nothing_in_the_migrated_database(): void {
		$statements = fusionpbx_schema_rule::upgrade_sql($this->app_config()['db'], fusionpbx_schema_rule::columns($this->pdo()));
		$this->assertSame([], $statements, "FusionPBX's upgrade would run these against the migrated tables");
	}

	public function test_the_index_step_adds_no_index_the_migrations_already_made_and_a_second_run_adds_none(): void {
		$pdo = $this->pdo();
		$db = $this->app_config()['db'];
		$statements = fusionpbx_schema_rule::index_sql($db, fusionpbx_schema_rule::indexes($pdo));
		//every single-column index the migrations made, as "table (column)"
		$existing = [];
		foreach (fusionpbx_schema_rule::indexes($pdo) as [$table, $definition]) {
			if (preg_match('/USING btree \((\w+)\)$/', $definition, $m)) {
				$existing[] = $table.' ('.$m[1].')';
			}
		}
		foreach ($statements as [$name, $table, $column]) {
			$this->assertNotContains($table.' ('.$column.')', $existing, $name.' would duplicate an index of the migrations');
		}
		$this->assertCount(9, $statements, 'the 9 foreign fields no migration indexes alone (17 declared, 8 domain_uuid ones named as FusionPBX names them)');
		$pdo->beginTransaction();
		try {
			foreach ($statements as [, , , $sql]) {
				$pdo->exec($sql);
			}
			$this->assertSame([], fusionpbx_schema_rule::index_sql($db, fusionpbx_schema_rule::indexes($pdo)), 'a second upgrade adds nothing');
		}
		finally {
			$pdo->rollBack();
		}
	}

	public function test_the_index_rule_names_as_fusionpbx_names(): void {
		$db = [['table' => ['name' => 'v_voice_a_table_with_a_rather_long_name_for_this'], 'fields' => [
			['name' => 'another_long_column_uuid', 'type' => ['pgsql' => 'uuid'], 'key' => ['type' => 'foreign']],
			['name' => 'plain', 'type' => ['pgsql' => 'text']],
		]]];
		$this->assertSame([['v_voice_a_table_with_a_rather_long_name_for_this_another_long_c', 'v_voice_a_table_with_a_rather_long_name_for_this', 'another_long_column_uuid',
			'CREATE INDEX v_voice_a_table_with_a_rather_long_name_for_this_another_long_c ON v_voice_a_table_with_a_rather_long_name_for_this (another_long_column_uuid)']],
			fusionpbx_schema_rule::index_sql($db, []));
	}

	public function test_the_rule_alters_what_fusionpbx_alters(): void {
		//the spellings that looked right but that FusionPBX rewrites, next to ones it accepts
		$db = [['table' => ['name' => 'v_voice_documents'], 'fields' => [
			['name' => 'status', 'type' => ['pgsql' => 'varchar(20)']],
			['name' => 'file_name', 'type' => ['pgsql' => 'character varying(255)']],
			['name' => 'content_hash', 'type' => ['pgsql' => 'char(64)']],
			['name' => 'created_at', 'type' => ['pgsql' => 'timestamptz']],
			['name' => 'file_size', 'type' => ['pgsql' => 'bigint']],
		]], ['table' => ['name' => 'v_voice_document_chunks'], 'fields' => [
			['name' => 'embedding', 'type' => ['pgsql' => 'vector(1536)']],
		]], ['table' => ['name' => 'v_voice_transfer_rules'], 'fields' => [
			['name' => 'keywords', 'type' => ['pgsql' => 'text[]']],
		]], ['table' => ['name' => 'v_voice_not_migrated'], 'fields' => [
			['name' => 'thing_uuid', 'type' => ['pgsql' => 'uuid'], 'key' => ['type' => 'primary']],
		]]];
		$this->assertSame([
			'ALTER TABLE v_voice_documents ALTER COLUMN status TYPE varchar',
			'ALTER TABLE v_voice_document_chunks ALTER COLUMN embedding TYPE vector',
			'ALTER TABLE v_voice_transfer_rules ALTER COLUMN keywords TYPE text[]',
			'CREATE TABLE v_voice_not_migrated (thing_uuid uuid PRIMARY KEY)',
		], fusionpbx_schema_rule::upgrade_sql($db, fusionpbx_schema_rule::columns($this->pdo())));
	}

	public function test_app_defaults_warns_when_the_tables_were_not_made_by_the_migrations(): void {
		$run = function ($database): string {
			$domains_processed = 1;
			ob_start();
			include STANDIN_DOCROOT.'/app/voice_secretary/app_defaults.php';
			return (string) ob_get_clean();
		};
		$migrated = new class($this->pdo()) {
			private $pdo;
			public function __construct(PDO $pdo) { $this->pdo = $pdo; }
			public function select($sql, $parameters = null, $return_type = 'all') { return $this->pdo->query($sql)->fetchColumn(); }
		};
		$this->assertSame('', $run($migrated), 'the migrated test database');
		//FusionPBX's upgrade ran first: its schema step made the tables from app_config.php, with
		//every column but no default, foreign key or check (app_defaults runs after that step)
		$made_by_fusionpbx = new class {
			public function select($sql, $parameters = null, $return_type = 'all') {
				return strpos($sql, 'column_default') !== false ? null : 1;
			}
		};
		$this->assertStringContainsString('voice-ai migrate', $run($made_by_fusionpbx));
	}
}
