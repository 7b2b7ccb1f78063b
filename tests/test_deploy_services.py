"""The systemd units and ``deploy/install-services.sh`` agree with the code they run.

An operator's install must start: every unit runs a ``voice-ai`` subcommand that exists, reads the
config file ``shared/settings.py`` reads, runs as the user the installer creates, and together they
serve every Celery queue. The installer is run under ``DESTDIR`` (no user, no /etc, no systemctl).
"""

from __future__ import annotations

import dataclasses
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from shared.settings import DEFAULT_CONFIG_FILE, Settings, read_config_file
from shared.tasks import QUEUES
from voice_ai.cli import COMMANDS

REPO = Path(__file__).resolve().parents[1]
UNIT_DIR = REPO / "deploy" / "systemd"
INSTALLER = REPO / "deploy" / "install-services.sh"
EXAMPLE = REPO / "deploy" / "voice-ai.conf.example"
UNITS = sorted(UNIT_DIR.glob("*.service"))
VENV_COMMAND = Path(sys.prefix) / "bin" / "voice-ai"


def _unit(path: Path) -> dict[str, list[str]]:
    """``Section.Key`` → values, in order (systemd allows a key more than once)."""
    values: dict[str, list[str]] = {}
    section = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        values.setdefault(f"{section}.{key.strip()}", []).append(value.strip())
    return values


def _installer_default(name: str) -> str:
    match = re.search(rf'\$\{{{name}:-([^}}]+)\}}', INSTALLER.read_text())
    assert match, name
    return match.group(1)


def test_the_installer_installs_every_unit_including_the_edge() -> None:
    listed = re.search(r"^UNITS=\(([^)]*)\)", INSTALLER.read_text(), re.M)
    assert listed
    assert sorted(listed.group(1).split()) == sorted(p.stem for p in UNITS if not p.stem.endswith("@"))  # templates: per instance
    assert "voice-ai-edge" in listed.group(1).split()


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_unit_runs_an_existing_command_with_the_settings_file_and_service_user(unit: Path) -> None:
    values = _unit(unit)
    (exec_start,) = values["Service.ExecStart"]
    argv = shlex.split(exec_start)
    assert argv[0] == "/usr/local/bin/voice-ai"  # the installer's link to the virtualenv
    assert argv[1] in COMMANDS
    environment = dict(item.split("=", 1) for v in values.get("Service.Environment", []) for item in shlex.split(v))
    assert environment.get("VOICE_AI_CONFIG") == str(DEFAULT_CONFIG_FILE)
    # Settings come from the file shared/settings.py parses, not a second env file in another syntax.
    assert values.get("Service.EnvironmentFile", []) == []
    assert values["Service.User"] == [_installer_default("VOICE_AI_USER")]
    assert values["Install.WantedBy"] == ["multi-user.target"]


def _workers() -> dict[str, list[str]]:
    """Worker unit name → its ``voice-ai worker`` argv."""
    workers = {}
    for unit in UNITS:
        argv = shlex.split(_unit(unit)["Service.ExecStart"][0])
        if argv[1] == "worker":
            workers[unit.stem] = argv
    return workers


def _option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def test_the_workers_serve_every_queue_and_transfers_share_a_worker_with_neither_uploads_nor_webhooks() -> None:
    served = {name: set(_option(argv, "--queues").split(",")) for name, argv in _workers().items()}
    assert set().union(*served.values()) == set(QUEUES)
    assert served["voice-ai-worker"] == {"documents"}
    # A caller waits on a transfer decision: no upload, no webhook to a hanging receiver, takes its threads.
    (transfers,) = [name for name, queues in served.items() if "transfers" in queues]
    assert served[transfers] == {"transfers"}
    # Each worker is a node of its own (one name per host would make Celery and Flower mix them up).
    names = [_option(argv, "--hostname") for argv in _workers().values()]
    assert len(set(names)) == len(names) and all(name.endswith("@%%h") for name in names)


