<?php
/*
	Stand-in for FusionPBX's core/upgrade/upgrade.php, run from the web root as `php core/upgrade/upgrade.php
	<step>`, for the steps the installer (deploy/setup.sh --fusionpbx) runs. Each run is appended to
	<web root>/upgrade.log.
	  --schema        the schema step's last part, database::update_indexes(): for every app_config.php
	                  field whose key type is "foreign", CREATE INDEX <table>_<column>_fkey (cut to 63
	                  characters) unless an index of that name exists (the column rule is
	                  FusionpbxUpgradeTest's)
	  --defaults      every app's app_defaults.php
	  --permissions   each app_config.php permission granted to its groups (v_group_permissions), when
	                  the group does not hold it yet
	  --menu default  Menu Defaults: menu::restore_delete() then restore_default() on the default menu
*/

	if (PHP_SAPI !== 'cli') {
		exit;
	}
	$document_root = dirname(__DIR__, 2);
	set_include_path($document_root);
	require_once $document_root.'/resources/require.php';
	$step = $argv[1] ?? '';
	file_put_contents($document_root.'/upgrade.log', trim($step.' '.($argv[2] ?? ''))."\n", FILE_APPEND);

	$apps_found = [];
	foreach (glob($document_root.'/app/*/app_config.php') as $file) {
		$apps = [];
		$x = 0;
		include $file;
		$apps_found[] = [$apps[0], dirname($file)];
	}

	if ($step === '--schema') {
		$existing = [];
		foreach ($database->select("select indexname from pg_indexes where schemaname not in ('pg_catalog', 'information_schema')", null, 'all') ?: [] as $row) {
			$existing[$row['indexname']] = true;
		}
		foreach ($apps_found as [$app]) {
			foreach ($app['db'] ?? [] as $table) {
				foreach ($table['fields'] as $field) {
					if (($field['key']['type'] ?? '') !== 'foreign') {
						continue;
					}
					$name = substr($table['table']['name'].'_'.$field['name'].'_fkey', 0, 63);
					if (!isset($existing[$name])) {
						$database->execute("CREATE INDEX ".$name." ON ".$table['table']['name']." (".$field['name'].")");
						$existing[$name] = true;
						echo "[ Update ] index ".$name."\n";
					}
				}
			}
		}
	}

	if ($step === '--defaults') {
		$domains_processed = 1;
		foreach ($apps_found as [, $dir]) {
			if (is_file($dir.'/app_defaults.php')) {
				include $dir.'/app_defaults.php';
			}
		}
	}

	if ($step === '--permissions') {
		foreach ($apps_found as [$app]) {
			foreach ($app['permissions'] ?? [] as $permission) {
				foreach ($permission['groups'] ?? [] as $group) {
					$held = $database->select("select count(*) from v_group_permissions where permission_name = :name and group_name = :group", ['name' => $permission['name'], 'group' => $group], 'column');
					if ((int) $held === 0) {
						$database->execute("insert into v_group_permissions (group_permission_uuid, permission_name, permission_assigned, group_name, group_uuid) values (:uuid, :name, true, :group, (select group_uuid from v_groups where group_name = :group and domain_uuid is null limit 1))",
							['uuid' => uuid(), 'name' => $permission['name'], 'group' => $group]);
					}
				}
			}
		}
	}

	if ($step === '--menu' && ($argv[2] ?? 'default') === 'default') {
		$row = $database->select("select menu_uuid, menu_language from v_menus where menu_name = 'default'", null, 'row');
		$menu = new menu;
		$menu->menu_uuid = $row['menu_uuid'];
		$menu->menu_language = $row['menu_language'];
		$menu->restore_delete();
		$menu->restore_default();
	}
