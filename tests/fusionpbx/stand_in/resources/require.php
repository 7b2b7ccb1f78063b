<?php
/*
	Stand-in for FusionPBX's resources/require.php (tests only; see tests/fusionpbx/README.md).

	Reads <docroot>/standin_config.json (written by tests/fusionpbx/build_docroot.php), sets the
	include path to the docroot as FusionPBX does, starts the session, registers the class
	autoloader (resources/classes/<class>.php and app/* /resources/classes/<class>.php, as
	FusionPBX's auto_loader does), and creates the globals $database and $settings.
*/

	$standin_docroot = dirname(__DIR__);
	set_include_path($standin_docroot.PATH_SEPARATOR.get_include_path());
	$standin_config = json_decode(file_get_contents($standin_docroot.'/standin_config.json'), true);

	require_once __DIR__.'/functions.php';

	spl_autoload_register(function ($class) use ($standin_docroot) {
		if (!preg_match('/^[a-z_][a-z0-9_]*$/', $class)) {
			return;
		}
		$candidates = array_merge([__DIR__.'/classes/'.$class.'.php'], glob($standin_docroot.'/app/*/resources/classes/'.$class.'.php') ?: []);
		foreach ($candidates as $file) {
			if (is_file($file)) {
				require_once $file;
				return;
			}
		}
	});

	if (session_status() === PHP_SESSION_NONE && PHP_SAPI !== 'cli') {
		session_start();
	}

	$database = database::new();
	$settings = new settings($standin_config['settings'] ?? []);
