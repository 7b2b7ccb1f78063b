-- 001: v_voice_ai_providers — a tenant's AI vendors (STT, TTS, LLM, embeddings).
--
-- provider_name values are listed in docs/contract.md (openai_realtime, openai, offline, google,
-- elevenlabs). config holds api_key, model, base_url, voice and vendor extras; it is never logged.
-- A secretary that names no provider of a type uses the domain's default (is_default) of that type,
-- else the offline one. At most one default per (domain, type).

CREATE TABLE IF NOT EXISTS v_voice_ai_providers (
    provider_uuid UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    domain_uuid   UUID NOT NULL REFERENCES v_domains(domain_uuid) ON DELETE CASCADE,
    provider_type VARCHAR(50) NOT NULL CHECK (provider_type IN ('stt', 'tts', 'llm', 'embeddings')),
    provider_name VARCHAR(100) NOT NULL,
    display_name  VARCHAR(255),
    config        JSONB NOT NULL DEFAULT '{}',
    is_default    BOOLEAN DEFAULT false,
    enabled       BOOLEAN DEFAULT true,
    created_at    TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP,
    updated_at    TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (domain_uuid, provider_type, provider_name)
);

CREATE INDEX IF NOT EXISTS idx_voice_ai_providers_domain ON v_voice_ai_providers (domain_uuid);

-- One default provider per type and tenant.
CREATE UNIQUE INDEX IF NOT EXISTS uq_voice_ai_providers_default
    ON v_voice_ai_providers (domain_uuid, provider_type) WHERE is_default;

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'trg_voice_ai_providers_updated_at') THEN
        CREATE TRIGGER trg_voice_ai_providers_updated_at BEFORE UPDATE ON v_voice_ai_providers
            FOR EACH ROW EXECUTE FUNCTION v_voice_touch_updated_at();
    END IF;
END $$;
