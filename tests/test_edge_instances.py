"""One edge per core: ``EDGE_INSTANCES=<n> deploy/install-services.sh`` adds voice-ai-edge@1..n-1.

Each extra instance runs the template unit with its own ESL, metrics and audio ports (a drop-in per
instance); the edge reads them as it reads every setting, and the installer prints the socket list the
dialplan needs. Run under ``DESTDIR`` (no user, no systemctl), as tests/test_deploy_services.py does.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

from shared.settings import DEFAULT_CONFIG_FILE, Settings

REPO = Path(__file__).resolve().parents[1]


def _install(destdir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(REPO / "deploy" / "install-services.sh")], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "DESTDIR": str(destdir), "VOICE_AI_VENV": sys.prefix, **env})


def _drop_in_environment(path: Path) -> dict[str, str]:
    lines = [line.split("=", 1)[1] for line in path.read_text().splitlines() if line.startswith("Environment=")]
    return dict(item.split("=", 1) for line in lines for item in shlex.split(line))


def test_three_edges_get_their_own_ports_and_the_dialplan_list(tmp_path: Path) -> None:
    conf = tmp_path / str(DEFAULT_CONFIG_FILE).lstrip("/")
    conf.parent.mkdir(parents=True)
    conf.write_text("DATABASE_URL=postgresql://x:y@127.0.0.1/z\nEDGE_HOST=10.0.0.7\nEDGE_ESL_PORT=9022\n")
    done = _install(tmp_path, EDGE_INSTANCES="3")
    assert done.returncode == 0, done.stderr
    units = tmp_path / "etc/systemd/system"
    assert (units / "voice-ai-edge@.service").read_text() == (REPO / "deploy/systemd/voice-ai-edge@.service").read_text()
    ports = {}
    for instance in (1, 2):
        environment = _drop_in_environment(units / f"voice-ai-edge@{instance}.service.d" / "ports.conf")
        # What that instance's edge reads: the drop-in's environment over the shared config file.
        settings = Settings.load(environ={"VOICE_AI_CONFIG": str(conf), **environment}, config_file=conf)
        ports[instance] = (settings.edge_esl_port, settings.edge_metrics_port, settings.edge_audio_port)
    assert ports == {1: (9023, 9123, 8086), 2: (9024, 9124, 8087)}
    assert not (units / "voice-ai-edge@3.service.d").exists()
    # The FusionPBX app's edge_host (and the socket list it becomes), and how to start the instances.
    assert "edge_host: 10.0.0.7:9022,10.0.0.7:9023,10.0.0.7:9024" in done.stdout
    assert "10.0.0.7:9022|10.0.0.7:9023|10.0.0.7:9024" in done.stdout
    assert "systemctl enable --now voice-ai-edge@1 voice-ai-edge@2" in done.stdout


def test_one_edge_by_default_and_a_bad_count_is_refused(tmp_path: Path) -> None:
    default = _install(tmp_path / "one")
    assert default.returncode == 0, default.stderr
    assert not list((tmp_path / "one/etc/systemd/system").glob("voice-ai-edge@*.service.d"))
    assert "voice-ai-edge@" not in default.stdout
    bad = _install(tmp_path / "bad", EDGE_INSTANCES="many")
    assert bad.returncode != 0 and "EDGE_INSTANCES must be" in bad.stderr
