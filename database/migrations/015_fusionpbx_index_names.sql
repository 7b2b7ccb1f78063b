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
        ['idx_voice_messages_domain', 'v_voice_messages_domain_uuid_fkey'],
        ['idx_voice_domain_settings_domain', 'v_voice_domain_settings_domain_uuid_fkey']
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
