"""``voice-ai demo`` end to end, as ``make demo`` runs it: a real worker, a real edge, the offline engine.

Each run gets a private Redis: ``REDIS_URL`` names a free port, so the demo starts its own ``redis-server``
there (what it does on a machine without Redis), and no other test's queues are shared.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import wave
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_demo(database_url: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``voice-ai demo --wav <tmp>/demo.wav ARGS`` from the checkout; its work directory under ``tmp_path``."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        free_port = sock.getsockname()[1]
    env = dict(os.environ, DATABASE_URL=database_url, REDIS_URL=f"redis://127.0.0.1:{free_port}/0",
               PYTHONUNBUFFERED="1", TMPDIR=str(tmp_path))
    return subprocess.run([sys.executable, "-m", "voice_ai.cli", "demo", "--wav", str(tmp_path / "demo.wav"), *args],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=400)


def test_demo_answers_from_the_document_transfers_to_sales_and_records_the_call(database_url, tmp_path):
    done = run_demo(database_url, tmp_path)
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert "started Redis on port" in out

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
    assert "the call went as scripted" in out
    # Both directions of the call were written; everything the demo started was stopped.
    with wave.open(str(tmp_path / "demo.wav")) as audio:
        assert audio.getnchannels() == 2 and audio.getnframes() > 8000 * 10
    assert "stopped edge" in out and "stopped worker" in out and "stopped redis-server" in out


def test_demo_fails_loudly_when_sales_does_not_answer(database_url, tmp_path):
    """The call is broken on purpose: Sales' line is busy, so the caller is never bridged to Sales."""
    done = run_demo(database_url, tmp_path, "--bridge-outcome", "USER_BUSY")
    assert done.returncode == 1, done.stdout + done.stderr

    # The transfer was tried, and the user is told it is what went wrong (not the answer from the document).
    assert "FreeSWITCH rang loopback/2001/" in done.stdout
    assert "the call did not go as scripted" in done.stderr
    missed = [line for line in done.stderr.splitlines() if line.startswith("  - ")]
    assert len(missed) == 1 and "not 'transferred' to Sales (2001)" in missed[0], done.stderr
    assert "the call went as scripted" not in done.stdout
    # The logs are kept for the user to read, and everything the demo started was stopped.
    logs = Path(done.stderr.split("the edge's and the worker's logs: ")[1].split()[0])
    assert (logs / "edge.log").is_file() and (logs / "worker.log").is_file()
    assert "stopped edge" in done.stdout and "stopped worker" in done.stdout
