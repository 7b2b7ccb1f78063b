<?php
/*
	Stand-in for FusionPBX's resources/header.php: the page head, a theme-like stylesheet and the
	queued messages (message::add).
*/
	$standin_title = $document['title'] ?? 'FusionPBX';
	echo "<!DOCTYPE html>\n<html>\n<head>\n<meta charset='utf-8'>\n<title>".escape($standin_title)."</title>\n";
	echo "<style>
		body { font-family: Arial, Helvetica, sans-serif; font-size: 13px; margin: 0; background: #e7ebf1; color: #333; }
		#standin_menu { background: #1b2a3a; color: #fff; padding: 10px 20px; font-weight: bold; }
		#standin_menu span { float: right; font-weight: normal; }
		#main_content { padding: 20px; }
		.action_bar { margin-bottom: 10px; }
		.action_bar .heading { float: left; font-size: 16px; }
		.action_bar .heading .count { display: inline-block; margin-left: 8px; color: #888; font-size: 12px; }
		.action_bar .actions { float: right; }
		.card { background: #fff; border-radius: 4px; padding: 12px; box-shadow: 0 1px 3px rgba(0,0,0,.15); }
		.btn { background: #2b5c8a; color: #fff; border: 0; border-radius: 3px; padding: 6px 12px; margin-left: 4px; cursor: pointer; text-decoration: none; display: inline-block; }
		table.list { width: 100%; border-collapse: collapse; }
		table.list th { text-align: left; border-bottom: 2px solid #ccc; padding: 6px; }
		table.list td { border-bottom: 1px solid #eee; padding: 6px; vertical-align: top; }
		.vncell, .vncellreq { background: #f4f6f9; padding: 6px 10px; font-weight: bold; }
		.vncellreq { color: #000; }
		.vtable { padding: 6px 10px; border-bottom: 1px solid #eee; }
		.formfld { padding: 4px; border: 1px solid #bbb; border-radius: 3px; }
		.message { padding: 8px 12px; margin-bottom: 10px; border-radius: 3px; background: #d9f2d9; }
		.message.negative { background: #f8d7da; }
		.center { text-align: center; }
		pre { white-space: pre-wrap; margin: 0; }
	</style>\n</head>\n<body>\n";
	echo "<div id='standin_menu'>FusionPBX (stand-in)<span>".escape(($_SESSION['username'] ?? '').'@'.($_SESSION['domain_name'] ?? ''))."</span></div>\n";
	echo "<div id='main_content'>\n";
	foreach (message::take() as [$standin_text, $standin_mood]) {
		echo "<div class='message ".escape($standin_mood)."'>".escape($standin_text)."</div>\n";
	}
