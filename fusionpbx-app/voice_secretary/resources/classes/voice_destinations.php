<?php
/*
	Voice Secretary — voice_destinations: the destination picker of transfer rules and call handling
	settings. It lists what the domain already has in FusionPBX, from FusionPBX's own tables:
	extensions (do-not-disturb shown), ring groups, call-center queues, voicemail boxes (*99<box>, the
	voicemail feature code FusionPBX's own destination list uses) and IVR menus — enabled ones only.
	The stored value is what the edge dials with "transfer <value> XML <domain name>": a plain number,
	always inside the domain's own context, so it passes shared/policies/transfer_destination.json.
	A table whose FusionPBX app is not installed is skipped.
*/

class voice_destinations {

	/** group => [table, SQL for value and label (with :domain_uuid), natural order column] */
	const sources = [
		'extensions' => ['v_extensions', "select extension as value, extension || case when coalesce(effective_caller_id_name, '') <> '' then ' ' || effective_caller_id_name else '' end as label, cast(do_not_disturb as text) = 'true' as dnd from v_extensions where domain_uuid = :domain_uuid and cast(enabled as text) = 'true'", 'extension'],
		'ring_groups' => ['v_ring_groups', "select ring_group_extension as value, ring_group_extension || ' ' || coalesce(ring_group_name, '') as label, false as dnd from v_ring_groups where domain_uuid = :domain_uuid and cast(ring_group_enabled as text) = 'true'", 'ring_group_extension'],
		'call_center_queues' => ['v_call_center_queues', "select queue_extension as value, queue_extension || ' ' || coalesce(queue_name, '') as label, false as dnd from v_call_center_queues where domain_uuid = :domain_uuid", 'queue_extension'],
		'voicemails' => ['v_voicemails', "select '*99' || voicemail_id as value, voicemail_id || case when coalesce(voicemail_description, '') <> '' then ' ' || voicemail_description else '' end as label, false as dnd from v_voicemails where domain_uuid = :domain_uuid and cast(voicemail_enabled as text) = 'true'", 'voicemail_id'],
		'ivr_menus' => ['v_ivr_menus', "select ivr_menu_extension as value, ivr_menu_extension || ' ' || coalesce(ivr_menu_name, '') as label, false as dnd from v_ivr_menus where domain_uuid = :domain_uuid and cast(ivr_menu_enabled as text) = 'true'", 'ivr_menu_extension'],
	];

	/**
	 * The domain's destinations: group => [value => label]; values the edge would refuse are left out.
	 *
	 * @param array $text the page's strings (label-dnd marks an extension in do-not-disturb)
	 */
	public static function options($database, string $domain_uuid, array $text): array {
		$groups = [];
		foreach (self::sources as $group => [$table, $sql, $order]) {
			if (!$database->select("select to_regclass(:table) is not null", ['table' => $table], 'column')) {
				continue;
			}
			$rows = $database->select($sql." order by length(".$order."), ".$order, ['domain_uuid' => $domain_uuid], 'all');
			foreach (is_array($rows) ? $rows : [] as $row) {
				if ((string) $row['value'] === '' || voice_transfer_destination::problem((string) $row['value']) !== null) {
					continue;
				}
				$groups[$group][$row['value']] = $row['label'].(voice_page::is_true($row['dnd']) ? ' ('.$text['label-dnd'].')' : '');
			}
		}
		return $groups;
	}

	/** The picker: grouped options, the stored value kept (as "other") when it is none of them. */
	public static function select(string $name, string $selected, array $groups, array $text, bool $required = false): string {
		$html = "<select class='formfld' name='".escape($name)."' id='".escape($name)."'".($required ? " required='required'" : '').">\n";
		$html .= "	<option value=''></option>\n";
		$found = false;
		foreach ($groups as $group => $options) {
			$html .= "	<optgroup label=\"".escape($text['label-destinations_'.$group])."\">\n";
			foreach ($options as $value => $label) {
				$is = (string) $value === $selected;
				$found = $found || $is;
				$html .= "		<option value=\"".escape((string) $value)."\"".($is ? " selected='selected'" : '').">".escape((string) $label)."</option>\n";
			}
			$html .= "	</optgroup>\n";
		}
		if (!$found && $selected !== '') {
			$html .= "	<optgroup label=\"".escape($text['label-destinations_other'])."\">\n";
			$html .= "		<option value=\"".escape($selected)."\" selected='selected'>".escape($selected)."</option>\n";
			$html .= "	</optgroup>\n";
		}
		return $html."</select>";
	}
}
