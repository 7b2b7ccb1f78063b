<?php
/*
	Voice Secretary — voice_list: what every list page of the app shares, done the way FusionPBX 5.5's
	own lists (app/ring_groups, app/call_flows) do it:
	* sortable columns: th_order_by() headings, ?order_by=<column>&order=asc|desc, only the page's
	  own columns accepted;
	* a search box (?search=) matched case-insensitively against the page's text columns;
	* FusionPBX paging (resources/paging.php, ?page= from 0) with the rows per page of the user's
	  Domain > Paging setting (user setting over domain over default, 50 when unset);
	* select-all, and Copy / Toggle / Delete buttons in the action bar, hidden until a row is
	  checked, each asking through FusionPBX's confirmation modal before the list form is posted;
	* clickable rows (<tr href>), Enabled as a link that toggles the row, the theme's button icons.
	The page keeps its own SQL (through voice_tenant_store) and its own row cells.
*/

class voice_list {

	/** @var array */
	private $text;

	/** @var settings */
	private $settings;

	/** @var string the list's form name (the rows post as <name>[n][checked|uuid]) */
	public $name;

	/** @var array action (copy, toggle, delete, or a page's own) => the permission it needs */
	private $permissions;

	/** @var array column => [label, css, sortable (default true)] of the headings */
	private $columns;

	/** @var string[] SQL expressions the search matches */
	private $search_columns;

	/** @var string current sort column (one of $columns) */
	public $order_by;

	/** @var string 'asc' or 'desc' */
	public $order;

	/** @var string the search text */
	public $search;

	/** @var int page number from 0 */
	public $page;

	/** @var int */
	public $rows_per_page;

	/** @var bool Show All (every domain, read-only) */
	public $show_all;

	public function __construct(array $text, $settings, string $name, array $permissions, array $columns, string $default_order, string $default_direction, array $search_columns, bool $show_all) {
		$this->text = $text;
		$this->settings = $settings;
		$this->name = $name;
		$this->permissions = $permissions;
		$this->columns = $columns;
		$this->search_columns = $search_columns;
		$this->show_all = $show_all;
		$order_by = voice_page::text($_GET, 'order_by');
		$this->order_by = (isset($columns[$order_by]) && ($columns[$order_by][2] ?? true)) ? $order_by : $default_order;
		$order = voice_page::text($_GET, 'order');
		$this->order = in_array($order, ['asc', 'desc'], true) ? $order : ($order_by === '' ? $default_direction : 'asc');
		$this->search = mb_substr(trim(voice_page::text($_REQUEST, 'search')), 0, 100);
		$this->page = voice_page::integer($_GET, 'page', 0, 1000000);
		$rows = (int) $settings->get('domain', 'paging', 50);
		$this->rows_per_page = $rows > 0 ? $rows : 50;
	}

	/** "and (…)" matching the search text, its parameter added to $parameters ('' without a search). */
	public function search_where(array &$parameters): string {
		if ($this->search === '' || empty($this->search_columns)) {
			return '';
		}
		$parameters['search'] = '%'.str_replace(['\\', '%', '_'], ['\\\\', '\\%', '\\_'], mb_strtolower($this->search)).'%';
		$matches = [];
		foreach ($this->search_columns as $expression) {
			$matches[] = "lower(cast(".$expression." as text)) like :search";
		}
		return "and (".implode(' or ', $matches).") ";
	}

	/** The ORDER BY of the list: domain first under Show All, then the chosen column. */
	public function order_sql(string $tie_breaker = ''): string {
		return ($this->show_all ? 'domain_name asc, ' : '').$this->order_by.' '.$this->order.' nulls last'.($tie_breaker !== '' ? ', '.$tie_breaker : '');
	}

	/** Offset of the current page. */
	public function offset(): int {
		return $this->page * $this->rows_per_page;
	}

	/** The query string the headings, paging and actions keep (search, show=all, sort), starting with "&". */
	public function param(bool $with_order = true): string {
		$param = '';
		if ($this->search !== '') {
			$param .= '&search='.urlencode($this->search);
		}
		if ($this->show_all) {
			$param .= '&show=all';
		}
		if ($with_order) {
			$param .= '&order_by='.urlencode($this->order_by).'&order='.$this->order;
		}
		return $param;
	}

