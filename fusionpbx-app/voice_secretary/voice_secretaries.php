<?php
/*
	Voice Secretary — the list of the domain's virtual secretaries (delete from here).
*/

//includes files
	require_once dirname(__DIR__, 2) . "/resources/require.php";
	require_once "resources/check_auth.php";
	require_once "resources/paging.php";

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

//the list's sorting, search and paging (every domain, read-only, for a superadmin with show=all)
	$show_all = voice_page::show_all('voice_secretary_all');
	$list = $show_all ? new voice_all_domains($database) : $store;
	$view = new voice_list($text, $settings, 'voice_secretaries',
		['copy' => 'voice_secretary_add', 'toggle' => 'voice_secretary_edit', 'delete' => 'voice_secretary_delete'], [
		'name' => [$text['label-name'], ''],
		'extension' => [$text['label-extension'], ''],
		'language' => [$text['label-language'], ''],
		'enabled' => [$text['label-enabled'], "class='center'"],
		'description' => [$text['label-description'], "class='hide-sm-dn'"],
	], 'name', 'asc', ['name', 'extension', 'language', 'description'], $show_all);

//process a posted action (copy, toggle, delete) on the checked secretaries of this domain
	$dialplan = new voice_dialplan($database, $_SESSION['domain_uuid'], $_SESSION['domain_name']);
	$app_settings = new voice_app_settings($settings);
	$done = $view->run_posted_action([
		//a copy has no extension (an extension is unique in the domain) and so no dialplan entry
		'copy' => function (string $uuid) use ($store, $text): bool {
			$secretary = $store->find('v_voice_secretaries', $uuid);
			return $secretary !== null && $store->copy('v_voice_secretaries', $uuid, ['name' => mb_substr($secretary['name'].' ('.$text['button-copy'].')', 0, 255),
				'extension' => null, 'dialplan_uuid' => null]) !== null;
		},
		//the dialplan entry follows: a disabled secretary's extension is not routed
		'toggle' => function (string $uuid) use ($store, $dialplan, $app_settings): bool {
			$secretary = $store->find('v_voice_secretaries', $uuid);
			if ($secretary === null || !$store->update('v_voice_secretaries', $uuid, ['enabled' => !voice_page::is_true($secretary['enabled'])])) {
				return false;
			}
			if (!empty($secretary['dialplan_uuid']) && !empty($secretary['extension'])) {
				$dialplan->save($secretary['dialplan_uuid'], $store->find('v_voice_secretaries', $uuid), $app_settings->edge_address());
			}
			return true;
		},
		//its documents go with it (ON DELETE CASCADE): their stored files too, and its dialplan entry
		'delete' => function (string $uuid) use ($store, $dialplan, $app_settings): bool {
			$secretary = $store->find('v_voice_secretaries', $uuid);
			if ($secretary === null) {
				return false;
			}
			$documents = $store->all('v_voice_documents', 'and voice_secretary_uuid = :voice_secretary_uuid', ['voice_secretary_uuid' => $uuid]);
			if (!$store->delete('v_voice_secretaries', $uuid)) {
				return false;
			}
			$dialplan->delete($secretary['dialplan_uuid']);
			$upload = new voice_document_upload($app_settings->upload_dir(), $app_settings->upload_max_bytes());
			foreach ($documents as $voice_document) {
				$upload->remove($voice_document['storage_path']);
			}
			return true;
		},
	]);
	if ($done !== null) {
		header('Location: '.$view->back('voice_secretaries.php'));
		exit;
	}

//get the list
	$parameters = [];
	$where = $view->search_where($parameters);
	$num_rows = $list->count('v_voice_secretaries', $where, $parameters);
	[$paging_controls, $paging_controls_mini] = $view->paging($num_rows);
	$secretaries = $list->all('v_voice_secretaries', $where, $parameters, $view->order_sql('name asc'), $view->rows_per_page, $view->offset());

//create token
	$object = new token;
	$token = $object->create($_SERVER['PHP_SELF']);

//include the header
	$document['title'] = $text['title-voice_secretaries'];
	require_once "resources/header.php";

//show the content
	$buttons = '';
	if (permission_exists('voice_secretary_add')) {
		$buttons .= button::create(['type'=>'button','label'=>$text['button-add'],'icon'=>$settings->get('theme', 'button_icon_add'),'id'=>'btn_add','link'=>'voice_secretary_edit.php']);
	}
	echo $view->action_bar($text['title-voice_secretaries'], $num_rows, ['copy', 'toggle', 'delete'], !empty($secretaries), $buttons, 'voice_secretary_all', $paging_controls_mini);
	echo escape($text['description-voice_secretaries'])."\n";
	echo "<br /><br />\n";
	echo $view->table_start(!$show_all, !empty($secretaries), 'secretaries');
	foreach ($secretaries as $x => $row) {
		$own = $row['domain_uuid'] === $_SESSION['domain_uuid'];
		$url = ($own && permission_exists('voice_secretary_edit')) ? "voice_secretary_edit.php?id=".urlencode($row['voice_secretary_uuid']) : '';
		echo voice_list::row_start($url);
		if (!$show_all) {
			echo $view->checkbox_cell($x, $row['voice_secretary_uuid'], $own);
		}
		if ($show_all) {
			echo "	<td>".escape($row['domain_name'])."</td>\n";
		}
		echo "	<td>".($url !== '' ? "<a href='".escape($url)."'>".escape($row['name'])."</a>" : escape($row['name']))."</td>\n";
		echo "	<td>".escape($row['extension'] ?? '')."</td>\n";
		echo "	<td>".escape($row['language'] ?? '')."</td>\n";
		echo $view->enabled_cell($x, $row['enabled'], $own);
		echo "	<td class='description overflow hide-sm-dn'>".escape($row['description'] ?? '')."</td>\n";
		echo "</tr>\n";
	}
	echo $view->table_end($paging_controls, $token);

//include the footer
	require_once "resources/footer.php";
