<?php
/*
	Stand-in for the FusionPBX functions the Voice Secretary app calls (resources/functions.php):
	permission_exists, if_group, escape, is_uuid, uuid. Same names, arguments and results.
*/

	/** True when the user's permissions (loaded from $_SESSION['permissions']) or a temporary grant ($p->add(..., 'temp')) include $permission. */
	function permission_exists($permission) {
		return permissions::new()->exists($permission);
	}

	/** True when the user belongs to $group. */
	function if_group($group) {
		return in_array($group, $_SESSION['groups'] ?? [], true);
	}

	/**
	 * HTML-escape a value for output as FusionPBX 5.5 does: htmlentities (ENT_QUOTES | ENT_HTML5), so every
	 * character with a named HTML5 entity is replaced ("_" -> "&lowbar;", ":" -> "&colon;"); a number comes
	 * back unchanged, an array as its first element escaped, anything else (null) as false.
	 */
	function escape($value) {
		if (is_string($value)) {
			return htmlentities($value, ENT_QUOTES | ENT_HTML5, 'UTF-8');
		}
		if (is_numeric($value)) {
			return $value;
		}
		$value = (array) $value;
		return isset($value[0]) ? htmlentities((string) $value[0], ENT_QUOTES | ENT_HTML5, 'UTF-8') : false;
	}

	/** True for a canonical 8-4-4-4-12 hex uuid. */
	function is_uuid($value) {
		return is_string($value) && preg_match('/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i', $value) === 1;
	}

	/** A new random (version 4) uuid. */
	function uuid() {
		$bytes = random_bytes(16);
		$bytes[6] = chr((ord($bytes[6]) & 0x0f) | 0x40);
		$bytes[8] = chr((ord($bytes[8]) & 0x3f) | 0x80);
		return vsprintf('%s%s-%s-%s-%s-%s%s%s', str_split(bin2hex($bytes), 4));
	}

	/**
	 * A sortable column heading (FusionPBX's th_order_by): a link to ?order_by=<field>&order=<asc|desc>
	 * plus $http_get_params (the page's search and show=all), the direction flipped when the list is
	 * already sorted by this field; the title says which order a click gives.
	 */
	function th_order_by(string $field_name, string $column_title, ?string $order_by, ?string $order, ?string $app_uuid = '', ?string $css = '', ?string $http_get_params = '', ?string $description = ''): string {
		global $text;
		$field_name = preg_replace('#[^a-zA-Z0-9_]#', '', $field_name);
		$next = ($order_by === $field_name && $order === 'asc') ? 'desc' : 'asc';
		$extra = '';
		foreach (explode('&', (string) $http_get_params) as $pair) {
			if (strpos($pair, '=') === false) {
				continue;
			}
			[$key, $value] = explode('=', $pair, 2);
			$key = preg_replace('#[^a-zA-Z0-9_\-]#', '', $key);
			if ($key !== 'order_by' && $key !== 'order' && $value !== '') {
				$extra .= '&'.$key.'='.urlencode(urldecode($value));
			}
		}
		$title = ($description ? $description.', ' : '').($text['label-order'] ?? 'Order').' '.($next === 'desc' ? ($text['label-descending'] ?? 'Descending') : ($text['label-ascending'] ?? 'Ascending'));
		return "<th ".$css." nowrap='nowrap'><a href='?order_by=".urlencode($field_name)."&order=".$next.$extra."' title=\"".escape($title)."\">".escape($column_title)."</a></th>";
	}
