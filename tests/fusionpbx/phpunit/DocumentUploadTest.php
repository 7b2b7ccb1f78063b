<?php
/*
	Uploads: stored outside the web root under a generated name, row created "pending", an ingestion
	task pushed on the Celery "documents" queue in Redis; refused files leave no row; with Redis
	unreachable the upload still succeeds and stays pending.
*/

class DocumentUploadTest extends StandinTestCase {

	/** @var voice_redis_client */
	private $redis;

	protected function setUp(): void {
		$this->redis = new voice_redis_client(STANDIN_REDIS_URL);
		$this->redis->command(['DEL', 'documents']);
	}

	/** A temporary file with $bytes. */
	private function file_with(string $bytes): string {
		$path = tempnam(STANDIN_TMP, 'upload');
		file_put_contents($path, $bytes);
		return $path;
	}

	private function upload(string $bytes, string $client_name, array $fields = []): array {
		return $this->submit('/app/voice_secretary/voice_document_edit.php', $fields, ['document' => [$this->file_with($bytes), $client_name]]);
	}

	private function documents(string $domain_uuid): array {
		$statement = $this->pdo()->prepare("select * from v_voice_documents where domain_uuid = ?");
		$statement->execute([$domain_uuid]);
		return $statement->fetchAll(PDO::FETCH_ASSOC);
	}

	public function test_an_upload_is_stored_under_a_generated_name_and_queued_for_the_workers(): void {
		$domain = $this->make_domain();
		$secretary = $this->insert_row('v_voice_secretaries', ['domain_uuid' => $domain[0], 'name' => 'Ana']);
		$this->login($domain, 'admin');
		[, $html] = $this->upload("Horário: segunda a sexta, 8h às 18h.\n", '../../../etc/cron.d/faq.txt', ['voice_secretary_uuid' => $secretary['voice_secretary_uuid']]);
		$this->assertStringContainsString('being processed', $html);

		[$document] = $this->documents($domain[0]);
		$this->assertSame('pending', $document['status']);
		$this->assertSame('faq.txt', $document['file_name']);
		$this->assertSame($secretary['voice_secretary_uuid'], $document['voice_secretary_uuid']);
		$this->assertSame(STANDIN_TMP.'/uploads/'.$domain[0].'/'.$document['document_uuid'].'.txt', $document['storage_path']);
		$this->assertFileExists($document['storage_path']);
		$this->assertSame(hash_file('sha256', $document['storage_path']), $document['content_hash']);

		$queued = $this->redis->command(['LRANGE', 'documents', '0', '-1']);
		$this->assertCount(1, $queued);
		$message = json_decode($queued[0], true);
		$this->assertSame('voice_ai.documents.ingest', $message['headers']['task']);
		[$args, $kwargs] = json_decode(base64_decode($message['body']), true);
		$this->assertSame([$domain[0], $document['document_uuid']], $args);

		//re-process puts it back to pending and queues it again
		$this->pdo()->prepare("update v_voice_documents set status = 'failed', error_message = 'no text' where document_uuid = ?")->execute([$document['document_uuid']]);
		[, $html] = $this->get('/app/voice_secretary/voice_documents.php');
		$this->assertStringContainsString('no text', $html, 'the list shows why a file failed');
		$this->submit('/app/voice_secretary/voice_documents.php', ['action' => 'reprocess', 'voice_documents' => [['checked' => 'true', 'uuid' => $document['document_uuid']]]]);
		$this->assertSame('pending', $this->fetch_row('v_voice_documents', 'document_uuid', $document['document_uuid'])['status']);
		$this->assertSame(2, $this->redis->command(['LLEN', 'documents']));

		//delete removes the row and the stored file
		$this->submit('/app/voice_secretary/voice_documents.php', ['action' => 'delete', 'voice_documents' => [['checked' => 'true', 'uuid' => $document['document_uuid']]]]);
		$this->assertSame([], $this->documents($domain[0]));
		$this->assertFileDoesNotExist($document['storage_path']);
	}

	public function test_refused_files_leave_no_row_and_no_task(): void {
		$domain = $this->make_domain();
		$this->login($domain, 'admin');
		$cases = [
			['MZ binary', 'tool.exe', 'not accepted'],
			["plain text, not a pdf\n", 'report.pdf', 'does not match'],
			["PK\x03\x04 not a word document", 'letter.docx', 'does not match'],
			["bin\0ary", 'notes.txt', 'does not match'],
			[str_repeat('a', 70000), 'big.txt', 'larger than'],
			['', 'empty.txt', ''],
		];
		foreach ($cases as [$bytes, $name, $expected]) {
			[, $html] = $this->upload($bytes, $name);
			$this->assertStringContainsString("id='form_errors'", $html, $name);
			$this->assertStringContainsString($expected, $html, $name);
		}
		$this->assertSame([], $this->documents($domain[0]));
		$this->assertSame(0, $this->redis->command(['LLEN', 'documents']));
		$this->assertSame([], glob(STANDIN_TMP.'/uploads/'.$domain[0].'/*') ?: []);
	}

	public function test_with_redis_unreachable_the_upload_succeeds_and_stays_pending(): void {
		$domain = $this->make_domain();
		[, $html] = $this->with_settings(['redis_url' => 'redis://127.0.0.1:1/0'], function () use ($domain) {
			$this->login($domain, 'admin');
			return $this->upload("%PDF-1.4\n%minimal\n", 'manual.pdf');
		});
		$this->assertStringContainsString('will be processed shortly', $html);
		[$document] = $this->documents($domain[0]);
		$this->assertSame('pending', $document['status']);
		$this->assertFileExists($document['storage_path']);
	}

	public function test_the_upload_directory_may_not_be_inside_the_web_root(): void {
		$_SERVER['DOCUMENT_ROOT'] = STANDIN_DOCROOT;
		try {
			$upload = new voice_document_upload(STANDIN_DOCROOT.'/uploads', 1000);
			$method = new ReflectionMethod($upload, 'domain_directory');
			$method->setAccessible(true);
			$this->expectException(voice_upload_error::class);
			$method->invoke($upload, uuid());
		}
		finally {
			unset($_SERVER['DOCUMENT_ROOT']);
		}
	}

	public function test_display_names_lose_directories_and_control_characters(): void {
		$this->assertSame('passwd', voice_document_upload::display_name('../../etc/passwd'));
		$this->assertSame('a.txt', voice_document_upload::display_name("C:\\Users\\x\\a.txt"));
		$this->assertSame('ab.md', voice_document_upload::display_name("a\x00b.md"));
		$this->assertSame('document', voice_document_upload::display_name('..'));
	}

	public function test_deleting_a_secretary_removes_its_documents_files(): void {
		$domain = $this->make_domain();
		$secretary = $this->insert_row('v_voice_secretaries', ['domain_uuid' => $domain[0], 'name' => 'Ana']);
		$this->login($domain, 'admin');
		$this->upload("texto\n", 'a.md', ['voice_secretary_uuid' => $secretary['voice_secretary_uuid']]);
		[$document] = $this->documents($domain[0]);
		$this->assertFileExists($document['storage_path']);
		$this->submit('/app/voice_secretary/voice_secretaries.php', ['action' => 'delete', 'voice_secretaries' => [['checked' => 'true', 'uuid' => $secretary['voice_secretary_uuid']]]]);
		$this->assertSame([], $this->documents($domain[0]));
		$this->assertFileDoesNotExist($document['storage_path']);
	}
}