def test_example_config_holds_only_real_settings_and_loads() -> None:
    names = {f.name.upper() for f in dataclasses.fields(Settings)}
    values = read_config_file(EXAMPLE)
    assert set(values) <= names, set(values) - names
    settings = Settings.load(environ={}, config_file=EXAMPLE)
    assert settings.database_url.startswith("postgresql://") and settings.flower_password == ""


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    """``systemd-analyze verify`` with the command pointed at this virtualenv (the link the installer makes)."""
    assert VENV_COMMAND.exists()
    for unit in UNITS:
        text = unit.read_text().replace("/usr/local/bin/voice-ai", str(VENV_COMMAND))
        (tmp_path / unit.name).write_text(text)
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *sorted(str(p) for p in tmp_path.glob("*.service"))],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "voice-ai" not in result.stderr, result.stderr  # no warning about our units


def _install(destdir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(INSTALLER)], capture_output=True, text=True, timeout=60,
        env={**os.environ, "DESTDIR": str(destdir), "VOICE_AI_VENV": sys.prefix, **env},
    )


def test_installer_creates_the_config_once_links_the_command_and_installs_the_units(tmp_path: Path) -> None:
    url = "postgresql://voice_ai:s3cr&t@10.0.0.5:5432/voice_ai"
    first = _install(tmp_path, DATABASE_URL=url)
    assert first.returncode == 0, first.stderr

    conf = tmp_path / str(DEFAULT_CONFIG_FILE).lstrip("/")
    assert read_config_file(conf)["DATABASE_URL"] == url
    assert conf.stat().st_mode & 0o777 == 0o640  # it holds passwords
    link = tmp_path / "usr/local/bin/voice-ai"
    assert link.is_symlink() and link.resolve() == VENV_COMMAND.resolve()
    for unit in UNITS:
        assert (tmp_path / "etc/systemd/system" / unit.name).read_text() == unit.read_text()
    for folder in ("uploads", "spool", "greetings"):
        assert (tmp_path / "var/lib/voice-ai" / folder).is_dir()
    assert "not calling systemctl" in first.stdout and "systemctl enable" in first.stdout
    enable, start = first.stdout.split("systemctl enable", 1)[1].split("systemctl start", 1)
    assert all(name in enable for name in _workers())
    assert all(name in start for name in _workers())  # every worker starts at once, the transfers one too

    # Again, after the operator edited the file: it is kept as is.
    conf.write_text(conf.read_text() + "FLOWER_PASSWORD=operator-choice\n")
    edited = conf.read_text()
    second = _install(tmp_path, DATABASE_URL="postgresql://other:other@127.0.0.1/other")
    assert second.returncode == 0, second.stderr
    assert conf.read_text() == edited
    assert "kept the existing" in second.stdout
    assert "voice-ai-flower" in second.stdout.split("systemctl start", 1)[1]  # a password: Flower starts too


def test_installer_refuses_without_a_virtualenv_and_never_replaces_a_real_file(tmp_path: Path) -> None:
    missing = _install(tmp_path, VOICE_AI_VENV=str(tmp_path / "nowhere"))
    assert missing.returncode != 0 and "run deploy/setup.sh first" in missing.stderr

    (tmp_path / "usr/local/bin").mkdir(parents=True)
    (tmp_path / "usr/local/bin/voice-ai").write_text("#!/bin/sh\necho someone else's\n")
    clash = _install(tmp_path)
    assert clash.returncode != 0 and "is not a link" in clash.stderr
    assert "someone else's" in (tmp_path / "usr/local/bin/voice-ai").read_text()


@pytest.mark.parametrize("unit", [u for u in UNITS if u.stem.startswith("voice-ai-edge")], ids=lambda p: p.name)
def test_the_edge_unit_allows_the_shipped_real_time_priority(unit: Path) -> None:
    """The installed config asks for the edge's loop at SCHED_RR EDGE_RR_PRIORITY; the unprivileged
    edge gets it only up to the unit's LimitRTPRIO, else it runs at ordinary priority (and says so)."""
    from shared.settings import Settings

    wanted = Settings.load(environ={}, config_file=EXAMPLE).edge_rr_priority
    (limit,) = _unit(unit)["Service.LimitRTPRIO"]
    assert 0 < wanted <= int(limit) < 89  # below FreeSWITCH's own SCHED_RR 89
