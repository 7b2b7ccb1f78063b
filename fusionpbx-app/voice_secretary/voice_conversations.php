<?php
/*
	Voice Secretary — the calls the secretaries handled, searched by caller or summary, filtered by date and outcome.
*/

//includes files
	require_once dirname(__DIR__, 2) . "/resources/require.php";
	require_once "resources/check_auth.php";
	require_once "resources/paging.php";

//check permissions
	if (!permission_exists('voice_conversation_view')) {
		echo "access denied";
		exit;
	}

//add multi-lingual support
	$language = new text;
	$text = $language->get();

//the domain-bound store, or every domain (read-only) for a superadmin with show=all
	$store = new voice_tenant_store($database, $_SESSION['domain_uuid']);
	$show_all = voice_page::show_all('voice_conversation_all');
	$list = $show_all ? new voice_all_domains($database) : $store;

//the list's sorting, search (caller, name, summary) and paging; conversations are records of calls: no actions
	$view = new voice_list($text, $settings, 'voice_conversations', [], [
		'started_at' => [$text['label-started_at'], ''],
		'caller_id' => [$text['label-caller'], ''],
		'voice_secretary_uuid' => [$text['label-voice_secretary'], '', false],
		'duration_seconds' => [$text['label-duration'], ''],
		'outcome' => [$text['label-outcome'], ''],
		'webhook_status' => [$text['label-webhook_status'], ''],
		'summary' => [$text['label-summary'], "class='hide-sm-dn'", false],
	], 'started_at', 'desc', ['caller_id', 'caller_name', 'summary'], $show_all);

//the filters (each validated before it reaches a parameter)
	$outcomes = ['resolved', 'transferred', 'message', 'abandoned', 'error'];
	$date_from = preg_match('/^\d{4}-\d{2}-\d{2}$/', voice_page::text($_GET, 'date_from')) ? $_GET['date_from'] : '';
	$date_to = preg_match('/^\d{4}-\d{2}-\d{2}$/', voice_page::text($_GET, 'date_to')) ? $_GET['date_to'] : '';
	$outcome = in_array(voice_page::text($_GET, 'outcome'), $outcomes, true) ? $_GET['outcome'] : '';
	$parameters = [];
	$where = $view->search_where($parameters);
	if ($date_from !== '') {
		$where .= "and started_at >= cast(:date_from as date) ";
		$parameters['date_from'] = $date_from;
	}
	if ($date_to !== '') {
		$where .= "and started_at < cast(:date_to as date) + 1 ";
		$parameters['date_to'] = $date_to;
	}
	if ($outcome !== '') {
		$where .= "and outcome = :outcome ";
		$parameters['outcome'] = $outcome;
	}

//get the list
	$num_rows = $list->count('v_voice_conversations', $where, $parameters);
	[$paging_controls, $paging_controls_mini] = $view->paging($num_rows);
	$conversations = $list->all('v_voice_conversations', $where, $parameters, $view->order_sql('started_at desc'), $view->rows_per_page, $view->offset());
	$secretaries = [];
	foreach ($list->all('v_voice_secretaries') as $row) {
		$secretaries[$row['voice_secretary_uuid']] = $row['name'];
	}

//create token
	$object = new token;
	$token = $object->create($_SERVER['PHP_SELF']);

//include the header
	$document['title'] = $text['title-voice_conversations'];
	require_once "resources/header.php";

//show the content
	$outcome_options = [];
	foreach ($outcomes as $value) {
		$outcome_options[$value] = $text['option-outcome_'.$value];
	}
	$filters = "		".escape($text['label-date_from'])." ".voice_page::input('date_from', $date_from, 'date')."\n";
	$filters .= "		".escape($text['label-date_to'])." ".voice_page::input('date_to', $date_to, 'date')."\n";
	$filters .= "		".voice_page::select('outcome', $outcome_options, $outcome, $text['label-all_outcomes'])."\n";
	echo $view->action_bar($text['title-voice_conversations'], $num_rows, [], false, '', 'voice_conversation_all', $paging_controls_mini, $filters);
	echo $view->table_start(false, !empty($conversations), 'conversations');
	foreach ($conversations as $row) {
		$url = "voice_conversation.php?id=".urlencode($row['conversation_uuid']);
		echo voice_list::row_start($url);
		if ($show_all) {
			echo "	<td>".escape($row['domain_name'])."</td>\n";
		}
		echo "	<td><a href='".escape($url)."'>".escape(substr((string) $row['started_at'], 0, 19))."</a></td>\n";
		echo "	<td>".escape(trim(($row['caller_name'] ?? '').' '.($row['caller_id'] ?? '')))."</td>\n";
		echo "	<td>".escape($secretaries[$row['voice_secretary_uuid'] ?? ''] ?? '')."</td>\n";
		echo "	<td>".escape($row['duration_seconds'] !== null ? gmdate('H:i:s', (int) round((float) $row['duration_seconds'])) : '')."</td>\n";
		echo "	<td>".escape($row['outcome'] !== null ? ($text['option-outcome_'.$row['outcome']] ?? $row['outcome']) : $text['label-in_progress'])."</td>\n";
		echo "	<td>".escape($text['option-webhook_'.$row['webhook_status']] ?? $row['webhook_status'])."</td>\n";
		echo "	<td class='description overflow hide-sm-dn'>".escape(mb_substr((string) ($row['summary'] ?? ''), 0, 120))."</td>\n";
		echo "</tr>\n";
	}
	echo $view->table_end($paging_controls, $token);

//include the footer
	require_once "resources/footer.php";
