<?php
/*
	The ingestion task message is a Celery protocol-2 message in kombu's Redis envelope. (That a real
	Celery worker consumes it is tested from Python: tests/test_fusionpbx_app.py.)
*/

class CeleryMessageTest extends StandinTestCase {

	public function test_the_envelope_carries_celery_protocol_2_headers_properties_and_body(): void {
		$domain_uuid = uuid();
		$document_uuid = uuid();
		$message = json_decode(voice_celery_message::envelope('voice_ai.documents.ingest', [$domain_uuid, $document_uuid], 'documents', 'a1b2c3d4-0000-4000-8000-000000000000'), true);

		$this->assertSame('application/json', $message['content-type']);
		$this->assertSame('utf-8', $message['content-encoding']);
		$headers = $message['headers'];
		$this->assertSame('py', $headers['lang']);
		$this->assertSame('voice_ai.documents.ingest', $headers['task']);
		$this->assertSame('a1b2c3d4-0000-4000-8000-000000000000', $headers['id']);
		$this->assertSame($headers['id'], $headers['root_id']);
		$this->assertSame("['".$domain_uuid."', '".$document_uuid."']", $headers['argsrepr']);
		$this->assertSame('{}', $headers['kwargsrepr']);
		$this->assertSame([null, null], $headers['timelimit']);
		$this->assertSame(0, $headers['retries']);
		$properties = $message['properties'];
		$this->assertSame($headers['id'], $properties['correlation_id']);
		$this->assertSame(['exchange' => '', 'routing_key' => 'documents'], $properties['delivery_info']);
		$this->assertSame('base64', $properties['body_encoding']);
		$this->assertTrue(is_uuid($properties['delivery_tag']));
		$this->assertSame(2, $properties['delivery_mode']);
		$body = json_decode(base64_decode($message['body'], true), true);
		$this->assertSame([[$domain_uuid, $document_uuid], [], ['callbacks' => null, 'errbacks' => null, 'chain' => null, 'chord' => null]], $body);
		$this->assertMatchesRegularExpression('/^\[\[.*\],\{\},\{/', base64_decode($message['body']), 'args a JSON list, kwargs a JSON object');
	}

	public function test_python_repr_matches_what_flower_shows(): void {
		$this->assertSame("['a', 'it\\'s', None, True, 3]", voice_celery_message::python_repr(['a', "it's", null, true, 3]));
		$this->assertSame("{'k': 'v'}", voice_celery_message::python_repr((object) ['k' => 'v']));
		$this->assertSame('[]', voice_celery_message::python_repr([]));
	}

	public function test_the_redis_client_pushes_onto_the_queue_list(): void {
		$redis = new voice_redis_client(STANDIN_REDIS_URL);
		$key = 'voice_secretary_test_'.bin2hex(random_bytes(4));
		$this->assertSame(1, $redis->lpush($key, "a\r\nb"));
		$this->assertSame(["a\r\nb"], $redis->command(['LRANGE', $key, '0', '-1']));
		$redis->command(['DEL', $key]);
	}

	public function test_an_unreachable_redis_is_reported_not_fatal(): void {
		$queue = new voice_task_queue('redis://127.0.0.1:1/0');
		$log = ini_set('error_log', '/dev/null');
		try {
			$this->assertFalse($queue->enqueue_ingest(uuid(), uuid()));
		}
		finally {
			ini_set('error_log', $log === false ? '' : $log);
		}
	}
}
