<?php
/*
	Voice Secretary — the domain's transfer rules: which department a caller may be sent to, when,
	and what happens outside business hours or when nobody answers.
*/

//includes files
	require_once dirname(__DIR__, 2) . "/resources/require.php";
	require_once "resources/check_auth.php";
	require_once "resources/paging.php";

//check permissions
	if (!permission_exists('voice_transfer_rule_view')) {
		echo "access denied";
		exit;
	}

//add multi-lingual support
	$language = new text;
	$text = $language->get();

//the domain-bound store
	$store = new voice_tenant_store($database, $_SESSION['domain_uuid']);

//the list's sorting, search and paging (every domain, read-only, for a superadmin with show=all)
	$show_all = voice_page::show_all('voice_transfer_rule_all');
	$list = $show_all ? new voice_all_domains($database) : $store;
	$view = new voice_list($text, $settings, 'voice_transfer_rules',
		['copy' => 'voice_transfer_rule_add', 'toggle' => 'voice_transfer_rule_edit', 'delete' => 'voice_transfer_rule_delete'], [
		'department_name' => [$text['label-department_name'], ''],
		'keywords' => [$text['label-keywords'], '', false],
		'transfer_extension' => [$text['label-transfer_extension'], ''],
		'voice_secretary_uuid' => [$text['label-voice_secretary'], '', false],
		'priority' => [$text['label-priority'], ''],
		'fallback_action' => [$text['label-fallback_action'], ''],
		'enabled' => [$text['label-enabled'], "class='center'"],
	], 'priority', 'asc', ['department_name', "array_to_string(keywords, ' ')", 'transfer_extension', 'transfer_message'], $show_all);

//process a posted action (copy, toggle, delete) on the checked rules of this domain
	$done = $view->run_posted_action([
		'copy' => function (string $uuid) use ($store, $text): bool {
			$rule = $store->find('v_voice_transfer_rules', $uuid);
			return $rule !== null && $store->copy('v_voice_transfer_rules', $uuid, ['department_name' => mb_substr($rule['department_name'].' ('.$text['button-copy'].')', 0, 255)]) !== null;
		},
		'toggle' => function (string $uuid) use ($store): bool {
			$rule = $store->find('v_voice_transfer_rules', $uuid);
			return $rule !== null && $store->update('v_voice_transfer_rules', $uuid, ['enabled' => !voice_page::is_true($rule['enabled'])]);
		},
		'delete' => function (string $uuid) use ($store): bool {
			return $store->delete('v_voice_transfer_rules', $uuid);
		},
	]);
	if ($done !== null) {
		header('Location: '.$view->back('voice_transfer_rules.php'));
		exit;
	}

//get the list
	$secretaries = [];
	foreach ($list->all('v_voice_secretaries') as $row) {
		$secretaries[$row['voice_secretary_uuid']] = $row['name'];
	}
	$parameters = [];
	$where = $view->search_where($parameters);
	$num_rows = $list->count('v_voice_transfer_rules', $where, $parameters);
	[$paging_controls, $paging_controls_mini] = $view->paging($num_rows);
	$rules = $list->all('v_voice_transfer_rules', $where, $parameters, $view->order_sql('department_name asc'), $view->rows_per_page, $view->offset());

//create token
	$object = new token;
	$token = $object->create($_SERVER['PHP_SELF']);

//include the header
	$document['title'] = $text['title-voice_transfer_rules'];
	require_once "resources/header.php";

//show the content
	$buttons = '';
	if (permission_exists('voice_transfer_rule_add')) {
		$buttons .= button::create(['type'=>'button','label'=>$text['button-add'],'icon'=>$settings->get('theme', 'button_icon_add'),'id'=>'btn_add','link'=>'voice_transfer_rule_edit.php']);
	}
	echo $view->action_bar($text['title-voice_transfer_rules'], $num_rows, ['copy', 'toggle', 'delete'], !empty($rules), $buttons, 'voice_transfer_rule_all', $paging_controls_mini);
	echo escape($text['description-voice_transfer_rules'])."\n";
	echo "<br /><br />\n";
	echo $view->table_start(!$show_all, !empty($rules), 'transfer_rules');
	foreach ($rules as $x => $row) {
		$own = $row['domain_uuid'] === $_SESSION['domain_uuid'];
		$url = ($own && permission_exists('voice_transfer_rule_edit')) ? "voice_transfer_rule_edit.php?id=".urlencode($row['transfer_rule_uuid']) : '';
		echo voice_list::row_start($url);
		if (!$show_all) {
			echo $view->checkbox_cell($x, $row['transfer_rule_uuid'], $own);
		}
		if ($show_all) {
			echo "	<td>".escape($row['domain_name'])."</td>\n";
		}
		echo "	<td>".($url !== '' ? "<a href='".escape($url)."'>".escape($row['department_name'])."</a>" : escape($row['department_name']))."</td>\n";
		echo "	<td>".escape(implode(', ', voice_tenant_store::parse_text_array($row['keywords'])))."</td>\n";
		echo "	<td>".escape($row['transfer_extension'])."</td>\n";
		echo "	<td>".escape($row['voice_secretary_uuid'] ? ($secretaries[$row['voice_secretary_uuid']] ?? '') : $text['label-all_secretaries'])."</td>\n";
		echo "	<td>".escape((string) $row['priority'])."</td>\n";
		echo "	<td>".escape($text['option-fallback_'.$row['fallback_action']] ?? $row['fallback_action'])."</td>\n";
		echo $view->enabled_cell($x, $row['enabled'], $own);
		echo "</tr>\n";
	}
	echo $view->table_end($paging_controls, $token);

//include the footer
	require_once "resources/footer.php";
