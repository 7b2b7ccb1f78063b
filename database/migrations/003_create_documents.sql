-- 003: v_voice_documents — files uploaded to a tenant's knowledge base.
--
-- voice_secretary_uuid NULL means the document serves every secretary of the domain.
-- status walks pending -> processing -> ready | failed; error_message says why a file failed in
-- words an operator can act on. content_hash (sha256, hex) lets a re-upload of the same bytes be
-- recognised. storage_path is where the upload lives, outside the web root.

CREATE TABLE IF NOT EXISTS v_voice_documents (
    document_uuid        UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    domain_uuid          UUID NOT NULL REFERENCES v_domains(domain_uuid) ON DELETE CASCADE,
    voice_secretary_uuid UUID REFERENCES v_voice_secretaries(voice_secretary_uuid) ON DELETE CASCADE,
    file_name            VARCHAR(255) NOT NULL,
    mime_type            VARCHAR(255),
    file_size            BIGINT CHECK (file_size >= 0),
    content_hash         CHAR(64),
    storage_path         VARCHAR(1024) NOT NULL,
    status               VARCHAR(20) NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'processing', 'ready', 'failed')),
    error_message        TEXT,
    chunk_count          INTEGER NOT NULL DEFAULT 0 CHECK (chunk_count >= 0),
    embedding_model      VARCHAR(255),
    processed_at         TIMESTAMPTZ,
    created_at           TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP,
    updated_at           TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX IF NOT EXISTS idx_voice_documents_domain ON v_voice_documents (domain_uuid);
CREATE INDEX IF NOT EXISTS idx_voice_documents_secretary
    ON v_voice_documents (domain_uuid, voice_secretary_uuid);
-- The workers' sweep looks for documents stuck in pending/processing.
CREATE INDEX IF NOT EXISTS idx_voice_documents_status
    ON v_voice_documents (status, updated_at) WHERE status IN ('pending', 'processing');

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'trg_voice_documents_updated_at') THEN
        CREATE TRIGGER trg_voice_documents_updated_at BEFORE UPDATE ON v_voice_documents
            FOR EACH ROW EXECUTE FUNCTION v_voice_touch_updated_at();
    END IF;
END $$;
