<?php
/*
	Voice Secretary — add or edit one virtual secretary. Saving a secretary with an extension
	writes its dialplan entry (voice_dialplan) and clears the dialplan cache.
*/

//includes files
	require_once dirname(__DIR__, 2) . "/resources/require.php";
	require_once "resources/check_auth.php";

//check permissions
	if (!(permission_exists('voice_secretary_add') || permission_exists('voice_secretary_edit'))) {
		echo "access denied";
		exit;
	}

//add multi-lingual support
	$language = new text;
	$text = $language->get();

//the domain-bound store
	$store = new voice_tenant_store($database, $_SESSION['domain_uuid']);
	$app_settings = new voice_app_settings($settings);

//action add or update: an id that is not a secretary of this domain is refused
	$secretary = null;
	if (voice_page::text($_REQUEST, 'id') !== '') {
		$secretary = $store->find('v_voice_secretaries', voice_page::text($_REQUEST, 'id'));
		if ($secretary === null) {
			message::add($text['message-not_found'], 'negative');
			header('Location: voice_secretaries.php');
			exit;
		}
	}
	$action = $secretary === null ? 'add' : 'update';
	if (!permission_exists('voice_secretary_'.($action === 'add' ? 'add' : 'edit'))) {
		echo "access denied";
		exit;
	}

//the domain's providers by type, for the selects
	$providers = [];
	foreach ($store->all('v_voice_ai_providers', '', [], 'provider_type asc, provider_name asc') as $row) {
		$providers[$row['provider_type']][$row['provider_uuid']] = ($row['display_name'] ?: $row['provider_name']).(voice_page::is_true($row['is_default']) ? ' *' : '');
	}

//the form values: the stored row, else the defaults
	$defaults = [
		'name' => '', 'description' => '', 'enabled' => true, 'extension' => '', 'language' => 'pt-BR', 'voice_name' => '',
		'system_prompt' => '', 'greeting_message' => '', 'goodbye_message' => '',
		'stt_provider_uuid' => '', 'tts_provider_uuid' => '', 'llm_provider_uuid' => '', 'embeddings_provider_uuid' => '',
		'rag_enabled' => true, 'rag_similarity_threshold' => '0.5', 'rag_top_k' => 3, 'max_conversation_turns' => 10,
		'silence_timeout_seconds' => 8, 'silence_hangup_seconds' => 8, 'max_call_seconds' => 900,
		'webhook_url' => '', 'webhook_enabled' => false,
	];
	$form = $secretary !== null ? array_merge($defaults, array_intersect_key($secretary, $defaults)) : $defaults;
	$errors = [];
	$problems = []; //sentences shown under the missing fields

