<?php
/*
	app_config.php describes exactly the tables the migrations create: same tables, same columns in
	the same order, same PostgreSQL types spelled as format_type() prints them, same primary and
	foreign keys. The only columns it leaves out are those FusionPBX's upgrade cannot compare
	(FusionpbxUpgradeTest; the reasons are in app_config.php).
*/

class SchemaDriftTest extends StandinTestCase {

	/** Columns of the migrations that app_config.php leaves out on purpose. */
	const left_out = ['v_voice_document_chunks' => ['embedding', 'embedding_compact'], 'v_voice_transfer_rules' => ['keywords']];

	/** The migrated schema: table => [column => [type, key type, reference table, reference field]] */
	private function database_schema(): array {
		$schema = [];
		$tables = $this->pdo()->query("select tablename from pg_tables where schemaname = current_schema() and tablename like 'v\\_voice\\_%' order by 1")->fetchAll(PDO::FETCH_COLUMN);
		foreach ($tables as $table) {
			$statement = $this->pdo()->prepare("select a.attname, format_type(a.atttypid, a.atttypmod) from pg_attribute a where a.attrelid = cast(? as regclass) and a.attnum > 0 and not a.attisdropped order by a.attnum");
			$statement->execute([$table]);
			foreach ($statement->fetchAll(PDO::FETCH_NUM) as [$column, $type]) {
				if (!in_array($column, self::left_out[$table] ?? [], true)) {
					$schema[$table][$column] = [$type, null, null, null];
				}
			}
			// A key's last column: a same-tenant foreign key (domain_uuid, x) -> (domain_uuid, pk) describes
			// x -> pk, as app_config.php does (migration 010); domain_uuid's own key is the one to v_domains.
			$statement = $this->pdo()->prepare("select c.contype, a.attname, cast(c.confrelid as regclass)::text, fa.attname from pg_constraint c
				join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[array_length(c.conkey, 1)]
				left join pg_attribute fa on fa.attrelid = c.confrelid and fa.attnum = c.confkey[array_length(c.confkey, 1)]
				where c.conrelid = cast(? as regclass) and c.contype in ('p', 'f')");
			$statement->execute([$table]);
			foreach ($statement->fetchAll(PDO::FETCH_NUM) as [$kind, $column, $ref_table, $ref_field]) {
				if (!isset($schema[$table][$column])) {
					continue;
				}
				$schema[$table][$column][1] = $kind === 'p' ? 'primary' : 'foreign';
				if ($kind === 'f') {
					$schema[$table][$column][2] = $ref_table;
					$schema[$table][$column][3] = $ref_field;
				}
			}
		}
		return $schema;
	}

	/** The schema app_config.php declares, in the same shape. */
	private function declared_schema(): array {
		$schema = [];
		foreach ($this->app_config()['db'] as $table) {
			foreach ($table['fields'] as $field) {
				$type = is_array($field['type']) ? $field['type']['pgsql'] : $field['type'];
				$schema[$table['table']['name']][$field['name']] = [
					$type,
					$field['key']['type'] ?? null,
					$field['key']['reference']['table'] ?? null,
					$field['key']['reference']['field'] ?? null,
				];
			}
		}
		return $schema;
	}

	public function test_app_config_describes_every_migrated_table_field_for_field(): void {
		$database = $this->database_schema();
		$declared = $this->declared_schema();
		$database_tables = array_keys($database);
		$declared_tables = array_keys($declared);
		sort($database_tables);
		sort($declared_tables);
		$this->assertSame($database_tables, $declared_tables, 'the same v_voice_* tables');
		foreach ($database as $table => $columns) {
			$this->assertArrayHasKey($table, $declared);
			$this->assertSame(array_keys($columns), array_keys($declared[$table]), $table.': the same columns in the same order');
			foreach ($columns as $column => $definition) {
				$this->assertSame($definition, $declared[$table][$column], $table.'.'.$column.': type and keys');
			}
		}
	}

	public function test_every_declared_table_has_a_domain_uuid_foreign_key(): void {
		foreach ($this->declared_schema() as $table => $columns) {
			$this->assertSame(['uuid', 'foreign', 'v_domains', 'domain_uuid'], $columns['domain_uuid'] ?? null, $table);
		}
	}
}
