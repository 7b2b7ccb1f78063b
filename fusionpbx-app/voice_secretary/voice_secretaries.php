<?php
/*
	Voice Secretary — the list of the domain's virtual secretaries (delete from here).
*/

//includes files
	require_once dirname(__DIR__, 2) . "/resources/require.php";
	require_once "resources/check_auth.php";

//check permissions
	if (!permission_exists('voice_secretary_view')) {
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
			header('Location: voice_secretaries.php');
			exit;
		}
		if ($_POST['action'] === 'delete' && permission_exists('voice_secretary_delete') && is_array($_POST['voice_secretaries'] ?? null)) {
			$dialplan = new voice_dialplan($database, $_SESSION['domain_uuid'], $_SESSION['domain_name']);
			$app_settings = new voice_app_settings($settings);
			$upload = new voice_document_upload($app_settings->upload_dir(), $app_settings->upload_max_bytes());
			$deleted = 0;
			foreach ($_POST['voice_secretaries'] as $record) {
				if (($record['checked'] ?? '') !== 'true') {
					continue;
				}
				$secretary = $store->find('v_voice_secretaries', $record['uuid'] ?? '');
				if ($secretary === null) {
					continue; //not a row of this domain
				}
				//its documents go with it (ON DELETE CASCADE): remove their stored files too
				$documents = $store->all('v_voice_documents', 'and voice_secretary_uuid = :voice_secretary_uuid', ['voice_secretary_uuid' => $secretary['voice_secretary_uuid']]);
				if ($store->delete('v_voice_secretaries', $secretary['voice_secretary_uuid'])) {
					$dialplan->delete($secretary['dialplan_uuid']);
					foreach ($documents as $voice_document) {
						$upload->remove($voice_document['storage_path']);
					}
					$deleted++;
				}
			}
			if ($deleted > 0) {
				message::add($text['message-delete']);
			}
		}
		header('Location: voice_secretaries.php');
		exit;
	}

//get the list (every domain, read-only, for a superadmin with show=all)
	$show_all = voice_page::show_all('voice_secretary_all');
	$secretaries = $show_all
		? (new voice_all_domains($database))->all('v_voice_secretaries', '', [], 'domain_name asc, name asc')
		: $store->all('v_voice_secretaries', '', [], 'name asc');

//create token
	$object = new token;
	$token = $object->create($_SERVER['PHP_SELF']);

//include the header
	$document['title'] = $text['title-voice_secretaries'];
	require_once "resources/header.php";

//show the content
	echo voice_page::nav($text, 'secretaries');
	echo "<div class='action_bar' id='action_bar'>\n";
	echo "	<div class='heading'><b>".escape($text['title-voice_secretaries'])."</b><div class='count'>".count($secretaries)."</div></div>\n";
	echo "	<div class='actions'>\n";
	if (permission_exists('voice_secretary_add')) {
		echo button::create(['type'=>'button','label'=>$text['button-add'],'icon'=>'plus','id'=>'btn_add','link'=>'voice_secretary_edit.php']);
	}
	if (permission_exists('voice_secretary_delete') && $secretaries) {
		echo button::create(['type'=>'button','label'=>$text['button-delete'],'icon'=>'trash','id'=>'btn_delete','onclick'=>"if (confirm('".escape($text['confirm-delete'])."')) { document.getElementById('action').value = 'delete'; document.getElementById('form_list').submit(); }"]);
	}
	echo voice_page::show_all_button($text, 'voice_secretary_all', $show_all);
	echo "	</div>\n";
	echo "	<div style='clear: both;'></div>\n";
	echo "</div>\n";
	echo escape($text['description-voice_secretaries'])."\n";
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
	echo "	<th>".escape($text['label-name'])."</th>\n";
	echo "	<th>".escape($text['label-extension'])."</th>\n";
	echo "	<th>".escape($text['label-language'])."</th>\n";
	echo "	<th class='center'>".escape($text['label-enabled'])."</th>\n";
	echo "	<th class='hide-sm-dn'>".escape($text['label-description'])."</th>\n";
	echo "</tr>\n";
	foreach ($secretaries as $x => $row) {
		$own = $row['domain_uuid'] === $_SESSION['domain_uuid'];
		$url = ($own && permission_exists('voice_secretary_edit')) ? "voice_secretary_edit.php?id=".urlencode($row['voice_secretary_uuid']) : '';
		echo "<tr class='list-row'>\n";
		echo voice_page::checkbox_cell('voice_secretaries', $x, $row['voice_secretary_uuid'], $own);
		if ($show_all) {
			echo "	<td>".escape($row['domain_name'])."</td>\n";
		}
		echo "	<td>".($url !== '' ? "<a href='".escape($url)."'>".escape($row['name'])."</a>" : escape($row['name']))."</td>\n";
		echo "	<td>".escape($row['extension'] ?? '')."</td>\n";
		echo "	<td>".escape($row['language'] ?? '')."</td>\n";
		echo "	<td class='center'>".escape($text['label-'.(voice_page::is_true($row['enabled']) ? 'true' : 'false')])."</td>\n";
		echo "	<td class='description overflow hide-sm-dn'>".escape($row['description'] ?? '')."</td>\n";
		echo "</tr>\n";
	}
	echo "</table>\n";
	echo "</div>\n";
	echo voice_page::token_input($token);
	echo "</form>\n";

//include the footer
	require_once "resources/footer.php";
