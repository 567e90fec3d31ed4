"""A ``JOBDIR`` (Scrapy's persisted queue) that is resumed only when resuming is safe.

A JOBDIR holds one run's queue. ``FINISHED_MARK``: its run finished, the next run starts afresh.
``RUNNING_MARK``: its run has not closed yet; found at the start of a run, it means the last run was
killed (SIGKILL, a crash, a power loss) before Scrapy could save its state, and a JOBDIR in
that state must not be resumed. A run stopped cleanly (SIGTERM, Ctrl-C) removes RUNNING and
is resumed by the next run with the same JOBDIR.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

logger = logging.getLogger(__name__)

FINISHED_MARK = ".caci-finished"
RUNNING_MARK = ".caci-running"


def prepare_jobdir(jobdir: str | None) -> None:
    """Clear a spent or killed JOBDIR, then mark it as in use by this run."""
    if not jobdir:
        return
    path = Path(jobdir)
    if Path(path, RUNNING_MARK).exists():
        logger.warning(
            "JOBDIR %s belongs to a run that was killed before it could stop cleanly: "
            "starting afresh instead of resuming it",
            path.resolve(),
        )
        shutil.rmtree(path)
    elif Path(path, FINISHED_MARK).exists():
        shutil.rmtree(path)
    path.mkdir(parents=True, exist_ok=True)
    Path(path, RUNNING_MARK).touch()


def leave_jobdir(jobdir: str | None, finished: bool) -> None:
    """A finished run's JOBDIR is spent; a stopped run's is resumable."""
    if not jobdir or not Path(jobdir).is_dir():
        return
    if finished:
        Path(jobdir, FINISHED_MARK).touch()
    Path(jobdir, RUNNING_MARK).unlink(missing_ok=True)
