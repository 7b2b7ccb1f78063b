-- 005: v_voice_transfer_rules — where the secretary may send a caller.
--
-- A rule matches a requested department or the caller's words (department_name, keywords);
-- among matches the lowest priority wins. business_hours is JSONB:
--   {"timezone": "America/Sao_Paulo",
--    "weekdays": {"mon": [["08:00", "18:00"]], "tue": [...], ..., "sun": []}}
-- NULL or {} means always open. Outside hours, or when the bridge fails, fallback_action applies:
-- message (take a message), voicemail, operator (fallback_destination or the domain operator), hangup.
-- voice_secretary_uuid NULL makes the rule domain-wide.

CREATE TABLE IF NOT EXISTS v_voice_transfer_rules (
    transfer_rule_uuid   UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    domain_uuid          UUID NOT NULL REFERENCES v_domains(domain_uuid) ON DELETE CASCADE,
    voice_secretary_uuid UUID REFERENCES v_voice_secretaries(voice_secretary_uuid) ON DELETE CASCADE,
    department_name      VARCHAR(255) NOT NULL,
    keywords             TEXT[] NOT NULL DEFAULT '{}',
    transfer_extension   VARCHAR(255) NOT NULL,
    transfer_context     VARCHAR(255),
    transfer_message     TEXT,
    priority             INTEGER NOT NULL DEFAULT 100,
    business_hours       JSONB,
    fallback_action      VARCHAR(20) NOT NULL DEFAULT 'message'
        CHECK (fallback_action IN ('message', 'voicemail', 'operator', 'hangup')),
    fallback_destination VARCHAR(255),
    enabled              BOOLEAN NOT NULL DEFAULT true,
    created_at           TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP,
    updated_at           TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX IF NOT EXISTS idx_voice_transfer_rules_domain ON v_voice_transfer_rules (domain_uuid);
CREATE INDEX IF NOT EXISTS idx_voice_transfer_rules_lookup
    ON v_voice_transfer_rules (domain_uuid, voice_secretary_uuid, priority) WHERE enabled;

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'trg_voice_transfer_rules_updated_at') THEN
        CREATE TRIGGER trg_voice_transfer_rules_updated_at BEFORE UPDATE ON v_voice_transfer_rules
            FOR EACH ROW EXECUTE FUNCTION v_voice_touch_updated_at();
    END IF;
END $$;
