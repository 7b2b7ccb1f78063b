-- 009: a document may hold one set of chunks per embedding model.
--
-- A domain-wide document (voice_secretary_uuid NULL) is embedded with every embeddings model the
-- domain's secretaries search with, so each of them finds it. Its chunk numbers then repeat once per
-- model: the uniqueness that keeps a re-ingest from duplicating chunks becomes
-- (document_uuid, embedding_model, chunk_index).

ALTER TABLE v_voice_document_chunks
    DROP CONSTRAINT IF EXISTS v_voice_document_chunks_document_uuid_chunk_index_key;

DO $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM pg_constraint
        WHERE conrelid = 'v_voice_document_chunks'::regclass
          AND conname = 'v_voice_document_chunks_document_model_index_key'
    ) THEN
        ALTER TABLE v_voice_document_chunks
            ADD CONSTRAINT v_voice_document_chunks_document_model_index_key
            UNIQUE (document_uuid, embedding_model, chunk_index);
    END IF;
END $$;
