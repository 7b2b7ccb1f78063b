<?php
/*
	Builds a FusionPBX-shaped web root for the tests: <target>/resources (the stand-in),
	<target>/login.php, <target>/app/voice_secretary (a copy of fusionpbx-app/voice_secretary, so
	that dirname(__DIR__, 2) finds the stand-in as it finds FusionPBX's own resources), and
	<target>/standin_config.json.

	usage: php build_docroot.php <target dir> <config json>
	config: {"dsn": "pgsql:...", "db_username": "...", "db_password": "...",
	         "settings": {"voice_secretary": {"redis_url": ..., "upload_dir": ..., ...}}}
*/

function standin_copy_tree(string $source, string $target): void {
	if (!is_dir($target)) {
		mkdir($target, 0755, true);
	}
	foreach (scandir($source) as $entry) {
		if ($entry === '.' || $entry === '..') {
			continue;
		}
		$from = $source.'/'.$entry;
		$to = $target.'/'.$entry;
		if (is_dir($from)) {
			standin_copy_tree($from, $to);
		}
		else {
			copy($from, $to);
		}
	}
}

/** Build the docroot at $target with $config; returns $target. */
function standin_build_docroot(string $target, array $config): string {
	$repository = dirname(__DIR__, 2);
	standin_copy_tree(__DIR__.'/stand_in', $target);
	standin_copy_tree($repository.'/fusionpbx-app/voice_secretary', $target.'/app/voice_secretary');
	file_put_contents($target.'/standin_config.json', json_encode($config, JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES));
	return $target;
}

if (PHP_SAPI === 'cli' && realpath($_SERVER['SCRIPT_FILENAME'] ?? '') === __FILE__) {
	if ($argc !== 3) {
		fwrite(STDERR, "usage: php build_docroot.php <target dir> <config json>\n");
		exit(2);
	}
	standin_build_docroot($argv[1], json_decode($argv[2], true));
}
