<?php
/*
	Voice Secretary — add the app's menu entries (app_menu.php) to FusionPBX's default menu without
	resetting it. FusionPBX's "Menu Defaults" (upgrade.php --menu, Advanced > Upgrade) first deletes
	every item of the menu (menu::restore_delete()) and then adds the defaults back, so an operator's
	renamed, moved or removed items are lost. This runs only the second half, menu::restore_default(),
	which adds the items whose uuid the menu does not hold yet and their groups, and leaves every
	existing item as it is. deploy/setup.sh --fusionpbx runs it after the upgrade:
		cd /var/www/fusionpbx && php app/voice_secretary/resources/cli/menu_add.php
*/

	if (PHP_SAPI !== 'cli') {
		echo "access denied";
		exit;
	}
	$document_root = dirname(__DIR__, 4);
	$_SERVER['DOCUMENT_ROOT'] = $document_root;
	set_include_path($document_root);
	require_once $document_root.'/resources/require.php';

	$menus = $database->select("select menu_uuid, menu_language from v_menus where menu_name = 'default'", null, 'all');
	if (empty($menus)) {
		fwrite(STDERR, "Voice Secretary: FusionPBX has no menu named 'default'; add the entries in Advanced > Menu Manager\n");
		exit(1);
	}
	foreach ($menus as $row) {
		$menu = new menu;
		$menu->menu_uuid = $row['menu_uuid'];
		$menu->menu_language = $row['menu_language'] ?: 'en-us';
		$menu->restore_default();
	}
	echo "Voice Secretary: menu entries present in the default menu (existing items kept)\n";
