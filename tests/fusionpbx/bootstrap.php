<?php
/*
	PHPUnit bootstrap for the Voice Secretary app.

	* The database is the project's test database (TEST_DATABASE_URL, as tests/conftest.py), already
	  migrated by `voice-ai migrate` (pytest's tests/test_fusionpbx_app.py does it before running
	  PHPUnit). FusionPBX's v_dialplans is created there from stand_in_dialplans.sql when absent.
	* Redis is TEST_REDIS_URL (pytest passes its run's private one; default redis://127.0.0.1:6379/15).
	* A FusionPBX-shaped web root is built in a temporary directory (build_docroot.php) and served
	  by `php -S 127.0.0.1:<free port>` for the tests that go through pages, as a browser would.
	* The stand-in's functions and classes are loaded here too, for the tests that call the app's
	  classes directly.
*/

	require_once __DIR__.'/build_docroot.php';

	/** postgresql://user:pass@host:port/db -> [dsn, user, pass] for PDO. */
	function standin_pdo_parts(string $url): array {
		$parts = parse_url($url);
		$dsn = sprintf('pgsql:host=%s;port=%d;dbname=%s', $parts['host'] ?? '127.0.0.1', $parts['port'] ?? 5432, ltrim($parts['path'] ?? '', '/'));
		return [$dsn, rawurldecode($parts['user'] ?? ''), rawurldecode($parts['pass'] ?? '')];
	}

	/** A TCP port nobody listens on right now. */
	function standin_free_port(): int {
		$socket = stream_socket_server('tcp://127.0.0.1:0', $errno, $errstr);
		$name = stream_socket_get_name($socket, false);
		fclose($socket);
		return (int) substr($name, strrpos($name, ':') + 1);
	}

	$database_url = getenv('TEST_DATABASE_URL') ?: 'postgresql://voice_ai_test:voice_ai_test@127.0.0.1:5432/voice_ai_test';
	$redis_url = getenv('TEST_REDIS_URL') ?: 'redis://127.0.0.1:6379/15';
	[$dsn, $db_username, $db_password] = standin_pdo_parts($database_url);

	$pdo = new PDO($dsn, $db_username, $db_password, [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION]);
	if ($pdo->query("select to_regclass('v_dialplans') is null or to_regclass('v_dialplan_details') is null or to_regclass('v_database_transactions') is null or to_regclass('v_ivr_menus') is null or to_regclass('v_extensions') is null or to_regclass('v_ring_groups') is null or to_regclass('v_call_center_queues') is null or to_regclass('v_voicemails') is null")->fetchColumn()) { //FusionPBX's user may create nothing
		$pdo->exec(file_get_contents(__DIR__.'/stand_in_dialplans.sql'));
	}

	$standin_tmp = sys_get_temp_dir().'/voice_secretary_phpunit_'.bin2hex(random_bytes(4));
	mkdir($standin_tmp.'/uploads', 0750, true);
	$standin_config = [
		'dsn' => $dsn,
		'db_username' => $db_username,
		'db_password' => $db_password,
		'settings' => [
			//FusionPBX's defaults for what the app reads outside its own category
			'domain' => ['paging' => '50'],
			'theme' => [
				'input_toggle_style' => 'switch_round', 'button_icon_add' => 'fa-solid fa-plus', 'button_icon_copy' => 'fa-regular fa-copy',
				'button_icon_toggle' => 'fa-solid fa-toggle-on', 'button_icon_delete' => 'fa-solid fa-trash-can', 'button_icon_search' => 'fa-solid fa-magnifying-glass',
				'button_icon_all' => 'fa-solid fa-globe', 'button_icon_back' => 'fa-solid fa-arrow-left', 'button_icon_save' => 'fa-solid fa-check',
				'button_icon_reset' => 'fa-solid fa-rotate-left', 'button_icon_upload' => 'fa-solid fa-upload', 'button_icon_reload' => 'fa-solid fa-rotate', 'button_icon_view' => 'fa-solid fa-eye',
			],
			'voice_secretary' => [
				'edge_host' => '10.0.0.5',
				'edge_port' => '8022',
				'redis_url' => $redis_url,
				'upload_dir' => $standin_tmp.'/uploads',
				'upload_max_bytes' => '65536',
			],
		],
	];
	$standin_docroot = standin_build_docroot($standin_tmp.'/docroot', $standin_config);

	//the stand-in functions and classes, for direct calls from tests
	require_once $standin_docroot.'/resources/functions.php';
	spl_autoload_register(function ($class) use ($standin_docroot) {
		foreach (array_merge([$standin_docroot.'/resources/classes/'.$class.'.php'], glob($standin_docroot.'/app/*/resources/classes/'.$class.'.php') ?: []) as $file) {
			if (preg_match('/^[a-z_][a-z0-9_]*$/', $class) && is_file($file)) {
				require_once $file;
				return;
			}
		}
	});
	require_once __DIR__.'/phpunit/StandinTestCase.php';

	//the web server
	$standin_port = standin_free_port();
	$standin_server = proc_open(
		[PHP_BINARY, '-d', 'display_errors=1', '-d', 'error_reporting=-1', '-d', 'upload_max_filesize=1M', '-d', 'post_max_size=2M', '-S', '127.0.0.1:'.$standin_port, '-t', $standin_docroot],
		[0 => ['file', '/dev/null', 'r'], 1 => ['file', $standin_tmp.'/server.log', 'a'], 2 => ['file', $standin_tmp.'/server.log', 'a']],
		$standin_pipes
	);
	for ($i = 0; $i < 100; $i++) {
		$probe = @fsockopen('127.0.0.1', $standin_port, $errno, $errstr, 0.1);
		if ($probe) {
			fclose($probe);
			break;
		}
		usleep(50000);
	}
	define('STANDIN_BASE_URL', 'http://127.0.0.1:'.$standin_port);
	define('STANDIN_DOCROOT', $standin_docroot);
	define('STANDIN_TMP', $standin_tmp);
	define('STANDIN_REDIS_URL', $redis_url);
	$GLOBALS['standin_pdo'] = $pdo;

	register_shutdown_function(function () use ($standin_server, $standin_tmp) {
		proc_terminate($standin_server);
		proc_close($standin_server);
		exec('rm -rf '.escapeshellarg($standin_tmp));
	});
