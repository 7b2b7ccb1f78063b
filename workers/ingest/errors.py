"""Why a document could not be ingested, in words an operator can act on."""

from __future__ import annotations


class IngestError(Exception):
    """A file that will never ingest as it is (corrupt, encrypted, empty, too big, binary, unsupported).

    The message is stored in ``v_voice_documents.error_message`` and shown on the admin page, so it says
    what is wrong and what to do, never a stack trace.
    """


class UnreadableFileError(IngestError):
    """A reader failed in a way it does not name: a parser's own exception on odd content.

    Still the file's fault, so the document fails for good; unlike a named failure it is logged as an
    ❌ ERROR with its traceback, since it may also show a reader that needs a better message.
    """


class TransientIngestError(Exception):
    """A failure that may pass (the embedding provider is unreachable): the task retries later."""


def megabytes(size: int) -> str:
    """A byte count as an operator reads it in a reason: ``"20.0 MB"``."""
    return f"{size / (1024 * 1024):.1f} MB"
