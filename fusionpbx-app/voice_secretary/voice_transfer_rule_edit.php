<?php
/*
	Voice Secretary — add or edit one transfer rule: department, keywords, destination, business
	hours and the fallback when the department is closed or does not answer.
*/

//includes files
	require_once dirname(__DIR__, 2) . "/resources/require.php";
	require_once "resources/check_auth.php";

//check permissions
	if (!(permission_exists('voice_transfer_rule_add') || permission_exists('voice_transfer_rule_edit'))) {
		echo "access denied";
		exit;
	}

//add multi-lingual support
	$language = new text;
	$text = $language->get();

//the domain-bound store
	$store = new voice_tenant_store($database, $_SESSION['domain_uuid']);

//action add or update
	$rule = null;
	if (voice_page::text($_REQUEST, 'id') !== '') {
		$rule = $store->find('v_voice_transfer_rules', voice_page::text($_REQUEST, 'id'));
		if ($rule === null) {
			message::add($text['message-not_found'], 'negative');
			header('Location: voice_transfer_rules.php');
			exit;
		}
	}
	$action = $rule === null ? 'add' : 'update';
	if (!permission_exists('voice_transfer_rule_'.($action === 'add' ? 'add' : 'edit'))) {
		echo "access denied";
		exit;
	}

//the secretaries of this domain
	$secretaries = [];
	foreach ($store->all('v_voice_secretaries', '', [], 'name asc') as $row) {
		$secretaries[$row['voice_secretary_uuid']] = $row['name'];
	}

//the form values
	[$timezone, $days] = voice_business_hours::to_form($rule['business_hours'] ?? null);
	if ($timezone === '' && empty($rule['business_hours'])) {
		$timezone = (string) $settings->get('domain', 'time_zone', '');   //the domain's time zone (Default/Domain Settings) for new hours
	}
	$form = [
		'department_name' => $rule['department_name'] ?? '',
		'keywords' => implode(', ', voice_tenant_store::parse_text_array($rule['keywords'] ?? null)),
		'transfer_extension' => $rule['transfer_extension'] ?? '',
		'transfer_context' => $rule['transfer_context'] ?? '',
		'transfer_message' => $rule['transfer_message'] ?? '',
		'voice_secretary_uuid' => $rule['voice_secretary_uuid'] ?? '',
		'priority' => $rule['priority'] ?? 100,
		'fallback_action' => $rule['fallback_action'] ?? 'message',
		'fallback_destination' => $rule['fallback_destination'] ?? '',
		'announce' => voice_page::is_true($rule['announce'] ?? false),
		'enabled' => voice_page::is_true($rule['enabled'] ?? true),
		'timezone' => $timezone,
	];
	//the rule's own ring time (migration 017): once its column exists; empty = the domain's
	$ring_time = in_array('ring_seconds', $store->columns('v_voice_transfer_rules'), true);
	if ($ring_time) {
		$form['ring_seconds'] = (string) ($rule['ring_seconds'] ?? '');
		$domain_settings = $store->all('v_voice_domain_settings');
		$domain_ring_seconds = (int) ($domain_settings[0]['transfer_ring_seconds'] ?? 0) ?: 25;
	}
	$fallback_actions = ['message', 'voicemail', 'operator', 'hangup'];
	$errors = [];
	$problems = []; //sentences shown under the missing fields

//process the submitted form
	if (!empty($_POST)) {
		$token = new token;
		if (!$token->validate($_SERVER['PHP_SELF'])) {
			message::add($text['message-invalid_token'], 'negative');
			header('Location: voice_transfer_rules.php');
			exit;
		}
		foreach ($form as $key => $value) {
			$form[$key] = is_bool($value) ? (($_POST[$key] ?? '') === 'true') : trim(voice_page::text($_POST, $key));
		}
		foreach (voice_business_hours::days as $day) {
			$days[$day] = trim(voice_page::text($_POST, 'hours_'.$day));
		}
		if ($form['department_name'] === '') { $errors[] = $text['label-department_name']; }
		$problems = array_merge($problems, voice_page::length_errors($text, $form, ['department_name' => 255]));
		if (voice_transfer_destination::problem($form['transfer_extension']) !== null) { $errors[] = $text['label-transfer_extension']; }
		if (!voice_transfer_destination::context_allowed($form['transfer_context'], (string) $_SESSION['domain_name'])) { $errors[] = $text['label-transfer_context']; }
		if ($form['voice_secretary_uuid'] !== '' && !isset($secretaries[$form['voice_secretary_uuid']])) { $errors[] = $text['label-voice_secretary']; }
		$priority = filter_var($form['priority'], FILTER_VALIDATE_INT, ['options' => ['min_range' => 0, 'max_range' => 100000]]);
		if ($priority === false) { $errors[] = $text['label-priority']; }
		if (!in_array($form['fallback_action'], $fallback_actions, true)) { $errors[] = $text['label-fallback_action']; }
		if ($form['fallback_destination'] !== '' && voice_transfer_destination::problem($form['fallback_destination']) !== null) { $errors[] = $text['label-fallback_destination']; }
		$hours = voice_business_hours::from_form($form['timezone'], $days);
		if ($hours === false) { $errors[] = $text['label-business_hours']; }
		if ($ring_time && $form['ring_seconds'] !== '' && filter_var($form['ring_seconds'], FILTER_VALIDATE_INT, ['options' => ['min_range' => 1, 'max_range' => 300]]) === false) { $errors[] = $text['label-ring_seconds']; }
		$keywords = array_values(array_filter(array_map('trim', explode(',', $form['keywords'])), 'strlen'));

		if (empty($errors) && empty($problems)) {
			$row = [
				'department_name' => $form['department_name'],
				'keywords' => voice_tenant_store::text_array($keywords),
				'transfer_extension' => $form['transfer_extension'],
				'transfer_context' => $form['transfer_context'] !== '' ? $form['transfer_context'] : null,
				'transfer_message' => $form['transfer_message'] !== '' ? $form['transfer_message'] : null,
				'voice_secretary_uuid' => $form['voice_secretary_uuid'] !== '' ? $form['voice_secretary_uuid'] : null,
				'priority' => $priority,
				'business_hours' => $hours === null ? null : json_encode($hours, JSON_UNESCAPED_SLASHES),
				'fallback_action' => $form['fallback_action'],
				'fallback_destination' => $form['fallback_destination'] !== '' ? $form['fallback_destination'] : null,
				'announce' => $form['announce'],
				'enabled' => $form['enabled'],
			];
			if ($ring_time) {
				$row['ring_seconds'] = $form['ring_seconds'] !== '' ? (int) $form['ring_seconds'] : null;
			}
			if ($store->save('v_voice_transfer_rules', $rule['transfer_rule_uuid'] ?? null, $row)) {
				message::add($text[$action === 'add' ? 'message-add' : 'message-update']);
				header('Location: voice_transfer_rules.php');
				exit;
			}
			$problems[] = $text['message-save_failed'];
		}
	}

