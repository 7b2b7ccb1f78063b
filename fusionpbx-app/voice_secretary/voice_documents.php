<?php
/*
	Voice Secretary — the domain's knowledge-base documents: status (with the reason a file failed),
	re-process and delete. Upload is on voice_document_edit.php.
*/

//includes files
	require_once dirname(__DIR__, 2) . "/resources/require.php";
	require_once "resources/check_auth.php";
	require_once "resources/paging.php";

//check permissions
	if (!permission_exists('voice_document_view')) {
		echo "access denied";
		exit;
	}

//add multi-lingual support
	$language = new text;
	$text = $language->get();

//the domain-bound store and the settings
	$store = new voice_tenant_store($database, $_SESSION['domain_uuid']);
	$app_settings = new voice_app_settings($settings);

//every domain, read-only, for a superadmin with show=all
	$show_all = voice_page::show_all('voice_document_all');
	$list = $show_all ? new voice_all_domains($database) : $store;

//the list's sorting, search and paging
	$view = new voice_list($text, $settings, 'voice_documents', ['reprocess' => 'voice_document_edit', 'delete' => 'voice_document_delete'], [
		'file_name' => [$text['label-file_name'], ''],
		'voice_secretary_uuid' => [$text['label-voice_secretary'], '', false],
		'status' => [$text['label-status'], ''],
		'chunk_count' => [$text['label-chunk_count'], ''],
		'file_size' => [$text['label-file_size'], ''],
		'created_at' => [$text['label-created_at'], ''],
	], 'created_at', 'desc', ['file_name', 'status', 'error_message'], $show_all);

//process a posted action (reprocess, delete) on the checked documents of this domain
	$done = $view->run_posted_action([
		'reprocess' => function (string $uuid) use ($store, $app_settings): bool {
			if (!$store->update('v_voice_documents', $uuid, ['status' => 'pending', 'error_message' => null])) {
				return false;
			}
			(new voice_task_queue($app_settings->redis_url()))->enqueue_ingest($_SESSION['domain_uuid'], $uuid);
			return true;
		},
		'delete' => function (string $uuid) use ($store, $app_settings): bool {
			$document = $store->find('v_voice_documents', $uuid);
			if ($document === null || !$store->delete('v_voice_documents', $uuid)) {
				return false;
			}
			(new voice_document_upload($app_settings->upload_dir(), $app_settings->upload_max_bytes()))->remove($document['storage_path']);
			return true;
		},
	]);
	if ($done !== null) {
		header('Location: '.$view->back('voice_documents.php'));
		exit;
	}

//the secretaries (names for the list, and the filter)
	$secretaries = [];
	foreach ($list->all('v_voice_secretaries', '', [], 'name asc') as $row) {
		$secretaries[$row['voice_secretary_uuid']] = $row['name'];
	}
	$filter = voice_page::text($_GET, 'voice_secretary_uuid');
	if (!isset($secretaries[$filter])) {
		$filter = '';
	}

//get the list
	$parameters = $filter !== '' ? ['voice_secretary_uuid' => $filter] : [];
	$where = ($filter !== '' ? 'and voice_secretary_uuid = :voice_secretary_uuid ' : '').$view->search_where($parameters);
	$num_rows = $list->count('v_voice_documents', $where, $parameters);
	[$paging_controls, $paging_controls_mini] = $view->paging($num_rows);
	$documents = $list->all('v_voice_documents', $where, $parameters, $view->order_sql('file_name asc'), $view->rows_per_page, $view->offset());

//create token
	$object = new token;
	$token = $object->create($_SERVER['PHP_SELF']);

//include the header
	$document['title'] = $text['title-voice_documents'];
	require_once "resources/header.php";

//show the content
	$buttons = '';
	if (permission_exists('voice_document_add')) {
		$buttons .= button::create(['type'=>'button','label'=>$text['button-upload'],'icon'=>$settings->get('theme', 'button_icon_upload'),'id'=>'btn_upload','link'=>'voice_document_edit.php'.($filter !== '' ? '?voice_secretary_uuid='.urlencode($filter) : '')]);
	}
	if ($view->allows('reprocess', !empty($documents))) {
		$buttons .= button::create(['type'=>'button','label'=>$text['button-reprocess'],'icon'=>$settings->get('theme', 'button_icon_reload'),'id'=>'btn_reprocess','onclick'=>"list_action_set('reprocess'); list_form_submit('form_list');"]);
	}
	$filters = "		".voice_page::select('voice_secretary_uuid', $secretaries, $filter, $text['label-all_secretaries'])."\n";
	echo $view->action_bar($text['title-voice_documents'], $num_rows, ['delete'], !empty($documents), $buttons, 'voice_document_all', $paging_controls_mini, $filters);
	echo escape($text['description-voice_documents'])."\n";
	echo "<br /><br />\n";
	echo $view->table_start(!$show_all, !empty($documents), 'documents');
	foreach ($documents as $x => $row) {
		$own = $row['domain_uuid'] === $_SESSION['domain_uuid'];
		$url = $own ? "voice_document_edit.php?id=".urlencode($row['document_uuid']) : '';
		echo voice_list::row_start($url, "data-document='".escape($row['document_uuid'])."'");
		if (!$show_all) {
			echo $view->checkbox_cell($x, $row['document_uuid'], $own);
		}
		if ($show_all) {
			echo "	<td>".escape($row['domain_name'])."</td>\n";
		}
		echo "	<td>".($own ? "<a href='".escape($url)."'>".escape($row['file_name'])."</a>" : escape($row['file_name']))."</td>\n";
		echo "	<td>".escape($row['voice_secretary_uuid'] ? ($secretaries[$row['voice_secretary_uuid']] ?? '') : $text['label-all_secretaries'])."</td>\n";
		echo "	<td class='document_status'><span class='status_".escape($row['status'])."'>".escape($text['option-'.$row['status']] ?? $row['status'])."</span>";
		if ($row['status'] === 'failed' && !empty($row['error_message'])) {
			echo "<br /><small class='document_error'>".escape($row['error_message'])."</small>";
		}
		echo "</td>\n";
		echo "	<td>".escape((string) $row['chunk_count'])."</td>\n";
		echo "	<td>".escape(number_format((int) $row['file_size'] / 1024, 1))." KB</td>\n";
		echo "	<td>".escape(substr((string) $row['created_at'], 0, 19))."</td>\n";
		echo "</tr>\n";
	}
	echo $view->table_end($paging_controls, $token);

//include the footer
	require_once "resources/footer.php";
