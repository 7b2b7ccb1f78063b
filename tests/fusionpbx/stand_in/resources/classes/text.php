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
		'message-required' => ['en-us' => 'Please provide: ', 'pt-br' => 'Por favor, informe: '],
		'message-invalid_token' => ['en-us' => 'Invalid Token', 'pt-br' => 'Token inválido'],
		'confirm-delete' => ['en-us' => 'Do you really want to delete this?', 'pt-br' => 'Deseja realmente excluir?'],
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
