"""Checks made before a crawl starts, so that a mistake costs one clear line, not a traceback.

``scrapy crawl`` (see :mod:`caci_spider.commands.crawl`) runs :func:`preflight` before Scrapy's
engine starts. Each problem is a :class:`RunRefused` carrying the exit status a scheduler sees
(:mod:`caci_spider.exitcodes`) and a one-line message that says what to do:

* spider arguments: only the ones a spider takes (``-a mod=full`` is a typo, not a default run);
* setting values: ours and the few Scrapy numbers an operator overrides, by type and range;
  an unknown ``CACI_*`` name is a typo too;
* paths: the database, export and archive directories can be created and written;
* sites: a database holds the data of the base URLs it was built from
  (:mod:`caci_spider.sites`); a loopback site never writes into the production database;
* the database lock: another run holding it means this night is skipped (status 75).
"""

from __future__ import annotations

import ipaddress
import os
import sqlite3
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from scrapy.settings import BaseSettings

from caci_spider import exitcodes, sitechoice
from caci_spider import settings as default_settings
from caci_spider.locking import CrawlLocked, lock_database
from caci_spider.paths import (
    NoDataDir,
    archive_dir,
    database_path,
    export_dir,
    project_path,
)
from caci_spider.sites import SiteMismatch, check_sites

# Arguments Scrapy's own tools pass to every spider: Scrapyd names each job with ``_job``.
TOOL_ARGUMENTS = frozenset({"_job"})
# The production paths of settings.py: a loopback site must never write there.
PRODUCTION_DB: str = default_settings.CACI_DB_PATH
PRODUCTION_EXPORTS: str = default_settings.CACI_EXPORT_DIR
PRODUCTION_ARCHIVE: str = default_settings.HTTPCACHE_DIR
LOCAL_SETTINGS = (
    "-s CACI_DB_PATH=exports/local/caci.db -s CACI_EXPORT_DIR=exports/local "
    "-s HTTPCACHE_DIR=exports/local/httpcache"
)