//process the submitted form
	if (!empty($_POST)) {
		$token = new token;
		if (!$token->validate($_SERVER['PHP_SELF'])) {
			message::add($text['message-invalid_token'], 'negative');
			header('Location: voice_secretaries.php');
			exit;
		}

		foreach ($defaults as $key => $default) {
			if (is_bool($default)) {
				$form[$key] = ($_POST[$key] ?? 'false') === 'true';
			}
			else {
				$form[$key] = trim(voice_page::text($_POST, $key));
			}
		}

		//validate
		if ($form['name'] === '') { $errors[] = $text['label-name']; }
		$webhook_secret = trim(voice_page::text($_POST, 'webhook_secret'));
		$problems = array_merge($problems, voice_page::length_errors($text, $form + ['webhook_secret' => $webhook_secret],
			['name' => 255, 'voice_name' => 100, 'webhook_url' => 500, 'webhook_secret' => 255]));
		if ($form['extension'] !== '') {
			if (!voice_dialplan::valid_extension($form['extension'])) {
				$errors[] = $text['label-extension'];
			}
			else {
				$where = "and extension = :extension".($secretary ? " and voice_secretary_uuid <> :self" : "");
				$parameters = ['extension' => $form['extension']];
				if ($secretary) { $parameters['self'] = $secretary['voice_secretary_uuid']; }
				if ($store->count('v_voice_secretaries', $where, $parameters) > 0) {
					$errors[] = $text['label-extension'].' ('.$text['message-extension_in_use'].')';
				}
			}
		}
		if (!preg_match('/^[a-z]{2,3}(-[A-Za-z]{2,4})?$/', $form['language'])) { $errors[] = $text['label-language']; }
		//the realtime voice: one of the valid list, the provider's default (empty), or the value already stored
		if ($form['voice_name'] !== '' && !in_array($form['voice_name'], voice_secretary_options::realtime_voices, true) && $form['voice_name'] !== (string) ($secretary['voice_name'] ?? '')) {
			$errors[] = $text['label-voice_name'];
		}
		foreach (['stt', 'tts', 'llm', 'embeddings'] as $type) {
			$key = $type.'_provider_uuid';
			if ($form[$key] === '') {
				$form[$key] = null;
			}
			elseif (!isset($providers[$type][$form[$key]])) {
				$errors[] = $text['label-'.$key]; //not a provider of this type in this domain
			}
		}
		$threshold = filter_var($form['rag_similarity_threshold'], FILTER_VALIDATE_FLOAT);
		if ($threshold === false || $threshold < 0 || $threshold > 1) { $errors[] = $text['label-rag_similarity_threshold']; }
		$integers = ['rag_top_k' => [1, 20], 'max_conversation_turns' => [1, 1000], 'silence_timeout_seconds' => [1, 600],
			'silence_hangup_seconds' => [1, 600], 'max_call_seconds' => [10, 86400]];
		foreach ($integers as $key => [$min, $max]) {
			$value = filter_var($form[$key], FILTER_VALIDATE_INT, ['options' => ['min_range' => $min, 'max_range' => $max]]);
			if ($value === false) { $errors[] = $text['label-'.$key]; } else { $form[$key] = $value; }
		}
		if ($form['webhook_url'] !== '' && (filter_var($form['webhook_url'], FILTER_VALIDATE_URL) === false || !in_array(parse_url($form['webhook_url'], PHP_URL_SCHEME), ['http', 'https'], true))) {
			$errors[] = $text['label-webhook_url'];
		}
		if ($form['webhook_enabled'] && $form['webhook_url'] === '') { $errors[] = $text['label-webhook_url']; }

		if (empty($errors) && empty($problems)) {
			$row = $form;
			foreach (['extension', 'voice_name', 'webhook_url', 'description', 'system_prompt', 'greeting_message', 'goodbye_message'] as $key) {
				if ($row[$key] === '') { $row[$key] = null; }
			}
			//the webhook secret is never shown: empty keeps the stored one
			if ($webhook_secret !== '') {
				$row['webhook_secret'] = $webhook_secret;
			}
			elseif (($_POST['webhook_secret_clear'] ?? '') === 'true') {
				$row['webhook_secret'] = null;
			}

			//the row, then its dialplan entry through FusionPBX's $database->save() (which runs its own
			//transaction, so it cannot share ours): when the entry is refused the row is put back as it was
			$uuid = $secretary['voice_secretary_uuid'] ?? uuid();
			$row['voice_secretary_uuid'] = $uuid;
			$row['dialplan_uuid'] = $row['extension'] === null ? null : ((string) ($secretary['dialplan_uuid'] ?? '') !== '' ? $secretary['dialplan_uuid'] : uuid());
			$dialplan = new voice_dialplan($database, $_SESSION['domain_uuid'], $_SESSION['domain_name']);
			$saved = $store->transaction(function (voice_tenant_store $store) use ($action, $uuid, $row): bool {
				return $store->save('v_voice_secretaries', $action === 'add' ? null : $uuid, $row);
			});
			if ($saved) {
				try {
					if ($row['dialplan_uuid'] === null) {
						$dialplan->delete($secretary['dialplan_uuid'] ?? null);
					}
					else {
						$dialplan->save($row['dialplan_uuid'], $row, $app_settings->edge_address());
					}
				}
				catch (RuntimeException | InvalidArgumentException $e) {
					$saved = false;
					if ($action === 'add') {
						$store->delete('v_voice_secretaries', $uuid);
					}
					else {
						$store->update('v_voice_secretaries', $uuid, array_intersect_key($secretary, $row));
					}
				}
			}
			if ($saved) {
				message::add($text[$action === 'add' ? 'message-add' : 'message-update']);
				header('Location: voice_secretary_edit.php?id='.urlencode($uuid));
				exit;
			}
			$problems[] = $text['message-save_failed'];
		}
	}

//create token
	$object = new token;
	$token = $object->create($_SERVER['PHP_SELF']);

//include the header
	$document['title'] = $text['title-voice_secretary'];
	require_once "resources/header.php";

