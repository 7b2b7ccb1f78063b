"""An uploaded file on storage that stalls: a worker reading it stays mid-task, without spending CPU,
for as long as a test wants (an NFS mount that hangs, say), then reads the text once it is released.

The kill tests used to make the ingest slow by embedding a big file (60 to 150 paragraphs, several
CPU seconds a run, each run redone after the kill); a worker blocked on a read is mid-task all the same.
"""

from __future__ import annotations

import os
import threading
import uuid
from pathlib import Path

from tests.polling import wait_until


def paragraphs(count: int) -> str:
    """A text of ``count`` paragraphs: more than one chunk once ``count`` is a few."""
    return "\n\n".join(
        f"Paragraph {i}: the service desk answers questions about invoices, deliveries and returns. " * 6
        for i in range(count)
    )


PIPE_BYTES = 65536
"""What a pipe holds unread on Linux: the text must fit, since it is written before it is read."""


def _readers(path: Path) -> list[int]:
    """The other processes that have ``path`` open (readers of the pipe: this process holds its other end)."""
    found = []
    for fd_dir in Path("/proc").glob("[0-9]*/fd"):
        pid = int(fd_dir.parent.name)
        if pid == os.getpid():
            continue
        try:
            if any(os.readlink(fd) == str(path) for fd in fd_dir.iterdir()):
                found.append(pid)
        except OSError:  # the process ended, or is not ours to look into
            continue
    return found


class HeldUpload:
    """A named pipe in the upload folder whose reads wait until :meth:`release`; then a reader gets ``text``.

    The test process holds the pipe open for reading and writing, so a worker's ``open`` returns at once
    and the worker waits in ``read``, visible in ``/proc`` (a reader waiting in ``open`` is not, and the
    kernel would pair a writer with one that is being killed, which takes the text with it). The release
    waits until the readers of the moment (a killed worker's) are gone and a new one (the redelivered
    task's) has the file open, then writes the text and closes: that reader reads it to the end.
    """

    def __init__(self, upload_dir: Path, name: str, text: str) -> None:
        folder = upload_dir / uuid.uuid4().hex
        folder.mkdir()
        self.path = folder / name
        os.mkfifo(self.path)
        self._text = text.encode()
        if len(self._text) >= PIPE_BYTES:
            raise ValueError(f"a held upload holds less than {PIPE_BYTES} bytes")
        self._own: int | None = os.open(self.path, os.O_RDWR | os.O_NONBLOCK)
        self._lock = threading.Lock()

    def release(self) -> None:
        """The next reader gets the text, once the readers open now are gone."""
        threading.Thread(target=self._feed, name=f"held-upload-{self.path.name}", daemon=True).start()

    def _feed(self) -> None:
        wait_until(lambda: not _readers(self.path), timeout=60, step=0.05)
        if wait_until(lambda: _readers(self.path), timeout=120, step=0.05):
            with self._lock:
                if self._own is not None:
                    os.write(self._own, self._text)
            self.close()

    def close(self) -> None:
        """Close the test's end of the pipe (a reader still waiting then reads an empty file)."""
        with self._lock:
            if self._own is not None:
                os.close(self._own)
                self._own = None
