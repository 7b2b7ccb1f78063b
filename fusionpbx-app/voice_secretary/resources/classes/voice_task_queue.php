<?php
/*
	Voice Secretary — voice_task_queue: puts work for the Celery workers on their Redis queues.

	Task names, arguments and queues are the contract in shared/tasks.py. A failure to reach Redis is
	not an error for the operator: the document stays "pending" and the workers' periodic sweep
	(voice_ai.documents.sweep) ingests it later.
*/

class voice_task_queue {

	/** shared/tasks.py INGEST_DOCUMENT, args (domain_uuid, document_uuid), queue "documents". */
	const ingest_document = 'voice_ai.documents.ingest';
	const documents_queue = 'documents';

	/** @var string */
	private $redis_url;

	public function __construct(string $redis_url) {
		$this->redis_url = $redis_url;
	}

	/** Ask the workers to ingest a document; false when Redis could not be reached. */
	public function enqueue_ingest(string $domain_uuid, string $document_uuid): bool {
		$message = voice_celery_message::envelope(self::ingest_document, [$domain_uuid, $document_uuid], self::documents_queue);
		try {
			$redis = new voice_redis_client($this->redis_url);
			$redis->lpush(self::documents_queue, $message);
			return true;
		}
		catch (RuntimeException $e) {
			error_log('voice_secretary: document '.$document_uuid.' left pending for the sweep: '.$e->getMessage());
			return false;
		}
	}
}
