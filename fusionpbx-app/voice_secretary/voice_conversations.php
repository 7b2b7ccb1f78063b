<?php
/*
	Voice Secretary — the calls the secretaries handled, filtered by date, caller and outcome.
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

//the domain-bound store, or every domain (read-only) for a superadmin with show=all
	$store = new voice_tenant_store($database, $_SESSION['domain_uuid']);
	$show_all = voice_page::show_all('voice_conversation_all');
	$list = $show_all ? new voice_all_domains($database) : $store;

//the filters (each validated before it reaches a parameter)
	$outcomes = ['resolved', 'transferred', 'message', 'abandoned', 'error'];
	$date_from = preg_match('/^\d{4}-\d{2}-\d{2}$/', voice_page::text($_GET, 'date_from')) ? $_GET['date_from'] : '';
	$date_to = preg_match('/^\d{4}-\d{2}-\d{2}$/', voice_page::text($_GET, 'date_to')) ? $_GET['date_to'] : '';
	$caller = mb_substr(trim(voice_page::text($_GET, 'caller')), 0, 100);
	$outcome = in_array(voice_page::text($_GET, 'outcome'), $outcomes, true) ? $_GET['outcome'] : '';
	$where = '';
	$parameters = [];
	if ($date_from !== '') {
		$where .= "and started_at >= cast(:date_from as date) ";
		$parameters['date_from'] = $date_from;
	}
	if ($date_to !== '') {
		$where .= "and started_at < cast(:date_to as date) + 1 ";
		$parameters['date_to'] = $date_to;
	}
	if ($caller !== '') {
		$where .= "and (caller_id like :caller or lower(caller_name) like :caller) ";
		$parameters['caller'] = '%'.str_replace(['\\', '%', '_'], ['\\\\', '\\%', '\\_'], mb_strtolower($caller)).'%';
	}
	if ($outcome !== '') {
		$where .= "and outcome = :outcome ";
		$parameters['outcome'] = $outcome;
	}

//paging
	$rows_per_page = 50;
	$page = voice_page::integer($_GET, 'page', 0, 1000000);
	$total = $list->count('v_voice_conversations', $where, $parameters);
	$conversations = $list->all('v_voice_conversations', $where, $parameters, 'started_at desc', $rows_per_page, $page * $rows_per_page);
	$secretaries = [];
	foreach ($list->all('v_voice_secretaries') as $row) {
		$secretaries[$row['voice_secretary_uuid']] = $row['name'];
	}

//include the header
	$document['title'] = $text['title-voice_conversations'];
	require_once "resources/header.php";

//show the content
	echo voice_page::nav($text, 'conversations');
	echo "<div class='action_bar' id='action_bar'>\n";
	echo "	<div class='heading'><b>".escape($text['title-voice_conversations'])."</b><div class='count'>".escape(number_format($total))."</div></div>\n";
	echo "	<div class='actions'>\n";
	echo voice_page::show_all_button($text, 'voice_conversation_all', $show_all);
	echo "		<form id='form_search' method='get' style='display: inline;'>\n";
	if ($show_all) {
		echo "		<input type='hidden' name='show' value='all'>\n";
	}
	echo "		".escape($text['label-date_from'])." ".voice_page::input('date_from', $date_from, 'date')."\n";
	echo "		".escape($text['label-date_to'])." ".voice_page::input('date_to', $date_to, 'date')."\n";
	echo "		".voice_page::input('caller', $caller, 'text', "placeholder=\"".escape($text['label-caller'])."\"")."\n";
	$outcome_options = [];
	foreach ($outcomes as $value) {
		$outcome_options[$value] = $text['option-outcome_'.$value];
	}
	echo "		".voice_page::select('outcome', $outcome_options, $outcome, $text['label-all_outcomes'])."\n";
	echo button::create(['type'=>'submit','label'=>$text['button-search'],'icon'=>'search','id'=>'btn_search']);
	echo button::create(['type'=>'button','label'=>$text['button-reset'],'icon'=>'undo','id'=>'btn_reset','link'=>'voice_conversations.php']);
	echo "		</form>\n";
	echo "	</div>\n";
	echo "	<div style='clear: both;'></div>\n";
	echo "</div>\n";

	echo "<div class='card'>\n";
	echo "<table class='list' id='conversations'>\n";
	echo "<tr class='list-header'>\n";
	if ($show_all) {
		echo "	<th>".escape($text['label-domain'])."</th>\n";
	}
	echo "	<th>".escape($text['label-started_at'])."</th>\n";
	echo "	<th>".escape($text['label-caller'])."</th>\n";
	echo "	<th>".escape($text['label-voice_secretary'])."</th>\n";
	echo "	<th>".escape($text['label-duration'])."</th>\n";
	echo "	<th>".escape($text['label-outcome'])."</th>\n";
	echo "	<th>".escape($text['label-webhook_status'])."</th>\n";
	echo "	<th class='hide-sm-dn'>".escape($text['label-summary'])."</th>\n";
	echo "</tr>\n";
	foreach ($conversations as $row) {
		$url = "voice_conversation.php?id=".urlencode($row['conversation_uuid']);
		echo "<tr class='list-row'>\n";
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
	echo "</table>\n";
	echo "</div>\n";

	//paging links keep the filters
	$query = array_filter(['show' => $show_all ? 'all' : '', 'date_from' => $date_from, 'date_to' => $date_to, 'caller' => $caller, 'outcome' => $outcome], 'strlen');
	echo "<div align='center' style='margin-top: 10px;'>\n";
	if ($page > 0) {
		echo "<a href='?".escape(http_build_query($query + ['page' => $page - 1]))."'>&laquo;</a> ";
	}
	if (($page + 1) * $rows_per_page < $total) {
		echo " <a href='?".escape(http_build_query($query + ['page' => $page + 1]))."'>&raquo;</a>";
	}
	echo "</div>\n";

//include the footer
	require_once "resources/footer.php";
