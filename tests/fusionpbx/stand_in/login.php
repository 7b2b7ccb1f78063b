<?php
/*
	Stand-in login page (tests only): ?domain_uuid=<uuid>&domain_name=<name>&group=<admin|superadmin|user>
	logs in a user of that domain with the permissions that app_config.php grants to the group, the
	way FusionPBX loads v_group_permissions at login; &without=<permission>,<permission> leaves some
	out, as an operator unticks them in the group's permissions. Redirects to ?next= (a path of this site).
*/
	require_once __DIR__."/resources/require.php";

	$group = $_GET['group'] ?? 'admin';
	$domain_uuid = $_GET['domain_uuid'] ?? '';
	if (!is_uuid($domain_uuid) || !preg_match('/^[a-z]+$/', $group)) {
		http_response_code(400);
		echo "bad login";
		exit;
	}
	$_SESSION = [];
	session_regenerate_id(true);
	$_SESSION['user_uuid'] = uuid();
	$_SESSION['username'] = $group;
	$_SESSION['domain_uuid'] = $domain_uuid;
	$_SESSION['domain_name'] = $_GET['domain_name'] ?? 'example.test';
	$_SESSION['groups'] = [$group];
	$_SESSION['domain']['language']['code'] = $_GET['language'] ?? 'en-us';
	$_SESSION['permissions'] = [];
	$without = array_filter(explode(',', (string) ($_GET['without'] ?? '')));
	foreach (glob(__DIR__.'/app/*/app_config.php') as $file) {
		$apps = [];
		$x = 0;
		include $file;
		foreach ($apps[0]['permissions'] ?? [] as $permission) {
			if (in_array($group, $permission['groups'] ?? [], true) && !in_array($permission['name'], $without, true)) {
				$_SESSION['permissions'][$permission['name']] = true;
			}
		}
	}
	$next = $_GET['next'] ?? '/app/voice_secretary/voice_secretaries.php';
	if (!preg_match('#^/[A-Za-z0-9_/.?=&%-]*$#', $next)) {
		$next = '/';
	}
	header('Location: '.$next);
