<?php
/*
	Stand-in for FusionPBX's resources/paging.php: paging($num_rows, $param, $rows_per_page, $mini)
	returns [controls html, rows per page]. Pages are numbered from 0 in ?page= (the list's offset is
	rows_per_page * page); the back/next buttons link to ?page=<n><param>, and are dimmed with no link
	at either end. No controls when everything fits on one page.
*/

	function paging($num_rows, $param, $rows_per_page, $mini = false, $result_count = 0) {
		$rows_per_page = is_numeric($rows_per_page) && $rows_per_page > 0 ? (int) $rows_per_page : 100;
		$page = (isset($_GET['page']) && is_numeric($_GET['page'])) ? (int) $_GET['page'] : 0;
		$pages = $num_rows > 0 ? (int) ceil($num_rows / $rows_per_page) : 1;
		if ($pages <= 1) {
			return ['', $rows_per_page];
		}
		$language = new text;
		$text = $language->get();
		$self = htmlspecialchars($_SERVER['PHP_SELF'], ENT_QUOTES, 'UTF-8');
		$param = (string) $param;
		$dim = ['onclick' => 'return false;', 'style' => 'opacity: 0.4; cursor: default;'];
		$back = $page > 0
			? button::create(['type' => 'button', 'label' => $mini ? null : $text['button-back'], 'icon' => 'chevron-left', 'id' => $mini ? 'btn_page_back_mini' : 'btn_page_back', 'link' => $self.'?page='.($page - 1).$param])
			: button::create(['type' => 'button', 'label' => $mini ? null : $text['button-back'], 'icon' => 'chevron-left', 'id' => $mini ? 'btn_page_back_mini' : 'btn_page_back'] + $dim);
		$next = ($page + 1) < $pages
			? button::create(['type' => 'button', 'label' => $mini ? null : $text['button-next'], 'icon' => 'chevron-right', 'id' => $mini ? 'btn_page_next_mini' : 'btn_page_next', 'link' => $self.'?page='.($page + 1).$param])
			: button::create(['type' => 'button', 'label' => $mini ? null : $text['button-next'], 'icon' => 'chevron-right', 'id' => $mini ? 'btn_page_next_mini' : 'btn_page_next'] + $dim);
		if ($mini) {
			return ["<span style='white-space: nowrap;'>".$back.$next."</span>\n", $rows_per_page];
		}
		$controls = "<center style='white-space: nowrap;'>".$back."&nbsp;&nbsp;&nbsp;<span class='paging_page'>".($page + 1)."&nbsp;/&nbsp;".$pages."</span>&nbsp;&nbsp;&nbsp;".$next."</center>\n";
		return [$controls, $rows_per_page];
	}
