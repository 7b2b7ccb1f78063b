<?php
/*
	Voice Secretary — voice_page: small pieces of markup shared by the app's pages (the section
	navigation and form rows), so that every page escapes its output the same way.
*/

class voice_page {

	/** Section => [list page, view permission, language key]. */
	const sections = [
		'secretaries' => ['voice_secretaries.php', 'voice_secretary_view', 'title-voice_secretaries'],
		'providers' => ['voice_ai_providers.php', 'voice_ai_provider_view', 'title-voice_ai_providers'],
		'documents' => ['voice_documents.php', 'voice_document_view', 'title-voice_documents'],
		'transfer_rules' => ['voice_transfer_rules.php', 'voice_transfer_rule_view', 'title-voice_transfer_rules'],
		'conversations' => ['voice_conversations.php', 'voice_conversation_view', 'title-voice_conversations'],
		'domain_settings' => ['voice_domain_settings.php', 'voice_domain_setting_view', 'title-voice_domain_settings'],
	];

	/**
	 * Request parameter $name as a string: '' when absent, and when it is not a string (?caller[]=x), so
	 * that an array never reaches string functions or a query. $source: $_GET, $_POST or $_REQUEST.
	 */
	public static function text(array $source, string $name): string {
		$value = $source[$name] ?? '';
		return is_string($value) ? $value : '';
	}

	/**
	 * Request parameter $name as an integer clamped to [$min, $max]; anything that is not a plain
	 * decimal number (an array, "abc", "1e3") is $min. A number too big for PHP (page=999999999999999999999)
	 * is $max, never a float.
	 */
	public static function integer(array $source, string $name, int $min, int $max): int {
		$value = trim(self::text($source, $name));
		if (!preg_match('/^-?\d+$/', $value)) {
			return $min;
		}
		if (strlen(ltrim($value, '-0')) > 18) {
			return $value[0] === '-' ? $min : $max;
		}
		return max($min, min($max, (int) $value));
	}

	/** The row of section links the user may open, the current one highlighted. */
	public static function nav(array $text, string $current): string {
		$html = "<div class='voice_nav' style='margin-bottom: 15px;'>\n";
		foreach (self::sections as $section => [$page, $permission, $label]) {
			if (!permission_exists($permission)) {
				continue;
			}
			$style = $section === $current ? "font-weight: bold; text-decoration: underline;" : "";
			$html .= "	<a class='voice_nav_item' id='nav_".$section."' href='".escape($page)."' style='margin-right: 15px; ".$style."'>".escape($text[$label] ?? $section)."</a>\n";
		}
		return $html."</div>\n";
	}

	/**
	 * A sentence for each value longer than its column allows ("<label>: at most N characters."),
	 * for each $key => $max of $limits whose value in $form is longer ('label-<key>' names the
	 * field). PostgreSQL counts characters, not bytes, in character varying(N).
	 */
	public static function length_errors(array $text, array $form, array $limits): array {
		$errors = [];
		foreach ($limits as $key => $max) {
			if (mb_strlen((string) ($form[$key] ?? '')) > $max) {
				$errors[] = sprintf($text['message-too_long'], $text['label-'.$key] ?? $key, $max);
			}
		}
		return $errors;
	}

	/** The error box of a form: "Please provide: <labels>", and sentences each on a line. */
	public static function form_errors(array $text, array $errors, array $sentences = []): string {
		if (empty($errors) && empty($sentences)) {
			return '';
		}
		$lines = [];
		if (!empty($errors)) {
			$lines[] = escape($text['message-required'].' '.implode(', ', $errors));
		}
		foreach ($sentences as $sentence) {
			$lines[] = escape($sentence);
		}
		return "<div class='message negative' id='form_errors'>".implode("<br />\n", $lines)."</div>\n";
	}

	/** True when a list page shows every domain: ?show=all and the table's *_all permission. */
	public static function show_all(string $permission): bool {
		return ($_GET['show'] ?? '') === 'all' && permission_exists($permission);
	}

	/** The "Show All" button of a list page, for a user holding $permission who does not see all yet. */
	public static function show_all_button(array $text, string $permission, bool $show_all): string {
		if ($show_all || !permission_exists($permission)) {
			return '';
		}
		return button::create(['type'=>'button','label'=>$text['button-show_all'],'icon'=>'globe','id'=>'btn_show_all','link'=>'?show=all']);
	}

	/** The checkbox cell of row $x of list $list; a row of another domain (Show All) gets none. */
	public static function checkbox_cell(string $list, int $x, string $uuid, bool $own): string {
		$html = "	<td class='checkbox'>";
		if ($own) {
			$html .= "<input type='checkbox' name='".escape($list)."[".$x."][checked]' id='checkbox_".$x."' value='true'>";
			$html .= "<input type='hidden' name='".escape($list)."[".$x."][uuid]' value='".escape($uuid)."'>";
		}
		return $html."</td>\n";
	}

	/** One label/field row of an edit form ($field_html is already escaped markup). */
	public static function row(string $label, string $field_html, string $description = '', bool $required = false): string {
		$html = "<tr>\n";
		$html .= "<td width='30%' class='".($required ? 'vncellreq' : 'vncell')."' valign='top' align='left' nowrap='nowrap'>".escape($label)."</td>\n";
		$html .= "<td width='70%' class='vtable' align='left'>\n	".$field_html."\n";
		if ($description !== '') {
			$html .= "<br />\n".escape($description)."\n";
		}
		return $html."</td>\n</tr>\n";
	}

	/** A text input with its value escaped. */
	public static function input(string $name, $value, string $type = 'text', string $extra = ''): string {
		return "<input class='formfld' type='".escape($type)."' name='".escape($name)."' id='".escape($name)."' value=\"".escape((string) $value)."\" ".$extra.">";
	}

	/** A textarea with its content escaped. */
	public static function textarea(string $name, $value, int $rows = 4): string {
		return "<textarea class='formfld' style='width: 100%; max-width: 600px;' rows='".$rows."' name='".escape($name)."' id='".escape($name)."'>".escape((string) $value)."</textarea>";
	}

	/** A select; $options value => label, both escaped; $empty adds a first '' option (a string: its label). */
	public static function select(string $name, array $options, $selected, $empty = false): string {
		$html = "<select class='formfld' name='".escape($name)."' id='".escape($name)."'>\n";
		if ($empty !== false) {
			$html .= "	<option value=''>".(is_string($empty) ? escape($empty) : '')."</option>\n";
		}
		foreach ($options as $value => $label) {
			$is = ((string) $value === (string) $selected) ? " selected='selected'" : '';
			$html .= "	<option value='".escape((string) $value)."'".$is.">".escape((string) $label)."</option>\n";
		}
		return $html."</select>";
	}

	/** A true/false select. */
	public static function boolean(string $name, bool $value, array $text): string {
		return self::select($name, ['true' => $text['label-true'] ?? 'True', 'false' => $text['label-false'] ?? 'False'], $value ? 'true' : 'false');
	}

	/** PostgreSQL booleans arrive as bool or 't'/'f'. */
	public static function is_true($value): bool {
		return in_array($value, [true, 't', 'true', 1, '1', 'on'], true);
	}

	/** The hidden token input of a form. */
	public static function token_input(array $token): string {
		return "<input type='hidden' name='".escape($token['name'])."' value='".escape($token['hash'])."'>\n";
	}
}
