<?php
/*
	Voice Secretary — the domain's transfer rules: which department a caller may be sent to, when,
	and what happens outside business hours or when nobody answers.
*/

//includes files
	require_once dirname(__DIR__, 2) . "/resources/require.php";
	require_once "resources/check_auth.php";

//check permissions
	if (!permission_exists('voice_transfer_rule_view')) {
		echo "access denied";
		exit;
	}

//add multi-lingual support
	$language = new text;
	$text = $language->get();

//the domain-bound store
	$store = new voice_tenant_store($database, $_SESSION['domain_uuid']);

//process a posted action (delete)
	if (voice_page::text($_POST, 'action') !== '') {
		$token = new token;
		if (!$token->validate($_SERVER['PHP_SELF'])) {
			message::add($text['message-invalid_token'], 'negative');
			header('Location: voice_transfer_rules.php');
			exit;
		}
		if ($_POST['action'] === 'delete' && permission_exists('voice_transfer_rule_delete') && is_array($_POST['voice_transfer_rules'] ?? null)) {
			$deleted = 0;
			foreach ($_POST['voice_transfer_rules'] as $record) {
				if (($record['checked'] ?? '') === 'true' && $store->delete('v_voice_transfer_rules', $record['uuid'] ?? '')) {
					$deleted++;
				}
			}
			if ($deleted > 0) {
				message::add($text['message-delete']);
			}
		}
		header('Location: voice_transfer_rules.php');
		exit;
	}

//get the list (every domain, read-only, for a superadmin with show=all)
	$show_all = voice_page::show_all('voice_transfer_rule_all');
	$list = $show_all ? new voice_all_domains($database) : $store;
	$secretaries = [];
	foreach ($list->all('v_voice_secretaries') as $row) {
		$secretaries[$row['voice_secretary_uuid']] = $row['name'];
	}
	$rules = $list->all('v_voice_transfer_rules', '', [], ($show_all ? 'domain_name asc, ' : '').'priority asc, department_name asc');

//create token
	$object = new token;
	$token = $object->create($_SERVER['PHP_SELF']);

//include the header
	$document['title'] = $text['title-voice_transfer_rules'];
	require_once "resources/header.php";

//show the content
	echo voice_page::nav($text, 'transfer_rules');
	echo "<div class='action_bar' id='action_bar'>\n";
	echo "	<div class='heading'><b>".escape($text['title-voice_transfer_rules'])."</b><div class='count'>".count($rules)."</div></div>\n";
	echo "	<div class='actions'>\n";
	if (permission_exists('voice_transfer_rule_add')) {
		echo button::create(['type'=>'button','label'=>$text['button-add'],'icon'=>'plus','id'=>'btn_add','link'=>'voice_transfer_rule_edit.php']);
	}
	if (permission_exists('voice_transfer_rule_delete') && $rules) {
		echo button::create(['type'=>'button','label'=>$text['button-delete'],'icon'=>'trash','id'=>'btn_delete','onclick'=>"if (confirm('".escape($text['confirm-delete'])."')) { document.getElementById('action').value = 'delete'; document.getElementById('form_list').submit(); }"]);
	}
	echo voice_page::show_all_button($text, 'voice_transfer_rule_all', $show_all);
	echo "	</div>\n";
	echo "	<div style='clear: both;'></div>\n";
	echo "</div>\n";
	echo escape($text['description-voice_transfer_rules'])."\n";
	echo "<br /><br />\n";

	echo "<form id='form_list' method='post'>\n";
	echo "<input type='hidden' id='action' name='action' value=''>\n";
	echo "<div class='card'>\n";
	echo "<table class='list'>\n";
	echo "<tr class='list-header'>\n";
	echo "	<th class='checkbox'>&nbsp;</th>\n";
	if ($show_all) {
		echo "	<th>".escape($text['label-domain'])."</th>\n";
	}
	echo "	<th>".escape($text['label-department_name'])."</th>\n";
	echo "	<th>".escape($text['label-keywords'])."</th>\n";
	echo "	<th>".escape($text['label-transfer_extension'])."</th>\n";
	echo "	<th>".escape($text['label-voice_secretary'])."</th>\n";
	echo "	<th>".escape($text['label-priority'])."</th>\n";
	echo "	<th>".escape($text['label-fallback_action'])."</th>\n";
	echo "	<th class='center'>".escape($text['label-enabled'])."</th>\n";
	echo "</tr>\n";
	foreach ($rules as $x => $row) {
		$own = $row['domain_uuid'] === $_SESSION['domain_uuid'];
		$url = ($own && permission_exists('voice_transfer_rule_edit')) ? "voice_transfer_rule_edit.php?id=".urlencode($row['transfer_rule_uuid']) : '';
		echo "<tr class='list-row'>\n";
		echo voice_page::checkbox_cell('voice_transfer_rules', $x, $row['transfer_rule_uuid'], $own);
		if ($show_all) {
			echo "	<td>".escape($row['domain_name'])."</td>\n";
		}
		echo "	<td>".($url !== '' ? "<a href='".escape($url)."'>".escape($row['department_name'])."</a>" : escape($row['department_name']))."</td>\n";
		echo "	<td>".escape(implode(', ', voice_tenant_store::parse_text_array($row['keywords'])))."</td>\n";
		echo "	<td>".escape($row['transfer_extension'])."</td>\n";
		echo "	<td>".escape($row['voice_secretary_uuid'] ? ($secretaries[$row['voice_secretary_uuid']] ?? '') : $text['label-all_secretaries'])."</td>\n";
		echo "	<td>".escape((string) $row['priority'])."</td>\n";
		echo "	<td>".escape($text['option-fallback_'.$row['fallback_action']] ?? $row['fallback_action'])."</td>\n";
		echo "	<td class='center'>".escape($text['label-'.(voice_page::is_true($row['enabled']) ? 'true' : 'false')])."</td>\n";
		echo "</tr>\n";
	}
	echo "</table>\n";
	echo "</div>\n";
	echo voice_page::token_input($token);
	echo "</form>\n";

//include the footer
	require_once "resources/footer.php";