	/** [full controls, mini controls] for $num_rows rows (FusionPBX's paging()). */
	public function paging(int $num_rows): array {
		[$controls] = paging($num_rows, $this->param(), $this->rows_per_page);
		[$mini] = paging($num_rows, $this->param(), $this->rows_per_page, true);
		return [$controls, $mini];
	}

	/** The uuids of the rows checked in the posted list form. */
	public function checked(): array {
		$uuids = [];
		foreach ((array) ($_POST[$this->name] ?? []) as $record) {
			if (is_array($record) && ($record['checked'] ?? '') === 'true' && is_string($record['uuid'] ?? null) && is_uuid($record['uuid'])) {
				$uuids[] = $record['uuid'];
			}
		}
		return $uuids;
	}

	/** True when $action is offered: its permission, at least one row, and not under Show All (read-only). */
	public function allows(string $action, bool $has_rows): bool {
		return $has_rows && !$this->show_all && isset($this->permissions[$action]) && permission_exists($this->permissions[$action]);
	}

	/**
	 * The action bar: heading with the count, $buttons (the page's own, e.g. Add), the hidden
	 * Copy/Toggle/Delete buttons of $actions, Show All, the search box and the mini paging.
	 */
	public function action_bar(string $title, int $count, array $actions, bool $has_rows, string $buttons, string $show_all_permission, string $mini_paging, string $filters = ''): string {
		$html = "<div class='action_bar' id='action_bar'>\n";
		$html .= "	<div class='heading'><b>".escape($title)."</b><div class='count'>".escape(number_format($count))."</div></div>\n";
		$html .= "	<div class='actions'>\n".$buttons;
		foreach ($actions as $action) {
			if ($this->allows($action, $has_rows)) {
				$html .= button::create(['type' => 'button', 'label' => $this->text['button-'.$action], 'icon' => $this->settings->get('theme', 'button_icon_'.$action),
					'id' => 'btn_'.$action, 'name' => 'btn_'.$action, 'style' => 'display: none;', 'onclick' => "modal_open('modal-".$action."','btn_".$action."');"]);
			}
		}
		$html .= "		<form id='form_search' class='inline' method='get'>\n";
		if (permission_exists($show_all_permission)) {
			if ($this->show_all) {
				$html .= "		<input type='hidden' name='show' value='all'>\n";
			}
			else {
				$html .= button::create(['type' => 'button', 'label' => $this->text['button-show_all'], 'icon' => $this->settings->get('theme', 'button_icon_all'), 'id' => 'btn_show_all', 'link' => '?show=all']);
			}
		}
		$html .= $filters;
		$html .= "		<input type='text' class='txt list-search' name='search' id='search' value=\"".escape($this->search)."\" placeholder=\"".escape($this->text['label-search'])."\">\n";
		$html .= button::create(['type' => 'submit', 'label' => $this->text['button-search'], 'icon' => $this->settings->get('theme', 'button_icon_search'), 'id' => 'btn_search']);
		if ($mini_paging !== '') {
			$html .= "<span style='margin-left: 15px;'>".$mini_paging."</span>";
		}
		$html .= "		</form>\n	</div>\n	<div style='clear: both;'></div>\n</div>\n";
		foreach ($actions as $action) {
			if ($this->allows($action, $has_rows)) {
				$html .= modal::create(['id' => 'modal-'.$action, 'type' => $action, 'actions' => button::create(['type' => 'button', 'label' => $this->text['button-continue'],
					'icon' => 'check', 'id' => 'btn_'.$action.'_continue', 'style' => 'float: right; margin-left: 15px;', 'collapse' => 'never',
					'onclick' => "modal_close(); list_action_set('".$action."'); list_form_submit('form_list');"])]);
			}
		}
		return $html;
	}

