<?php
/*
	Stand-in for FusionPBX's text class: get() returns the calling app's app_languages.php strings
	(plus the core strings FusionPBX's own language files provide) in the session language.
*/

class text {

	/** Core strings the app uses from FusionPBX's resources/app_languages.php. */
	const core = [
		'button-add' => ['en-us' => 'Add', 'pt-br' => 'Adicionar'],
		'button-back' => ['en-us' => 'Back', 'pt-br' => 'Voltar'],
		'button-delete' => ['en-us' => 'Delete', 'pt-br' => 'Excluir'],
		'button-save' => ['en-us' => 'Save', 'pt-br' => 'Salvar'],
		'button-search' => ['en-us' => 'Search', 'pt-br' => 'Pesquisar'],
		'button-show_all' => ['en-us' => 'Show All', 'pt-br' => 'Mostrar Todos'],
		'button-reset' => ['en-us' => 'Reset', 'pt-br' => 'Limpar'],
		'label-true' => ['en-us' => 'True', 'pt-br' => 'Verdadeiro'],
		'label-false' => ['en-us' => 'False', 'pt-br' => 'Falso'],
		'label-enabled' => ['en-us' => 'Enabled', 'pt-br' => 'Habilitado'],
		'label-description' => ['en-us' => 'Description', 'pt-br' => 'Descrição'],
		'label-domain' => ['en-us' => 'Domain', 'pt-br' => 'Domínio'],
		'message-add' => ['en-us' => 'Add Completed', 'pt-br' => 'Adicionado'],
		'message-update' => ['en-us' => 'Update Completed', 'pt-br' => 'Atualizado'],
		'message-delete' => ['en-us' => 'Delete Completed', 'pt-br' => 'Excluído'],
		'message-copy' => ['en-us' => 'Copy Completed', 'pt-br' => 'Copiado'],
		'message-toggle' => ['en-us' => 'Toggle Completed', 'pt-br' => 'Alternado'],
		'message-required' => ['en-us' => 'Please provide: ', 'pt-br' => 'Por favor, informe: '],
		'message-invalid_token' => ['en-us' => 'Invalid Token', 'pt-br' => 'Token inválido'],
		'confirm-delete' => ['en-us' => 'Do you really want to delete this?', 'pt-br' => 'Deseja realmente excluir?'],
		'confirm-copy' => ['en-us' => 'Do you really want to copy this?', 'pt-br' => 'Deseja realmente copiar?'],
		'confirm-toggle' => ['en-us' => 'Do you really want to toggle this?', 'pt-br' => 'Deseja realmente alternar?'],
		'modal_title-confirmation' => ['en-us' => 'Confirmation', 'pt-br' => 'Confirmação'],
		'button-copy' => ['en-us' => 'Copy', 'pt-br' => 'Copiar'],
		'button-toggle' => ['en-us' => 'Toggle', 'pt-br' => 'Alternar'],
		'button-next' => ['en-us' => 'Next', 'pt-br' => 'Próximo'],
		'button-continue' => ['en-us' => 'Continue', 'pt-br' => 'Continuar'],
		'button-cancel' => ['en-us' => 'Cancel', 'pt-br' => 'Cancelar'],
		'button-close' => ['en-us' => 'Close', 'pt-br' => 'Fechar'],
		'label-search' => ['en-us' => 'Search...', 'pt-br' => 'Pesquisar...'],
		'label-order' => ['en-us' => 'Order', 'pt-br' => 'Ordem'],
		'label-ascending' => ['en-us' => 'Ascending', 'pt-br' => 'Crescente'],
		'label-descending' => ['en-us' => 'Descending', 'pt-br' => 'Decrescente'],
	];

	public function get($language_code = null, $app_path = null) {
		$language_code = strtolower($language_code ?? ($_SESSION['domain']['language']['code'] ?? 'en-us'));
		$text = [];
		foreach (self::core as $key => $values) {
			$text[$key] = $values[$language_code] ?? $values['en-us'];
		}
		$caller = debug_backtrace(DEBUG_BACKTRACE_IGNORE_ARGS, 1)[0]['file'] ?? '';
		$file = ($app_path ?? dirname($caller)).'/app_languages.php';
		if (is_file($file)) {
			$text_app = (function ($file) { $text = []; include $file; return $text; })($file);
			foreach ($text_app as $key => $values) {
				$text[$key] = $values[$language_code] ?? ($values['en-us'] ?? '');
			}
		}
		return $text;
	}
}
