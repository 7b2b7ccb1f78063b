<?php
/*
	Voice Secretary — the menu entry (under Applications); the app's pages link to each other.
*/

	$y = 0;
	$apps[$x]['menu'][$y]['title']['en-us'] = "Voice Secretary";
	$apps[$x]['menu'][$y]['title']['pt-br'] = "Secretária Virtual";
	$apps[$x]['menu'][$y]['uuid'] = "420cd340-4827-4999-bc23-c982b40e916b";
	$apps[$x]['menu'][$y]['parent_uuid'] = "fd29e39c-c936-f5fc-8e2b-611681b266b5";
	$apps[$x]['menu'][$y]['category'] = "internal";
	$apps[$x]['menu'][$y]['icon'] = "";
	$apps[$x]['menu'][$y]['path'] = "/app/voice_secretary/voice_secretaries.php";
	$apps[$x]['menu'][$y]['order'] = "";
	$apps[$x]['menu'][$y]['groups'][] = "superadmin";
	$apps[$x]['menu'][$y]['groups'][] = "admin";
	$y++;

?>
