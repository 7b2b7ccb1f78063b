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
	//what a caller hears while a transfer rings, and for how long (migration 014): once its columns exist
	$ringing = count(array_intersect(['ringback_tone', 'hold_music_file', 'transfer_ring_seconds'], $store->columns('v_voice_domain_settings'))) === 3;
	if ($ringing) {
		$form += [
			'ringback_tone' => $current['ringback_tone'] ?? '',
			'hold_music_file' => $current['hold_music_file'] ?? '',
			'transfer_ring_seconds' => (string) ($current['transfer_ring_seconds'] ?? ''),
		];
	}
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
		if ($ringing) {
			if (!in_array($form['ringback_tone'], ['', 'br', 'us'], true)) { $errors[] = $text['label-ringback_tone']; }
			//a WAV file on the edge's host: an absolute path without control characters
			if ($form['hold_music_file'] !== '' && (!preg_match('#^/[^\x00-\x1f\x7f]*\.wav$#i', $form['hold_music_file']) || mb_strlen($form['hold_music_file']) > 1024)) { $errors[] = $text['label-hold_music_file']; }
			if ($form['transfer_ring_seconds'] !== '' && filter_var($form['transfer_ring_seconds'], FILTER_VALIDATE_INT, ['options' => ['min_range' => 1, 'max_range' => 300]]) === false) { $errors[] = $text['label-transfer_ring_seconds']; }
		}
		if (empty($errors) && empty($problems)) {
			$row = array_map(function ($value) { return $value === '' ? null : $value; }, $form);
			if (isset($row['transfer_ring_seconds'])) {
				$row['transfer_ring_seconds'] = (int) $row['transfer_ring_seconds'];
			}
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
	echo voice_page::section_start($text['section-transfers']);
	$destinations = voice_destinations::options($database, $_SESSION['domain_uuid'], $text);
	echo voice_page::row($text['label-operator_destination'], voice_destinations::select('operator_destination', $form['operator_destination'], $destinations, $text), $text['description-operator_destination']);
	echo voice_page::row($text['label-fallback_destination'], voice_destinations::select('fallback_destination', $form['fallback_destination'], $destinations, $text), $text['description-domain_fallback_destination']);
	echo voice_page::row($text['label-transfer_context'], voice_page::input('transfer_context', $form['transfer_context'], 'text', "maxlength='255' placeholder=\"".escape($_SESSION['domain_name'])."\""), $text['description-domain_transfer_context']);
	if ($ringing) {
		echo voice_page::section_start($text['section-transfer_ringing']);
		echo voice_page::row($text['label-transfer_ring_seconds'], voice_page::input('transfer_ring_seconds', $form['transfer_ring_seconds'], 'number', "min='1' max='300' placeholder='25'"), $text['description-transfer_ring_seconds']);
		echo voice_page::row($text['label-ringback_tone'], voice_page::select('ringback_tone', ['br' => $text['option-ringback_br'], 'us' => $text['option-ringback_us']], $form['ringback_tone'], $text['option-ringback_language']), $text['description-ringback_tone']);
		echo voice_page::row($text['label-hold_music_file'], voice_page::input('hold_music_file', $form['hold_music_file'], 'text', "maxlength='1024' style='width: 100%; max-width: 600px;' placeholder='/var/lib/voice-ai/hold/music.wav'"), $text['description-hold_music_file']);
	}
	echo voice_page::section_end();
	echo voice_page::token_input($token);
	echo "</form>\n";

//include the footer
	require_once "resources/footer.php";
