<?php
/*
	Voice Secretary — add or edit one AI provider. The API key input is always empty: a masked hint
	says whether a key is stored, and submitting it empty keeps the stored key.
*/

//includes files
	require_once dirname(__DIR__, 2) . "/resources/require.php";
	require_once "resources/check_auth.php";

//check permissions
	if (!(permission_exists('voice_ai_provider_add') || permission_exists('voice_ai_provider_edit'))) {
		echo "access denied";
		exit;
	}

//add multi-lingual support
	$language = new text;
	$text = $language->get();

//the domain-bound store
	$store = new voice_tenant_store($database, $_SESSION['domain_uuid']);

//action add or update
	$provider = null;
	if (voice_page::text($_REQUEST, 'id') !== '') {
		$provider = $store->find('v_voice_ai_providers', voice_page::text($_REQUEST, 'id'));
		if ($provider === null) {
			message::add($text['message-not_found'], 'negative');
			header('Location: voice_ai_providers.php');
			exit;
		}
	}
	$action = $provider === null ? 'add' : 'update';
	if (!permission_exists('voice_ai_provider_'.($action === 'add' ? 'add' : 'edit'))) {
		echo "access denied";
		exit;
	}
	$stored_config = $provider !== null ? (json_decode($provider['config'] ?? '{}', true) ?: []) : [];

//the form values
	$form = [
		'provider_type' => $provider['provider_type'] ?? 'llm',
		'provider_name' => $provider['provider_name'] ?? 'offline',
		'display_name' => $provider['display_name'] ?? '',
		'is_default' => voice_page::is_true($provider['is_default'] ?? false),
		'enabled' => voice_page::is_true($provider['enabled'] ?? true),
		'model' => $stored_config['model'] ?? '',
		'base_url' => $stored_config['base_url'] ?? '',
		'voice' => $stored_config['voice'] ?? '',
		'eagerness' => $stored_config['eagerness'] ?? '',
		'extra' => voice_provider_config::extra_json($stored_config),
	];
	$errors = [];
	$problems = []; //sentences shown under the missing fields

//process the submitted form
	if (!empty($_POST)) {
		$token = new token;
		if (!$token->validate($_SERVER['PHP_SELF'])) {
			message::add($text['message-invalid_token'], 'negative');
			header('Location: voice_ai_providers.php');
			exit;
		}
		foreach (['provider_type', 'provider_name', 'display_name', 'model', 'base_url', 'voice', 'eagerness', 'extra'] as $key) {
			$form[$key] = trim(voice_page::text($_POST, $key));
		}
		$form['is_default'] = ($_POST['is_default'] ?? '') === 'true';
		$form['enabled'] = ($_POST['enabled'] ?? '') === 'true';

		if (!isset(voice_provider_config::names[$form['provider_type']])) { $errors[] = $text['label-provider_type']; }
		elseif (!in_array($form['provider_name'], voice_provider_config::names[$form['provider_type']], true)) { $errors[] = $text['label-provider_name']; }
		$problems = array_merge($problems, voice_page::length_errors($text, $form, ['display_name' => 255]));
		if (!voice_provider_config::valid_base_url($form['base_url'])) { $errors[] = $text['label-base_url']; }
		else {
			//the API key goes to base_url: no internal hosts unless the operator allows them
			$refusal = (new voice_address_policy())->refusal($form['base_url'], (new voice_app_settings($settings))->provider_allow_private());
			if ($refusal !== null) {
				[$message, $host, $address] = $refusal;
				$problems[] = sprintf($text[$message], $address !== '' && $address !== $host ? $host.' ('.$address.')' : $host);
			}
		}
		if ($form['eagerness'] !== '' && !in_array($form['eagerness'], voice_secretary_options::eagerness, true)) { $errors[] = $text['label-eagerness']; }
		$config = voice_provider_config::merge($stored_config, voice_page::text($_POST, 'api_key'), ($_POST['api_key_clear'] ?? '') === 'true',
			['model' => $form['model'], 'base_url' => $form['base_url'], 'voice' => $form['voice'], 'eagerness' => $form['eagerness']], $form['extra']);
		if ($config === null) { $errors[] = $text['label-extra']; }
		//the edge applies eagerness with semantic VAD only (server VAD uses thresholds): choosing one selects it
		elseif (!empty($config['eagerness']) && empty($config['turn_detection'])) { $config['turn_detection'] = 'semantic_vad'; }
		if (empty($errors) && empty($problems)) {
			$where = "and provider_type = :provider_type and provider_name = :provider_name".($provider ? " and provider_uuid <> :self" : "");
			$parameters = ['provider_type' => $form['provider_type'], 'provider_name' => $form['provider_name']];
			if ($provider) { $parameters['self'] = $provider['provider_uuid']; }
			if ($store->count('v_voice_ai_providers', $where, $parameters) > 0) {
				$errors[] = $text['label-provider_name'].' ('.$text['message-provider_exists'].')';
			}
		}

		if (empty($errors) && empty($problems)) {
			$row = [
				'provider_type' => $form['provider_type'],
				'provider_name' => $form['provider_name'],
				'display_name' => $form['display_name'] !== '' ? $form['display_name'] : null,
				'config' => (object) $config,
				'is_default' => $form['is_default'],
				'enabled' => $form['enabled'],
			];
			$row['config'] = json_encode($row['config'], JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE);
			$saved = $store->transaction(function (voice_tenant_store $store) use ($provider, $row): bool {
				//one default per type: the new default replaces the old one (in the same transaction)
				if ($row['is_default']) {
					foreach ($store->all('v_voice_ai_providers', 'and provider_type = :provider_type and is_default', ['provider_type' => $row['provider_type']]) as $other) {
						if (($provider === null || $other['provider_uuid'] !== $provider['provider_uuid']) && !$store->update('v_voice_ai_providers', $other['provider_uuid'], ['is_default' => false])) {
							return false;
						}
					}
				}
				return $store->save('v_voice_ai_providers', $provider['provider_uuid'] ?? null, $row);
			});
			if ($saved) {
				message::add($text[$action === 'add' ? 'message-add' : 'message-update']);
				header('Location: voice_ai_providers.php');
				exit;
			}
			$problems[] = $text['message-save_failed'];
		}
	}

