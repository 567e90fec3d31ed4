"""One run per database: ``<database>.lock``, held with ``flock`` for the life of the process.

The lock is taken before Scrapy starts (by the ``crawl`` command's preflight) and found again by
the database store, so that the process holds it exactly once; the operating system releases it
when the process ends, however it ends. The holder writes its process id and start time into
the file, so that a run refused by the lock can say who holds it and since when.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path
from typing import IO

_held: dict[Path, IO[bytes]] = {}


class CrawlLocked(RuntimeError):
    """Another crawl is writing to the same database."""

    def __init__(self, lock_path: Path, holder: str, held_since: float | None) -> None:
        since = (
            time.strftime(" since %Y-%m-%d %H:%M:%S UTC", time.gmtime(held_since))
            if held_since
            else ""
        )
        super().__init__(f"another crawl holds {lock_path} ({holder or 'unknown process'}{since})")
        self.held_since = held_since

    def held_for(self, now: float | None = None) -> float:
        """Seconds the holder has held the lock (0 when unknown)."""
        if not self.held_since:
            return 0.0
        return (now or time.time()) - self.held_since


def lock_database(db_path: str | Path) -> IO[bytes]:
    """Hold ``<db>.lock`` so that two runs never share a database; idempotent per process."""
    lock_path = Path(f"{Path(db_path).resolve()}.lock")
    handle = _held.get(lock_path)
    if handle is not None and not handle.closed:
        return handle
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    handle = lock_path.open("a+b")  # not truncated before the lock is ours: it names the holder
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder, _, since = handle.read().decode("utf-8", "replace").strip().partition(" ")
        handle.close()
        try:
            held_since: float | None = float(since)
        except ValueError:
            held_since = None
        raise CrawlLocked(lock_path, f"pid {holder}" if holder else "", held_since) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()} {time.time():.0f}\n".encode())
    handle.flush()
    _held[lock_path] = handle
    return handle
