"""One run per database: ``<database>.lock``, held with ``flock`` for the life of the process.

The lock is taken before Scrapy starts (by the ``crawl`` command's preflight) and found again by
the spider, so that the process holds it exactly once; the operating system releases it when
the process ends, however it ends.
"""

from __future__ import annotations

import fcntl
from pathlib import Path
from typing import IO

_held: dict[Path, IO[bytes]] = {}


class CrawlLocked(RuntimeError):
    """Another crawl is writing to the same database."""


def lock_database(db_path: str | Path) -> IO[bytes]:
    """Hold ``<db>.lock`` so that two runs never share a database; idempotent per process."""
    lock_path = Path(f"{Path(db_path).resolve()}.lock")
    handle = _held.get(lock_path)
    if handle is not None and not handle.closed:
        return handle
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    handle = lock_path.open("wb")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise CrawlLocked(f"another crawl holds {lock_path}") from None
    _held[lock_path] = handle
    return handle
