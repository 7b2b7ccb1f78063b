-- 017: a ring time per transfer rule (v_voice_transfer_rules.ring_seconds): how long the rule's
-- destination rings (originate_timeout) before the caller is offered the rule's fallback;
-- NULL = the domain's (v_voice_domain_settings.transfer_ring_seconds, migration 014; NULL there = 25).
-- Idempotent: the column and its check are added only when missing.

ALTER TABLE v_voice_transfer_rules ADD COLUMN IF NOT EXISTS ring_seconds INTEGER;

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'chk_voice_transfer_rules_ring_seconds') THEN
        ALTER TABLE v_voice_transfer_rules ADD CONSTRAINT chk_voice_transfer_rules_ring_seconds
            CHECK (ring_seconds IS NULL OR ring_seconds BETWEEN 1 AND 300);
    END IF;
END $$;
