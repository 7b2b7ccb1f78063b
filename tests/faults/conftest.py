"""Fixtures of the fault tests: the edge's fakes (FreeSWITCH's asyncio loop, OpenAI Realtime) and the
workers' processes, shared with those suites."""

from tests.edge.conftest import fakes_loop, realtime  # noqa: F401 - fixtures
from tests.workers.conftest import (  # noqa: F401 - fixtures
    clean_redis,
    held_upload,
    producer,
    start_worker,
    upload_dir,
    worker_env,
)
