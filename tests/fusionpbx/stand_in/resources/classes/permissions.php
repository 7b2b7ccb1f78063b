<?php
/*
	Stand-in for FusionPBX's permissions class: one shared object per request (permissions::new()) holding
	the user's permissions, loaded from $_SESSION['permissions'] at first use. add($name, 'temp') grants a
	permission for the rest of the request only (FusionPBX's pages do it before $database->save() writes a
	table the user has no permission of its own for) and delete($name, 'temp') takes that grant back without
	touching a permission the user really has. permission_exists() asks this object.
*/

class permissions {

	/** @var permissions|null */
	private static $instance = null;

	/** @var array permission name => true (the user's) or 'temp' */
	private $permissions = [];

	public static function new($database = null, $domain_uuid = null, $user_uuid = null) {
		if (self::$instance === null) {
			self::$instance = new permissions();
		}
		return self::$instance;
	}

	public function __construct() {
		$this->permissions = $_SESSION['permissions'] ?? [];
	}

	/** Grant $permission; $type 'temp' marks a grant for this request only. */
	public function add($permission, $type) {
		if (!isset($this->permissions[$permission])) {
			$this->permissions[$permission] = $type;
		}
	}

	public function exists($permission) {
		return !empty($this->permissions[$permission]);
	}

	/** Take back a grant of $type: a 'temp' delete never removes the user's own permission. */
	public function delete($permission, $type) {
		if (!isset($this->permissions[$permission])) {
			return;
		}
		if (($type === 'temp') === ($this->permissions[$permission] === 'temp')) {
			unset($this->permissions[$permission]);
		}
	}
}
