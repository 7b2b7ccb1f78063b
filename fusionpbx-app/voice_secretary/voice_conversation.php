<?php
/*
	Voice Secretary — one conversation: the transcript turn by turn, the tool calls the secretary
	made, the summary, the message taken, and the webhook delivery status.
*/

//includes files
	require_once dirname(__DIR__, 2) . "/resources/require.php";
	require_once "resources/check_auth.php";

//check permissions
	if (!permission_exists('voice_conversation_view')) {
		echo "access denied";
		exit;
	}

//add multi-lingual support
	$language = new text;
	$text = $language->get();

//the domain-bound store: another domain's conversation is simply not found, except by a superadmin
//holding voice_conversation_all (the "Show All" list links to it), who reads it in its own domain
	$store = new voice_tenant_store($database, $_SESSION['domain_uuid']);
	$conversation = $store->find('v_voice_conversations', voice_page::text($_GET, 'id'));
	if ($conversation === null && permission_exists('voice_conversation_all')) {
		$conversation = (new voice_all_domains($database))->find('v_voice_conversations', voice_page::text($_GET, 'id'));
		if ($conversation !== null) {
			$store = new voice_tenant_store($database, $conversation['domain_uuid']);
		}
	}
	if ($conversation === null) {
		message::add($text['message-not_found'], 'negative');
		header('Location: voice_conversations.php');
		exit;
	}
	$messages = $store->all('v_voice_messages', 'and conversation_uuid = :conversation_uuid', ['conversation_uuid' => $conversation['conversation_uuid']], 'sequence asc');
	$secretary = $store->find('v_voice_secretaries', $conversation['voice_secretary_uuid'] ?? '');

	/** Pretty JSON of a jsonb column value (a string from PDO), for a <pre>. */
	function voice_pretty_json(?string $json): string {
		if ($json === null || $json === '') {
			return '';
		}
		$value = json_decode($json, true);
		return json_encode($value, JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE);
	}

//include the header
	$document['title'] = $text['title-voice_conversation'];
	require_once "resources/header.php";

//show the content
	echo "<div class='action_bar' id='action_bar'>\n";
	echo "	<div class='heading'><b>".escape($text['title-voice_conversation'])."</b></div>\n";
	echo "	<div class='actions'>\n";
	echo button::create(['type'=>'button','label'=>$text['button-back'],'icon'=>$settings->get('theme', 'button_icon_back'),'id'=>'btn_back','link'=>'voice_conversations.php']);
	echo "	</div>\n";
	echo "	<div style='clear: both;'></div>\n";
	echo "</div>\n";

	echo "<div class='card'>\n";
	echo "<table width='100%' border='0' cellpadding='0' cellspacing='0' id='conversation'>\n";
	echo voice_page::row($text['label-caller'], escape(trim(($conversation['caller_name'] ?? '').' '.($conversation['caller_id'] ?? ''))));
	echo voice_page::row($text['label-voice_secretary'], escape($secretary['name'] ?? ''));
	echo voice_page::row($text['label-destination_number'], escape((string) ($conversation['destination_number'] ?? '')));
	echo voice_page::row($text['label-started_at'], escape(substr((string) $conversation['started_at'], 0, 19)));
	echo voice_page::row($text['label-duration'], escape($conversation['duration_seconds'] !== null ? gmdate('H:i:s', (int) round((float) $conversation['duration_seconds'])) : ''));
	echo voice_page::row($text['label-engine'], escape((string) ($conversation['engine'] ?? '')));
	$outcome = $conversation['outcome'] !== null ? ($text['option-outcome_'.$conversation['outcome']] ?? $conversation['outcome']) : $text['label-in_progress'];
	if (!empty($conversation['transfer_target'])) {
		$outcome .= ' → '.$conversation['transfer_target'];
	}
	echo voice_page::row($text['label-outcome'], "<span id='conversation_outcome'>".escape($outcome)."</span>");
	echo voice_page::row($text['label-summary'], "<div id='conversation_summary'>".nl2br(escape((string) ($conversation['summary'] ?? '')))."</div>");
	if (!empty($conversation['taken_message'])) {
		$taken = json_decode($conversation['taken_message'], true) ?: [];
		$lines = [];
		foreach (['caller_name' => 'taken_caller_name', 'callback_number' => 'taken_callback_number', 'message' => 'taken_message_text'] as $key => $label) {
			if (!empty($taken[$key])) {
				$lines[] = "<strong>".escape($text['label-'.$label])."</strong>: ".escape((string) $taken[$key]);
			}
		}
		echo voice_page::row($text['label-taken_message'], implode("<br />\n", $lines));
	}
	$webhook = "<span id='webhook_status'>".escape($text['option-webhook_'.$conversation['webhook_status']] ?? $conversation['webhook_status'])."</span>";
	if (!empty($conversation['webhook_delivered_at'])) {
		$webhook .= " (".escape(substr((string) $conversation['webhook_delivered_at'], 0, 19)).")";
	}
	$attempts = json_decode($conversation['webhook_attempts'] ?? '[]', true) ?: [];
	foreach ($attempts as $attempt) {
		$webhook .= "<br />\n<small>".escape((string) ($attempt['at'] ?? ''))." — ".escape((string) ($attempt['status_code'] ?? ''))." ".escape((string) ($attempt['error'] ?? ''))."</small>";
	}
	echo voice_page::row($text['label-webhook_status'], $webhook);
	echo "</table>\n";
	echo "</div>\n";
	echo "<br />\n";

	echo "<div class='card'>\n";
	echo "<b>".escape($text['label-transcript'])."</b>\n";
	echo "<table class='list' id='transcript'>\n";
	echo "<tr class='list-header'>\n";
	echo "	<th>#</th>\n";
	echo "	<th>".escape($text['label-role'])."</th>\n";
	echo "	<th>".escape($text['label-content'])."</th>\n";
	echo "	<th>".escape($text['label-latency'])."</th>\n";
	echo "</tr>\n";
	foreach ($messages as $row) {
		echo "<tr class='list-row message_".escape($row['role'])."'>\n";
		echo "	<td>".escape((string) $row['sequence'])."</td>\n";
		echo "	<td>".escape($text['option-role_'.$row['role']] ?? $row['role'])."</td>\n";
		echo "	<td>";
		if ($row['role'] === 'tool') {
			echo "<span class='tool_call'><strong>".escape((string) $row['tool_name'])."</strong></span>";
			echo "<pre class='tool_arguments'>".escape(voice_pretty_json($row['tool_arguments']))."</pre>";
			if ($row['tool_result'] !== null) {
				echo "<pre class='tool_result'>→ ".escape(voice_pretty_json($row['tool_result']))."</pre>";
			}
		}
		else {
			echo escape((string) ($row['content'] ?? ''));
			if (voice_page::is_true($row['interrupted'])) {
				echo " <small>(".escape($text['label-interrupted']).")</small>";
			}
		}
		echo "</td>\n";
		echo "	<td>".escape($row['latency_ms'] !== null ? $row['latency_ms'].' ms' : '')."</td>\n";
		echo "</tr>\n";
	}
	echo "</table>\n";
	echo "</div>\n";

//include the footer
	require_once "resources/footer.php";
