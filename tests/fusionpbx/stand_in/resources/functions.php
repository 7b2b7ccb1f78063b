<?php
/*
	Stand-in for the FusionPBX functions the Voice Secretary app calls (resources/functions.php):
	permission_exists, if_group, escape, is_uuid, uuid. Same names, arguments and results.
*/

	/** True when the logged-in user's groups grant $permission ($_SESSION['permissions']). */
	function permission_exists($permission) {
		return !empty($_SESSION['permissions'][$permission]);
	}

	/** True when the user belongs to $group. */
	function if_group($group) {
		return in_array($group, $_SESSION['groups'] ?? [], true);
	}

	/** HTML-escape a value for output (FusionPBX: htmlspecialchars, ENT_QUOTES, UTF-8). */
	function escape($value) {
		if (is_array($value)) {
			return array_map('escape', $value);
		}
		return htmlspecialchars((string) $value, ENT_QUOTES, 'UTF-8');
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
