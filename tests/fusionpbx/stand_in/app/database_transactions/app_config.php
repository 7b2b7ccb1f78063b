<?php
/*
	Stand-in marker for FusionPBX's Database Transactions app (app/database_transactions): FusionPBX's
	database class records a save or delete in v_database_transactions only when this file exists.
	The table itself is created in the test database by tests/fusionpbx/stand_in_dialplans.sql.
*/
	$apps[$x]['name'] = "Database Transactions";
	$apps[$x]['uuid'] = "de47783c-1caa-4b3e-9b51-ad6c9e69215c";
