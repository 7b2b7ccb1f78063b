"""The one logging setup: the seed's emoji tags, and the call UUID and domain on every call's line.

Usage::

    log = call_logger(__name__, call_uuid=..., domain_uuid=...)
    log.info(Tag.STATE_MACHINE, "greeting -> listening")

Every line has the form ``<time> <level> <tag> [call=<uuid> domain=<uuid>] <message>``, so an operator
can ``grep "📞 SESSION"`` or grep one call's UUID across the edge and the workers.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from enum import StrEnum
from typing import Any


class Tag(StrEnum):
    """The seed's log tags (000_e088d9aa7a36cd74.txt, "Logging")."""

    EVENT_BUS = "📢 EVENT_BUS"
    STATE_MACHINE = "🔄 STATE_MACHINE"
    HEARTBEAT = "💓 HEARTBEAT"
    TIMEOUT_MGR = "⏱️ TIMEOUT_MGR"
    SESSION = "📞 SESSION"
    ERROR = "❌ ERROR"

    def __str__(self) -> str:
        return self.value


_FORMAT = "%(asctime)s %(levelname)s %(tag)s %(context)s%(message)s"

# Anything that looks like a vendor secret is masked before it reaches a handler.
_SECRET_PATTERNS = (
    re.compile(r"\b(sk-[A-Za-z0-9_\-]{3})[A-Za-z0-9_\-]+"),
    re.compile(r"(?i)(bearer\s+)[^\s\"',}]+"),
    re.compile(r"(?i)([?&]key=)[^\s&\"']+"),
    re.compile(r"(?i)((?:api[_-]?key|xi-api-key|x-goog-api-key|password|secret)[\"']?\s*[:=]\s*[\"']?)[^\s\"',}]+"),
)


def redact(text: str) -> str:
    """Mask API keys, bearer tokens and passwords in ``text``."""
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + "***", text)
    return text


class _ContextFilter(logging.Filter):
    """Fills ``tag`` and ``context`` for lines that did not come through a :class:`CallLogger`."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "tag"):
            record.tag = str(Tag.ERROR) if record.levelno >= logging.ERROR else "·"
        if not hasattr(record, "context"):
            record.context = ""
        return True


class _RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


_configured = False


def make_handler(stream: Any) -> logging.Handler:
    """A handler writing the project's line format, with secrets redacted, to ``stream``."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(_RedactingFormatter(_FORMAT))
    handler.addFilter(_ContextFilter())
    return handler


def setup_logging(level: str | int = "INFO", stream: Any = None) -> None:
    """Configure the root logger once per process (idempotent)."""
    global _configured
    root = logging.getLogger()
    root.setLevel(level if isinstance(level, int) else level.upper())
    if _configured:
        return
    root.addHandler(make_handler(stream or sys.stderr))
    for noisy in ("websockets", "httpx", "httpcore", "openai", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    _configured = True


class CallLogger(logging.LoggerAdapter):
    """A logger whose every line carries a tag and, for a call, its call UUID and domain."""

    def __init__(self, logger: logging.Logger, context: Mapping[str, Any]) -> None:
        super().__init__(logger, dict(context))
        self.fields = dict(context)
        parts = [f"{k}={v}" for k, v in self.fields.items() if v is not None]
        self._context = f"[{' '.join(parts)}] " if parts else ""

    def bind(self, **more: Any) -> CallLogger:
        """A logger with more context (e.g. the call UUID once it is known)."""
        return CallLogger(self.logger, {**self.fields, **more})

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, MutableMapping[str, Any]]:
        extra = kwargs.setdefault("extra", {})
        extra.setdefault("context", self._context)
        return msg, kwargs

    def _tagged(self, level: int, tag: Tag, msg: object, *args: Any, **kwargs: Any) -> None:
        if self.isEnabledFor(level):
            kwargs.setdefault("extra", {})["tag"] = str(tag)
            self.log(level, msg, *args, **kwargs)

    def info(self, tag: Tag | str, msg: str = "", *args: Any, **kwargs: Any) -> None:  # type: ignore[override]  # a Tag, then the message (or a message alone)
        """``info(Tag.SESSION, "answered")``; a plain ``info("text")`` is tagged ``·``."""
        if isinstance(tag, Tag):
            self._tagged(logging.INFO, tag, msg, *args, **kwargs)
        else:
            self.log(logging.INFO, tag, *((msg,) + args if msg else args), **kwargs)

    def debug(self, tag: Tag | str, msg: str = "", *args: Any, **kwargs: Any) -> None:  # type: ignore[override]  # a Tag, then the message (or a message alone)
        """Debug line with a tag."""
        if isinstance(tag, Tag):
            self._tagged(logging.DEBUG, tag, msg, *args, **kwargs)
        else:
            self.log(logging.DEBUG, tag, *((msg,) + args if msg else args), **kwargs)

    def warning(self, tag: Tag | str, msg: str = "", *args: Any, **kwargs: Any) -> None:  # type: ignore[override]  # a Tag, then the message (or a message alone)
        """Warning line with a tag."""
        if isinstance(tag, Tag):
            self._tagged(logging.WARNING, tag, msg, *args, **kwargs)
        else:
            self.log(logging.WARNING, tag, *((msg,) + args if msg else args), **kwargs)

    def error(self, msg: object, *args: Any, **kwargs: Any) -> None:
        """An ❌ ERROR line."""
        self._tagged(logging.ERROR, Tag.ERROR, msg, *args, **kwargs)

    def exception(self, msg: object, *args: Any, **kwargs: Any) -> None:
        """An ❌ ERROR line with the traceback."""
        kwargs.setdefault("exc_info", True)
        self._tagged(logging.ERROR, Tag.ERROR, msg, *args, **kwargs)


def call_logger(name: str, **context: Any) -> CallLogger:
    """A :class:`CallLogger` for ``name`` with context such as ``call_uuid=`` and ``domain_uuid=``."""
    short = {"call_uuid": "call", "domain_uuid": "domain"}
    return CallLogger(logging.getLogger(name), {short.get(k, k): v for k, v in context.items()})
