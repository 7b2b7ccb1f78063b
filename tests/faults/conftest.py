"""Fixtures of the fault tests: the edge's fakes (FreeSWITCH's asyncio loop, OpenAI Realtime) and the
workers' processes, shared with those suites."""

from tests.edge.conftest import fakes_loop, realtime  # noqa: F401 - fixtures
from tests.workers.conftest import clean_redis, producer, start_worker, upload_dir, worker_env  # noqa: F401
