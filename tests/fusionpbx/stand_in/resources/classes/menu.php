<?php
/*
	Stand-in for FusionPBX's menu class (resources/classes/menu.php), the two halves of "Menu Defaults":
	restore_delete() removes every item of the menu (and its groups), restore_default() adds each
	app_menu.php entry whose uuid the menu lacks — under the item holding its parent's uuid — with the
	entry's groups (v_groups' global groups), and leaves existing items as they are.
*/

class menu {

	/** @var string */
	public $menu_uuid;

	/** @var string */
	public $menu_language = 'en-us';

	public function restore_delete() {
		$database = database::new();
		foreach (['v_menu_item_groups', 'v_menu_items'] as $table) {
			$database->execute("delete from ".$table." where menu_uuid = :menu_uuid", ['menu_uuid' => $this->menu_uuid]);
		}
	}

	public function restore_default() {
		$database = database::new();
		$items = [];
		foreach ($database->select("select menu_item_uuid, uuid from v_menu_items where menu_uuid = :menu_uuid", ['menu_uuid' => $this->menu_uuid], 'all') ?: [] as $row) {
			$items[$row['uuid']] = $row['menu_item_uuid'];
		}
		$groups = [];
		foreach ($database->select("select group_uuid, group_name from v_groups where domain_uuid is null", null, 'all') ?: [] as $row) {
			$groups[$row['group_name']] = $row['group_uuid'];
		}
		foreach (glob(dirname(__DIR__, 2).'/app/*/app_menu.php') as $file) {
			$apps = [];
			$x = 0;
			include $file;
			foreach ($apps[0]['menu'] ?? [] as $entry) {
				if (isset($items[$entry['uuid']])) {
					continue;
				}
				$menu_item_uuid = uuid();
				$database->execute("insert into v_menu_items (menu_item_uuid, menu_uuid, menu_item_parent_uuid, uuid, menu_item_title, menu_item_link, menu_item_category) values (:item, :menu, :parent, :uuid, :title, :link, :category)", [
					'item' => $menu_item_uuid, 'menu' => $this->menu_uuid, 'parent' => $items[$entry['parent_uuid']] ?? null, 'uuid' => $entry['uuid'],
					'title' => $entry['title'][$this->menu_language] ?? $entry['title']['en-us'], 'link' => $entry['path'], 'category' => $entry['category'],
				]);
				foreach ($entry['groups'] ?? [] as $group) {
					$database->execute("insert into v_menu_item_groups (menu_item_group_uuid, menu_uuid, menu_item_uuid, group_name, group_uuid) values (:uuid, :menu, :item, :name, :group)", [
						'uuid' => uuid(), 'menu' => $this->menu_uuid, 'item' => $menu_item_uuid, 'name' => $group, 'group' => $groups[$group] ?? null,
					]);
				}
				$items[$entry['uuid']] = $menu_item_uuid;
			}
		}
	}
}
