-- 006: v_voice_conversations — one row per call the secretary handled.
--
-- call_uuid is FreeSWITCH's channel Unique-ID; (domain_uuid, call_uuid) is unique so that a
-- redelivered "call started" event cannot create a second row. outcome is NULL while the call runs.
-- taken_message holds what take_message collected ({caller_name, message, callback_number}).
-- webhook_status: none (webhook off), pending, delivered, failed (gave up after 24 h), refused
-- (URL not allowed); webhook_attempts is the list of attempts {at, status_code, error}.

CREATE TABLE IF NOT EXISTS v_voice_conversations (
    conversation_uuid    UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    domain_uuid          UUID NOT NULL REFERENCES v_domains(domain_uuid) ON DELETE CASCADE,
    voice_secretary_uuid UUID REFERENCES v_voice_secretaries(voice_secretary_uuid) ON DELETE SET NULL,
    call_uuid            UUID NOT NULL,
    caller_id            VARCHAR(255),
    caller_name          VARCHAR(255),
    destination_number   VARCHAR(255),
    engine               VARCHAR(50),
    started_at           TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
    ended_at             TIMESTAMPTZ,
    duration_seconds     NUMERIC(10,3),
    turn_count           INTEGER NOT NULL DEFAULT 0,
    outcome              VARCHAR(20)
        CHECK (outcome IN ('resolved', 'transferred', 'message', 'abandoned', 'error')),
    transfer_target      VARCHAR(255),
    taken_message        JSONB,
    summary              TEXT,
    webhook_status       VARCHAR(20) NOT NULL DEFAULT 'none'
        CHECK (webhook_status IN ('none', 'pending', 'delivered', 'failed', 'refused')),
    webhook_attempts     JSONB NOT NULL DEFAULT '[]',
    webhook_delivered_at TIMESTAMPTZ,
    created_at           TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP,
    updated_at           TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (domain_uuid, call_uuid)
);

CREATE INDEX IF NOT EXISTS idx_voice_conversations_domain ON v_voice_conversations (domain_uuid);
CREATE INDEX IF NOT EXISTS idx_voice_conversations_domain_caller
    ON v_voice_conversations (domain_uuid, caller_id);
CREATE INDEX IF NOT EXISTS idx_voice_conversations_domain_started
    ON v_voice_conversations (domain_uuid, started_at DESC);

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'trg_voice_conversations_updated_at') THEN
        CREATE TRIGGER trg_voice_conversations_updated_at BEFORE UPDATE ON v_voice_conversations
            FOR EACH ROW EXECUTE FUNCTION v_voice_touch_updated_at();
    END IF;
END $$;
