"""Where the test suite's time goes: CPU and wall seconds per test module (a pytest plugin).

    .venv/bin/python -m pytest -n 4 -p tests.benchmarks.suite_cpu [--suite-cpu-tests 20]

Each test process measures, for every test from its setup to its teardown, its own CPU time and that of
the children it reaped meanwhile (``getrusage``: an edge, a worker, espeak-ng or PHP counts when it
exits, so a module-scoped edge counts at its module's last test) and the wall time; the run's terminal
summary adds them up per module, the most CPU first (``--suite-cpu-tests N``: also the N tests that took
the most CPU; ``--suite-wall-tests N``: the N longest;
``--suite-workers``: each test process's busy time and span). On 2 cores the suite's wall time is bounded by CPU
once two runs share the machine, so the CPU column is the one to cut.
"""

from __future__ import annotations

import os
import resource
import time
from collections import defaultdict
from collections.abc import Generator
from typing import Any

import pytest

_started: dict[str, tuple[float, float]] = {}
_modules: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0])
_tests: list[tuple[float, float, str]] = []
_workers: dict[str, list[float]] = defaultdict(lambda: [float("inf"), 0.0, 0.0, 0])
"""Per test process: first test's start, last test's end (epoch seconds), wall seconds in tests, tests."""
_spans: list[tuple[float, float, str, str]] = []
"""Every test's start and end (epoch seconds), test process and node id."""


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--suite-cpu-tests N``."""
    parser.addoption("--suite-cpu-tests", type=int, default=0, metavar="N",
                     help="also print the N tests that took the most CPU seconds")
    parser.addoption("--suite-wall-tests", type=int, default=0, metavar="N",
                     help="also print the N tests that took the most wall seconds")
    parser.addoption("--suite-workers", action="store_true",
                     help="also print each test process's busy time and when its first and last tests ran")


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """A test's count starts before its fixtures are set up."""
    _started[item.nodeid] = (_cpu(), time.monotonic())


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, object, None]:
    """After the teardown: the test's CPU and wall seconds travel on its report (to xdist's controller)."""
    outcome: Any = yield
    if call.when == "teardown" and item.nodeid in _started:
        cpu, wall = _started.pop(item.nodeid)
        outcome.get_result().user_properties.append(
            ("suite_cpu", (_cpu() - cpu, time.monotonic() - wall, time.time() - (time.monotonic() - wall),
                           time.time(), os.environ.get("PYTEST_XDIST_WORKER", "main"))))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """In the process that prints (xdist's controller, or the only one): add the test to its module."""
    for name, value in report.user_properties:
        if name == "suite_cpu":
            totals = _modules[report.nodeid.split("::")[0]]
            totals[0] += value[0]
            totals[1] += value[1]
            totals[2] += 1
            _tests.append((value[0], value[1], report.nodeid))
            _spans.append((value[2], value[3], value[4], report.nodeid))
            worker = _workers[value[4]]
            worker[0] = min(worker[0], value[2])
            worker[1] = max(worker[1], value[3])
            worker[2] += value[1]
            worker[3] += 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The table: modules by CPU seconds, then the totals."""
    if not _modules:
        return
    write = terminalreporter.write_line
    terminalreporter.section("CPU and wall seconds per test module (setup to teardown)")
    write(f"{'cpu s':>8} {'wall s':>8} {'tests':>5}  module")
    rows = sorted(_modules.items(), key=lambda row: -row[1][0])
    for module, (cpu, wall, count) in rows[:30]:
        write(f"{cpu:8.1f} {wall:8.1f} {int(count):5d}  {module}")
    cpu = sum(row[1][0] for row in rows)
    wall = sum(row[1][1] for row in rows)
    write(f"{cpu:8.1f} {wall:8.1f} {sum(int(row[1][2]) for row in rows):5d}  all {len(rows)} modules "
          f"({len(rows) - min(len(rows), 30)} not shown)")
    top = terminalreporter.config.getoption("--suite-cpu-tests")
    if top:
        write(f"{'cpu s':>8} {'wall s':>8}  test")
        for cpu, wall, nodeid in sorted(_tests, reverse=True)[:top]:
            write(f"{cpu:8.1f} {wall:8.1f}  {nodeid}")
    if terminalreporter.config.getoption("--suite-workers"):
        origin = min(worker[0] for worker in _workers.values())
        write(f"{'first s':>8} {'last s':>8} {'busy s':>8} {'tests':>5}  test process (seconds from the first test)")
        for name, (first, last, busy, count) in sorted(_workers.items()):
            write(f"{first - origin:8.1f} {last - origin:8.1f} {busy:8.1f} {int(count):5d}  {name}")
        # The run's tail: what the last test process ran after every other one had finished.
        last_name, last = max(((name, w[1]) for name, w in _workers.items()), key=lambda row: row[1])
        others_done = max((w[1] for name, w in _workers.items() if name != last_name), default=last)
        for start, end, name, nodeid in sorted(_spans):
            if name == last_name and end > others_done:
                write(f"{start - origin:8.1f} {end - origin:8.1f} {end - start:8.1f}        tail: {nodeid}")
    longest = terminalreporter.config.getoption("--suite-wall-tests")
    if longest:
        write(f"{'cpu s':>8} {'wall s':>8}  test (the longest)")
        for cpu, wall, nodeid in sorted(_tests, key=lambda row: -row[1])[:longest]:
            write(f"{cpu:8.1f} {wall:8.1f}  {nodeid}")
