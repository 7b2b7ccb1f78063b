-- 018: each chunk's embedding at its model's own width as well (v_voice_document_chunks.embedding_compact).
-- The search compares a question with every chunk of the tenant (an exact scan), and the padded
-- vector(1536) of a 384-dimension model is 6 KB stored out of line: reading it back was most of a
-- search's time (bench_workers search). The compact copy (1.5 KB for 384 dimensions) stays in the row.
-- NULL for a model as wide as the column (the search then reads embedding). The width of a model is
-- known from its name (shared/embeddings.py compact_dimensions): the offline models have 384, an
-- OpenAI model asked for fewer dimensions records them ("text-embedding-3-small@512").
-- Idempotent: the column is added only when missing, and only rows without a copy are filled.

ALTER TABLE v_voice_document_chunks ADD COLUMN IF NOT EXISTS embedding_compact vector;
-- In the row: the copy is moved out of it only as a last resort (MAIN), and a row may reach 4 KB before
-- PostgreSQL starts moving values out (toast_tuple_target; the default 2 KB would move the copy, the text
-- or the tsvector out again). The padded vector (EXTERNAL, 6 KB) still goes out of the row.
ALTER TABLE v_voice_document_chunks ALTER COLUMN embedding_compact SET STORAGE MAIN;
ALTER TABLE v_voice_document_chunks SET (toast_tuple_target = 4080);

UPDATE v_voice_document_chunks
SET embedding_compact = subvector(embedding, 1, 384)
WHERE embedding_compact IS NULL AND embedding IS NOT NULL
  AND embedding_model IN ('multilingual-e5-small-q4', 'all-MiniLM-L6-v2');

UPDATE v_voice_document_chunks
SET embedding_compact = subvector(embedding, 1, split_part(embedding_model, '@', 2)::int)
WHERE embedding_compact IS NULL AND embedding IS NOT NULL
  AND split_part(embedding_model, '@', 2) ~ '^[0-9]+$'
  AND split_part(embedding_model, '@', 2)::int BETWEEN 1 AND 1535;
