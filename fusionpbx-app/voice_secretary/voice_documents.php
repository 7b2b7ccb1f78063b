<?php
/*
	Voice Secretary — the domain's knowledge-base documents: status (with the reason a file failed),
	re-process and delete. Upload is on voice_document_edit.php.
*/

//includes files
	require_once dirname(__DIR__, 2) . "/resources/require.php";
	require_once "resources/check_auth.php";

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

//process a posted action (reprocess, delete)
	if (voice_page::text($_POST, 'action') !== '') {
		$token = new token;
		if (!$token->validate($_SERVER['PHP_SELF'])) {
			message::add($text['message-invalid_token'], 'negative');
			header('Location: voice_documents.php');
			exit;
		}
		$records = is_array($_POST['voice_documents'] ?? null) ? $_POST['voice_documents'] : [];
		$uuids = [];
		foreach ($records as $record) {
			if (($record['checked'] ?? '') === 'true' && is_uuid($record['uuid'] ?? '')) {
				$uuids[] = $record['uuid'];
			}
		}
		$done = 0;
		if ($_POST['action'] === 'reprocess' && permission_exists('voice_document_edit')) {
			$queue = new voice_task_queue($app_settings->redis_url());
			foreach ($uuids as $uuid) {
				if ($store->update('v_voice_documents', $uuid, ['status' => 'pending', 'error_message' => null])) {
					$queue->enqueue_ingest($_SESSION['domain_uuid'], $uuid);
					$done++;
				}
			}
			if ($done > 0) {
				message::add($text['message-reprocess']);
			}
		}
		if ($_POST['action'] === 'delete' && permission_exists('voice_document_delete')) {
			$upload = new voice_document_upload($app_settings->upload_dir(), $app_settings->upload_max_bytes());
			foreach ($uuids as $uuid) {
				$document = $store->find('v_voice_documents', $uuid);
				if ($document !== null && $store->delete('v_voice_documents', $uuid)) {
					$upload->remove($document['storage_path']);
					$done++;
				}
			}
			if ($done > 0) {
				message::add($text['message-delete']);
			}
		}
		header('Location: voice_documents.php');
		exit;
	}

//every domain, read-only, for a superadmin with show=all
	$show_all = voice_page::show_all('voice_document_all');
	$list = $show_all ? new voice_all_domains($database) : $store;

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
	$where = $filter !== '' ? 'and voice_secretary_uuid = :voice_secretary_uuid' : '';
	$documents = $list->all('v_voice_documents', $where, $filter !== '' ? ['voice_secretary_uuid' => $filter] : [], ($show_all ? 'domain_name asc, ' : '').'created_at desc');

//create token
	$object = new token;
	$token = $object->create($_SERVER['PHP_SELF']);

//include the header
	$document['title'] = $text['title-voice_documents'];
	require_once "resources/header.php";

//show the content
	echo voice_page::nav($text, 'documents');
	echo "<div class='action_bar' id='action_bar'>\n";
	echo "	<div class='heading'><b>".escape($text['title-voice_documents'])."</b><div class='count'>".count($documents)."</div></div>\n";
	echo "	<div class='actions'>\n";
	if (permission_exists('voice_document_add')) {
		echo button::create(['type'=>'button','label'=>$text['button-upload'],'icon'=>'upload','id'=>'btn_upload','link'=>'voice_document_edit.php'.($filter !== '' ? '?voice_secretary_uuid='.urlencode($filter) : '')]);
	}
	if (permission_exists('voice_document_edit') && $documents) {
		echo button::create(['type'=>'button','label'=>$text['button-reprocess'],'icon'=>'sync','id'=>'btn_reprocess','onclick'=>"document.getElementById('action').value = 'reprocess'; document.getElementById('form_list').submit();"]);
	}
	if (permission_exists('voice_document_delete') && $documents) {
		echo button::create(['type'=>'button','label'=>$text['button-delete'],'icon'=>'trash','id'=>'btn_delete','onclick'=>"if (confirm('".escape($text['confirm-delete'])."')) { document.getElementById('action').value = 'delete'; document.getElementById('form_list').submit(); }"]);
	}
	echo voice_page::show_all_button($text, 'voice_document_all', $show_all);
	echo "		<form id='form_filter' method='get' style='display: inline;'>\n";
	if ($show_all) {
		echo "		<input type='hidden' name='show' value='all'>\n";
	}
	echo "		".voice_page::select('voice_secretary_uuid', $secretaries, $filter, $text['label-all_secretaries'])."\n";
	echo button::create(['type'=>'submit','label'=>$text['button-search'],'icon'=>'search','id'=>'btn_search']);
	echo "		</form>\n";
	echo "	</div>\n";
	echo "	<div style='clear: both;'></div>\n";
	echo "</div>\n";
	echo escape($text['description-voice_documents'])."\n";
	echo "<br /><br />\n";

	echo "<form id='form_list' method='post'>\n";
	echo "<input type='hidden' id='action' name='action' value=''>\n";
	echo "<div class='card'>\n";
	echo "<table class='list' id='documents'>\n";
	echo "<tr class='list-header'>\n";
	echo "	<th class='checkbox'>&nbsp;</th>\n";
	if ($show_all) {
		echo "	<th>".escape($text['label-domain'])."</th>\n";
	}
	echo "	<th>".escape($text['label-file_name'])."</th>\n";
	echo "	<th>".escape($text['label-voice_secretary'])."</th>\n";
	echo "	<th>".escape($text['label-status'])."</th>\n";
	echo "	<th>".escape($text['label-chunk_count'])."</th>\n";
	echo "	<th>".escape($text['label-file_size'])."</th>\n";
	echo "	<th>".escape($text['label-created_at'])."</th>\n";
	echo "</tr>\n";
	foreach ($documents as $x => $row) {
		$own = $row['domain_uuid'] === $_SESSION['domain_uuid'];
		$url = "voice_document_edit.php?id=".urlencode($row['document_uuid']);
		echo "<tr class='list-row' data-document='".escape($row['document_uuid'])."'>\n";
		echo voice_page::checkbox_cell('voice_documents', $x, $row['document_uuid'], $own);
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
	echo "</table>\n";
	echo "</div>\n";
	echo voice_page::token_input($token);
	echo "</form>\n";

//include the footer
	require_once "resources/footer.php";
