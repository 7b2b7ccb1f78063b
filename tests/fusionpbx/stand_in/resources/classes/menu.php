<?php
/*
	Stand-in for FusionPBX's menu class (resources/classes/menu.php), the two halves of "Menu Defaults":
	restore_delete() removes every item of the menu (and its groups); restore_default() does what
	FusionPBX's does (checked on a real FusionPBX 5.6 install): it is written for the empty menu
	restore_delete() leaves. Each call gives every app_menu.php entry a fresh menu_item_uuid; an entry
	whose uuid the menu lacks is added under its parent's fresh uuid; an existing item whose parent
	item is not protected gets its parent pointed at the parent's fresh uuid — on a menu that was not
	just emptied, an item that exists nowhere, so the item drops out of the menu; and each entry's
	groups are added for its fresh uuid. Items are matched on `uuid` as the app_menu.php spells it.
*/

class menu {

	/** @var string */
	public $menu_uuid;

	/** @var string */
	public $menu_language = 'en-us';

	public function restore_delete() {
		$database = database::new();
		foreach (['v_menu_item_groups', 'v_menu_languages', 'v_menu_items'] as $table) {
			$database->execute("delete from ".$table." where menu_uuid = :menu_uuid", ['menu_uuid' => $this->menu_uuid]);
		}
	}

	public function restore_default() {
		$database = database::new();
		$entries = [];
		foreach (glob(dirname(__DIR__, 2).'/*/*/app_menu.php') as $file) {
			$apps = [];
			$x = 0;
			include $file;
			foreach ($apps[0]['menu'] ?? [] as $entry) {
				$entries[] = $entry;
			}
		}
		$fresh = [];
		foreach ($entries as $entry) {
			$fresh[$entry['uuid']] = uuid();
		}
		$items = [];
		foreach ($database->select("select menu_item_uuid, uuid, menu_item_parent_uuid, menu_item_protected from v_menu_items where menu_uuid = :menu_uuid", ['menu_uuid' => $this->menu_uuid], 'all') ?: [] as $row) {
			$items[(string) $row['uuid']] = $row;
		}
		$groups = [];
		foreach ($database->select("select group_uuid, group_name from v_groups where domain_uuid is null", null, 'all') ?: [] as $row) {
			$groups[$row['group_name']] = $row['group_uuid'];
		}
		foreach ($entries as $entry) {
			$parent = $fresh[$entry['parent_uuid'] ?? ''] ?? null;
			if (isset($items[$entry['uuid']])) {
				$item = $items[$entry['uuid']];
				$parent_protected = !empty($items[$entry['parent_uuid'] ?? '']['menu_item_protected']);
				if ($parent !== null && $parent !== $item['menu_item_parent_uuid'] && !$parent_protected) {
					$database->execute("update v_menu_items set menu_item_parent_uuid = :parent where menu_item_uuid = :item", ['parent' => $parent, 'item' => $item['menu_item_uuid']]);
				}
				continue;
			}
			$database->execute("insert into v_menu_items (menu_item_uuid, menu_uuid, menu_item_parent_uuid, uuid, menu_item_title, menu_item_link, menu_item_category) values (:item, :menu, :parent, :uuid, :title, :link, :category)", [
				'item' => $fresh[$entry['uuid']], 'menu' => $this->menu_uuid, 'parent' => $parent, 'uuid' => $entry['uuid'],
				'title' => $entry['title'][$this->menu_language] ?? $entry['title']['en-us'], 'link' => $entry['path'], 'category' => $entry['category'],
			]);
		}
		foreach ($entries as $entry) {
			foreach ($entry['groups'] ?? [] as $group) {
				$held = $database->select("select count(*) from v_menu_item_groups where menu_item_uuid = :item and menu_uuid = :menu and group_name = :name", ['item' => $fresh[$entry['uuid']], 'menu' => $this->menu_uuid, 'name' => $group], 'column');
				if ((int) $held === 0) {
					$database->execute("insert into v_menu_item_groups (menu_item_group_uuid, menu_uuid, menu_item_uuid, group_name, group_uuid) values (:uuid, :menu, :item, :name, :group)", [
						'uuid' => uuid(), 'menu' => $this->menu_uuid, 'item' => $fresh[$entry['uuid']], 'name' => $group, 'group' => $groups[$group] ?? null,
					]);
				}
			}
		}
	}
}
