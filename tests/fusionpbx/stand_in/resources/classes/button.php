<?php
/*
	Stand-in for FusionPBX's button class: create() renders a button (or a link-button) from the
	same array of options: type, label, icon, id, name, link, onclick, style, title, class. Like
	FusionPBX's, it prints label and onclick as given: callers pass trusted or escaped text. The icon
	is a Font Awesome class list, as the theme's button_icon_* settings give it ("fa-solid fa-plus"),
	or a bare name ("check") that FusionPBX prefixes with "fa-solid fa-".
*/

class button {

	public static function create($array) {
		$label = $array['label'] ?? '';
		if (!empty($array['icon'])) {
			$icon = strpos($array['icon'], ' ') === false && strpos($array['icon'], 'fa-') !== 0 ? 'fa-solid fa-'.$array['icon'] : $array['icon'];
			$label = "<span class='".htmlspecialchars($icon, ENT_QUOTES)." fa-fw'></span>".($label !== '' ? "<span class='button-label'>".$label."</span>" : '');
		}
		elseif ($label === '') {
			$label = $array['title'] ?? '';
		}
		$class = " class='".htmlspecialchars($array['class'] ?? 'btn btn-default', ENT_QUOTES)."'";
		$title = isset($array['title']) ? " title=\"".htmlspecialchars($array['title'], ENT_QUOTES)."\"" : '';
		$id = isset($array['id']) ? " id='".htmlspecialchars($array['id'], ENT_QUOTES)."'" : '';
		$style = isset($array['style']) ? " style='".htmlspecialchars($array['style'], ENT_QUOTES)."'" : '';
		if (!empty($array['link'])) {
			return "<a".$class.$id.$title.$style." href='".htmlspecialchars($array['link'], ENT_QUOTES)."'>".$label."</a>";
		}
		$type = $array['type'] ?? 'button';
		$name = isset($array['name']) ? " name='".htmlspecialchars($array['name'], ENT_QUOTES)."'" : '';
		$value = isset($array['value']) ? " value='".htmlspecialchars($array['value'], ENT_QUOTES)."'" : '';
		$onclick = isset($array['onclick']) ? " onclick=\"".$array['onclick']."\"" : '';
		return "<button type='".htmlspecialchars($type, ENT_QUOTES)."'".$class.$id.$name.$value.$title.$style.$onclick.">".$label."</button>";
	}
}