class RunRefused(Exception):
    """The run must not start; ``str(self)`` is the one line to print."""

    def __init__(self, message: str, exit_code: int = exitcodes.USAGE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class SettingRule:
    kind: type  # int, float or str ("url", "path" are str with extra checks)
    minimum: float | None = None
    maximum: float | None = None
    check: str = ""  # "url", "path", "directory" or "site"
    above_minimum: bool = False  # the minimum itself is refused: (minimum, maximum]


# Every CACI_* setting (an unknown CACI_* name is refused) and the Scrapy numbers worth
# checking; defaults live in caci_spider/settings.py.
SETTING_RULES: dict[str, SettingRule] = {
    "CACI_BASE_URL": SettingRule(str, check="url"),
    "SILKROAD_BASE_URL": SettingRule(str, check="url"),
    "TURKEY_ANALYST_BASE_URL": SettingRule(str, check="url"),
    "CACI_DATA_DIR": SettingRule(str, check="directory"),
    "CACI_SITE": SettingRule(str, check="site"),
    "CACI_DB_PATH": SettingRule(str, check="path"),
    "CACI_EXPORT_DIR": SettingRule(str, check="path"),
    "CACI_COVERAGE_MIN_ITEMS": SettingRule(int, 0),
    "CACI_BAN_THRESHOLD": SettingRule(int, 1),
    "CACI_RETRY_AFTER_MAX": SettingRule(float, 0),
    "CACI_CANARY_ITEMS": SettingRule(int, 0),
    "CACI_CANARY_MIN_SIMILARITY": SettingRule(float, 0, 1, above_minimum=True),
    "CACI_VANISHED_MAX_SHARE": SettingRule(float, 0, 1, above_minimum=True),
    "CACI_REPEATED_PARAGRAPH_ITEMS": SettingRule(int, 0),
    "CACI_LISTING_MIN_SHARE": SettingRule(float, 0, 1),
    "CACI_LISTING_WALK_DAYS": SettingRule(float, 0),
    "CACI_FEED_MAXSIZE": SettingRule(int, 1024),
    "CACI_PDF_MAXSIZE": SettingRule(int, 1024),
    "CACI_PDF_TIMEOUT": SettingRule(float, 0, above_minimum=True),
    "CACI_REJECT_BACKOFF_MAX_DAYS": SettingRule(int, 1),
    "CACI_OFFLINE": SettingRule(bool),
    "CACI_LOCK_STALE_HOURS": SettingRule(float, 0),
    "AUTOTHROTTLE_ENABLED": SettingRule(bool),
    "ROBOTSTXT_OBEY": SettingRule(bool),
    "HTTPCACHE_ENABLED": SettingRule(bool),
    "COOKIES_ENABLED": SettingRule(bool),
    "RETRY_ENABLED": SettingRule(bool),
    "DOWNLOAD_DELAY": SettingRule(float, 0),
    "DOWNLOAD_TIMEOUT": SettingRule(float, 0.001),
    "RETRY_TIMES": SettingRule(int, 0),
    "CONCURRENT_REQUESTS": SettingRule(int, 1),
    "CONCURRENT_REQUESTS_PER_DOMAIN": SettingRule(int, 1),
    "AUTOTHROTTLE_MAX_DELAY": SettingRule(float, 0),
    "DOWNLOAD_MAXSIZE": SettingRule(int, 0),
}


def check_spider_arguments(spidercls: type, arguments: Mapping[str, str]) -> None:
    """Refuse an argument the spider does not take, or a value it does not know."""
    accepted: Mapping[str, tuple[str, ...]] = getattr(spidercls, "arguments", {})
    spider = getattr(spidercls, "name", "the spider")
    usage = " ".join(f"-a {name}={'|'.join(values)}" for name, values in accepted.items())
    for name, value in arguments.items():
        if name in TOOL_ARGUMENTS:
            continue
        if name not in accepted:
            raise RunRefused(
                f"unknown spider argument -a {name}={value}: {spider} takes "
                f"{usage or 'no arguments'}"
            )
        if value not in accepted[name]:
            raise RunRefused(
                f"bad spider argument -a {name}={value}: use one of {'|'.join(accepted[name])}"
            )


def check_settings(settings: BaseSettings) -> None:
    for name in settings:
        if name.startswith("CACI_") and name not in SETTING_RULES:
            raise RunRefused(
                f"unknown setting {name}: the crawler reads "
                f"{', '.join(sorted(n for n in SETTING_RULES if n.startswith('CACI_')))}"
            )
    for name, rule in SETTING_RULES.items():
        value = settings.get(name)
        if value is None:
            continue
        problem = _setting_problem(value, rule)
        if problem:
            raise RunRefused(f"bad setting -s {name}={value}: {problem}")


_BOOLEANS = frozenset({"0", "1", "True", "False", "true", "false"})


def _setting_problem(value: Any, rule: SettingRule) -> str:
    if rule.kind is bool:
        # What Scrapy's Settings.getbool accepts.
        return (
            ""
            if isinstance(value, bool | int) or str(value) in _BOOLEANS
            else ("expected True or False")
        )
    if rule.kind in (int, float):
        try:
            number = rule.kind(value)
        except (TypeError, ValueError):
            return f"expected {'an integer' if rule.kind is int else 'a number'}"
        if rule.minimum is not None and rule.above_minimum and number <= rule.minimum:
            return f"must be above {rule.minimum:g}"
        if rule.minimum is not None and number < rule.minimum:
            return f"must be at least {rule.minimum:g}"
        if rule.maximum is not None and number > rule.maximum:
            return f"must be at most {rule.maximum:g}"
        return ""
    if rule.check == "url":
        parts = urlsplit(str(value))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return "expected an http(s) URL such as https://www.cacianalyst.org"
        if parts.path.strip("/") or parts.query:
            return "expected the site's root URL, without a path or query"
    if rule.check == "site":
        try:
            sitechoice.local_port(str(value))
        except sitechoice.BadSite as bad:
            return str(bad)
    if rule.check == "path" and not str(value).strip():
        return "expected a path"
    directory = rule.check == "directory" and str(value).strip()
    if directory and not Path(directory).expanduser().is_absolute():
        return "expected an absolute path"
    return ""


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_not_production(settings: BaseSettings, site_settings: tuple[str, ...]) -> None:
    """A local site (tests, the demo, a by-hand trial) writes to files of its own: its
    loopback rows in the production database would make later runs of the live site skip
    those ids, and its pages in the production archive would be reparsed as the site's."""
    local = [name for name in site_settings if is_loopback(settings.get(name, ""))]
    if not local:
        return
    production = {
        "CACI_DB_PATH": (database_path(settings), PRODUCTION_DB, "database"),
        "CACI_EXPORT_DIR": (export_dir(settings), PRODUCTION_EXPORTS, "export directory"),
        "HTTPCACHE_DIR": (archive_dir(settings), PRODUCTION_ARCHIVE, "page archive"),
    }
    for name, (path, default, what) in production.items():
        try:
            production_path = project_path(default, settings)
        except NoDataDir:  # an egg without CACI_DATA_DIR has no production path of its own
            continue
        if path == production_path:
            raise RunRefused(
                f"{local[0]} points at a local site but {name} is the production {what} {path}: "
                f"add {LOCAL_SETTINGS}, or crawl the local site with -s CACI_SITE=local alone"
            )


def check_paths_resolve(settings: BaseSettings) -> None:
    """A relative path needs a place to be taken from: a checkout or ``CACI_DATA_DIR`` (a
    Scrapyd egg has neither unless it is given one)."""
    for name, resolve in (
        ("CACI_DB_PATH", database_path),
        ("CACI_EXPORT_DIR", export_dir),
        ("HTTPCACHE_DIR", archive_dir),
    ):
        try:
            resolve(settings)
        except NoDataDir as missing:
            raise RunRefused(f"{name}={missing}") from None


def check_writable(directory: Path, setting: str) -> None:
    """Create ``directory`` if needed and prove a file can be written in it."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as error:
        raise RunRefused(
            f"cannot write to {directory} ({error.strerror or error}): fix its permissions or "
            f"choose another -s {setting}=…"
        ) from None


def check_database_file(path: Path) -> None:
    if not path.exists():
        return
    if not path.is_file():
        raise RunRefused(f"CACI_DB_PATH {path} is not a file: choose another -s CACI_DB_PATH=…")
    if not os.access(path, os.R_OK | os.W_OK):
        raise RunRefused(
            f"cannot write to the database {path}: fix its permissions or choose another "
            "-s CACI_DB_PATH=…"
        )
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
            connection.execute("PRAGMA schema_version").fetchone()
        connection.close()
    except sqlite3.DatabaseError as error:
        raise RunRefused(
            f"CACI_DB_PATH {path} is not a usable SQLite database ({error}): move it away or "
            "choose another -s CACI_DB_PATH=…"
        ) from None


def check_database_not_busy(path: Path, timeout: float = 10.0) -> None:
    """Another program (not a crawl: those hold the lock file) writing to the database would
    make every write of the run fail; readers (sqlite-utils, Datasette) never block it (WAL)."""
    if not path.exists():
        return
    connection = sqlite3.connect(path, timeout=timeout)
    try:
        connection.execute("BEGIN IMMEDIATE")
        connection.rollback()
    except sqlite3.OperationalError as error:
        raise RunRefused(
            f"{path} is locked by another program writing to it ({error}); "
            "let it finish, then run again",
            exitcodes.CRAWL_FAILED,
        ) from None
    finally:
        connection.close()


def check_output_paths(settings: BaseSettings, mode: str) -> None:
    check_writable(export_dir(settings), "CACI_EXPORT_DIR")
    if mode != "reparse":  # reparse only reads the archive (its absence is reported later)
        check_writable(archive_dir(settings), "HTTPCACHE_DIR")
    jobdir = settings.get("JOBDIR")
    if jobdir:
        check_writable(Path(jobdir), "JOBDIR")


def preflight(spidercls: type, settings: BaseSettings, arguments: Mapping[str, str]) -> IO[bytes]:
    """Every check, in the order a user would fix them; returns the held database lock.

    Raises :class:`RunRefused`.
    """
    check_spider_arguments(spidercls, arguments)
    check_settings(settings)
    check_paths_resolve(settings)
    site_settings: tuple[str, ...] = tuple(getattr(spidercls, "site_settings", ()))
    check_not_production(settings, site_settings)
    database = database_path(settings)
    check_writable(database.parent, "CACI_DB_PATH")
    check_database_file(database)
    try:
        lock = lock_database(database)
    except CrawlLocked as locked:
        stale_hours = settings.getfloat("CACI_LOCK_STALE_HOURS")
        if stale_hours and locked.held_for() > stale_hours * 3600:
            raise RunRefused(
                f"{locked}: longer than CACI_LOCK_STALE_HOURS={stale_hours:g}; that run hangs, "
                "stop it",
                exitcodes.CRAWL_FAILED,
            ) from None
        raise RunRefused(f"{locked}: skipping this run", exitcodes.SKIPPED) from None
    try:
        check_database_not_busy(database)
        check_sites(database, {name: settings[name] for name in site_settings})
        # Only a run that will go ahead creates its output directories.
        check_output_paths(settings, arguments.get("mode", "incremental"))
    except SiteMismatch as mismatch:
        lock.close()
        raise RunRefused(str(mismatch)) from None
    except RunRefused:
        lock.close()
        raise
    return lock
