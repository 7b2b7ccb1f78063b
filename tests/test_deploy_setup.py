"""``deploy/setup.sh`` started twice at once on one machine (two checkouts' ``make test``): the second waits
for the first instead of racing it on the machine's files (Redis's config, apt, the database role)."""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SETUP = REPO / "deploy" / "setup.sh"


def _setup_env(tmp_path: Path, lock: Path, **extra: str) -> dict[str, str]:
    """A set-up of this checkout's virtualenv, with its own lock file and its link in ``tmp_path``."""
    return {**os.environ, "VOICE_AI_SETUP_LOCK": str(lock), "VOICE_AI_VENV": sys.prefix,
            "VOICE_AI_BIN_DIR": str(tmp_path / "bin"), **extra}


def test_a_second_setup_waits_for_the_one_running_then_completes(tmp_path: Path) -> None:
    lock = tmp_path / "setup.lock"
    env = _setup_env(tmp_path, lock)
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


def test_a_server_the_setup_starts_does_not_keep_the_machine_locked(tmp_path: Path) -> None:
    """A daemon started during the set-up (PostgreSQL, Redis, a package's postinst) inherits its open
    files; had it inherited the lock, every later set-up on the machine would wait for ever."""
    lock, fake_bin, pids = tmp_path / "setup.lock", tmp_path / "bin-fakes", tmp_path / "daemon.pid"
    fake_bin.mkdir()
    real = shutil.which("dpkg-query")
    assert real is not None
    (fake_bin / "dpkg-query").write_text(  # the first package check starts a long-lived "server"
        f"#!/bin/sh\n[ -e {pids} ] || {{ sleep 300 >/dev/null 2>&1 & echo $! > {pids}; }}\nexec {real} \"$@\"\n")
    (fake_bin / "dpkg-query").chmod(0o755)
    env = _setup_env(tmp_path, lock, PATH=f"{fake_bin}:{os.environ['PATH']}")
    try:
        done = subprocess.run(["bash", str(SETUP), "--dev"], env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        daemon = int(pids.read_text())
        os.kill(daemon, 0)  # still running after the set-up ended
        with open(lock) as next_setup:
            fcntl.flock(next_setup, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises BlockingIOError if it kept the lock
    finally:
        if pids.exists():
            os.kill(int(pids.read_text()), signal.SIGKILL)
