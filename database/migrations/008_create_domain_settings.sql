-- 008: v_voice_domain_settings — per-tenant call-handling settings that are not one secretary's.
--
-- operator_destination  where DTMF 0 and the "operator" fallback send a caller
-- fallback_destination  where a call goes when the secretary cannot run (unknown or disabled
--                       secretary, the AI engine unreachable); NULL = say goodbye and hang up
-- transfer_context      dialplan context for bridges when a rule names none (FusionPBX uses the
--                       domain name as the context)
-- One row per domain at most.

CREATE TABLE IF NOT EXISTS v_voice_domain_settings (
    domain_setting_uuid  UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    domain_uuid          UUID NOT NULL UNIQUE REFERENCES v_domains(domain_uuid) ON DELETE CASCADE,
    operator_destination VARCHAR(255),
    fallback_destination VARCHAR(255),
    transfer_context     VARCHAR(255),
    created_at           TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP,
    updated_at           TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX IF NOT EXISTS idx_voice_domain_settings_domain ON v_voice_domain_settings (domain_uuid);

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'trg_voice_domain_settings_updated_at') THEN
        CREATE TRIGGER trg_voice_domain_settings_updated_at BEFORE UPDATE ON v_voice_domain_settings
            FOR EACH ROW EXECUTE FUNCTION v_voice_touch_updated_at();
    END IF;
END $$;
