<?php
/*
	Voice Secretary — the menu entries: one per page under Applications, each shown to the groups
	that hold the page's view permission (FusionPBX's Menu Defaults adds them; see
	deploy/fusionpbx-app.md for adding them to a customised menu without resetting it).
*/

	$voice_menu = [
		//uuid, en-us, pt-br, path
		['420cd340-4827-4999-bc23-c982b40e916b', 'Voice Secretaries', 'Secretárias Virtuais', 'voice_secretaries.php'],
		['e2ba1fc6-465a-43e0-9209-c30b07050f72', 'Voice AI Providers', 'Provedores de IA', 'voice_ai_providers.php'],
		['84ce8f48-fd19-44d1-aac2-779bd881f9c7', 'Voice Knowledge Base', 'Base de Conhecimento', 'voice_documents.php'],
		['beefe23f-0a03-41a7-8ebd-18d0d6808b78', 'Voice Transfer Rules', 'Regras de Transferência', 'voice_transfer_rules.php'],
		['30113f73-a239-435a-8dab-bb6ac86ae7eb', 'Voice Conversations', 'Conversas da Secretária', 'voice_conversations.php'],
		['af49ef90-3c6f-49a4-8a97-6ec2243e25bb', 'Voice Call Handling', 'Atendimento da Secretária', 'voice_domain_settings.php'],
	];
	$y = 0;
	foreach ($voice_menu as [$voice_menu_uuid, $voice_menu_en, $voice_menu_pt, $voice_menu_page]) {
		$apps[$x]['menu'][$y]['title']['en-us'] = $voice_menu_en;
		$apps[$x]['menu'][$y]['title']['pt-br'] = $voice_menu_pt;
		$apps[$x]['menu'][$y]['uuid'] = $voice_menu_uuid;
		$apps[$x]['menu'][$y]['parent_uuid'] = "fd29e39c-c936-f5fc-8e2b-611681b266b5"; //Applications
		$apps[$x]['menu'][$y]['category'] = "internal";
		$apps[$x]['menu'][$y]['icon'] = "";
		$apps[$x]['menu'][$y]['path'] = "/app/voice_secretary/".$voice_menu_page;
		$apps[$x]['menu'][$y]['order'] = "";
		$apps[$x]['menu'][$y]['groups'][] = "superadmin";
		$apps[$x]['menu'][$y]['groups'][] = "admin";
		$y++;
	}
	unset($voice_menu, $voice_menu_uuid, $voice_menu_en, $voice_menu_pt, $voice_menu_page);

?>
