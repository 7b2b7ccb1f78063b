-- 016: a change to what a call's set-up reads is announced on the channel voice_ai_setup.
--
-- The edge keeps each secretary's set-up (the secretary, its providers and the domain's defaults, the
-- transfer rules, the domain settings, the knowledge an offline recognizer is given) in memory and
-- LISTENs on voice_ai_setup: a row of those tables inserted, updated or deleted — by the FusionPBX
-- pages, `voice-ai` commands or SQL typed by hand — sends '<table>:<domain_uuid>' when its transaction
-- commits, and the edge reads that domain's set-ups again at its next call. PostgreSQL sends one
-- notification per distinct payload and transaction, so a statement touching many rows of one domain
-- sends one. A TRUNCATE sends '<table>:' (every domain). v_voice_document_chunks has no trigger: a
-- document's chunks become searchable with the document's status, so v_voice_documents notifies when its
-- status or secretary changes (not on the progress updates of an ingestion).
-- Idempotent: the function is replaced, each trigger created only when missing.

CREATE OR REPLACE FUNCTION v_voice_notify_setup() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_LEVEL = 'STATEMENT' THEN
        PERFORM pg_notify('voice_ai_setup', TG_TABLE_NAME || ':');
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        PERFORM pg_notify('voice_ai_setup', TG_TABLE_NAME || ':' || OLD.domain_uuid::text);
    END IF;
    IF TG_OP <> 'DELETE' AND (TG_OP = 'INSERT' OR NEW.domain_uuid IS DISTINCT FROM OLD.domain_uuid) THEN
        PERFORM pg_notify('voice_ai_setup', TG_TABLE_NAME || ':' || NEW.domain_uuid::text);
    END IF;
    RETURN NULL;
END $$;

DO $$
DECLARE
    pair TEXT[];
    t TEXT;
BEGIN
    FOREACH pair SLICE 1 IN ARRAY ARRAY[
        ['v_voice_secretaries', 'UPDATE'],
        ['v_voice_ai_providers', 'UPDATE'],
        ['v_voice_transfer_rules', 'UPDATE'],
        ['v_voice_domain_settings', 'UPDATE'],
        ['v_voice_documents', 'UPDATE OF status, voice_secretary_uuid, domain_uuid']
    ] LOOP
        t := pair[1];
        IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'trg_' || t || '_notify_setup') THEN
            EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR %s OR DELETE ON %I '
                           'FOR EACH ROW EXECUTE FUNCTION v_voice_notify_setup()',
                           'trg_' || t || '_notify_setup', pair[2], t);
        END IF;
        IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'trg_' || t || '_notify_setup_truncate') THEN
            EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON %I '
                           'FOR EACH STATEMENT EXECUTE FUNCTION v_voice_notify_setup()',
                           'trg_' || t || '_notify_setup_truncate', t);
        END IF;
    END LOOP;
END $$;
