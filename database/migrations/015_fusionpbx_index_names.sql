-- 015: the domain_uuid indexes carry the names FusionPBX's upgrade looks for.
--
-- FusionPBX's upgrade (Advanced > Upgrade > Database Schema, `php core/upgrade/upgrade.php`) ends its
-- schema step with database::update_indexes(): for every field app_config.php declares as a foreign
-- key it creates "CREATE INDEX <table>_<column>_fkey ON <table> (<column>)" unless an index of exactly
-- that name exists. The app declares 17 such fields; for the 8 domain_uuid ones our migrations had
-- already made the same single-column index under another name (idx_voice_<table>_domain), so the
-- upgrade added a second, identical index to each of those tables. Renamed here, the upgrade finds
-- them and leaves them alone. It still adds the 9 other *_fkey indexes (provider, secretary, document
-- and conversation references), which no migration duplicates.
--
-- v_voice_domain_settings holds one row per domain: its domain_uuid had a UNIQUE constraint and, besides,
-- the plain index, which duplicated the constraint's own index. There the uniqueness becomes a unique
-- index named v_voice_domain_settings_domain_uuid_fkey (a constraint cannot take that name: the foreign
-- key to v_domains has it), and the plain index goes.
--
-- On a server where the upgrade already ran, both indexes exist: ours is dropped and FusionPBX's kept.
-- Idempotent: an index already renamed, or absent, is skipped.
DO $$
DECLARE
    pair TEXT[];
BEGIN
    FOREACH pair SLICE 1 IN ARRAY ARRAY[
        ['idx_voice_ai_providers_domain', 'v_voice_ai_providers_domain_uuid_fkey'],
        ['idx_voice_secretaries_domain', 'v_voice_secretaries_domain_uuid_fkey'],
        ['idx_voice_documents_domain', 'v_voice_documents_domain_uuid_fkey'],
        ['idx_voice_document_chunks_domain', 'v_voice_document_chunks_domain_uuid_fkey'],
        ['idx_voice_transfer_rules_domain', 'v_voice_transfer_rules_domain_uuid_fkey'],
        ['idx_voice_conversations_domain', 'v_voice_conversations_domain_uuid_fkey'],
        ['idx_voice_messages_domain', 'v_voice_messages_domain_uuid_fkey']
    ] LOOP
        IF to_regclass(pair[1]) IS NULL THEN
            CONTINUE;
        ELSIF to_regclass(pair[2]) IS NULL THEN
            EXECUTE format('ALTER INDEX %I RENAME TO %I', pair[1], pair[2]);
        ELSE
            EXECUTE format('DROP INDEX %I', pair[1]);
        END IF;
    END LOOP;
END
$$;

DO $$
BEGIN
    DROP INDEX IF EXISTS idx_voice_domain_settings_domain;
    IF EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = 'v_voice_domain_settings'::regclass
               AND conname = 'v_voice_domain_settings_domain_uuid_key') THEN
        -- a plain index FusionPBX's upgrade made under the name goes first
        DROP INDEX IF EXISTS v_voice_domain_settings_domain_uuid_fkey;
        CREATE UNIQUE INDEX v_voice_domain_settings_domain_uuid_fkey ON v_voice_domain_settings (domain_uuid);
        ALTER TABLE v_voice_domain_settings DROP CONSTRAINT v_voice_domain_settings_domain_uuid_key;
    END IF;
END
$$;
