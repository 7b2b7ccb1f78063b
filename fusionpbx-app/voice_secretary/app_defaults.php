<?php
/*
	Voice Secretary — app_defaults.php, run by FusionPBX's "upgrade" (App Defaults).

	The tables are created by the project's migrations (`voice-ai migrate`), not here. FusionPBX's
	upgrade runs its schema step before the app defaults, and that step creates any table of
	app_config.php that is missing, with its columns but without the migrations' defaults, foreign
	keys and checks. So the tables are checked by what only the migrations give them (the default
	of the primary key), and the upgrade output says what to do when they are missing or are such
	stand-ins (deploy/fusionpbx-app.md).
*/

if ($domains_processed == 1) {
	$sql = "select column_default from information_schema.columns where table_name = 'v_voice_secretaries' and column_name = 'voice_secretary_uuid'";
	$voice_secretary_default = $database->select($sql, null, 'column');
	if (empty($voice_secretary_default)) {
		echo "Voice Secretary: the v_voice_* tables were not created by `voice-ai migrate`; run the migrations before FusionPBX's upgrade (see deploy/fusionpbx-app.md).\n";
	}
	unset($sql, $voice_secretary_default);
}

?>
