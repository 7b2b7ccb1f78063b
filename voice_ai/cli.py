"""The ``voice-ai`` console command (its subcommands are listed in ``docs/contract.md``).

This module is the composition root: it imports the edge and the workers lazily, by name, so that
``voice-ai migrate`` needs neither, and the edge never loads Celery's worker machinery.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from sqlalchemy import make_url
from sqlalchemy.exc import OperationalError

from shared.lazy_import import MissingTarget, import_target
from shared.logging import Tag, setup_logging
from shared.settings import SettingsError, get_settings

# subcommand -> (module:function taking the remaining argv, help text)
COMMANDS: dict[str, tuple[str, str]] = {
    "migrate": ("voice_ai.cli:migrate_command", "apply database/migrations/*.sql in order (idempotent)"),
    "edge": ("edge.main:main", "run the edge: ESL outbound server, audio transports, metrics"),
    "worker": ("voice_ai.cli:worker_command", "run a Celery worker for the project's queues (--help lists them)"),
    "beat": ("workers.cli:beat", "run the Celery beat scheduler"),
    "flower": ("workers.cli:flower", "run Flower for the project's Celery app"),
    "secretaries": ("voice_ai.cli:secretaries_command", "list the domains and their secretaries, with UUIDs"),
    "simulate-call": ("simulator.caller:main", "place a simulated call against a running edge"),
    "demo": ("voice_ai.demo:main", "set up a demo tenant and run a full simulated call offline"),
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


QUEUE_WORK: dict[str, str] = {
    "documents": "document ingestion: text extraction, chunks, embeddings (CPU-bound)",
    "conversations": "a call's events stored, its summary written",
    "webhooks": "OmniPlay webhook deliveries and their retries",
    "transfers": "transfer decisions, which a caller on the line waits for",
}
"""What each queue of ``shared.tasks.QUEUES`` carries, for ``voice-ai worker --help`` (the Celery import
waits for that command: ``voice-ai migrate`` needs no Celery)."""


def worker_command(argv: Sequence[str]) -> int:
    """``voice-ai worker [celery worker options]``; ``--help`` first names the queues, then Celery's options."""
    from shared.tasks import QUEUES
    from workers.cli import worker

    if any(arg in {"-h", "--help"} for arg in argv):
        print("usage: voice-ai worker [celery worker options]\n\n"
              "Runs a Celery worker. Without -Q/--queues it consumes every queue:")
        for queue in QUEUES:
            print(f"  {queue:<14} {QUEUE_WORK.get(queue, '')}")
        print("\nOne worker per kind of work, as deploy/systemd/ runs them:\n"
              "  voice-ai worker -Q documents -P prefork\n"
              "  voice-ai worker -Q conversations,webhooks -P threads -c 16\n"
              "  voice-ai worker -Q transfers -P threads -c 8\n\n"
              "Celery's own options:\n", flush=True)
    return worker(argv)


def secretaries_command(argv: Sequence[str]) -> int:
    """``voice-ai secretaries [--domain NAME]``: every domain, then each of its secretaries, with UUIDs.

    The UUIDs are what the dialplan sets (``domain_uuid``, ``voice_secretary_uuid``) and what
    ``voice-ai simulate-call`` takes.
    """
    from sqlalchemy import select

    from shared.models import Domain, Secretary
    from shared.tenancy import cross_tenant_keys, system_session, tenant_session

    parser = argparse.ArgumentParser(prog="voice-ai secretaries", description=COMMANDS["secretaries"][1])
    parser.add_argument("--domain", metavar="NAME", help="only this domain (its name, e.g. pbx.example.com)")
    args = parser.parse_args(argv)
    settings = get_settings()
    query = select(Domain).order_by(Domain.domain_name)
    if args.domain:
        query = query.where(Domain.domain_name == args.domain)
    with system_session(settings.database_url) as session:
        domains = [(d.domain_uuid, d.domain_name, d.domain_enabled) for d in session.scalars(query)]
    if not domains:
        print(f"{Tag.ERROR} secretaries: no domain" + (f" named {args.domain}" if args.domain else "")
              + f" in {database_location(settings.database_url)}", file=sys.stderr)
        return 1
    with_secretaries = {domain for domain, _ in cross_tenant_keys(Secretary, database_url=settings.database_url)}
    example = None
    for domain_uuid, name, enabled in domains:
        print(f"{name}  domain_uuid={domain_uuid}" + ("" if enabled is not False else "  (domain disabled)"))
        if domain_uuid not in with_secretaries:
            print("    (no secretary)")
            continue
        with tenant_session(domain_uuid, settings.database_url) as session:
            for secretary in session.scalars(select(Secretary).order_by(Secretary.name)):
                print(f"    {secretary.name}  voice_secretary_uuid={secretary.voice_secretary_uuid}"
                      f"  language={secretary.language}  extension={secretary.extension or '-'}"
                      + ("" if secretary.enabled is not False else "  (disabled)"))
                example = example or (domain_uuid, secretary.voice_secretary_uuid)
    if example:
        print(f"\nCall one through a running edge:\n  voice-ai simulate-call --domain-uuid {example[0]} "
              f"--secretary-uuid {example[1]} --say \"Hello\" --transcript")
    return 0


def database_location(url: str) -> str:
    """``host:port/database`` of a database URL, for messages: no user, no password, no query string."""
    parsed = make_url(url)
    return f"{parsed.host or 'localhost'}:{parsed.port or 5432}/{parsed.database or ''}"


class MissingPart(Exception):
    """A subcommand's module is not in this installation (e.g. a partial or broken install)."""


def _resolve(target: str) -> Callable[[Sequence[str]], int | None]:
    try:
        command: Callable[[Sequence[str]], int | None] = import_target(target)
    except MissingTarget as exc:
        raise MissingPart(str(exc)) from exc
    return command


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
    try:
        command = _resolve(COMMANDS[argv[0]][0])
    except MissingPart as exc:
        print(f"{Tag.ERROR} voice-ai {argv[0]}: {exc}", file=sys.stderr)
        return 1
    try:
        return int(command(argv[1:]) or 0)
    except OperationalError as exc:  # no server, no role, no database, a wrong password...
        reason = str(exc.orig or exc).strip().splitlines()[0]
        print(f"{Tag.ERROR} voice-ai {argv[0]}: cannot use the database at "
              f"{database_location(settings.database_url)}: {reason}\n"
              "  Set DATABASE_URL (README, \"Configuration\"), or run `make demo` once: it creates the local "
              "database and writes its URL to /etc/voice-ai/voice-ai.conf.", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
