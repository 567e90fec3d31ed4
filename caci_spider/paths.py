"""Where a crawl's files live: relative paths resolve against the project root.

``CACI_DB_PATH``, ``CACI_EXPORT_DIR`` and ``HTTPCACHE_DIR`` (the page archive; its default
``.scrapy/httpcache`` is where Scrapy keeps a project's HTTP cache) are read relative to the
directory that holds ``scrapy.cfg``, not the working directory, so that ``scrapy crawl`` started
from ``docs/`` (or by a scheduler with another working directory) writes to the same files as
one started from the root. Without a ``scrapy.cfg`` (a Scrapyd egg), the working directory is
the root.
"""

from __future__ import annotations

import os
from pathlib import Path

from scrapy.settings import BaseSettings
from scrapy.utils.conf import closest_scrapy_cfg


def project_root() -> Path:
    cfg = closest_scrapy_cfg()
    return Path(cfg).resolve().parent if cfg else Path.cwd().resolve()


def project_path(value: str | os.PathLike[str]) -> Path:
    """``value`` as an absolute path; a relative one is taken from the project root."""
    path = Path(value).expanduser()
    return path if path.is_absolute() else project_root() / path


def database_path(settings: BaseSettings) -> Path:
    return project_path(settings["CACI_DB_PATH"])


def export_dir(settings: BaseSettings) -> Path:
    return project_path(settings["CACI_EXPORT_DIR"])


def archive_dir(settings: BaseSettings) -> Path:
    return project_path(settings["HTTPCACHE_DIR"])
