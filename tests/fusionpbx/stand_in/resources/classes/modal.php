<?php
/*
	Stand-in for FusionPBX's modal class: create(['id', 'type' => copy|toggle|delete, 'actions']) renders
	the hidden confirmation window a list's Copy/Toggle/Delete button opens (modal_open()); its Cancel
	button and the × close it, the page's Continue button (in 'actions') submits the list.
*/

class modal {

	public static function create($array) {
		$language = new text;
		$text = $language->get();
		$type = $array['type'] ?? '';
		$title = $array['title'] ?? $text['modal_title-confirmation'];
		$message = $array['message'] ?? ($text['confirm-'.$type] ?? '');
		$html = "<div id='".htmlspecialchars($array['id'] ?? 'modal', ENT_QUOTES)."' class='modal-window'>\n<div>\n";
		$html .= "	<span title=\"".escape($text['button-close'])."\" class='modal-close' onclick=\"modal_close();\">&times</span>\n";
		$html .= "	<span class='modal-title'>".escape($title)."</span>\n";
		$html .= "	<span class='modal-message'>".escape($message)."</span>\n";
		$html .= "	<span class='modal-actions'>".button::create(['type' => 'button', 'label' => $text['button-cancel'], 'icon' => 'times', 'id' => 'btn_cancel', 'onclick' => 'modal_close();']).($array['actions'] ?? '')."</span>\n";
		return $html."</div>\n</div>\n";
	}
}
