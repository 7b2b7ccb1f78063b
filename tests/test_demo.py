"""``voice-ai demo`` end to end, as ``make demo`` runs it: a real worker, a real edge, the offline engine."""

from __future__ import annotations

import os
import subprocess
import sys
import wave
from pathlib import Path

import redis

REPO = Path(__file__).resolve().parents[1]


def test_demo_answers_from_the_document_transfers_to_sales_and_records_the_call(database_url, tmp_path):
    demo_redis = "redis://127.0.0.1:6379/9"  # its own queues: nothing another test left behind is consumed
    redis.Redis.from_url(demo_redis).flushdb()
    env = dict(os.environ, DATABASE_URL=database_url, REDIS_URL=demo_redis, PYTHONUNBUFFERED="1")
    wav = tmp_path / "demo.wav"
    done = subprocess.run([sys.executable, "-m", "shared.cli", "demo", "--wav", str(wav)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=400)
    out = done.stdout
    assert done.returncode == 0, out + done.stderr

    # The caller heard the greeting, then an answer to each question.
    assert "secretary greets" in out
    assert out.count("secretary answers after") == 2
    # The first answer came from the clinic's document (Saturday hours), found by the knowledge search.
    stored = out.split("=== Transcript (as stored by the worker) ===")[1]
    assistant = [line for line in stored.splitlines() if " assistant " in line]
    assert any("Saturday" in line and "nine" in line for line in assistant), assistant
    assert "search_knowledge_base" in stored
    # The second turn was a transfer to Sales' extension, whose phone answered.
    assert "FreeSWITCH bridged the caller to loopback/2001/" in out
    row = out.split("=== Conversation row ===")[1]
    assert "outcome           transferred" in row
    assert "2001" in row.split("transfer_target")[1].splitlines()[0]
    summary = row.split("summary")[1].splitlines()[0].strip()
    assert summary and summary != "None"
    # Both directions of the call were written; everything the demo started was stopped.
    with wave.open(str(wav)) as audio:
        assert audio.getnchannels() == 2 and audio.getnframes() > 8000 * 10
    assert "stopped edge" in out and "stopped worker" in out
