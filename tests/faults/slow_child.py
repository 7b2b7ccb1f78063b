"""A worker-pool child for the tests (:mod:`edge.services.worker_pool`): it notes each request in the file
``header["mark"]`` names, waits ``header["seconds"]``, and answers with the request's ``echo`` and its pid."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from edge.services.worker_pool import serve


def handle(header: dict[str, Any], _payload: bytes) -> dict[str, Any]:
    """Note the request, take the time asked for (a slow model), answer."""
    if header.get("mark"):
        Path(header["mark"]).write_text(str(os.getpid()))
    time.sleep(float(header.get("seconds", 0)))
    return {"echo": header.get("echo"), "pid": os.getpid()}


if __name__ == "__main__":
    serve(handle)
