"""Where a crawl's files live: relative paths resolve against the project root.

``CACI_DB_PATH`` and ``CACI_EXPORT_DIR`` are read relative to the directory that holds
``scrapy.cfg``, not the working directory, so that ``scrapy crawl`` started from ``docs/`` (or by
a scheduler with another working directory) writes to the same database as one started from
the root. ``HTTPCACHE_DIR`` follows Scrapy's own rule, which is anchored the same way: a relative
directory lives under ``<project root>/.scrapy/``. Without a ``scrapy.cfg`` (a Scrapyd egg), the
working directory is the root.
"""

from __future__ import annotations

import os
from pathlib import Path

from scrapy.settings import BaseSettings
from scrapy.utils.conf import closest_scrapy_cfg
from scrapy.utils.project import data_path


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
    """``HTTPCACHE_DIR`` as Scrapy's cache middleware resolves it."""
    return Path(data_path(settings["HTTPCACHE_DIR"], createdir=False)).resolve()
