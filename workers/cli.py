"""``voice-ai worker``, ``voice-ai beat`` and ``voice-ai flower`` (mapped in ``voice_ai/cli.py``).

Extra arguments are Celery's (or Flower's) own, e.g. ``voice-ai worker -Q transfers -P threads -c 8``.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from shared.logging import Tag
from shared.settings import Settings, get_settings


def _has_option(argv: Sequence[str], *names: str) -> bool:
    return any(arg == name or arg.startswith(name + "=") or (len(name) == 2 and arg.startswith(name) and len(arg) > 2)
               for arg in argv for name in names)


def worker_argv(argv: Sequence[str]) -> list[str]:
    """The Celery worker command line: every project queue unless ``-Q`` is given, task events on."""
    from workers.app import ALL_QUEUES

    args = ["worker", *argv]
    if not _has_option(argv, "-Q", "--queues"):
        args += ["--queues", ALL_QUEUES]
    if not _has_option(argv, "-l", "--loglevel"):
        args += ["--loglevel", get_settings().log_level]
    if not _has_option(argv, "-E", "--task-events"):
        args.append("--task-events")
    return args


def worker(argv: Sequence[str]) -> int:
    """Run a Celery worker for the project's queues (all four by default)."""
    from workers.app import app

    app.worker_main(worker_argv(argv))
    return 0


def _state_dir() -> Path:
    """A writable directory for beat's schedule file (/var/lib/voice-ai when the service owns it)."""
    preferred = Path(get_settings().upload_dir).parent
    if preferred.is_dir() and os.access(preferred, os.W_OK):
        return preferred
    return Path(tempfile.gettempdir())


def beat(argv: Sequence[str]) -> int:
    """Run the Celery beat scheduler (the pending-document sweep)."""
    from workers.app import app

    args = ["beat", *argv]
    if not _has_option(argv, "-s", "--schedule"):
        args += ["--schedule", str(_state_dir() / "voice-ai-celerybeat-schedule")]
    if not _has_option(argv, "-l", "--loglevel"):
        args += ["--loglevel", get_settings().log_level]
    app.start(args)
    return 0


def flower_argv(argv: Sequence[str], settings: Settings) -> list[str]:
    """Flower's command line: ``FLOWER_ADDRESS`` (loopback by default) and ``FLOWER_PORT`` unless given."""
    args = ["flower", *argv]
    if not _has_option(argv, "--address"):
        args.append(f"--address={settings.flower_address}")
    if not _has_option(argv, "--port"):
        args.append(f"--port={settings.flower_port}")
    return args


def metrics_behind_basic_auth() -> None:
    """Make Flower's ``/metrics`` ask for the dashboard's credentials (Flower serves it to anyone).

    Its labels name every task and worker host; Prometheus scrapes it with ``basic_auth`` instead.
    ``/healthcheck`` (it says only "OK") stays open.
    """
    import tornado.web
    from flower.views.monitor import Metrics

    if not getattr(Metrics.get, "voice_ai_authenticated", False):
        guarded = tornado.web.authenticated(Metrics.get)
        guarded.voice_ai_authenticated = True  # type: ignore[attr-defined]  # our mark: patched once per process
        Metrics.get = guarded


def flower(argv: Sequence[str]) -> int:
    """Run Flower on ``FLOWER_ADDRESS`` behind basic auth (``FLOWER_USER``/``FLOWER_PASSWORD``), ``/metrics`` too."""
    settings = get_settings()
    if not settings.flower_password:
        print(f"{Tag.ERROR} flower: set FLOWER_PASSWORD (Flower is never started without a password)",
              file=sys.stderr)
        return 2
    # Flower reads every FLOWER_* variable as one of its options: hand it the credentials that way (not on
    # the command line, where `ps` would show them) and remove our own names, which go on the command line.
    for name in ("FLOWER_USER", "FLOWER_PASSWORD", "FLOWER_PORT", "FLOWER_ADDRESS"):
        os.environ.pop(name, None)
    os.environ["FLOWER_BASIC_AUTH"] = f"{settings.flower_user}:{settings.flower_password}"
    from workers.app import app

    metrics_behind_basic_auth()
    app.start(flower_argv(argv, settings))
    return 0
