<?php
/*
	Voice Secretary — voice_redis_client: the few Redis commands the app needs, spoken in RESP over a
	plain socket (no php-redis extension required). Connection failures raise RuntimeException.
*/

class voice_redis_client {

	/** @var resource|null */
	private $socket = null;

	/** @var string */
	private $url;

	/** @var float */
	private $timeout;

	/** @param string $url redis://[:password@]host[:port][/db] */
	public function __construct(string $url, float $timeout = 2.0) {
		$this->url = $url;
		$this->timeout = $timeout;
	}

	public function __destruct() {
		if (is_resource($this->socket)) {
			fclose($this->socket);
		}
	}

	/** Run one command; returns the reply (string, int, array or null). */
	public function command(array $arguments) {
		$this->connect();
		return $this->send($arguments);
	}

	/** LPUSH $value onto list $key; returns the new length. */
	public function lpush(string $key, string $value): int {
		return (int) $this->command(['LPUSH', $key, $value]);
	}

	private function connect(): void {
		if (is_resource($this->socket)) {
			return;
		}
		$parts = parse_url($this->url);
		if ($parts === false || !in_array($parts['scheme'] ?? '', ['redis', 'rediss'], true)) {
			throw new RuntimeException('unsupported redis url');
		}
		$host = $parts['host'] ?? '127.0.0.1';
		$port = $parts['port'] ?? 6379;
		$transport = ($parts['scheme'] === 'rediss') ? 'tls' : 'tcp';
		$socket = @stream_socket_client($transport.'://'.$host.':'.$port, $errno, $errstr, $this->timeout);
		if ($socket === false) {
			throw new RuntimeException('redis unreachable: '.$errstr);
		}
		stream_set_timeout($socket, (int) ceil($this->timeout));
		$this->socket = $socket;
		$password = isset($parts['pass']) ? rawurldecode($parts['pass']) : null;
		if ($password !== null && $password !== '') {
			$user = isset($parts['user']) && $parts['user'] !== '' ? rawurldecode($parts['user']) : null;
			$this->send($user !== null ? ['AUTH', $user, $password] : ['AUTH', $password]);
		}
		$database = isset($parts['path']) ? trim($parts['path'], '/') : '';
		if ($database !== '' && ctype_digit($database) && $database !== '0') {
			$this->send(['SELECT', $database]);
		}
	}

	private function send(array $arguments) {
		$payload = '*'.count($arguments)."\r\n";
		foreach ($arguments as $argument) {
			$argument = (string) $argument;
			$payload .= '$'.strlen($argument)."\r\n".$argument."\r\n";
		}
		for ($written = 0; $written < strlen($payload); $written += $n) {
			$n = fwrite($this->socket, substr($payload, $written));
			if ($n === false || $n === 0) {
				throw new RuntimeException('redis write failed');
			}
		}
		return $this->read_reply();
	}

	private function read_reply() {
		$line = fgets($this->socket);
		if ($line === false) {
			throw new RuntimeException('redis read failed');
		}
		$type = $line[0];
		$data = substr($line, 1, -2);
		switch ($type) {
			case '+':
				return $data;
			case '-':
				throw new RuntimeException('redis error: '.$data);
			case ':':
				return (int) $data;
			case '$':
				$length = (int) $data;
				if ($length < 0) {
					return null;
				}
				$bulk = '';
				while (strlen($bulk) < $length + 2) {
					$chunk = fread($this->socket, $length + 2 - strlen($bulk));
					if ($chunk === false || $chunk === '') {
						throw new RuntimeException('redis read failed');
					}
					$bulk .= $chunk;
				}
				return substr($bulk, 0, $length);
			case '*':
				$count = (int) $data;
				if ($count < 0) {
					return null;
				}
				$items = [];
				for ($i = 0; $i < $count; $i++) {
					$items[] = $this->read_reply();
				}
				return $items;
		}
		throw new RuntimeException('redis protocol error');
	}
}
