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


def _held_open(path: Path) -> bool:
    """Whether some process has ``path`` open (a reader of the pipe that is not yet gone)."""
    for fd_dir in Path("/proc").glob("[0-9]*/fd"):
        try:
            if any(os.readlink(fd) == str(path) for fd in fd_dir.iterdir()):
                return True
        except OSError:  # the process ended, or is not ours to look into
            continue
    return False


class HeldUpload:
    """A named pipe in the upload folder: every read waits until :meth:`release`, then reads ``text``.

    The text is written once, to the first reader that opens the file after every earlier reader (a
    killed worker's) is gone: the redelivered task. :meth:`close` lets a write still waiting go.
    """

    def __init__(self, upload_dir: Path, name: str, text: str) -> None:
        folder = upload_dir / uuid.uuid4().hex
        folder.mkdir()
        self.path = folder / name
        os.mkfifo(self.path)
        self._text = text.encode()
        self._feeder: threading.Thread | None = None

    def release(self) -> None:
        """The next reader gets the text, once the readers open now are gone."""
        self._feeder = threading.Thread(target=self._feed, name=f"held-upload-{self.path.name}", daemon=True)
        self._feeder.start()

    def _feed(self) -> None:
        wait_until(lambda: not _held_open(self.path), timeout=30, step=0.05)
        with open(self.path, "wb") as pipe:  # waits for the next reader
            pipe.write(self._text)

    def close(self) -> None:
        """Let a write that still waits for a reader go (a reader of our own takes it)."""
        if self._feeder is not None and self._feeder.is_alive():
            reader = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)
            try:
                self._feeder.join(timeout=35)
            finally:
                os.close(reader)
