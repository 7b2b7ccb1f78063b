<?php
/*
	Voice Secretary — voice_document_upload: accepts a knowledge-base file from an HTML form.

	The file is checked (size, extension, and that its bytes are what the extension claims), then
	moved into <upload_dir>/<domain_uuid>/<document_uuid>.<ext>. Nothing of the client's file name
	is used in the path, so "../" in a name cannot escape the directory; the original name is kept
	only as a label. The upload directory must lie outside the web root.
*/

class voice_document_upload {

	/** Extensions the ingestion workers can extract text from. */
	const extensions = ['pdf', 'docx', 'txt', 'md'];

	/** @var string */
	private $upload_dir;

	/** @var int */
	private $max_bytes;

	public function __construct(string $upload_dir, int $max_bytes) {
		$this->upload_dir = rtrim($upload_dir, '/');
		$this->max_bytes = $max_bytes;
	}

	/**
	 * Why the file at $path (named $name by the client) is refused, as a language key, or null when
	 * it is acceptable. A pure check that tests can call on any file.
	 */
	public function refusal(string $name, string $path, int $size): ?string {
		if ($size <= 0) {
			return 'message-upload_empty';
		}
		if ($size > $this->max_bytes) {
			return 'message-upload_too_large';
		}
		$extension = self::extension($name);
		if (!in_array($extension, self::extensions, true)) {
			return 'message-upload_extension';
		}
		$bytes = @file_get_contents($path);
		if ($bytes === false || strlen($bytes) !== $size) {
			return 'message-upload_failed';
		}
		switch ($extension) {
			case 'pdf':
				$ok = substr($bytes, 0, 5) === '%PDF-';
				break;
			case 'docx':
				// A .docx is a zip archive whose directory names word/document.xml.
				$ok = substr($bytes, 0, 4) === "PK\x03\x04" && strpos($bytes, 'word/document.xml') !== false;
				break;
			default:
				$ok = strpos($bytes, "\0") === false && mb_check_encoding($bytes, 'UTF-8');
		}
		return $ok ? null : 'message-upload_content';
	}

	/**
	 * Check and store one entry of $_FILES; throws voice_upload_error (a language key as message).
	 *
	 * @return array columns for v_voice_documents: file_name, mime_type, file_size, content_hash, storage_path
	 */
	public function store(array $file, string $domain_uuid, string $document_uuid): array {
		if (!isset($file['error']) || is_array($file['error']) || $file['error'] !== UPLOAD_ERR_OK) {
			$code = $file['error'] ?? UPLOAD_ERR_NO_FILE;
			throw new voice_upload_error(in_array($code, [UPLOAD_ERR_INI_SIZE, UPLOAD_ERR_FORM_SIZE], true) ? 'message-upload_too_large' : 'message-upload_failed');
		}
		if (!is_uuid($domain_uuid) || !is_uuid($document_uuid) || !is_uploaded_file($file['tmp_name'])) {
			throw new voice_upload_error('message-upload_failed');
		}
		$name = self::display_name((string) $file['name']);
		$refusal = $this->refusal($name, $file['tmp_name'], (int) $file['size']);
		if ($refusal !== null) {
			throw new voice_upload_error($refusal);
		}
		$directory = $this->domain_directory($domain_uuid);
		$target = $directory.'/'.$document_uuid.'.'.self::extension($name);
		if (!move_uploaded_file($file['tmp_name'], $target)) {
			throw new voice_upload_error('message-upload_failed');
		}
		chmod($target, 0640);
		$finfo = new finfo(FILEINFO_MIME_TYPE);
		return [
			'file_name' => $name,
			'mime_type' => $finfo->file($target) ?: 'application/octet-stream',
			'file_size' => filesize($target),
			'content_hash' => hash_file('sha256', $target),
			'storage_path' => $target,
		];
	}

	/** Remove a stored file, only if it lies inside the upload directory. */
	public function remove(?string $storage_path): void {
		if ($storage_path === null || $storage_path === '') {
			return;
		}
		$base = realpath($this->upload_dir);
		$real = realpath($storage_path);
		if ($base !== false && $real !== false && strpos($real, $base.'/') === 0 && is_file($real)) {
			unlink($real);
		}
	}

	/** The largest file PHP itself lets through: upload_max_filesize and post_max_size (0 = no limit). */
	public static function php_limit(): int {
		$limits = [];
		foreach (['upload_max_filesize', 'post_max_size'] as $name) {
			$bytes = self::ini_bytes((string) ini_get($name));
			if ($bytes > 0) {
				$limits[] = $bytes;
			}
		}
		return $limits ? min($limits) : 0;
	}

	/** A php.ini size ("8M", "512K", "2G", "1048576") in bytes. */
	public static function ini_bytes(string $value): int {
		$value = trim($value);
		$units = ['k' => 1024, 'm' => 1048576, 'g' => 1073741824];
		$unit = strtolower(substr($value, -1));
		return isset($units[$unit]) ? intval(substr($value, 0, -1)) * $units[$unit] : intval($value);
	}

	/** The client's file name reduced to a harmless label (no directories, no control characters). */
	public static function display_name(string $name): string {
		$name = str_replace('\\', '/', $name);
		$name = basename($name);
		$name = preg_replace('/[\x00-\x1f\x7f]/u', '', $name) ?? '';
		$name = trim($name, " .");
		if ($name === '') {
			$name = 'document';
		}
		return mb_substr($name, 0, 200);
	}

	/** The lower-case extension of a file name ('' when none). */
	public static function extension(string $name): string {
		$extension = strtolower(pathinfo($name, PATHINFO_EXTENSION));
		return preg_match('/^[a-z0-9]{1,8}$/', $extension) ? $extension : '';
	}

	/** <upload_dir>/<domain_uuid>, created on demand; refuses a directory inside the web root. */
	private function domain_directory(string $domain_uuid): string {
		if (!is_dir($this->upload_dir) && !@mkdir($this->upload_dir, 0750, true)) {
			throw new voice_upload_error('message-upload_directory');
		}
		$base = realpath($this->upload_dir);
		$web_root = !empty($_SERVER['DOCUMENT_ROOT']) ? realpath($_SERVER['DOCUMENT_ROOT']) : false;
		if ($base === false || ($web_root !== false && ($base === $web_root || strpos($base.'/', $web_root.'/') === 0))) {
			throw new voice_upload_error('message-upload_directory');
		}
		$directory = $base.'/'.$domain_uuid;
		if (!is_dir($directory) && !@mkdir($directory, 0750)) {
			throw new voice_upload_error('message-upload_directory');
		}
		return $directory;
	}
}
