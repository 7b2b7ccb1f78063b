-- 004: v_voice_document_chunks — embedded passages of the documents (pgvector).
--
-- embedding stays vector(1536) as the seed says. Models with fewer dimensions (all-MiniLM-L6-v2 has
-- 384) are zero-padded to 1536: cosine similarity is unchanged by zero-padding. embedding_model
-- records which model produced the vector, and a search only compares chunks of the query's model.
--
-- The ANN index is HNSW rather than the seed's ivfflat: HNSW needs no training data, so it is
-- correct on an empty table and stays correct as tenants add documents.

CREATE TABLE IF NOT EXISTS v_voice_document_chunks (
    chunk_uuid      UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    domain_uuid     UUID NOT NULL REFERENCES v_domains(domain_uuid) ON DELETE CASCADE,
    document_uuid   UUID NOT NULL REFERENCES v_voice_documents(document_uuid) ON DELETE CASCADE,
    chunk_index     INTEGER NOT NULL CHECK (chunk_index >= 0),
    content         TEXT NOT NULL,
    embedding       vector(1536),
    embedding_model VARCHAR(255) NOT NULL,
    token_count     INTEGER,
    metadata        JSONB DEFAULT '{}',
    created_at      TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (document_uuid, chunk_index)
);

CREATE INDEX IF NOT EXISTS idx_voice_document_chunks_domain ON v_voice_document_chunks (domain_uuid);
CREATE INDEX IF NOT EXISTS idx_voice_document_chunks_domain_model
    ON v_voice_document_chunks (domain_uuid, embedding_model);
CREATE INDEX IF NOT EXISTS idx_voice_document_chunks_embedding_hnsw
    ON v_voice_document_chunks USING hnsw (embedding vector_cosine_ops);