//create token
	$object = new token;
	$token = $object->create($_SERVER['PHP_SELF']);

//include the header
	$document['title'] = $text['title-voice_ai_provider'];
	require_once "resources/header.php";

//show the content
	echo "<form name='frm' id='frm' method='post'>\n";
	echo "<div class='action_bar' id='action_bar'>\n";
	echo "	<div class='heading'><b>".escape($text['title-voice_ai_provider'])."</b></div>\n";
	echo "	<div class='actions'>\n";
	echo button::create(['type'=>'button','label'=>$text['button-back'],'icon'=>$settings->get('theme', 'button_icon_back'),'id'=>'btn_back','link'=>'voice_ai_providers.php']);
	echo button::create(['type'=>'submit','label'=>$text['button-save'],'icon'=>$settings->get('theme', 'button_icon_save'),'id'=>'btn_save','style'=>'margin-left: 15px;']);
	echo "	</div>\n";
	echo "	<div style='clear: both;'></div>\n";
	echo "</div>\n";
	echo voice_page::form_errors($text, $errors, $problems);

	$types = [];
	foreach (array_keys(voice_provider_config::names) as $type) {
		$types[$type] = $text['option-'.$type] ?? $type;
	}
	$names = [];
	foreach (voice_provider_config::names as $type => $list) {
		foreach ($list as $name) {
			$names[$name] = $name;
		}
	}
	$key_hint = voice_provider_config::mask($stored_config['api_key'] ?? null);

	echo "<div class='card'>\n";
	echo "<table width='100%' border='0' cellpadding='0' cellspacing='0'>\n";
	echo voice_page::row($text['label-provider_type'], voice_page::select('provider_type', $types, $form['provider_type']), '', true);
	echo voice_page::row($text['label-provider_name'], voice_page::select('provider_name', $names, $form['provider_name']), $text['description-provider_name'], true);
	echo voice_page::row($text['label-display_name'], voice_page::input('display_name', $form['display_name'], 'text', "maxlength='255'"), '');
	$key_field = voice_page::input('api_key', '', 'password', "autocomplete='new-password' placeholder=\"".escape($key_hint)."\"");
	if ($key_hint !== '') {
		$key_field .= " <span id='api_key_hint'>".escape($key_hint)."</span> <label><input type='checkbox' name='api_key_clear' value='true'> ".escape($text['label-clear'])."</label>";
	}
	echo voice_page::row($text['label-api_key'], $key_field, $text['description-api_key']);
	echo voice_page::row($text['label-model'], voice_page::input('model', $form['model'], 'text', "maxlength='255'"), $text['description-model']);
	echo voice_page::row($text['label-base_url'], voice_page::input('base_url', $form['base_url'], 'text', "style='width: 100%; max-width: 600px;'"), $text['description-base_url']);
	echo voice_page::row($text['label-voice'], voice_page::input('voice', $form['voice'], 'text', "maxlength='255'"), $text['description-voice']);
	$eagerness = [];
	foreach (voice_secretary_options::eagerness as $value) {
		$eagerness[$value] = $text['option-eagerness_'.$value];
	}
	echo voice_page::row($text['label-eagerness'], voice_page::select('eagerness', $eagerness, $form['eagerness'], $text['label-provider_domain_default']), $text['description-eagerness']);
	echo voice_page::row($text['label-extra'], voice_page::textarea('extra', $form['extra'], 4), $text['description-extra']);
	echo voice_page::row($text['label-is_default'], voice_page::boolean('is_default', $form['is_default'], $text), $text['description-is_default']);
	echo voice_page::row($text['label-enabled'], voice_page::boolean('enabled', $form['enabled'], $text), '');
	echo "</table>\n";
	echo "</div>\n";
	if ($provider !== null) {
		echo "<input type='hidden' name='id' value='".escape($provider['provider_uuid'])."'>\n";
	}
	echo voice_page::token_input($token);
	echo "</form>\n";

//include the footer
	require_once "resources/footer.php";
