<?php
/*
	Voice Secretary — voice_page: small pieces of markup shared by the app's pages (form rows and
	fields, request values), so that every page escapes its output the same way. The pages are reached
	from FusionPBX's Applications menu (app_menu.php); list pages share voice_list.
*/

class voice_page {

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

	/** Start a titled section of an edit form (closing the previous one): a card with its own table. */
	public static function section_start(string $title): string {
		static $open = false;
		$html = $open ? "</table>\n</div>\n<br />\n" : '';
		$open = true;
		return $html."<div class='card form_section'>\n<div class='subheading'><b>".escape($title)."</b></div>\n<table width='100%' border='0' cellpadding='0' cellspacing='0'>\n";
	}

	/** Close the last section of an edit form. */
	public static function section_end(): string {
		return "</table>\n</div>\n";
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

	/** A true/false field: FusionPBX's toggle switch (the select inside span.switch) when the theme's input_toggle_style is a switch. */
	public static function boolean(string $name, bool $value, array $text): string {
		global $input_toggle_style_switch;
		$select = self::select($name, ['true' => $text['label-true'] ?? 'True', 'false' => $text['label-false'] ?? 'False'], $value ? 'true' : 'false');
		return !empty($input_toggle_style_switch) ? "<span class='switch'>".$select."<span class='slider'></span></span>" : $select;
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