//show the content
	echo "<form name='frm' id='frm' method='post'>\n";
	echo "<div class='action_bar' id='action_bar'>\n";
	echo "	<div class='heading'><b>".escape($text['title-voice_secretary'])."</b></div>\n";
	echo "	<div class='actions'>\n";
	echo button::create(['type'=>'button','label'=>$text['button-back'],'icon'=>$settings->get('theme', 'button_icon_back'),'id'=>'btn_back','link'=>'voice_secretaries.php']);
	if ($secretary !== null && permission_exists('voice_document_view')) {
		echo button::create(['type'=>'button','label'=>$text['title-voice_documents'],'icon'=>$settings->get('theme', 'button_icon_view'),'id'=>'btn_documents','link'=>'voice_documents.php?voice_secretary_uuid='.urlencode($secretary['voice_secretary_uuid'])]);
	}
	echo button::create(['type'=>'submit','label'=>$text['button-save'],'icon'=>$settings->get('theme', 'button_icon_save'),'id'=>'btn_save','style'=>'margin-left: 15px;']);
	echo "	</div>\n";
	echo "	<div style='clear: both;'></div>\n";
	echo "</div>\n";

	echo voice_page::form_errors($text, $errors, $problems);

	//the settings in sections, as an operator looks for them
	echo voice_page::section_start($text['section-general']);
	echo voice_page::row($text['label-name'], voice_page::input('name', $form['name'], 'text', "maxlength='255' required='required'"), $text['description-name'], true);
	echo voice_page::row($text['label-extension'], voice_page::input('extension', $form['extension'], 'text', "maxlength='32'"), $text['description-extension']);
	echo voice_page::row($text['label-enabled'], voice_page::boolean('enabled', (bool) $form['enabled'], $text), '');
	echo voice_page::row($text['label-description'], voice_page::input('description', $form['description'], 'text', "maxlength='255'"), '');
	echo voice_page::section_start($text['section-voice']);
	echo voice_page::row($text['label-language'], voice_page::select('language', ['pt-BR' => 'Português (Brasil)', 'en-US' => 'English (US)', 'es-ES' => 'Español'] + [$form['language'] => $form['language']], $form['language']), $text['description-language']);
	$voices = array_combine(voice_secretary_options::realtime_voices, voice_secretary_options::realtime_voices);
	if ($form['voice_name'] !== '' && !isset($voices[$form['voice_name']])) {
		$voices[$form['voice_name']] = $form['voice_name'];   //a value stored before the list existed stays as it is
	}
	echo voice_page::row($text['label-voice_name'], voice_page::select('voice_name', $voices, $form['voice_name'], $text['label-provider_domain_default']), $text['description-voice_name']);
	echo voice_page::row($text['label-greeting_message'], voice_page::textarea('greeting_message', $form['greeting_message'], 2), $text['description-greeting_message']);
	echo voice_page::row($text['label-goodbye_message'], voice_page::textarea('goodbye_message', $form['goodbye_message'], 2), $text['description-goodbye_message']);
	echo voice_page::row($text['label-system_prompt'], voice_page::textarea('system_prompt', $form['system_prompt'], 6), $text['description-system_prompt']);
	echo voice_page::section_start($text['section-providers']);
	foreach (['llm', 'stt', 'tts', 'embeddings'] as $type) {
		$key = $type.'_provider_uuid';
		echo voice_page::row($text['label-'.$key], voice_page::select($key, $providers[$type] ?? [], $form[$key], $text['label-provider_domain_default']), $text['description-provider_default']);
	}
	echo voice_page::section_start($text['section-knowledge']);
	echo voice_page::row($text['label-rag_enabled'], voice_page::boolean('rag_enabled', (bool) $form['rag_enabled'], $text), $text['description-rag_enabled']);
	echo voice_page::row($text['label-rag_similarity_threshold'], voice_page::input('rag_similarity_threshold', $form['rag_similarity_threshold'], 'number', "step='0.01' min='0' max='1'"), $text['description-rag_similarity_threshold']);
	echo voice_page::row($text['label-rag_top_k'], voice_page::input('rag_top_k', $form['rag_top_k'], 'number', "min='1' max='20'"), $text['description-rag_top_k']);
	echo voice_page::section_start($text['section-call_limits']);
	echo voice_page::row($text['label-max_conversation_turns'], voice_page::input('max_conversation_turns', $form['max_conversation_turns'], 'number', "min='1'"), '');
	echo voice_page::row($text['label-silence_timeout_seconds'], voice_page::input('silence_timeout_seconds', $form['silence_timeout_seconds'], 'number', "min='1'"), $text['description-silence_timeout_seconds']);
	echo voice_page::row($text['label-silence_hangup_seconds'], voice_page::input('silence_hangup_seconds', $form['silence_hangup_seconds'], 'number', "min='1'"), $text['description-silence_hangup_seconds']);
	echo voice_page::row($text['label-max_call_seconds'], voice_page::input('max_call_seconds', $form['max_call_seconds'], 'number', "min='10'"), '');
	echo voice_page::section_start($text['section-webhook']);
	echo voice_page::row($text['label-webhook_enabled'], voice_page::boolean('webhook_enabled', (bool) $form['webhook_enabled'], $text), '');
	echo voice_page::row($text['label-webhook_url'], voice_page::input('webhook_url', $form['webhook_url'], 'url', "maxlength='500' style='width: 100%; max-width: 600px;'"), $text['description-webhook_url']);
	$secret_hint = ($secretary !== null && !empty($secretary['webhook_secret'])) ? $text['label-secret_set'] : '';
	$secret_field = voice_page::input('webhook_secret', '', 'password', "autocomplete='new-password' placeholder=\"".escape($secret_hint)."\"");
	if ($secret_hint !== '') {
		$secret_field .= " <label><input type='checkbox' name='webhook_secret_clear' value='true'> ".escape($text['label-clear'])."</label>";
	}
	echo voice_page::row($text['label-webhook_secret'], $secret_field, $text['description-webhook_secret']);
	echo voice_page::section_end();
	if ($secretary !== null) {
		echo "<input type='hidden' name='id' value='".escape($secretary['voice_secretary_uuid'])."'>\n";
	}
	echo voice_page::token_input($token);
	echo "</form>\n";

//include the footer
	require_once "resources/footer.php";
