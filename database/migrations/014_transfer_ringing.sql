-- 014: transfers that ring as their own leg: what a caller hears meanwhile and for how long it rings
-- (v_voice_domain_settings), and announced transfers (v_voice_transfer_rules).
--
-- ringback_tone          'br' (425 Hz, 1 s on / 4 s off) or 'us' (440+480 Hz, 2 s on / 4 s off);
--                        NULL = by the secretary's language (Portuguese: 'br', else 'us')
-- hold_music_file        a 16-bit PCM WAV file on the edge's host, played (looped) instead of the tone
-- transfer_ring_seconds  how long a destination rings before the caller is offered the rule's
--                        fallback (originate_timeout); NULL = 25
-- Idempotent: each column is added only when missing.

ALTER TABLE v_voice_domain_settings ADD COLUMN IF NOT EXISTS ringback_tone VARCHAR(16);
ALTER TABLE v_voice_domain_settings ADD COLUMN IF NOT EXISTS hold_music_file VARCHAR(1024);
ALTER TABLE v_voice_domain_settings ADD COLUMN IF NOT EXISTS transfer_ring_seconds INTEGER;

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'chk_voice_domain_settings_ringback') THEN
        ALTER TABLE v_voice_domain_settings ADD CONSTRAINT chk_voice_domain_settings_ringback
            CHECK (ringback_tone IS NULL OR ringback_tone IN ('br', 'us'));
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'chk_voice_domain_settings_ring_seconds') THEN
        ALTER TABLE v_voice_domain_settings ADD CONSTRAINT chk_voice_domain_settings_ring_seconds
            CHECK (transfer_ring_seconds IS NULL OR transfer_ring_seconds BETWEEN 1 AND 300);
    END IF;
END $$;

-- v_voice_transfer_rules.announce: an announced (warm) transfer. Whoever answers first hears the
-- secretary say who is calling and why, and takes the call (key 1 or "yes") or declines it (key 2,
-- "no", 15 s without an answer, hanging up); a declined caller is offered the rule's fallback.
ALTER TABLE v_voice_transfer_rules ADD COLUMN IF NOT EXISTS announce BOOLEAN NOT NULL DEFAULT false;
