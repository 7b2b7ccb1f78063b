<?php
/*
	Voice Secretary — upload a document (add), or see one document's status and failure reason,
	change which secretary it serves, and re-process it (update).

	Upload: the file is checked and stored outside the web root under a generated name, the row is
	created "pending", and an ingestion task goes on the Celery "documents" queue at once. When
	Redis cannot be reached the upload still succeeds: the row stays pending and the workers'
	sweep ingests it later.
*/

//includes files
	require_once dirname(__DIR__, 2) . "/resources/require.php";
	require_once "resources/check_auth.php";

//check permissions
	if (!(permission_exists('voice_document_add') || permission_exists('voice_document_edit') || permission_exists('voice_document_view'))) {
		echo "access denied";
		exit;
	}

//add multi-lingual support
	$language = new text;
	$text = $language->get();

//the domain-bound store and the settings
	$store = new voice_tenant_store($database, $_SESSION['domain_uuid']);
	$app_settings = new voice_app_settings($settings);

//action add (upload) or update
	$voice_document = null;
	if (voice_page::text($_REQUEST, 'id') !== '') {
		$voice_document = $store->find('v_voice_documents', voice_page::text($_REQUEST, 'id'));
		if ($voice_document === null) {
			message::add($text['message-not_found'], 'negative');
			header('Location: voice_documents.php');
			exit;
		}
	}
	$action = $voice_document === null ? 'add' : 'update';
	if ($action === 'add' && !permission_exists('voice_document_add')) {
		echo "access denied";
		exit;
	}

//the secretaries of this domain
	$secretaries = [];
	foreach ($store->all('v_voice_secretaries', '', [], 'name asc') as $row) {
		$secretaries[$row['voice_secretary_uuid']] = $row['name'];
	}
	$error = null;

//a request body larger than PHP's post_max_size arrives with $_POST and $_FILES empty (and no token)
	if (($_SERVER['REQUEST_METHOD'] ?? '') === 'POST' && empty($_POST) && empty($_FILES) && intval($_SERVER['CONTENT_LENGTH'] ?? 0) > 0) {
		$error = sprintf($text['message-upload_post_too_large'], (string) ini_get('post_max_size'));
	}

//process the submitted form (a file alone is a submission too, and needs the token)
	if (!empty($_POST) || !empty($_FILES)) {
		$token = new token;
		if (!$token->validate($_SERVER['PHP_SELF'])) {
			message::add($text['message-invalid_token'], 'negative');
			header('Location: voice_documents.php');
			exit;
		}
		$secretary_uuid = voice_page::text($_POST, 'voice_secretary_uuid');
		if ($secretary_uuid !== '' && !isset($secretaries[$secretary_uuid])) {
			$error = $text['label-voice_secretary']; //not a secretary of this domain
		}
		$secretary_uuid = $secretary_uuid === '' ? null : $secretary_uuid;
		$queue = new voice_task_queue($app_settings->redis_url());

		if ($error === null && $action === 'add') {
			$upload = new voice_document_upload($app_settings->upload_dir(), $app_settings->upload_max_bytes());
			$document_uuid = uuid();
			try {
				$stored = $upload->store($_FILES['document'] ?? [], $_SESSION['domain_uuid'], $document_uuid);
			}
			catch (voice_upload_error $e) {
				$stored = null;
				$error = $text[$e->getMessage()] ?? $e->getMessage();
			}
			if ($stored !== null) {
				try {
					$store->insert('v_voice_documents', $stored + ['document_uuid' => $document_uuid, 'voice_secretary_uuid' => $secretary_uuid, 'status' => 'pending']);
				}
				catch (RuntimeException $e) {
					//no row: the stored file would be an orphan that nothing lists or deletes
					$upload->remove($stored['storage_path']);
					$stored = null;
					$error = $text['message-save_failed'];
				}
			}
			if ($stored !== null) {
				$queued = $queue->enqueue_ingest($_SESSION['domain_uuid'], $document_uuid);
				message::add($text[$queued ? 'message-upload_queued' : 'message-upload_pending']);
				header('Location: voice_documents.php');
				exit;
			}
		}
		elseif ($error === null && $action === 'update' && permission_exists('voice_document_edit')) {
			$row = ['voice_secretary_uuid' => $secretary_uuid];
			$reprocess = ($_POST['reprocess'] ?? '') === 'true';
			if ($reprocess) {
				$row['status'] = 'pending';
				$row['error_message'] = null;
			}
			if ($store->update('v_voice_documents', $voice_document['document_uuid'], $row)) {
				if ($reprocess) {
					$queue->enqueue_ingest($_SESSION['domain_uuid'], $voice_document['document_uuid']);
					message::add($text['message-reprocess']);
				}
				else {
					message::add($text['message-update']);
				}
				header('Location: voice_document_edit.php?id='.urlencode($voice_document['document_uuid']));
				exit;
			}
			$error = $text['message-save_failed'];
		}
	}

