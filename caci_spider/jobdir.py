"""A ``JOBDIR`` (Scrapy's persisted queue) that is resumed only when resuming is safe.

A JOBDIR holds one run's queue. ``FINISHED_MARK``: its run finished, the next run starts afresh.
``RUNNING_MARK``: its run has not closed yet; found at the start of a run, it means the last run was
killed (SIGKILL, a crash, a power loss) before Scrapy could save its state, and a JOBDIR in
that state must not be resumed. A run stopped cleanly (SIGTERM, Ctrl-C) removes RUNNING and
is resumed by the next run with the same JOBDIR.

``VERSION_MARK`` holds the :data:`~caci_spider.versions.JOBDIR_VERSION` of the release that
wrote the JOBDIR: a stopped run's JOBDIR from another release (or from one before JOBDIRs were
versioned) is started afresh with one INFO line, never read under names it did not write
(its queue's callbacks and ``spider.state`` keys may mean other things to this release). An
incremental run loses nothing by it: what the stopped run stored is known from the database.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from caci_spider.versions import JOBDIR_VERSION

logger = logging.getLogger(__name__)

FINISHED_MARK = ".caci-finished"
RUNNING_MARK = ".caci-running"
VERSION_MARK = ".caci-version"


def jobdir_version(path: Path) -> int | None:
    """The JOBDIR version its release wrote in ``VERSION_MARK`` (``None``: none or unreadable)."""
    try:
        return int(Path(path, VERSION_MARK).read_text("ascii").strip())
    except (OSError, ValueError):
        return None


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
    elif path.is_dir() and any(path.iterdir()):
        version = jobdir_version(path)
        if version != JOBDIR_VERSION:
            logger.info(
                "JOBDIR %s was left by a run of another release (resume state version %s, this "
                "release's is %d): starting afresh instead of resuming it",
                path.resolve(), "none" if version is None else version, JOBDIR_VERSION,
            )  # fmt: skip
            shutil.rmtree(path)
    path.mkdir(parents=True, exist_ok=True)
    Path(path, VERSION_MARK).write_text(f"{JOBDIR_VERSION}\n", "ascii")
    Path(path, RUNNING_MARK).touch()


def leave_jobdir(jobdir: str | None, finished: bool) -> None:
    """A finished run's JOBDIR is spent; a stopped run's is resumable."""
    if not jobdir or not Path(jobdir).is_dir():
        return
    if finished:
        Path(jobdir, FINISHED_MARK).touch()
    Path(jobdir, RUNNING_MARK).unlink(missing_ok=True)
