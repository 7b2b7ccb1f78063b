<?php
/*
	Puts one ingestion task on Redis exactly as the app's upload page does (voice_task_queue), for the
	Python test that has a real Celery worker consume it.

	usage: php enqueue_ingest.php <redis url> <domain uuid> <document uuid>
	prints "queued" or "unreachable"
*/

	require_once __DIR__.'/stand_in/resources/functions.php';
	foreach (['voice_celery_message', 'voice_redis_client', 'voice_task_queue'] as $class) {
		require_once dirname(__DIR__, 2).'/fusionpbx-app/voice_secretary/resources/classes/'.$class.'.php';
	}
	if ($argc !== 4) {
		fwrite(STDERR, "usage: php enqueue_ingest.php <redis url> <domain uuid> <document uuid>\n");
		exit(2);
	}
	$queue = new voice_task_queue($argv[1]);
	echo $queue->enqueue_ingest($argv[2], $argv[3]) ? "queued\n" : "unreachable\n";
