"""The call's conversation engine: opened early, started with one retry, replaced once when its vendor
fails mid-call, and otherwise the fallback path (:mod:`edge.call.fallback`)."""

from __future__ import annotations

from contextlib import suppress
from typing import TYPE_CHECKING

import gevent

from edge.call.fallback import fall_back
from edge.engines.base import Engine, EngineUnavailable
from edge.engines.registry import create_engine
from shared.logging import Tag

if TYPE_CHECKING:
    from edge.call.session import CallSession

ENGINE_RETRY_DELAY = 0.2


class EngineSlot:
    """Creates, starts, replaces and closes ``call.engine``."""

    def __init__(self, call: CallSession) -> None:
        self.call = call
        self._opened: Engine | None = None  # created and connecting while the call is answered
        self._retries = 1
        self._recovering = False

    def open(self) -> None:
        """Create the engine and let its vendor connection open while FreeSWITCH answers."""
        assert self.call.setup is not None
        with suppress(Exception):  # an engine that cannot be created is reported by start()
            self._opened = create_engine(self.call.setup.engine, self.call.host)
            self._opened.open()

    def close_opened(self) -> None:
        """Close the engine opened while the call was answered and never started: it was only given the
        session's configuration, never asked for a response (nothing heard, nothing billed), and its
        vendor connection is released at once, not held through the goodbye until the cleanup."""
        opened, self._opened = self._opened, None
        if opened is not None:
            try:
                opened.close()
            except Exception:
                self.call.log.exception("engine close failed")

    def start(self) -> bool:
        """Start the engine, retrying once; on failure take the fallback path and return False."""
        call = self.call
        assert call.setup is not None
        name = call.setup.engine
        for attempt in (1, 2):
            engine: Engine | None = None
            try:
                engine, self._opened = self._opened or create_engine(name, call.host), None
                call.engine = engine
                engine.start()
                return True
            except EngineUnavailable as exc:
                self.error("start", f"engine {name} unavailable (attempt {attempt}): {exc}")
            except Exception as exc:  # noqa: BLE001
                self.error("start", f"engine {name} failed to start: {exc!r}")
            if engine is not None:
                engine.close()
            call.engine = None
            if call.machine.ended or call.esl.closed.is_set():
                return False
            if attempt == 1:
                gevent.sleep(ENGINE_RETRY_DELAY)
        fall_back(call, "engine unavailable")
        return False

    def error(self, kind: str, message: str) -> None:
        """Count and log an engine failure."""
        self.call.services.metrics.engine_errors.inc(kind)
        self.call.log.error(message)

    def failed(self, reason: str) -> None:
        """The engine lost its vendor mid-call: retry once with a new engine, then fall back."""
        call = self.call
        if self._recovering or call.machine.ended or call.esl.closed.is_set():
            return
        self._recovering = True
        call.spawn(self._recover, reason)

    def _recover(self, reason: str) -> None:
        call = self.call
        self.error("disconnect", f"engine lost mid-call: {reason}")
        if call.stream is not None:
            call.stream.flush()
        old, call.engine = call.engine, None
        if old is not None:
            old.close()
        if self._retries > 0 and call.setup is not None:
            self._retries -= 1
            gevent.sleep(ENGINE_RETRY_DELAY)
            try:
                engine = create_engine(call.setup.engine, call.host)
                if call.context is not None:
                    call.context.extra["resumed"] = True
                call.engine = engine
                engine.start()
                call.log.info(Tag.SESSION, "engine reconnected")
                self._recovering = False
                return
            except Exception as exc:  # noqa: BLE001
                self.error("start", f"engine reconnect failed: {exc}")
                if call.engine is not None:
                    call.engine.close()
                call.engine = None
        fall_back(call, reason)

    def close(self) -> None:
        """Release the engine, started or only opened (the call's cleanup)."""
        call = self.call
        self.close_opened()
        if call.engine is not None:
            try:
                call.engine.close()
            except Exception:
                call.log.exception("engine close failed")
