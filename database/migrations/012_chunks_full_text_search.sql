-- 012: the keyword side of the knowledge search — PostgreSQL full-text search over the chunks.
--
-- Callers ask in the secretary's language (pt-BR by default), with and without accents ("clinica",
-- "clínica"). Two text search configurations, voice_ai_portuguese and voice_ai_english, copy the
-- built-in ones and put `unaccent` (a trusted extension shipped with PostgreSQL: no superuser needed)
-- before the stemmer, so "Não", "nao" and "não" are one lexeme and "consultas" meets "consulta".
--
-- Each chunk records the configuration of its document's language (search_config, chosen by the
-- ingestion) and keeps its tsvector in search_vector, which a trigger computes from the content, so
-- every writer (the ingestion, a test, a manual fix) gets it right. A GIN index serves the keyword
-- query, which is tenant-filtered like every other.
--
-- Idempotent; existing chunks are given their configuration from their secretary's language and their
-- tsvector once (only rows whose search_vector is still NULL).

CREATE EXTENSION IF NOT EXISTS unaccent;

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = 'voice_ai_portuguese') THEN
        CREATE TEXT SEARCH CONFIGURATION voice_ai_portuguese (COPY = pg_catalog.portuguese);
        ALTER TEXT SEARCH CONFIGURATION voice_ai_portuguese
            ALTER MAPPING FOR hword, hword_part, word WITH unaccent, portuguese_stem;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = 'voice_ai_english') THEN
        CREATE TEXT SEARCH CONFIGURATION voice_ai_english (COPY = pg_catalog.english);
        ALTER TEXT SEARCH CONFIGURATION voice_ai_english
            ALTER MAPPING FOR hword, hword_part, word WITH unaccent, english_stem;
    END IF;
END $$;

ALTER TABLE v_voice_document_chunks
    ADD COLUMN IF NOT EXISTS search_config VARCHAR(64) NOT NULL DEFAULT 'voice_ai_portuguese';
ALTER TABLE v_voice_document_chunks ADD COLUMN IF NOT EXISTS search_vector tsvector;

CREATE OR REPLACE FUNCTION v_voice_chunk_search_vector() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_vector := to_tsvector(NEW.search_config::regconfig, NEW.content);
    RETURN NEW;
END $$;

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'trg_voice_document_chunks_search_vector') THEN
        CREATE TRIGGER trg_voice_document_chunks_search_vector
            BEFORE INSERT OR UPDATE OF content, search_config ON v_voice_document_chunks
            FOR EACH ROW EXECUTE FUNCTION v_voice_chunk_search_vector();
    END IF;
END $$;

UPDATE v_voice_document_chunks AS c
SET search_config = CASE WHEN s.language ILIKE 'en%' THEN 'voice_ai_english' ELSE 'voice_ai_portuguese' END
FROM v_voice_documents AS d
LEFT JOIN v_voice_secretaries AS s ON s.voice_secretary_uuid = d.voice_secretary_uuid
WHERE d.document_uuid = c.document_uuid AND c.search_vector IS NULL;

-- Rows the join above did not reach still need their tsvector (the trigger fills it on any UPDATE of
-- search_config).
UPDATE v_voice_document_chunks SET search_config = search_config WHERE search_vector IS NULL;

CREATE INDEX IF NOT EXISTS idx_voice_document_chunks_search_vector
    ON v_voice_document_chunks USING gin (search_vector);
