"""The ``voice-ai`` console command (subcommands listed in ``shared/design/CONTRACT.md``).

This module is the composition root: it imports the edge and the workers lazily, by name, so that
``voice-ai migrate`` needs neither, and the edge never loads Celery's worker machinery.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from shared.logging import Tag, setup_logging
from shared.settings import SettingsError, get_settings

# subcommand -> (module:function taking the remaining argv, help text)
COMMANDS: dict[str, tuple[str, str]] = {
    "migrate": ("shared.cli:migrate_command", "apply database/migrations/*.sql in order (idempotent)"),
    "edge": ("edge.main:main", "run the edge: ESL outbound server, audio transports, metrics"),
    "worker": ("workers.cli:worker", "run a Celery worker for the project's queues"),
    "beat": ("workers.cli:beat", "run the Celery beat scheduler"),
    "flower": ("workers.cli:flower", "run Flower for the project's Celery app"),
    "simulate-call": ("tests.fakes.simulate:main", "place a simulated call against a running edge"),
    "demo": ("shared.demo:main", "set up a demo tenant and run a full simulated call offline"),
}


def migrate_command(argv: Sequence[str]) -> int:
    """``voice-ai migrate [--reapply]``."""
    from shared.migrate import MigrationError, migrate

    parser = argparse.ArgumentParser(prog="voice-ai migrate", description=COMMANDS["migrate"][1])
    parser.add_argument("--reapply", action="store_true", help="run every file again (they are idempotent)")
    args = parser.parse_args(argv)
    try:
        ran = migrate(reapply=args.reapply)
    except MigrationError as exc:
        print(f"{Tag.ERROR} migrate: {exc}", file=sys.stderr)
        return 1
    print(f"{Tag.EVENT_BUS} migrate: " + (f"applied {', '.join(ran)}" if ran else "schema up to date"))
    return 0


def _resolve(target: str) -> Callable[[Sequence[str]], int | None] | None:
    module_name, func_name = target.split(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            return None
        raise
    return getattr(module, func_name, None)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``voice-ai`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in {"-h", "--help"} or argv[0] not in COMMANDS:
        print("usage: voice-ai <command> [args]\n\ncommands:")
        for name, (_, help_text) in COMMANDS.items():
            print(f"  {name:<14} {help_text}")
        return 0 if not argv or argv[0] in {"-h", "--help"} else 2
    try:
        settings = get_settings()
    except SettingsError as exc:
        print(f"{Tag.ERROR} settings: {exc}", file=sys.stderr)
        return 2
    setup_logging(settings.log_level)
    command = _resolve(COMMANDS[argv[0]][0])
    if command is None:
        print(f"voice-ai {argv[0]}: not yet — this part of the product has not landed.")
        return 0
    return int(command(argv[1:]) or 0)


if __name__ == "__main__":
    sys.exit(main())