//create token
	$object = new token;
	$token = $object->create($_SERVER['PHP_SELF']);

//include the header
	$document['title'] = $text['title-voice_transfer_rule'];
	require_once "resources/header.php";

//show the content
	echo "<form name='frm' id='frm' method='post'>\n";
	echo "<div class='action_bar' id='action_bar'>\n";
	echo "	<div class='heading'><b>".escape($text['title-voice_transfer_rule'])."</b></div>\n";
	echo "	<div class='actions'>\n";
	echo button::create(['type'=>'button','label'=>$text['button-back'],'icon'=>$settings->get('theme', 'button_icon_back'),'id'=>'btn_back','link'=>'voice_transfer_rules.php']);
	echo button::create(['type'=>'submit','label'=>$text['button-save'],'icon'=>$settings->get('theme', 'button_icon_save'),'id'=>'btn_save','style'=>'margin-left: 15px;']);
	echo "	</div>\n";
	echo "	<div style='clear: both;'></div>\n";
	echo "</div>\n";
	echo voice_page::form_errors($text, $errors, $problems);
	$fallbacks = [];
	foreach ($fallback_actions as $fallback) {
		$fallbacks[$fallback] = $text['option-fallback_'.$fallback];
	}

	echo "<div class='card'>\n";
	echo "<table width='100%' border='0' cellpadding='0' cellspacing='0'>\n";
	echo voice_page::row($text['label-department_name'], voice_page::input('department_name', $form['department_name'], 'text', "maxlength='255' required='required'"), $text['description-department_name'], true);
	echo voice_page::row($text['label-keywords'], voice_page::input('keywords', $form['keywords'], 'text', "style='width: 100%; max-width: 600px;'"), $text['description-keywords']);
	$destinations = voice_destinations::options($database, $_SESSION['domain_uuid'], $text);
	echo voice_page::row($text['label-transfer_extension'], voice_destinations::select('transfer_extension', $form['transfer_extension'], $destinations, $text, true), $text['description-transfer_extension'], true);
	echo voice_page::row($text['label-transfer_context'], voice_page::input('transfer_context', $form['transfer_context'], 'text', "maxlength='255'"), $text['description-transfer_context']);
	echo voice_page::row($text['label-transfer_message'], voice_page::textarea('transfer_message', $form['transfer_message'], 2), $text['description-transfer_message']);
	echo voice_page::row($text['label-voice_secretary'], voice_page::select('voice_secretary_uuid', ['' => $text['label-all_secretaries']] + $secretaries, $form['voice_secretary_uuid']), '');
	echo voice_page::row($text['label-priority'], voice_page::input('priority', $form['priority'], 'number', "min='0'"), $text['description-priority']);
	$hours_html = $text['label-timezone']." ".voice_page::input('timezone', $form['timezone'], 'text', "placeholder='UTC'")."<br />\n";
	$hours_html .= "<table>\n";
	foreach (voice_business_hours::days as $day) {
		$hours_html .= "<tr><td>".escape($text['label-day_'.$day])."</td><td>".voice_page::input('hours_'.$day, $days[$day], 'text', "placeholder='08:00-12:00, 13:00-18:00'")."</td></tr>\n";
	}
	$hours_html .= "</table>";
	echo voice_page::row($text['label-business_hours'], $hours_html, $text['description-business_hours']);
	echo voice_page::row($text['label-fallback_action'], voice_page::select('fallback_action', $fallbacks, $form['fallback_action']), $text['description-fallback_action']);
	echo voice_page::row($text['label-fallback_destination'], voice_destinations::select('fallback_destination', $form['fallback_destination'], $destinations, $text), $text['description-fallback_destination']);
	if ($ring_time) {
		echo voice_page::row($text['label-ring_seconds'], voice_page::input('ring_seconds', $form['ring_seconds'], 'number', "min='1' max='300' placeholder='".$domain_ring_seconds."'"),
			sprintf($text['description-ring_seconds'], $domain_ring_seconds));
	}
	echo voice_page::row($text['label-announce'], voice_page::boolean('announce', $form['announce'], $text), $text['description-announce']);
	echo voice_page::row($text['label-enabled'], voice_page::boolean('enabled', $form['enabled'], $text), '');
	echo "</table>\n";
	echo "</div>\n";
	if ($rule !== null) {
		echo "<input type='hidden' name='id' value='".escape($rule['transfer_rule_uuid'])."'>\n";
	}
	echo voice_page::token_input($token);
	echo "</form>\n";

//include the footer
	require_once "resources/footer.php";
