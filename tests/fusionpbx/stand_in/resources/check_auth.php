<?php
/*
	Stand-in for FusionPBX's resources/check_auth.php: no session user means "not logged in".
	(The stand-in's login.php plays the login page: it sets the user, domain, groups and the
	permissions that app_config.php grants those groups.)
*/

	if (empty($_SESSION['user_uuid']) || empty($_SESSION['domain_uuid'])) {
		if (PHP_SAPI !== 'cli') {
			http_response_code(403);
		}
		echo "access denied";
		exit;
	}
