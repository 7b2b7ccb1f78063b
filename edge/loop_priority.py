"""The edge's event loop at real-time CPU priority (``EDGE_RR_PRIORITY``), as FreeSWITCH runs its own.

One thread — the gevent hub's — paces every call's audio, 20 ms frame after 20 ms frame. Under Linux's
ordinary scheduler that thread, when its clock falls due, waits behind whatever else holds the CPUs: the
workers embedding a document, PostgreSQL, FusionPBX's PHP. ``Nice=-10`` in the systemd unit only weights
its share; it still waits for a running task's slice to end. Measured with ``bench_edge`` (200 calls on
this 2-core host, two busy processes at nice 0 standing for a worker embedding documents, two runs each):
at nice -15 the edge waited for a CPU 9 % of the window, pacing p99 5.0-6.7 ms, 1-2.3 % of frames over
5 ms late, greeting p99 242-273 ms, downlink p99 9.9-15.6 ms; with the hub at ``SCHED_RR`` 10 it waited
0 %, pacing p99 2.5-2.9 ms, 0-0.03 % of frames over 5 ms, greeting p99 75-87 ms, downlink p99 3.8-6.1 ms.
It does not make a saturated loop faster: at 500 calls the edge's own work held its CPU at 80-88 % and
pacing p99 stayed 13-20 ms either way.

FreeSWITCH's own Debian unit runs it at ``SCHED_RR`` 89 (``CPUSchedulingPolicy=rr``,
``CPUSchedulingPriority=89`` in ``debian/freeswitch-systemd.freeswitch.service``), so a priority below
that (the unit's 10) keeps FreeSWITCH's media threads first and the edge's clock ahead of everything
ordinary. Only the hub's thread is raised, once the edge has warmed up (start-up work is not urgent);
threads the hub starts later (gevent's thread pool: name lookups, a TLS context) inherit it. A thread at
real-time priority that never blocked would keep its CPU from ordinary work: the kernel's real-time
throttling (``sched_rt_runtime_us``, 95 % by default) still leaves them a share, and the edge's loop blocks
every 20 ms at most.

Not allowed (an unprivileged process needs ``LimitRTPRIO=`` in its systemd unit, or ``CAP_SYS_NICE``),
the edge says so and runs at ordinary priority: calls work, with the pacing above.
"""

from __future__ import annotations

import os

from shared.logging import CallLogger, Tag


def raise_loop_priority(priority: int, log: CallLogger) -> bool:
    """Run the calling thread (the hub's) under ``SCHED_RR`` at ``priority`` (1-99; 0: leave it); True
    when it does."""
    if priority <= 0:
        return False
    try:
        os.sched_setscheduler(0, os.SCHED_RR, os.sched_param(priority))  # 0: the calling thread
    except OSError as exc:
        log.error("cannot run the event loop at real-time priority (EDGE_RR_PRIORITY=%d): %s; it needs "
                  "LimitRTPRIO=%d in the edge's systemd unit (or CAP_SYS_NICE). Running at ordinary priority: "
                  "other work on this host can delay the calls' audio", priority, exc.strerror or exc, priority)
        return False
    log.info(Tag.SESSION, "event loop at real-time priority (SCHED_RR %d)", priority)
    return True
