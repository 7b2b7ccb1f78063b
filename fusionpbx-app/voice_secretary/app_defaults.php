<?php
/*
	Voice Secretary — app_defaults.php, run by FusionPBX's "upgrade" (App Defaults).

	The tables are created by the project's migrations (`voice-ai migrate`), not here. Once per
	upgrade this only reports, in the upgrade output, when they are missing, so that an operator who
	copied the app before running the installer knows what to do.
*/

if ($domains_processed == 1) {
	$sql = "select count(*) from information_schema.tables where table_name = 'v_voice_secretaries'";
	$voice_secretary_tables = $database->select($sql, null, 'column');
	if (empty($voice_secretary_tables)) {
		echo "Voice Secretary: tables missing, run `voice-ai migrate` (see deploy/) and upgrade again.\n";
	}
	unset($sql, $voice_secretary_tables);
}

?>
