<?php
/*
	Voice Secretary — the domain's call-handling settings that are not one secretary's: the operator
	destination (DTMF 0 and the "operator" fallback), the fallback destination when the secretary
	cannot run, and the default transfer context. One row per domain.
*/

//includes files
	require_once dirname(__DIR__, 2) . "/resources/require.php";
	require_once "resources/check_auth.php";

//check permissions
	if (!permission_exists('voice_domain_setting_view')) {
		echo "access denied";
		exit;
	}

//add multi-lingual support
	$language = new text;
	$text = $language->get();

//the domain-bound store and this domain's row (if any)
	$store = new voice_tenant_store($database, $_SESSION['domain_uuid']);
	$rows = $store->all('v_voice_domain_settings');
	$current = $rows[0] ?? null;
	$form = [
		'operator_destination' => $current['operator_destination'] ?? '',
		'fallback_destination' => $current['fallback_destination'] ?? '',
		'transfer_context' => $current['transfer_context'] ?? '',
	];
	$can_save = $current === null ? permission_exists('voice_domain_setting_add') : permission_exists('voice_domain_setting_edit');
	$errors = [];
	$problems = []; //sentences shown under the missing fields

//process the submitted form
	if (!empty($_POST)) {
		$token = new token;
		if (!$token->validate($_SERVER['PHP_SELF'])) {
			message::add($text['message-invalid_token'], 'negative');
			header('Location: voice_domain_settings.php');
			exit;
		}
		if (!$can_save) {
			echo "access denied";
			exit;
		}
		foreach ($form as $key => $value) {
			$form[$key] = trim(voice_page::text($_POST, $key));
		}
		foreach (['operator_destination', 'fallback_destination'] as $key) {
			if ($form[$key] !== '' && voice_transfer_destination::problem($form[$key]) !== null) { $errors[] = $text['label-'.$key]; }
		}
		if (!voice_transfer_destination::context_allowed($form['transfer_context'], (string) $_SESSION['domain_name'])) { $errors[] = $text['label-transfer_context']; }
		if (empty($errors) && empty($problems)) {
			$row = array_map(function ($value) { return $value === '' ? null : $value; }, $form);
			if ($store->save('v_voice_domain_settings', $current['domain_setting_uuid'] ?? null, $row)) {
				message::add($text[$current === null ? 'message-add' : 'message-update']);
				header('Location: voice_domain_settings.php');
				exit;
			}
			$problems[] = $text['message-save_failed'];
		}
	}

//create token
	$object = new token;
	$token = $object->create($_SERVER['PHP_SELF']);

//include the header
	$document['title'] = $text['title-voice_domain_settings'];
	require_once "resources/header.php";

//show the content
	echo "<form name='frm' id='frm' method='post'>\n";
	echo "<div class='action_bar' id='action_bar'>\n";
	echo "	<div class='heading'><b>".escape($text['title-voice_domain_settings'])."</b></div>\n";
	echo "	<div class='actions'>\n";
	if ($can_save) {
		echo button::create(['type'=>'submit','label'=>$text['button-save'],'icon'=>$settings->get('theme', 'button_icon_save'),'id'=>'btn_save']);
	}
	echo "	</div>\n";
	echo "	<div style='clear: both;'></div>\n";
	echo "</div>\n";
	echo voice_page::form_errors($text, $errors, $problems);
	echo "<div class='card'>\n";
	echo "<table width='100%' border='0' cellpadding='0' cellspacing='0'>\n";
	$destinations = voice_destinations::options($database, $_SESSION['domain_uuid'], $text);
	echo voice_page::row($text['label-operator_destination'], voice_destinations::select('operator_destination', $form['operator_destination'], $destinations, $text), $text['description-operator_destination']);
	echo voice_page::row($text['label-fallback_destination'], voice_destinations::select('fallback_destination', $form['fallback_destination'], $destinations, $text), $text['description-domain_fallback_destination']);
	echo voice_page::row($text['label-transfer_context'], voice_page::input('transfer_context', $form['transfer_context'], 'text', "maxlength='255' placeholder=\"".escape($_SESSION['domain_name'])."\""), $text['description-domain_transfer_context']);
	echo "</table>\n";
	echo "</div>\n";
	echo voice_page::token_input($token);
	echo "</form>\n";

//include the footer
	require_once "resources/footer.php";
