"""``voice-ai demo``: a whole call on the offline engine, on this machine, with no API key.

1. applies the migrations; starts Redis if it does not answer (PostgreSQL is the installer's job);
2. creates the demo tenant ``demo.voice-ai.local`` afresh: a secretary speaking English on the offline
   engine, a transfer rule for Sales, the domain's operator, and a small knowledge document;
3. starts a worker and an edge (``voice-ai worker``, ``voice-ai edge``) on free ports; the worker
   ingests the document (offline multilingual-e5-small embeddings);
4. places a simulated call through the fake FreeSWITCH: the caller (espeak-ng English audio, since the
   offline recogniser pocketsphinx is English-only) asks a question the document answers, then asks
   for Sales, whose phone answers;
5. prints the transcript with timings and the conversation row (summary, outcome), writes both
   directions of the call's audio to a stereo WAV file, and stops what it started;
6. checks the call went as scripted — the Saturday hours said from the document, the caller bridged to
   Sales — and otherwise exits 1, saying what was missed and keeping the logs.

The caller is the product's simulator (:mod:`simulator`): a fake FreeSWITCH placing the call on the edge's
ESL port, as ``voice-ai simulate-call`` does.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select

from shared.logging import Tag
from shared.migrate import migrate
from shared.models import Conversation, Document, Domain, DomainSettings, Message, Secretary, TransferRule
from shared.settings import Settings, get_settings
from shared.tasks import INGEST_DOCUMENT, producer_app
from shared.tenancy import system_session, tenant_session
from simulator.caller import CallerTurn, SimulatedCallResult, run_simulated_call
from simulator.transcript import transcript_lines, wait_for_conversation

DEMO_DOMAIN = "demo.voice-ai.local"
DEMO_DOCUMENT = """Acme Dental Clinic — frequently asked questions

Opening hours: we are open Monday to Friday from eight in the morning to six in the evening, and on
Saturday from nine in the morning to one in the afternoon. We are closed on Sunday.

Address: Acme Dental Clinic is at 42 Harbor Street, next to the central station. Parking is free.

Appointments: new patients can book a first consultation by phone. A cleaning takes forty minutes.

