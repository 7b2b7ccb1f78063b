<?php
/*
	Stand-in for FusionPBX's token class: create($key) returns ['name' => ..., 'hash' => ...] and
	remembers it in the session under $key; validate($key) accepts a POST that carries one of the
	remembered name/hash pairs for that key.
*/

class token {

	public function create($key) {
		$name = 'token_'.bin2hex(random_bytes(4));
		$hash = bin2hex(random_bytes(32));
		$_SESSION['tokens'][$key][$name][] = $hash;
		return ['name' => $name, 'hash' => $hash];
	}

	public function validate($key, $value = null) {
		foreach ($_SESSION['tokens'][$key] ?? [] as $name => $hashes) {
			$posted = $value ?? ($_POST[$name] ?? null);
			if (is_string($posted)) {
				foreach ($hashes as $hash) {
					if (hash_equals($hash, $posted)) {
						return true;
					}
				}
			}
		}
		return false;
	}
}
