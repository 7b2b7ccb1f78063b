-- 002: v_voice_secretaries — one configured virtual secretary.
--
-- Columns up to webhook_enabled are the seed's (002_de6dca5bccca44a1.txt). The rest are what the
-- call features need:
--   extension            number dialled inside the domain; the FusionPBX app writes its dialplan
--   dialplan_uuid        the v_dialplans row the app created for that extension
--   silence_timeout_seconds / silence_hangup_seconds
--                        reprompt after N s of caller silence, say goodbye after M s more
--   max_call_seconds     hard limit on one call's length
--   rag_top_k            passages returned by search_knowledge_base
--   webhook_secret       per-secretary HMAC-SHA256 key for the OmniPlay webhook signature
-- Provider foreign keys use ON DELETE SET NULL: deleting a provider falls back to the domain default.

CREATE TABLE IF NOT EXISTS v_voice_secretaries (
    voice_secretary_uuid     UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    domain_uuid              UUID NOT NULL REFERENCES v_domains(domain_uuid) ON DELETE CASCADE,
    name                     VARCHAR(255) NOT NULL,
    description              TEXT,
    enabled                  BOOLEAN DEFAULT true,

    stt_provider_uuid        UUID REFERENCES v_voice_ai_providers(provider_uuid) ON DELETE SET NULL,
    tts_provider_uuid        UUID REFERENCES v_voice_ai_providers(provider_uuid) ON DELETE SET NULL,
    llm_provider_uuid        UUID REFERENCES v_voice_ai_providers(provider_uuid) ON DELETE SET NULL,
    embeddings_provider_uuid UUID REFERENCES v_voice_ai_providers(provider_uuid) ON DELETE SET NULL,

    system_prompt            TEXT,
    greeting_message         TEXT,
    goodbye_message          TEXT,
    voice_name               VARCHAR(100),
    language                 VARCHAR(10) DEFAULT 'pt-BR',
    rag_enabled              BOOLEAN DEFAULT true,
    rag_similarity_threshold DECIMAL(3,2) DEFAULT 0.5
        CHECK (rag_similarity_threshold BETWEEN 0 AND 1),
    max_conversation_turns   INTEGER DEFAULT 10 CHECK (max_conversation_turns > 0),

    webhook_url              VARCHAR(500),
    webhook_enabled          BOOLEAN DEFAULT false,

    created_at               TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP,
    updated_at               TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP
);

-- Feature columns, added one by one so that a database created from the seed's table gains them.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM information_schema.columns
                   WHERE table_name = 'v_voice_secretaries' AND column_name = 'extension') THEN
        ALTER TABLE v_voice_secretaries ADD COLUMN extension VARCHAR(32);
    END IF;
    IF NOT EXISTS (SELECT 1 FROM information_schema.columns
                   WHERE table_name = 'v_voice_secretaries' AND column_name = 'dialplan_uuid') THEN
        ALTER TABLE v_voice_secretaries ADD COLUMN dialplan_uuid UUID;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM information_schema.columns
                   WHERE table_name = 'v_voice_secretaries' AND column_name = 'silence_timeout_seconds') THEN
        ALTER TABLE v_voice_secretaries ADD COLUMN silence_timeout_seconds INTEGER NOT NULL DEFAULT 8
            CHECK (silence_timeout_seconds > 0);
    END IF;
    IF NOT EXISTS (SELECT 1 FROM information_schema.columns
                   WHERE table_name = 'v_voice_secretaries' AND column_name = 'silence_hangup_seconds') THEN
        ALTER TABLE v_voice_secretaries ADD COLUMN silence_hangup_seconds INTEGER NOT NULL DEFAULT 8
            CHECK (silence_hangup_seconds > 0);
    END IF;
    IF NOT EXISTS (SELECT 1 FROM information_schema.columns
                   WHERE table_name = 'v_voice_secretaries' AND column_name = 'max_call_seconds') THEN
        ALTER TABLE v_voice_secretaries ADD COLUMN max_call_seconds INTEGER NOT NULL DEFAULT 900
            CHECK (max_call_seconds > 0);
    END IF;
    IF NOT EXISTS (SELECT 1 FROM information_schema.columns
                   WHERE table_name = 'v_voice_secretaries' AND column_name = 'rag_top_k') THEN
        ALTER TABLE v_voice_secretaries ADD COLUMN rag_top_k INTEGER NOT NULL DEFAULT 3
            CHECK (rag_top_k BETWEEN 1 AND 20);
    END IF;
    IF NOT EXISTS (SELECT 1 FROM information_schema.columns
                   WHERE table_name = 'v_voice_secretaries' AND column_name = 'webhook_secret') THEN
        ALTER TABLE v_voice_secretaries ADD COLUMN webhook_secret VARCHAR(255);
    END IF;
END $$;

CREATE INDEX IF NOT EXISTS idx_voice_secretaries_domain ON v_voice_secretaries (domain_uuid);

-- An extension number identifies at most one secretary within a domain.
CREATE UNIQUE INDEX IF NOT EXISTS uq_voice_secretaries_extension
    ON v_voice_secretaries (domain_uuid, extension) WHERE extension IS NOT NULL;

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'trg_voice_secretaries_updated_at') THEN
        CREATE TRIGGER trg_voice_secretaries_updated_at BEFORE UPDATE ON v_voice_secretaries
            FOR EACH ROW EXECUTE FUNCTION v_voice_touch_updated_at();
    END IF;
END $$;