Payment: we accept cash, debit and credit cards, and the main dental insurance plans.
"""
CALLER_TURNS = ("What are your opening hours on Saturday?", "Can I speak to someone in sales?")
DOCUMENT_ANSWER = "Saturday from nine in the morning"
"""Words of the document that the answer to the first question must carry (the offline engine quotes it)."""
SALES_EXTENSION = "2001"


def say(text: str) -> None:
    """Print a demo progress line."""
    print(f"▶ {text}", flush=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Started:
    """The processes the demo started, stopped in reverse order at the end."""

    def __init__(self) -> None:
        self.procs: list[tuple[str, subprocess.Popen[bytes]]] = []

    def add(self, name: str, proc: subprocess.Popen[bytes]) -> subprocess.Popen[bytes]:
        """Remember ``proc`` for :meth:`stop_all`."""
        self.procs.append((name, proc))
        return proc

    def stop_all(self) -> None:
        """SIGTERM each started process, then SIGKILL what has not exited after 10 s."""
        for name, proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            say(f"stopped {name}")
        self.procs.clear()


def ensure_redis(settings: Settings, started: Started) -> Settings:
    """Use Redis at ``REDIS_URL``; if it does not answer, start a private one for the demo."""
    import redis

    try:
        redis.Redis.from_url(settings.redis_url, socket_connect_timeout=1).ping()
        return settings
    except redis.RedisError:
        pass
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit(f"{Tag.ERROR} demo: Redis does not answer at {settings.redis_url} and redis-server "
                         "is not installed (run deploy/setup.sh)")
    port = _free_port()
    started.add("redis-server", subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    ))
    url = f"redis://127.0.0.1:{port}/0"
    for _ in range(50):
        try:
            redis.Redis.from_url(url).ping()
            say(f"started Redis on port {port}")
            return settings.replace(redis_url=url)
        except redis.RedisError:
            time.sleep(0.1)
    raise SystemExit(f"{Tag.ERROR} demo: could not start redis-server")


def create_demo_tenant(settings: Settings, workdir: Path) -> dict[str, uuid.UUID]:
    """Create the demo domain afresh (deleting an earlier one and all its rows) and its configuration."""
    with system_session(settings.database_url) as session:
        for old in session.scalars(select(Domain).where(Domain.domain_name == DEMO_DOMAIN)):
            session.delete(old)
    domain_uuid = uuid.uuid4()
    with system_session(settings.database_url) as session:
        session.add(Domain(domain_uuid=domain_uuid, domain_name=DEMO_DOMAIN, domain_description="voice-ai demo"))

    document_uuid = uuid.uuid4()
    path = workdir / f"{document_uuid}.txt"
    path.write_text(DEMO_DOCUMENT, encoding="utf-8")
    with tenant_session(domain_uuid, settings.database_url) as session:
        secretary = Secretary(
            name="Acme Dental reception",
            language="en-US",
            system_prompt="You are the receptionist of Acme Dental Clinic. Answer from the clinic's documents.",
            greeting_message="Hello, you have reached Acme Dental Clinic. How can I help you?",
            goodbye_message="Thank you for calling Acme Dental Clinic. Goodbye!",
            rag_similarity_threshold=0.2,
            silence_timeout_seconds=10,
            silence_hangup_seconds=10,
        )
        session.add(secretary)
        session.flush()
        session.add(TransferRule(
            voice_secretary_uuid=secretary.voice_secretary_uuid, department_name="Sales",
            keywords=["sales", "buy", "price", "pricing"], transfer_extension=SALES_EXTENSION,
            transfer_message="Of course, I am transferring you to Sales now.", priority=10,
        ))
        session.add(DomainSettings(operator_destination="1000", transfer_context=DEMO_DOMAIN))
        session.add(Document(
            document_uuid=document_uuid, file_name="acme-faq.txt", mime_type="text/plain",
            file_size=path.stat().st_size, storage_path=str(path), status="pending",
        ))
        secretary_uuid = secretary.voice_secretary_uuid
    return {"domain": domain_uuid, "secretary": secretary_uuid, "document": document_uuid}


def _voice_ai(args: Sequence[str], env: dict[str, str], log: Path, **popen: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", "import sys; from voice_ai.cli import main; sys.exit(main(sys.argv[1:]))", *args],
        env=env, stderr=log.open("wb"), **popen,
    )


def start_worker(env: dict[str, str], workdir: Path, started: Started) -> None:
    """``voice-ai worker`` on every queue, its log in ``workdir``."""
    started.add("worker", _voice_ai(["worker", "-c", "1", "--without-heartbeat", "--without-gossip",
                                     "--without-mingle"], env, workdir / "worker.log",
                                    stdout=subprocess.DEVNULL))
    say(f"started a worker (log: {workdir / 'worker.log'})")


def start_edge(env: dict[str, str], workdir: Path, started: Started) -> int:
    """``voice-ai edge`` on free ports; returns its ESL port once it listens."""
    proc = started.add("edge", _voice_ai(["edge"], env, workdir / "edge.log", stdout=subprocess.PIPE))
    assert proc.stdout is not None
    line = proc.stdout.readline().decode()
    if not line.startswith("EDGE_READY"):
        raise SystemExit(f"{Tag.ERROR} demo: the edge did not start; see {workdir / 'edge.log'}")
    fields = dict(part.split("=", 1) for part in line.split()[1:])
    say(f"started the edge (ESL port {fields['esl']}, log: {workdir / 'edge.log'})")
    return int(fields["esl"])


def wait_for_document(settings: Settings, ids: dict[str, uuid.UUID], timeout: float = 180.0) -> Document:
    """Poll until the worker has ingested the demo document (``ready``) or failed it."""
    deadline = time.monotonic() + timeout
    while True:
        with tenant_session(ids["domain"], settings.database_url) as session:
            document = session.get(Document, ids["document"])
            assert document is not None
            if document.status in {"ready", "failed"} or time.monotonic() > deadline:
                return document
        time.sleep(0.5)


def print_conversation(conversation: Conversation, messages: list[Message]) -> None:
    """The stored transcript with timings, then the conversation row."""
    print("\n=== Transcript (as stored by the worker) ===")
    for line in transcript_lines(conversation, messages):
        print(f"  {line}")
    print("\n=== Conversation row ===")
    for field in ("call_uuid", "caller_id", "engine", "started_at", "ended_at", "duration_seconds", "turn_count",
                  "outcome", "transfer_target", "summary", "webhook_status"):
        print(f"  {field:<17} {getattr(conversation, field)}")


def missed_expectations(result: SimulatedCallResult, stored: tuple[Conversation, list[Message]] | None) -> list[str]:
    """What the call lacks of the demo's script (greeting, an answer from the document, a transfer to Sales
    that the workers stored); empty when it went as expected."""
    if not result.reached:
        return ["the edge did not accept the call on its ESL port"]
    if not result.answered:
        return ["the edge never answered the call"]
    missed = []
    if result.greeting is None:
        missed.append("the secretary never greeted the caller")
    if not result.turns or result.turns[0].answer is None:
        missed.append(f'the secretary did not answer "{CALLER_TURNS[0]}"')
    if not any(SALES_EXTENSION in dial for dial in result.rung):
        missed.append(f"FreeSWITCH was never asked to ring Sales ({SALES_EXTENSION})")
    if stored is None:
        missed.append("the workers did not store the conversation with an outcome and a summary within 60 s")
        return missed
    conversation, messages = stored
    said = " ".join(" ".join((m.content or "").split()) for m in messages if m.role == "assistant")
    if DOCUMENT_ANSWER.lower() not in said.lower():
        missed.append(f'the secretary never said the document\'s Saturday hours ("{DOCUMENT_ANSWER}"): the first '
                      "question was not answered from acme-faq.txt")
    if conversation.outcome != "transferred" or conversation.transfer_target != SALES_EXTENSION:
        missed.append(f"the call ended {conversation.outcome!r} (transfer target {conversation.transfer_target!r}), "
                      f"not 'transferred' to Sales ({SALES_EXTENSION})")
    return missed


def main(argv: Sequence[str]) -> int:
    """Run the demo; exit status 0 only when the call went as scripted and was recorded."""
    parser = argparse.ArgumentParser(prog="voice-ai demo",
                                     description="A whole call on the offline engine, on this machine, no API key.")
    parser.add_argument("--wav", default="demo-call.wav", help="where to write the call's audio (stereo; "
                        "default %(default)s)")
    parser.add_argument("--keep", action="store_true", help="leave the work directory (logs) in place "
                        "(it is always kept when the call goes wrong)")
    parser.add_argument("--bridge-outcome", default="answer", metavar="OUTCOME",
                        help="what Sales' phone does when the caller is transferred: answer, USER_BUSY, "
                             "NO_ANSWER, ... (default %(default)s; anything else makes the demo fail)")
    args = parser.parse_args(argv)

    settings = get_settings()
    started = Started()
    workdir = Path(tempfile.mkdtemp(prefix="voice-ai-demo-"))
    keep = args.keep
    try:
        say("applying migrations")
        migrate(settings.database_url)
        settings = ensure_redis(settings, started)
        ids = create_demo_tenant(settings, workdir)
        say(f"created tenant {DEMO_DOMAIN} (domain {ids['domain']}) with a secretary, a Sales rule and a document")

        env = dict(os.environ)
        env.update({
            "DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url, "PYTHONUNBUFFERED": "1",
            "EDGE_HOST": "127.0.0.1", "EDGE_ESL_PORT": "0", "EDGE_METRICS_PORT": "0", "EDGE_AUDIO_PORT": "0",
            "SPOOL_DIR": str(workdir / "spool"), "GREETING_CACHE_DIR": str(workdir / "greetings"),
        })
        start_worker(env, workdir, started)
        producer_app(settings.redis_url).send_task(INGEST_DOCUMENT, args=[str(ids["domain"]), str(ids["document"])])
        document = wait_for_document(settings, ids)
        if document.status != "ready":
            keep = True
            print(f"{Tag.ERROR} demo: the document was not ingested ({document.status}: {document.error_message}); "
                  f"the worker's log: {workdir / 'worker.log'}", file=sys.stderr)
            return 1
        say(f"the worker ingested acme-faq.txt: {document.chunk_count} chunks ({document.embedding_model})")
        esl_port = start_edge(env, workdir, started)

        say("placing the call: the caller asks about opening hours, then asks for Sales")
        result = run_simulated_call(
            port=esl_port, domain_uuid=ids["domain"], voice_secretary_uuid=ids["secretary"],
            turns=[CallerTurn.say(text) for text in CALLER_TURNS], bridge_outcome=args.bridge_outcome,
            progress=say,
        )
        print(result.report())
        result.write_wav(args.wav)
        say(f"wrote the call's audio to {Path(args.wav).resolve()} (left: caller, right: secretary)")

        stored = None
        if result.answered:
            stored = wait_for_conversation(settings.database_url, ids["domain"], result.call_uuid, timeout=60.0,
                                           ready=lambda row: bool(row.outcome and row.summary))
        if stored is not None:
            print_conversation(*stored)
        missed = missed_expectations(result, stored)
        if missed:
            keep = True
            sys.stdout.flush()
            print(f"\n{Tag.ERROR} demo: the call did not go as scripted (the Saturday hours answered from the "
                  "document, then a transfer to Sales):", file=sys.stderr)
            for line in missed:
                print(f"  - {line}", file=sys.stderr)
            print(f"  the edge's and the worker's logs: {workdir}", file=sys.stderr, flush=True)
            return 1
        say("the call went as scripted: the Saturday hours from the document, then a transfer to Sales")
        return 0
    finally:
        started.stop_all()
        if keep:
            say(f"logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
