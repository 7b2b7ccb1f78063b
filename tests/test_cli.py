"""The ``voice-ai`` command as a newcomer meets it: finding a secretary to call, the worker's queues, and a
command whose part is not installed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from shared.tasks import QUEUES
from tests.factories import add_secretary
from voice_ai.cli import COMMANDS, main

REPO = Path(__file__).resolve().parents[1]


def test_secretaries_lists_each_domain_with_its_secretaries_and_their_uuids(database_url, make_domain, capsys):
    clinic = make_domain("clinic.secretaries.test")
    empty = make_domain("empty.secretaries.test")
    reception = add_secretary(clinic, name="Reception", language="en-US", extension="8000")
    night = add_secretary(clinic, name="Night line", enabled=False)

    assert main(["secretaries"]) == 0
    out = capsys.readouterr().out
    block = out.split(f"clinic.secretaries.test  domain_uuid={clinic}")[1].split("\n\n")[0]
    assert f"Reception  voice_secretary_uuid={reception}  language=en-US  extension=8000" in block
    assert f"Night line  voice_secretary_uuid={night}" in block and "(disabled)" in block
    assert f"empty.secretaries.test  domain_uuid={empty}\n    (no secretary)" in out
    # The listing ends with a command that calls one of them.
    assert "voice-ai simulate-call --domain-uuid " in out.split("Call one through a running edge:")[1]

    assert main(["secretaries", "--domain", "empty.secretaries.test"]) == 0
    only = capsys.readouterr().out
    assert "empty.secretaries.test" in only and "clinic.secretaries.test" not in only


def test_secretaries_of_an_unknown_domain_is_an_error(database_url, capsys):
    assert main(["secretaries", "--domain", "nowhere.secretaries.test"]) == 1
    assert "no domain named nowhere.secretaries.test" in capsys.readouterr().err


def test_worker_help_names_every_queue_before_celerys_options():
    done = subprocess.run([sys.executable, "-m", "voice_ai.cli", "worker", "--help"], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    ours, _, celery = done.stdout.partition("Celery's own options:")
    for queue in QUEUES:
        assert f"\n  {queue} " in ours, queue
    assert "--queues" in celery  # Celery's own help follows


def test_a_command_whose_part_is_not_installed_fails_and_says_which(monkeypatch, capsys):
    monkeypatch.setitem(COMMANDS, "simulate-call", ("voice_ai_absent.simulate:main", "not in this install"))
    assert main(["simulate-call", "--help"]) == 1
    err = capsys.readouterr().err
    assert "voice-ai simulate-call: voice_ai_absent.simulate is not installed" in err


def test_a_database_that_cannot_be_reached_is_a_clear_error_not_a_traceback():
    env = {**os.environ, "DATABASE_URL": "postgresql://nobody:Pw-81xq@127.0.0.1:5432/no_such_database"}
    done = subprocess.run([sys.executable, "-m", "voice_ai.cli", "secretaries"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "voice-ai secretaries: cannot use the database at 127.0.0.1:5432/no_such_database:" in done.stderr
    assert "Traceback" not in done.stderr and "Pw-81xq" not in done.stderr  # the password stays out of it
    assert "DATABASE_URL" in done.stderr and "make demo" in done.stderr
