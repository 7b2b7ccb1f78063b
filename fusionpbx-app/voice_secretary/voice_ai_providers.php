<?php
/*
	Voice Secretary — the domain's AI providers (speech-to-text, text-to-speech, language model,
	embeddings). API keys are never shown here.
*/

//includes files
	require_once dirname(__DIR__, 2) . "/resources/require.php";
	require_once "resources/check_auth.php";

//check permissions
	if (!permission_exists('voice_ai_provider_view')) {
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
			header('Location: voice_ai_providers.php');
			exit;
		}
		if ($_POST['action'] === 'delete' && permission_exists('voice_ai_provider_delete') && is_array($_POST['voice_ai_providers'] ?? null)) {
			$deleted = 0;
			foreach ($_POST['voice_ai_providers'] as $record) {
				if (($record['checked'] ?? '') === 'true' && $store->delete('v_voice_ai_providers', $record['uuid'] ?? '')) {
					$deleted++;
				}
			}
			if ($deleted > 0) {
				message::add($text['message-delete']);
			}
		}
		header('Location: voice_ai_providers.php');
		exit;
	}

//get the list (every domain, read-only, for a superadmin with show=all)
	$show_all = voice_page::show_all('voice_ai_provider_all');
	$providers = $show_all
		? (new voice_all_domains($database))->all('v_voice_ai_providers', '', [], 'domain_name asc, provider_type asc, provider_name asc')
		: $store->all('v_voice_ai_providers', '', [], 'provider_type asc, provider_name asc');

//create token
	$object = new token;
	$token = $object->create($_SERVER['PHP_SELF']);

//include the header
	$document['title'] = $text['title-voice_ai_providers'];
	require_once "resources/header.php";

//show the content
	echo voice_page::nav($text, 'providers');
	echo "<div class='action_bar' id='action_bar'>\n";
	echo "	<div class='heading'><b>".escape($text['title-voice_ai_providers'])."</b><div class='count'>".count($providers)."</div></div>\n";
	echo "	<div class='actions'>\n";
	if (permission_exists('voice_ai_provider_add')) {
		echo button::create(['type'=>'button','label'=>$text['button-add'],'icon'=>'plus','id'=>'btn_add','link'=>'voice_ai_provider_edit.php']);
	}
	if (permission_exists('voice_ai_provider_delete') && $providers) {
		echo button::create(['type'=>'button','label'=>$text['button-delete'],'icon'=>'trash','id'=>'btn_delete','onclick'=>"if (confirm('".escape($text['confirm-delete'])."')) { document.getElementById('action').value = 'delete'; document.getElementById('form_list').submit(); }"]);
	}
	echo voice_page::show_all_button($text, 'voice_ai_provider_all', $show_all);
	echo "	</div>\n";
	echo "	<div style='clear: both;'></div>\n";
	echo "</div>\n";
	echo escape($text['description-voice_ai_providers'])."\n";
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
	echo "	<th>".escape($text['label-provider_type'])."</th>\n";
	echo "	<th>".escape($text['label-provider_name'])."</th>\n";
	echo "	<th>".escape($text['label-display_name'])."</th>\n";
	echo "	<th>".escape($text['label-model'])."</th>\n";
	echo "	<th>".escape($text['label-api_key'])."</th>\n";
	echo "	<th class='center'>".escape($text['label-is_default'])."</th>\n";
	echo "	<th class='center'>".escape($text['label-enabled'])."</th>\n";
	echo "</tr>\n";
	foreach ($providers as $x => $row) {
		$config = json_decode($row['config'] ?? '{}', true) ?: [];
		$own = $row['domain_uuid'] === $_SESSION['domain_uuid'];
		$url = ($own && permission_exists('voice_ai_provider_edit')) ? "voice_ai_provider_edit.php?id=".urlencode($row['provider_uuid']) : '';
		echo "<tr class='list-row'>\n";
		echo voice_page::checkbox_cell('voice_ai_providers', $x, $row['provider_uuid'], $own);
		if ($show_all) {
			echo "	<td>".escape($row['domain_name'])."</td>\n";
		}
		echo "	<td>".escape($text['option-'.$row['provider_type']] ?? $row['provider_type'])."</td>\n";
		echo "	<td>".($url !== '' ? "<a href='".escape($url)."'>".escape($row['provider_name'])."</a>" : escape($row['provider_name']))."</td>\n";
		echo "	<td>".escape($row['display_name'] ?? '')."</td>\n";
		echo "	<td>".escape($config['model'] ?? '')."</td>\n";
		echo "	<td>".escape(voice_provider_config::mask($config['api_key'] ?? null))."</td>\n";
		echo "	<td class='center'>".escape($text['label-'.(voice_page::is_true($row['is_default']) ? 'true' : 'false')])."</td>\n";
		echo "	<td class='center'>".escape($text['label-'.(voice_page::is_true($row['enabled']) ? 'true' : 'false')])."</td>\n";
		echo "</tr>\n";
	}
	echo "</table>\n";
	echo "</div>\n";
	echo voice_page::token_input($token);
	echo "</form>\n";

//include the footer
	require_once "resources/footer.php";