//create token
	$object = new token;
	$token = $object->create($_SERVER['PHP_SELF']);

//include the header
	$document['title'] = $text['title-voice_document'];
	require_once "resources/header.php";

//show the content
	echo "<form name='frm' id='frm' method='post' enctype='multipart/form-data'>\n";
	echo "<div class='action_bar' id='action_bar'>\n";
	echo "	<div class='heading'><b>".escape($text['title-voice_document'])."</b></div>\n";
	echo "	<div class='actions'>\n";
	echo button::create(['type'=>'button','label'=>$text['button-back'],'icon'=>$settings->get('theme', 'button_icon_back'),'id'=>'btn_back','link'=>'voice_documents.php']);
	if ($action === 'update' && permission_exists('voice_document_edit')) {
		echo button::create(['type'=>'submit','label'=>$text['button-reprocess'],'icon'=>$settings->get('theme', 'button_icon_reload'),'id'=>'btn_reprocess','name'=>'reprocess','value'=>'true']);
	}
	if ($action === 'add' || permission_exists('voice_document_edit')) {
		echo button::create(['type'=>'submit','label'=>$text[$action === 'add' ? 'button-upload' : 'button-save'],'icon'=>$settings->get('theme', 'button_icon_save'),'id'=>'btn_save','style'=>'margin-left: 15px;']);
	}
	echo "	</div>\n";
	echo "	<div style='clear: both;'></div>\n";
	echo "</div>\n";
	if ($error !== null) {
		echo "<div class='message negative' id='form_errors'>".escape($error)."</div>\n";
	}

	echo "<div class='card'>\n";
	echo "<table width='100%' border='0' cellpadding='0' cellspacing='0'>\n";
	$selected_secretary = $voice_document['voice_secretary_uuid'] ?? voice_page::text($_REQUEST, 'voice_secretary_uuid');
	if ($action === 'add') {
		//the smaller of the app's limit and PHP's own (a larger request never reaches this page)
		$max_bytes = $app_settings->upload_max_bytes();
		if (voice_document_upload::php_limit() > 0) {
			$max_bytes = min($max_bytes, voice_document_upload::php_limit());
		}
		$limit = number_format($max_bytes / 1048576, 1);
		echo "<input type='hidden' name='MAX_FILE_SIZE' value='".escape((string) $max_bytes)."'>\n";
		echo voice_page::row($text['label-file'], "<input class='formfld' type='file' name='document' id='document' accept='.pdf,.docx,.txt,.md' required='required'>",
			sprintf($text['description-file'], implode(', ', voice_document_upload::extensions), $limit), true);
	}
	else {
		echo voice_page::row($text['label-file_name'], escape($voice_document['file_name']));
		$status = "<span id='document_status' class='status_".escape($voice_document['status'])."'>".escape($text['option-'.$voice_document['status']] ?? $voice_document['status'])."</span>";
		echo voice_page::row($text['label-status'], $status);
		if (!empty($voice_document['error_message'])) {
			echo voice_page::row($text['label-error_message'], "<span id='document_error'>".escape($voice_document['error_message'])."</span>");
		}
		echo voice_page::row($text['label-chunk_count'], escape((string) $voice_document['chunk_count']));
		echo voice_page::row($text['label-embedding_model'], escape((string) ($voice_document['embedding_model'] ?? '')));
		echo voice_page::row($text['label-file_size'], escape(number_format((int) $voice_document['file_size'] / 1024, 1)).' KB');
		echo voice_page::row($text['label-mime_type'], escape((string) $voice_document['mime_type']));
		echo voice_page::row($text['label-processed_at'], escape(substr((string) ($voice_document['processed_at'] ?? ''), 0, 19)));
		echo "<input type='hidden' name='id' value='".escape($voice_document['document_uuid'])."'>\n";
	}
	echo voice_page::row($text['label-voice_secretary'], voice_page::select('voice_secretary_uuid', ['' => $text['label-all_secretaries']] + $secretaries, $selected_secretary), $text['description-voice_secretary_document']);
	echo "</table>\n";
	echo "</div>\n";
	echo voice_page::token_input($token);
	echo "</form>\n";

//include the footer
	require_once "resources/footer.php";