	/** Start of the list form and table, with the select-all box and the sortable headings. */
	public function table_start(bool $checkboxes, bool $has_rows, string $table_id): string {
		$html = "<form id='form_list' method='post'>\n";
		$html .= "<input type='hidden' id='action' name='action' value=''>\n";
		$html .= "<input type='hidden' name='search' value=\"".escape($this->search)."\">\n";
		$html .= "<div class='card'>\n<table class='list' id='".escape($table_id)."'>\n<tr class='list-header'>\n";
		if ($checkboxes) {
			$html .= "	<th class='checkbox'><input type='checkbox' id='checkbox_all' name='checkbox_all' onclick='list_all_toggle(); checkbox_on_change(this);'".($has_rows ? '' : " style='visibility: hidden;'")."></th>\n";
		}
		if ($this->show_all) {
			$html .= th_order_by('domain_name', $this->text['label-domain'], $this->order_by, $this->order, null, '', $this->param(false))."\n";
		}
		foreach ($this->columns as $column => $heading) {
			[$label, $css] = $heading;
			$html .= ($heading[2] ?? true) ? th_order_by($column, $label, $this->order_by, $this->order, null, $css, $this->param(false))."\n" : "<th ".$css.">".escape($label)."</th>\n";
		}
		return $html."</tr>\n";
	}

	/** End of the table, the paging controls, the token and the form. */
	public function table_end(string $paging_controls, array $token): string {
		return "</table>\n</div>\n<br />\n<div align='center'>".$paging_controls."</div>\n".voice_page::token_input($token)."</form>\n";
	}

	/** The opening <tr> of a row: clickable ($url '' for none). */
	public static function row_start(string $url, string $attributes = ''): string {
		return "<tr class='list-row' href='".escape($url)."'".($attributes !== '' ? ' '.$attributes : '').">\n";
	}

	/** The checkbox cell of row $x; a row of another domain (Show All) gets none. */
	public function checkbox_cell(int $x, string $uuid, bool $own): string {
		$html = "	<td class='checkbox'>";
		if ($own) {
			$html .= "<input type='checkbox' name='".escape($this->name)."[".$x."][checked]' id='checkbox_".$x."' value='true' onclick=\"checkbox_on_change(this); if (!this.checked) { document.getElementById('checkbox_all').checked = false; }\">";
			$html .= "<input type='hidden' name='".escape($this->name)."[".$x."][uuid]' value='".escape($uuid)."'>";
		}
		return $html."</td>\n";
	}

	/** The Enabled cell: a link-button that toggles this row (with the edit permission), else the word. */
	public function enabled_cell(int $x, $enabled, bool $own): string {
		$label = $this->text['label-'.(voice_page::is_true($enabled) ? 'true' : 'false')];
		if ($own && $this->allows('toggle', true)) {
			return "	<td class='no-link center'>".button::create(['type' => 'submit', 'class' => 'link', 'label' => escape($label), 'title' => $this->text['button-toggle'],
				'id' => 'btn_toggle_'.$x, 'onclick' => "list_self_check('checkbox_".$x."'); list_action_set('toggle'); list_form_submit('form_list')"])."</td>\n";
		}
		return "	<td class='center'>".escape($label)."</td>\n";
	}

	/**
	 * Run the posted action on the checked rows: $handlers action => function (string $uuid): bool.
	 * Checks the token and the permission; returns how many rows the handler changed, or null when
	 * nothing was posted. The page then redirects back keeping the search.
	 */
	public function run_posted_action(array $handlers): ?int {
		$action = voice_page::text($_POST, 'action');
		if ($action === '') {
			return null;
		}
		$token = new token;
		if (!$token->validate($_SERVER['PHP_SELF'])) {
			message::add($this->text['message-invalid_token'], 'negative');
			return 0;
		}
		if (!isset($handlers[$action]) || !$this->allows($action, true)) {
			return 0;
		}
		$done = 0;
		foreach ($this->checked() as $uuid) {
			if ($handlers[$action]($uuid)) {
				$done++;
			}
		}
		if ($done > 0) {
			message::add($this->text['message-'.$action]);
		}
		return $done;
	}

	/** Where to go after a posted action: the list again, with its search. */
	public function back(string $page): string {
		return $page.($this->search !== '' ? '?search='.urlencode($this->search) : '');
	}
}
