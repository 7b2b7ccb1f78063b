<?php
/*
	Stand-in for FusionPBX's button class: create() renders a button (or a link-button) from the
	same array of options: type, label, icon, id, name, link, onclick, style, title. Like
	FusionPBX's, it prints label and onclick as given: callers pass trusted or escaped text.
*/

class button {

	public static function create($array) {
		$label = $array['label'] ?? ($array['title'] ?? '');
		$id = isset($array['id']) ? " id='".htmlspecialchars($array['id'], ENT_QUOTES)."'" : '';
		$style = isset($array['style']) ? " style='".htmlspecialchars($array['style'], ENT_QUOTES)."'" : '';
		if (!empty($array['link'])) {
			return "<a class='btn'".$id.$style." href='".htmlspecialchars($array['link'], ENT_QUOTES)."'>".$label."</a>";
		}
		$type = $array['type'] ?? 'button';
		$name = isset($array['name']) ? " name='".htmlspecialchars($array['name'], ENT_QUOTES)."'" : '';
		$value = isset($array['value']) ? " value='".htmlspecialchars($array['value'], ENT_QUOTES)."'" : '';
		$onclick = isset($array['onclick']) ? " onclick=\"".$array['onclick']."\"" : '';
		return "<button type='".htmlspecialchars($type, ENT_QUOTES)."' class='btn'".$id.$name.$value.$style.$onclick.">".$label."</button>";
	}
}
