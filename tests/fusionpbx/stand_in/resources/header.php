<?php
/*
	Stand-in for FusionPBX's resources/header.php: the page head, a theme-like stylesheet, the
	Applications menu built from every app's app_menu.php (the entries of the user's groups, as
	FusionPBX's menu shows them after Menu Defaults), the queued messages (message::add), the theme's
	list and modal scripts, and $input_toggle_style_switch from the theme's input_toggle_style
	setting (switch_round by default).
*/
	$input_toggle_style_switch = substr((string) $settings->get('theme', 'input_toggle_style', 'switch_round'), 0, 6) === 'switch';
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
		.title, b { font-size: 15px; color: #1b2a3a; font-weight: bold; }   /* FusionPBX's theme: b is a heading */
		#standin_menu a { color: #fff; margin-left: 14px; font-weight: normal; }
		.modal-window { display: none; position: fixed; inset: 0; background: rgba(0,0,0,.4); z-index: 10; }
		.modal-window > div { background: #fff; width: 400px; margin: 120px auto; padding: 16px; border-radius: 4px; }
		.modal-window .modal-title { display: block; font-weight: bold; margin-bottom: 8px; }
		.modal-window .modal-message { display: block; margin-bottom: 12px; }
		.modal-window .modal-close { float: right; cursor: pointer; }
		tr.list-row[href] { cursor: pointer; }
		.switch { position: relative; display: inline-block; }
		.switch select { opacity: 0.01; position: absolute; width: 46px; height: 22px; cursor: pointer; }
		.switch .slider { display: inline-block; width: 46px; height: 22px; border-radius: 11px; background: #ccc; }
		button.link { background: none; border: 0; color: #2b5c8a; padding: 0; cursor: pointer; text-decoration: underline; }
		#menu_applications { float: none !important; display: block; margin-top: 6px; }
	</style>\n";
	//the theme's list scripts (FusionPBX: themes/default/js): select all, action buttons shown while a row is checked, modals, clickable rows
	echo "<script>
		function list_all_toggle() { var all = document.getElementById('checkbox_all'); document.querySelectorAll('table.list tr.list-row td.checkbox input[type=checkbox]').forEach(function (box) { box.checked = all.checked; }); }
		function checkbox_on_change(box) { var any = document.querySelectorAll('table.list tr.list-row td.checkbox input[type=checkbox]:checked').length > 0; ['btn_copy', 'btn_toggle', 'btn_delete'].forEach(function (id) { var button = document.querySelector('#action_bar #' + id); if (button) { button.style.display = any ? 'inline-block' : 'none'; } }); }
		function modal_open(id) { document.getElementById(id).style.display = 'block'; }
		function modal_close() { document.querySelectorAll('.modal-window').forEach(function (modal) { modal.style.display = 'none'; }); }
		function list_action_set(action) { document.getElementById('action').value = action; }
		function list_form_submit(id) { document.getElementById(id).submit(); }
		function list_self_check(id) { document.querySelectorAll('table.list tr.list-row td.checkbox input[type=checkbox]').forEach(function (box) { box.checked = false; }); document.getElementById(id).checked = true; }
		document.addEventListener('click', function (event) {
			var row = event.target.closest('tr.list-row[href]');
			if (!row || row.getAttribute('href') === '' || event.target.closest('a, button, input, select, label, td.no-link')) { return; }
			window.location = row.getAttribute('href');
		});
	</script>\n</head>\n<body>\n";
	echo "<div id='standin_menu'>FusionPBX (stand-in)<span>".escape(($_SESSION['username'] ?? '').'@'.($_SESSION['domain_name'] ?? ''))."</span>\n";
	echo "<span id='menu_applications'>Applications:";
	foreach (glob(dirname(__DIR__).'/app/*/app_menu.php') as $standin_menu_file) {
		$apps = [];
		$x = 0;
		include $standin_menu_file;
		foreach ($apps[0]['menu'] ?? [] as $standin_item) {
			if (array_intersect($standin_item['groups'] ?? [], $_SESSION['groups'] ?? [])) {
				echo " <a href='".escape($standin_item['path'])."' id='menu_".escape($standin_item['uuid'])."'>".escape($standin_item['title'][$_SESSION['domain']['language']['code'] ?? 'en-us'] ?? $standin_item['title']['en-us'])."</a>";
			}
		}
	}
	echo "</span></div>\n";
	echo "<div id='main_content'>\n";
	foreach (message::take() as [$standin_text, $standin_mood]) {
		echo "<div class='message ".escape($standin_mood)."'>".escape($standin_text)."</div>\n";
	}
