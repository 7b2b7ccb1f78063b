-- 007: v_voice_messages — the turns of a conversation, in order.
--
-- sequence is assigned by the edge per call; (conversation_uuid, sequence) is unique so that a
-- redelivered event is stored exactly once. role: user (caller transcript), assistant (what the
-- secretary said; interrupted = the caller cut in and content is what was actually heard), tool
-- (a tool call: tool_name, tool_arguments, tool_result), system (notices such as DTMF or timeouts).
-- latency_ms is, for an assistant turn, the time from the caller's end of speech to first audio.

CREATE TABLE IF NOT EXISTS v_voice_messages (
    message_uuid      UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    domain_uuid       UUID NOT NULL REFERENCES v_domains(domain_uuid) ON DELETE CASCADE,
    conversation_uuid UUID NOT NULL REFERENCES v_voice_conversations(conversation_uuid) ON DELETE CASCADE,
    sequence          INTEGER NOT NULL CHECK (sequence >= 0),
    role              VARCHAR(20) NOT NULL CHECK (role IN ('user', 'assistant', 'tool', 'system')),
    content           TEXT,
    started_at        TIMESTAMPTZ,
    ended_at          TIMESTAMPTZ,
    latency_ms        INTEGER,
    interrupted       BOOLEAN NOT NULL DEFAULT false,
    tool_name         VARCHAR(100),
    tool_arguments    JSONB,
    tool_result       JSONB,
    created_at        TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (conversation_uuid, sequence)
);

CREATE INDEX IF NOT EXISTS idx_voice_messages_domain ON v_voice_messages (domain_uuid);
CREATE INDEX IF NOT EXISTS idx_voice_messages_conversation
    ON v_voice_messages (conversation_uuid, sequence);
