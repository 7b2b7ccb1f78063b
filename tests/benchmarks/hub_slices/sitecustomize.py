"""``bench_edge --hub-slices``: which greenlets hold the edge's event loop, and where.

Put on the edge process's ``PYTHONPATH`` with ``HUB_SLICES_OUT`` set, Python imports this module at start-up.
It times every greenlet switch on the main thread (the gevent hub's): a greenlet's run slice is the time
from the switch into it to the switch out of it, and every other call's audio waits meanwhile. At exit
it writes ``$HUB_SLICES_OUT.<pid>`` (JSON): the slices of at least :data:`SLICE_SECONDS`, grouped by the
greenlet's function and the project frames where it gave the loop back, with their count, longest and
total; and the switches per greenlet function. A diagnostic: tracing every switch costs CPU itself.
"""

from __future__ import annotations

import os

SLICE_SECONDS = 0.002

if os.environ.get("HUB_SLICES_OUT"):
    import _thread
    import atexit
    import collections
    import json
    import time
    from typing import Any

    import greenlet

    _real_ident = _thread.get_ident  # kept before gevent patches it to name greenlets
    _main = _real_ident()
    _last = [time.perf_counter(), time.thread_time()]
    _slices: dict[tuple[str, str], list[float]] = collections.defaultdict(list)
    _cpu: dict[tuple[str, str], list[float]] = collections.defaultdict(list)
    _switches: collections.Counter[str] = collections.Counter()

    def _kind(glet: Any) -> str:
        run = getattr(glet, "_run", None) or getattr(glet, "run", None)
        name = getattr(run, "__qualname__", None) or type(glet).__name__
        args = getattr(glet, "args", ())
        if name.endswith("_handle_and_close_when_done") and args:
            name = "call:" + getattr(args[0], "__qualname__", "?")
        return name

    def _where(glet: Any) -> str:
        frame, found = glet.gr_frame, []
        while frame is not None and len(found) < 4:
            path = frame.f_code.co_filename
            if "/site-packages/" not in path and "/lib/python3" not in path:
                found.append(f"{'/'.join(path.rsplit('/', 2)[-2:])}:{frame.f_lineno}:{frame.f_code.co_name}")
            frame = frame.f_back
        return " < ".join(found)

    def _trace(event: str, args: tuple[Any, Any]) -> None:
        try:
            if event not in ("switch", "throw") or _real_ident() != _main:
                return
            now, cpu = time.perf_counter(), time.thread_time()
            held, used = now - _last[0], cpu - _last[1]
            _last[0], _last[1] = now, cpu
            origin = args[0]
            _switches[_kind(origin)] += 1
            if held >= SLICE_SECONDS:
                key = (_kind(origin), _where(origin))
                _slices[key].append(held)
                _cpu[key].append(used)
        except Exception as exc:  # noqa: BLE001 - a raising tracer would be removed by greenlet
            _switches["trace-error:" + type(exc).__name__] += 1

    def _dump() -> None:
        rows = sorted(([kind, where, len(held), max(held), sum(held), max(_cpu[(kind, where)]),
                        sum(_cpu[(kind, where)])] for (kind, where), held in _slices.items()),
                      key=lambda row: -row[4])
        with open(f"{os.environ['HUB_SLICES_OUT']}.{os.getpid()}", "w", encoding="utf-8") as out:
            json.dump({"slice_seconds": SLICE_SECONDS, "rows": rows, "switches": _switches.most_common(40)}, out)

    greenlet.settrace(_trace)
    atexit.register(_dump)
