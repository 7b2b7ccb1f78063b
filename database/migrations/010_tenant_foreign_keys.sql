-- 010: a row may only reference rows of its own domain.
--
-- Until now the foreign keys between v_voice_* tables named one column: the database accepted a
-- secretary of domain B naming domain A's provider, a chunk of B belonging to A's document, a message
-- of B in A's conversation; only the data-access layer (shared/tenancy.py) kept tenants apart, and
-- the FusionPBX app writes with its own SQL. Here every such reference becomes a composite key
--     (domain_uuid, <column>) REFERENCES <table> (domain_uuid, <primary key>)
-- which can only be satisfied by a row of the same domain. Each referenced table first gets
-- UNIQUE (domain_uuid, <primary key>) for the key to point at. The match is MATCH SIMPLE (the default):
-- a NULL reference (a domain-wide document or rule, a secretary on the domain's default provider)
-- is still allowed.
--
-- What a delete of the referenced row does is unchanged:
--   * ON DELETE CASCADE references (document -> secretary, chunk -> document, rule -> secretary,
--     message -> conversation) are replaced by the composite key, which cascades the same way.
--   * ON DELETE SET NULL references (secretary -> its four providers, conversation -> secretary) keep
--     their single-column key, which does the SET NULL: a composite key's SET NULL would also set
--     domain_uuid (NOT NULL) to NULL, and SET NULL (<column>) needs PostgreSQL 15 while FusionPBX
--     servers run 13 and later. Their composite key is DEFERRABLE INITIALLY DEFERRED: it is checked at
--     COMMIT, after the single-column key has nulled the references to a deleted provider or
--     secretary, so those deletes keep working; a cross-tenant reference fails at COMMIT.
--
-- On a database that already holds data: if any row references another domain's row, this migration
-- fails with a message naming the relationship, how many rows, and the query that lists them, and
-- changes nothing (voice-ai migrate runs each file in one transaction). Such a row is a bug that an
-- operator should look at; the migration neither deletes it nor nulls its reference. Fix or delete the
-- rows, then run `voice-ai migrate` again.
--
-- Idempotent: each constraint is added only when no constraint of its name exists, and the
-- single-column keys are looked up by their columns, whatever their names.

-- 1. UNIQUE (domain_uuid, <primary key>) on every referenced table.
DO $$
DECLARE
    target RECORD;
BEGIN
    FOR target IN
        SELECT * FROM (VALUES
            ('v_voice_ai_providers',  'provider_uuid'),
            ('v_voice_secretaries',   'voice_secretary_uuid'),
            ('v_voice_documents',     'document_uuid'),
            ('v_voice_conversations', 'conversation_uuid')
        ) AS t (table_name, pk)
    LOOP
        IF NOT EXISTS (
            SELECT 1 FROM pg_constraint
            WHERE conrelid = target.table_name::regclass
              AND conname = format('%s_domain_uuid_%s_key', target.table_name, target.pk)
        ) THEN
            EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I UNIQUE (domain_uuid, %I)',
                           target.table_name, format('%s_domain_uuid_%s_key', target.table_name, target.pk),
                           target.pk);
        END IF;
    END LOOP;
END $$;

-- 2. The composite key of every reference between tenant tables.
DO $$
DECLARE
    ref RECORD;
    constraint_name TEXT;
    offending_query TEXT;
    offending BIGINT;
    old_key RECORD;
BEGIN
    FOR ref IN
        SELECT * FROM (VALUES
            -- referencing table,      column,                     referenced table,        its key,                on delete
            ('v_voice_secretaries',     'stt_provider_uuid',        'v_voice_ai_providers',  'provider_uuid',        'SET NULL'),
            ('v_voice_secretaries',     'tts_provider_uuid',        'v_voice_ai_providers',  'provider_uuid',        'SET NULL'),
            ('v_voice_secretaries',     'llm_provider_uuid',        'v_voice_ai_providers',  'provider_uuid',        'SET NULL'),
            ('v_voice_secretaries',     'embeddings_provider_uuid', 'v_voice_ai_providers',  'provider_uuid',        'SET NULL'),
            ('v_voice_documents',       'voice_secretary_uuid',     'v_voice_secretaries',   'voice_secretary_uuid', 'CASCADE'),
            ('v_voice_document_chunks', 'document_uuid',            'v_voice_documents',     'document_uuid',        'CASCADE'),
            ('v_voice_transfer_rules',  'voice_secretary_uuid',     'v_voice_secretaries',   'voice_secretary_uuid', 'CASCADE'),
            ('v_voice_conversations',   'voice_secretary_uuid',     'v_voice_secretaries',   'voice_secretary_uuid', 'SET NULL'),
            ('v_voice_messages',        'conversation_uuid',        'v_voice_conversations', 'conversation_uuid',    'CASCADE')
        ) AS t (table_name, column_name, ref_table, ref_pk, on_delete)
    LOOP
        constraint_name := format('%s_%s_tenant_fkey', ref.table_name, ref.column_name);
        IF NOT EXISTS (
            SELECT 1 FROM pg_constraint
            WHERE conrelid = ref.table_name::regclass AND conname = constraint_name
        ) THEN
            -- Existing rows that reference another domain's row: refuse, and say how to find them.
            offending_query := format(
                'SELECT r.* FROM %I r JOIN %I t ON t.%I = r.%I WHERE t.domain_uuid <> r.domain_uuid',
                ref.table_name, ref.ref_table, ref.ref_pk, ref.column_name);
            EXECUTE format('SELECT count(*) FROM (%s) AS offending', offending_query) INTO offending;
            IF offending > 0 THEN
                RAISE EXCEPTION '% row(s) of % reference a % row of another domain through %.%',
                        offending, ref.table_name, ref.ref_table, ref.table_name, ref.column_name
                    USING HINT = format('List them with: %s; fix or delete them, then run voice-ai migrate '
                                        'again.', offending_query);
            END IF;

            EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I FOREIGN KEY (domain_uuid, %I) '
                           'REFERENCES %I (domain_uuid, %I) %s',
                           ref.table_name, constraint_name, ref.column_name, ref.ref_table, ref.ref_pk,
                           CASE ref.on_delete WHEN 'CASCADE' THEN 'ON DELETE CASCADE'
                                              ELSE 'DEFERRABLE INITIALLY DEFERRED' END);
        END IF;

        -- A CASCADE reference's single-column key is now redundant: the composite key replaces it.
        IF ref.on_delete = 'CASCADE' THEN
            FOR old_key IN
                SELECT c.conname FROM pg_constraint c
                JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attname = ref.column_name
                WHERE c.contype = 'f' AND c.conrelid = ref.table_name::regclass
                  AND c.confrelid = ref.ref_table::regclass AND c.conkey = ARRAY[a.attnum]
            LOOP
                EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', ref.table_name, old_key.conname);
            END LOOP;
        END IF;
    END LOOP;
END $$;
