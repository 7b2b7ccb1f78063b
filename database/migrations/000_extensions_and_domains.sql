-- 000: prerequisites shared by every other migration.
--
-- * pgvector provides the `vector` type for document chunk embeddings. On a server where our role
--   may not create extensions, the installer creates it as the superuser first; this line is then a
--   no-op.
-- * gen_random_uuid() is built into PostgreSQL 13+, so no pgcrypto is needed.
-- * v_domains belongs to FusionPBX. On a FusionPBX server it already exists and is left untouched
--   (we never alter FusionPBX's own tables). On a standalone install we create a minimal table with
--   FusionPBX's column names so that every v_voice_* foreign key has something to point at.

CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE IF NOT EXISTS v_domains (
    domain_uuid        UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    domain_parent_uuid UUID,
    domain_name        VARCHAR(255) NOT NULL,
    domain_enabled     BOOLEAN DEFAULT true,
    domain_description TEXT,
    insert_date        TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP,
    insert_user        UUID,
    update_date        TIMESTAMPTZ,
    update_user        UUID
);

-- updated_at maintenance shared by the v_voice_* tables (CREATE OR REPLACE is idempotent).
CREATE OR REPLACE FUNCTION v_voice_touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := CURRENT_TIMESTAMP;
    RETURN NEW;
END $$;
