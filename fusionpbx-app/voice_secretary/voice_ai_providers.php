<?php
/*
	Voice Secretary — the domain's AI providers (speech-to-text, text-to-speech, language model,
	embeddings). API keys are never shown here.
*/

//includes files
	require_once dirname(__DIR__, 2) . "/resources/require.php";
	require_once "resources/check_auth.php";
	require_once "resources/paging.php";

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

//the list's sorting, search and paging (every domain, read-only, for a superadmin with show=all)
	$show_all = voice_page::show_all('voice_ai_provider_all');
	$list = $show_all ? new voice_all_domains($database) : $store;
	$view = new voice_list($text, $settings, 'voice_ai_providers',
		['toggle' => 'voice_ai_provider_edit', 'delete' => 'voice_ai_provider_delete'], [
		'provider_type' => [$text['label-provider_type'], ''],
		'provider_name' => [$text['label-provider_name'], ''],
		'display_name' => [$text['label-display_name'], ''],
		'model' => [$text['label-model'], '', false],
		'api_key' => [$text['label-api_key'], '', false],
		'is_default' => [$text['label-is_default'], "class='center'"],
		'enabled' => [$text['label-enabled'], "class='center'"],
	], 'provider_type', 'asc', ['provider_type', 'provider_name', 'display_name', "config->>'model'"], $show_all);

//process a posted action (toggle, delete) on the checked providers of this domain (no copy: a domain has one provider per type and vendor)
	$done = $view->run_posted_action([
		'toggle' => function (string $uuid) use ($store): bool {
			$provider = $store->find('v_voice_ai_providers', $uuid);
			return $provider !== null && $store->update('v_voice_ai_providers', $uuid, ['enabled' => !voice_page::is_true($provider['enabled'])]);
		},
		'delete' => function (string $uuid) use ($store): bool {
			return $store->delete('v_voice_ai_providers', $uuid);
		},
	]);
	if ($done !== null) {
		header('Location: '.$view->back('voice_ai_providers.php'));
		exit;
	}

//get the list
	$parameters = [];
	$where = $view->search_where($parameters);
	$num_rows = $list->count('v_voice_ai_providers', $where, $parameters);
	[$paging_controls, $paging_controls_mini] = $view->paging($num_rows);
	$providers = $list->all('v_voice_ai_providers', $where, $parameters, $view->order_sql('provider_name asc'), $view->rows_per_page, $view->offset());

//create token
	$object = new token;
	$token = $object->create($_SERVER['PHP_SELF']);

//include the header
	$document['title'] = $text['title-voice_ai_providers'];
	require_once "resources/header.php";

//show the content
	$buttons = '';
	if (permission_exists('voice_ai_provider_add')) {
		$buttons .= button::create(['type'=>'button','label'=>$text['button-add'],'icon'=>$settings->get('theme', 'button_icon_add'),'id'=>'btn_add','link'=>'voice_ai_provider_edit.php']);
	}
	echo $view->action_bar($text['title-voice_ai_providers'], $num_rows, ['toggle', 'delete'], !empty($providers), $buttons, 'voice_ai_provider_all', $paging_controls_mini);
	echo escape($text['description-voice_ai_providers'])."\n";
	echo "<br /><br />\n";
	echo $view->table_start(!$show_all, !empty($providers), 'providers');
	foreach ($providers as $x => $row) {
		$config = json_decode($row['config'] ?? '{}', true) ?: [];
		$own = $row['domain_uuid'] === $_SESSION['domain_uuid'];
		$url = ($own && permission_exists('voice_ai_provider_edit')) ? "voice_ai_provider_edit.php?id=".urlencode($row['provider_uuid']) : '';
		echo voice_list::row_start($url);
		if (!$show_all) {
			echo $view->checkbox_cell($x, $row['provider_uuid'], $own);
		}
		if ($show_all) {
			echo "	<td>".escape($row['domain_name'])."</td>\n";
		}
		echo "	<td>".escape($text['option-'.$row['provider_type']] ?? $row['provider_type'])."</td>\n";
		echo "	<td>".($url !== '' ? "<a href='".escape($url)."'>".escape($row['provider_name'])."</a>" : escape($row['provider_name']))."</td>\n";
		echo "	<td>".escape($row['display_name'] ?? '')."</td>\n";
		echo "	<td>".escape($config['model'] ?? '')."</td>\n";
		echo "	<td>".escape(voice_provider_config::mask($config['api_key'] ?? null))."</td>\n";
		echo "	<td class='center'>".escape($text['label-'.(voice_page::is_true($row['is_default']) ? 'true' : 'false')])."</td>\n";
		echo $view->enabled_cell($x, $row['enabled'], $own);
		echo "</tr>\n";
	}
	echo $view->table_end($paging_controls, $token);

//include the footer
	require_once "resources/footer.php";
