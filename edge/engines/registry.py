"""Engine name → implementing class, resolved lazily so that an engine's vendor SDK is only imported
by the processes (and calls) that use it. A missing module means the engine is not installed: the call
gets :class:`~edge.engines.base.EngineUnavailable` and takes the fallback path."""

from __future__ import annotations

from edge.engines.base import Engine, EngineHost, EngineUnavailable
from shared.lazy_import import MissingTarget, import_target

ENGINES: dict[str, str] = {
    "realtime": "edge.engines.realtime:RealtimeEngine",
    "pipeline": "edge.engines.pipeline:PipelineEngine",
    "offline": "edge.engines.offline:OfflineEngine",
}


def engine_class(name: str) -> type[Engine]:
    """The class registered for ``name``; raise :class:`EngineUnavailable` if it cannot be loaded."""
    target = ENGINES.get(name)
    if target is None:
        raise EngineUnavailable(f"unknown engine {name!r}")
    try:
        cls: type[Engine] = import_target(target)
    except MissingTarget as exc:
        raise EngineUnavailable(f"engine {name!r} cannot be loaded: {exc}") from exc
    return cls


def create_engine(name: str, host: EngineHost) -> Engine:
    """A new engine of kind ``name`` bound to ``host`` (not started)."""
    return engine_class(name)(host)


def warm_imports() -> list[str]:
    """Import every installed engine and the knowledge search's word lists: the part of :func:`warm_up`
    that starts no thread and loads no model (a process may fork after it). Returns the engines that
    loaded. (The vendor SDK warms up on the hub's thread: ``edge.services.openai.client.warm_up``.)"""
    loaded = []
    for name in ENGINES:
        try:
            engine_class(name)
            loaded.append(name)
        except EngineUnavailable:
            continue
    try:
        from shared.word_frequency import warm_up as warm_up_word_frequency  # the knowledge search's lists

        warm_up_word_frequency()
    except Exception:  # noqa: BLE001 - warming is an optimisation; the call path reports real errors
        pass
    return loaded


def warm_up() -> list[str]:
    """Import every installed engine and load the VAD model and the knowledge search's word lists, so that
    the first call of a new process hears its greeting as fast as later calls (about 2 s of imports and
    model loading otherwise).

    Meant for a native thread (``gevent.get_hub().threadpool``): it only imports modules and builds the
    process-wide VAD session, both guarded by their own locks. Returns the engines that loaded.
    """
    loaded = warm_imports()
    try:
        from edge.audio.vad import model_session

        model_session()
    except Exception:  # noqa: BLE001 - warming is an optimisation; the call path reports real errors
        pass
    return loaded
