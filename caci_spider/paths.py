"""Where a crawl's files live: relative paths resolve against the data directory.

``CACI_DB_PATH``, ``CACI_EXPORT_DIR`` and ``HTTPCACHE_DIR`` (the page archive; its default
``.scrapy/httpcache`` is where Scrapy keeps a project's HTTP cache) may be relative. They are
read relative to the first of:

1. ``CACI_DATA_DIR`` (a setting, ``-s CACI_DATA_DIR=/srv/caci``, or the environment variable of
   that name; an absolute path): where a deployed crawl (a Scrapyd egg, an installed package)
   keeps its files;
2. the directory that holds the closest ``scrapy.cfg`` from the working directory, so that
   ``scrapy crawl`` started from ``docs/`` writes to the same files as one started from the root;
3. the checkout this package is imported from (``scrapy.cfg`` beside the ``caci_spider``
   directory), whatever the working directory.

Otherwise (the package runs from a Scrapyd egg, whose "directory" is a zip file in Scrapyd's
eggs directory, or from site-packages) there is no place for a relative path: it raises
:class:`NoDataDir`, which the crawl's preflight reports as a usage error (exit 2). Production
files never land inside an egg or beside it.
"""

from __future__ import annotations

import os
from pathlib import Path

from scrapy.settings import BaseSettings
from scrapy.utils.conf import closest_scrapy_cfg

DATA_DIR_SETTING = "CACI_DATA_DIR"  # also read from the environment variable of that name
PACKAGE_DIR = Path(__file__).resolve().parent


class NoDataDir(Exception):
    """A relative path with nothing to resolve it against (an egg or an installed package)."""


def package_checkout() -> Path | None:
    """The checkout this package is imported from (a clone, an editable install), or None
    (a Scrapyd egg, site-packages)."""
    root = PACKAGE_DIR.parent
    return root if (root / "scrapy.cfg").is_file() else None


def data_dir(settings: BaseSettings | None = None) -> Path | None:
    """``CACI_DATA_DIR`` from the settings, else from the environment; None when unset."""
    value = settings.get(DATA_DIR_SETTING) if settings is not None else None
    if not value:
        value = os.environ.get(DATA_DIR_SETTING, "")
    return Path(value).expanduser() if str(value).strip() else None


def project_root(settings: BaseSettings | None = None) -> Path:
    """What relative paths are taken from (see the module's docstring)."""
    configured = data_dir(settings)
    if configured is not None:
        return configured.resolve()
    cfg = closest_scrapy_cfg()
    if cfg:
        return Path(cfg).resolve().parent
    checkout = package_checkout()
    if checkout is not None:
        return checkout
    raise NoDataDir(
        f"caci_spider runs from {PACKAGE_DIR.parent} (an egg or an installed package), "
        f"not a checkout: set -s {DATA_DIR_SETTING}=/srv/caci (or the environment variable "
        f"{DATA_DIR_SETTING}) or give absolute paths"
    )


def project_path(value: str | os.PathLike[str], settings: BaseSettings | None = None) -> Path:
    """``value`` as an absolute path; a relative one is taken from :func:`project_root`."""
    path = Path(value).expanduser()
    if path.is_absolute():
        return path
    try:
        return project_root(settings) / path
    except NoDataDir as missing:
        raise NoDataDir(f"{os.fspath(value)} is a relative path, but {missing}") from None


def database_path(settings: BaseSettings) -> Path:
    return project_path(settings["CACI_DB_PATH"], settings)


def export_dir(settings: BaseSettings) -> Path:
    return project_path(settings["CACI_EXPORT_DIR"], settings)


def archive_dir(settings: BaseSettings) -> Path:
    return project_path(settings["HTTPCACHE_DIR"], settings)
