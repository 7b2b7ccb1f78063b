"""``deploy/setup.sh`` started twice at once on one machine (two checkouts' ``make test``): the second waits
for the first instead of racing it on the machine's files (Redis's config, apt, the database role)."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SETUP = REPO / "deploy" / "setup.sh"


def test_a_second_setup_waits_for_the_one_running_then_completes(tmp_path: Path) -> None:
    lock = tmp_path / "setup.lock"
    env = {**os.environ, "VOICE_AI_SETUP_LOCK": str(lock), "VOICE_AI_VENV": sys.prefix,
           "VOICE_AI_BIN_DIR": str(tmp_path / "bin")}
    with open(lock, "w") as running:
        fcntl.flock(running, fcntl.LOCK_EX)  # a setup holds the machine
        second = subprocess.Popen(["bash", str(SETUP), "--dev"], env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True)
        assert second.stdout is not None
        said = second.stdout.readline()
        assert "another setup is running on this machine; waiting for it to finish" in said, said
        assert second.poll() is None  # it has touched nothing yet: still waiting
    rest, _ = second.communicate(timeout=300)
    assert second.returncode == 0, rest
    assert "ready (database voice_ai_test" in rest
    assert (tmp_path / "bin" / "voice-ai").resolve() == (Path(sys.prefix) / "bin" / "voice-ai").resolve()
