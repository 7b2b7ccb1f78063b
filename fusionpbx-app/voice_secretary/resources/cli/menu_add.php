<?php
/*
	Voice Secretary — add the app's menu entries (app_menu.php) to FusionPBX's default menu without
	resetting it. deploy/setup.sh --fusionpbx runs it after the upgrade:
		cd /var/www/fusionpbx && php app/voice_secretary/resources/cli/menu_add.php

	Neither half of FusionPBX's "Menu Defaults" (upgrade.php --menu) fits a menu that exists:
	menu::restore_delete() deletes every item, and menu::restore_default() is written for the empty
	menu restore_delete() leaves — it gives every app_menu.php entry a fresh menu_item_uuid on each run,
	so on an existing menu it points each existing item whose parent is not protected at a parent that
	does not exist (the item drops out of the menu) and adds group rows for items that do not exist
	(seen on a real FusionPBX 5.6 install: 84 of 85 items orphaned, 157 stray group rows per run).
	This adds only this app's entries whose uuid the menu lacks, under the item that holds the entry's
	parent uuid (Applications), with their titles per language and their groups, through
	$database->save() (Database Transactions records it); it touches no other item. A second run
	changes nothing.
*/

	if (PHP_SAPI !== 'cli') {
		echo "access denied";
		exit;
	}
	$document_root = dirname(__DIR__, 4);
	$_SERVER['DOCUMENT_ROOT'] = $document_root;
	set_include_path($document_root);
	require_once $document_root.'/resources/require.php';

	$apps = [];
	$x = 0;
	include dirname(__DIR__, 2).'/app_menu.php';
	$entries = $apps[0]['menu'] ?? [];

	$menus = $database->select("select menu_uuid, menu_language from v_menus where menu_name = 'default'", null, 'all');
	if (empty($menus)) {
		fwrite(STDERR, "Voice Secretary: FusionPBX has no menu named 'default'; add the entries in Advanced > Menu Manager\n");
		exit(1);
	}
	$groups = [];
	foreach ($database->select("select group_uuid, group_name from v_groups where domain_uuid is null", null, 'all') ?: [] as $row) {
		$groups[$row['group_name']] = $row['group_uuid'];
	}

	$added = 0;
	foreach ($menus as $menu) {
		$items = [];
		foreach ($database->select("select uuid, menu_item_uuid from v_menu_items where menu_uuid = :menu_uuid", ['menu_uuid' => $menu['menu_uuid']], 'all') ?: [] as $row) {
			$items[strtolower((string) $row['uuid'])] = $row['menu_item_uuid'];
		}
		$array = [];
		foreach ($entries as $entry) {
			if (isset($items[strtolower($entry['uuid'])])) {
				continue;
			}
			$menu_item_uuid = uuid();
			$language = $menu['menu_language'] ?: 'en-us';
			$array['menu_items'][] = [
				'menu_item_uuid' => $menu_item_uuid,
				'menu_uuid' => $menu['menu_uuid'],
				'menu_item_parent_uuid' => $items[strtolower($entry['parent_uuid'])] ?? null,
				'uuid' => $entry['uuid'],
				'menu_item_title' => $entry['title'][$language] ?? $entry['title']['en-us'],
				'menu_item_link' => $entry['path'],
				'menu_item_category' => $entry['category'],
			];
			foreach ($entry['title'] as $title_language => $title) {
				$array['menu_languages'][] = ['menu_language_uuid' => uuid(), 'menu_uuid' => $menu['menu_uuid'], 'menu_item_uuid' => $menu_item_uuid,
					'menu_language' => $title_language, 'menu_item_title' => $title];
			}
			foreach ($entry['groups'] ?? [] as $group) {
				$array['menu_item_groups'][] = ['menu_item_group_uuid' => uuid(), 'menu_uuid' => $menu['menu_uuid'], 'menu_item_uuid' => $menu_item_uuid,
					'group_name' => $group, 'group_uuid' => $groups[$group] ?? null];
			}
			$added++;
		}
		if (!empty($array)) {
			$p = permissions::new();
			foreach (['menu_item_add', 'menu_language_add', 'menu_item_group_add'] as $permission) {
				$p->add($permission, 'temp');
			}
			$database->save($array);
			foreach (['menu_item_add', 'menu_language_add', 'menu_item_group_add'] as $permission) {
				$p->delete($permission, 'temp');
			}
		}
	}
	echo "Voice Secretary: ".$added." menu entr".($added === 1 ? "y" : "ies")." added to the default menu (existing items kept)\n";
