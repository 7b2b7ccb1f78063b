<?php
/*
	Base class of the app's PHPUnit tests: tenants (v_domains rows, removed with all their rows
	after each test), a browser-like HTTP client with a cookie jar, and token extraction from forms.
*/

use PHPUnit\Framework\TestCase;

abstract class StandinTestCase extends TestCase {

	/** @var string[] domains created by the test */
	private $domains = [];

	/** @var string cookie jar file of the current HTTP "browser" */
	private $cookie_jar = '';

	protected function pdo(): PDO {
		return $GLOBALS['standin_pdo'];
	}

	/** app_config.php's $apps[0], as FusionPBX includes it. */
	protected function app_config(): array {
		$apps = [];
		$x = 0;
		include STANDIN_DOCROOT.'/app/voice_secretary/app_config.php';
		return $apps[0];
	}

	/** Run $work with the default settings of $category (the app's own by default) changed as $changes says. */
	protected function with_settings(array $changes, callable $work, string $category = 'voice_secretary') {
		$config_file = STANDIN_DOCROOT.'/standin_config.json';
		$original = file_get_contents($config_file);
		$config = json_decode($original, true);
		$config['settings'][$category] = $changes + ($config['settings'][$category] ?? []);
		file_put_contents($config_file, json_encode($config));
		try {
			return $work();
		}
		finally {
			file_put_contents($config_file, $original);
		}
	}

	/** A new domain (tenant); returns [domain_uuid, domain_name]. */
	protected function make_domain(): array {
		$uuid = uuid();
		$name = substr($uuid, 0, 8).'.test';
		$this->pdo()->prepare("insert into v_domains (domain_uuid, domain_name) values (?, ?)")->execute([$uuid, $name]);
		$this->domains[] = $uuid;
		return [$uuid, $name];
	}

	/** Insert a row with the given columns; returns the row as read back. */
	protected function insert_row(string $table, array $row): array {
		$columns = array_keys($row);
		$statement = $this->pdo()->prepare("insert into ".$table." (".implode(', ', $columns).") values (:".implode(', :', $columns).") returning *");
		$statement->execute($row);
		return $statement->fetch(PDO::FETCH_ASSOC);
	}

	/** One row by a column value, or null. */
	protected function fetch_row(string $table, string $column, string $value): ?array {
		$statement = $this->pdo()->prepare("select * from ".$table." where ".$column." = ?");
		$statement->execute([$value]);
		$row = $statement->fetch(PDO::FETCH_ASSOC);
		return $row === false ? null : $row;
	}

	protected function tearDown(): void {
		foreach ($this->domains as $uuid) {
			foreach (['v_dialplan_details', 'v_dialplans', 'v_database_transactions', 'v_extensions', 'v_ring_groups', 'v_call_center_queues', 'v_voicemails', 'v_ivr_menus'] as $fusionpbx_table) {
				$this->pdo()->prepare("delete from ".$fusionpbx_table." where domain_uuid = ?")->execute([$uuid]);
			}
			$this->pdo()->prepare("delete from v_domains where domain_uuid = ?")->execute([$uuid]);
		}
		$this->domains = [];
		if ($this->cookie_jar !== '' && is_file($this->cookie_jar)) {
			unlink($this->cookie_jar);
		}
		$this->cookie_jar = '';
	}

	/** Log in (the stand-in's login page) as a user of $group in a domain, minus the permissions $without; a new cookie jar. */
	protected function login(array $domain, string $group = 'admin', array $without = []): void {
		$this->cookie_jar = tempnam(STANDIN_TMP, 'jar');
		$this->get('/login.php?'.http_build_query(['domain_uuid' => $domain[0], 'domain_name' => $domain[1], 'group' => $group, 'without' => implode(',', $without)]));
	}

	/** GET a path; returns [status, body, location]. */
	protected function get(string $path): array {
		return $this->request($path, null);
	}

	/** POST fields (and files: name => [path, client file name]) to a path. */
	protected function post(string $path, array $fields, array $files = []): array {
		foreach ($files as $name => [$file, $client_name]) {
			$fields[$name] = new CURLFile($file, 'application/octet-stream', $client_name);
		}
		return $this->request($path, $files ? $fields : http_build_query($fields));
	}

	/** GET the form page, then POST $fields with its token. */
	protected function submit(string $page, array $fields, array $files = [], string $form_path = null): array {
		[, $html] = $this->get($form_path ?? $page);
		$token = $this->token($html);
		$this->assertNotNull($token, 'the form carries a token');
		return $this->post($page, $fields + [$token[0] => $token[1]], $files);
	}

	/** The [name, hash] of the token input in a page, or null. */
	protected function token(string $html): ?array {
		if (preg_match("/<input type='hidden' name='(token_[0-9a-f]+)' value='([0-9a-f]+)'>/", $html, $m)) {
			return [$m[1], $m[2]];
		}
		return null;
	}

	/**
	 * The page with the entities of harmless characters decoded, as a browser reads it: FusionPBX 5.5's
	 * escape() (htmlentities) writes "_" as "&lowbar;" and ":" as "&colon;". The entities of < > & " '
	 * stay, so a test still sees what was escaped.
	 */
	protected static function readable(string $html): string {
		return preg_replace_callback('/&(?:[A-Za-z][A-Za-z0-9]*|#[0-9]+|#x[0-9A-Fa-f]+);/', function (array $m): string {
			$character = html_entity_decode($m[0], ENT_QUOTES | ENT_HTML5, 'UTF-8');
			return ($character === $m[0] || strpbrk($character, "<>&\"'") !== false) ? $m[0] : $character;
		}, $html);
	}

	private function request(string $path, $body): array {
		$curl = curl_init(STANDIN_BASE_URL.$path);
		curl_setopt_array($curl, [
			CURLOPT_RETURNTRANSFER => true,
			CURLOPT_HEADER => true,
			CURLOPT_FOLLOWLOCATION => false,
			CURLOPT_COOKIEJAR => $this->cookie_jar,
			CURLOPT_COOKIEFILE => $this->cookie_jar,
			CURLOPT_TIMEOUT => 20,
		]);
		if ($body !== null) {
			curl_setopt($curl, CURLOPT_POST, true);
			curl_setopt($curl, CURLOPT_POSTFIELDS, $body);
		}
		$response = curl_exec($curl);
		$this->assertIsString($response, 'the stand-in server answers');
		$status = curl_getinfo($curl, CURLINFO_RESPONSE_CODE);
		$header_size = curl_getinfo($curl, CURLINFO_HEADER_SIZE);
		curl_close($curl);
		$headers = substr($response, 0, $header_size);
		$html = self::readable(substr($response, $header_size));
		$location = preg_match('/^Location: (.*)$/mi', $headers, $m) ? trim($m[1]) : null;
		foreach (['Fatal error', 'Warning:', 'Notice:', 'Deprecated:', 'Parse error'] as $problem) {
			$this->assertStringNotContainsString($problem, $html, 'PHP reported a problem on '.$path);
		}
		//follow a redirect as a browser would
		if ($location !== null && in_array($status, [301, 302, 303], true)) {
			$next = strpos($location, '/') === 0 ? $location : dirname(parse_url($path, PHP_URL_PATH)).'/'.$location;
			[$status, $html] = $this->request($next, null);
		}
		return [$status, $html, $location];
	}
}
