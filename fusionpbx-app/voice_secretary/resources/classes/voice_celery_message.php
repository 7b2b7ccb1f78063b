<?php
/*
	Voice Secretary — voice_celery_message: a Celery task message as kombu's Redis transport stores it.

	Celery workers read a queue by popping the Redis list named after it. Each list item is a JSON
	envelope (kombu's Redis transport): the task message's headers (Celery protocol 2: task, id,
	argsrepr, ...), its properties (correlation_id, delivery_info with the routing key, a
	delivery_tag, body_encoding base64) and the body, which is the base64 of the JSON triple
	[args, kwargs, embed]. Building it here, as a pure function, lets a test compare it with what
	Celery itself produces and have a real worker consume it.
*/

class voice_celery_message {

	/**
	 * The JSON string to LPUSH onto the Redis list $queue.
	 *
	 * @param string      $task    the registered task name (shared/tasks.py)
	 * @param array       $args    positional arguments (a JSON list)
	 * @param string      $queue   the Celery queue (also the routing key)
	 * @param string|null $task_id the task id (a new uuid when null)
	 */
	public static function envelope(string $task, array $args, string $queue, ?string $task_id = null, array $kwargs = []): string {
		$task_id = $task_id ?? uuid();
		$body = [array_values($args), (object) $kwargs, ['callbacks' => null, 'errbacks' => null, 'chain' => null, 'chord' => null]];
		$message = [
			'body' => base64_encode(json_encode($body, JSON_UNESCAPED_SLASHES)),
			'content-encoding' => 'utf-8',
			'content-type' => 'application/json',
			'headers' => [
				'lang' => 'py',
				'task' => $task,
				'id' => $task_id,
				'shadow' => null,
				'eta' => null,
				'expires' => null,
				'group' => null,
				'group_index' => null,
				'retries' => 0,
				'timelimit' => [null, null],
				'root_id' => $task_id,
				'parent_id' => null,
				'argsrepr' => self::python_repr(array_values($args)),
				'kwargsrepr' => self::python_repr((object) $kwargs),
				'origin' => 'fusionpbx@'.gethostname(),
				'ignore_result' => false,
				'replaced_task_nesting' => 0,
				'stamped_headers' => null,
				'stamps' => (object) [],
			],
			'properties' => [
				'correlation_id' => $task_id,
				'reply_to' => '',
				'delivery_mode' => 2,
				'delivery_info' => ['exchange' => '', 'routing_key' => $queue],
				'priority' => 0,
				'body_encoding' => 'base64',
				'delivery_tag' => uuid(),
			],
		];
		return json_encode($message, JSON_UNESCAPED_SLASHES);
	}

	/** Python's repr() of JSON-like values, as Celery shows arguments (argsrepr) in Flower. */
	public static function python_repr($value): string {
		if ($value === null) {
			return 'None';
		}
		if (is_bool($value)) {
			return $value ? 'True' : 'False';
		}
		if (is_int($value) || is_float($value)) {
			return (string) $value;
		}
		if (is_string($value)) {
			return "'".str_replace(['\\', "'", "\n"], ['\\\\', "\\'", '\\n'], $value)."'";
		}
		if (is_object($value) || (is_array($value) && array_keys($value) !== range(0, count($value) - 1) && count($value) > 0)) {
			$items = [];
			foreach ((array) $value as $key => $item) {
				$items[] = self::python_repr((string) $key).': '.self::python_repr($item);
			}
			return '{'.implode(', ', $items).'}';
		}
		$items = [];
		foreach ($value as $item) {
			$items[] = self::python_repr($item);
		}
		return '['.implode(', ', $items).']';
	}
}
