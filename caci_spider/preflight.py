"""Checks made before a crawl starts, so that a mistake costs one clear line, not a traceback.

``scrapy crawl`` (see :mod:`caci_spider.commands.crawl`) runs :func:`preflight` before Scrapy's
engine starts. Each problem is a :class:`RunRefused` carrying the exit status a scheduler sees
(:mod:`caci_spider.exitcodes`) and a one-line message that says what to do:

* spider arguments: only the ones a spider takes (``-a mod=full`` is a typo, not a default run),
  besides the ``_``-prefixed ones schedulers add (Scrapyd's ``_job``, ``_version``);
* setting values: ours and the few Scrapy numbers an operator overrides, by type and range;
  every other Scrapy number and true/false by the type of its default, and LOG_LEVEL (those
  Scrapy reads before the crawl starts already when the options are read); an unknown
  ``CACI_*`` name is a typo, and so is a ``-s`` name a letter or two from a known setting;
* paths: the database, export and archive directories can be created and written; an existing
  database is one the crawler wrote (not another program's, which is left untouched);
* sites: a database holds the data of the base URLs it was built from
  (:mod:`caci_spider.sites`); a loopback site never writes into the production database;
* the schema: a database a newer release wrote is refused, untouched (:mod:`caci_spider.versions`);
* the database lock: another run holding it means this night is skipped (status 75).
"""

from __future__ import annotations

import difflib
import logging
import os
import sqlite3
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from scrapy.settings import SETTINGS_PRIORITIES, BaseSettings
from scrapy.settings import default_settings as scrapy_defaults

from caci_spider import exitcodes, sitechoice
from caci_spider import settings as default_settings
from caci_spider.contract import TABLES
from caci_spider.locking import CrawlLocked, lock_database
from caci_spider.paths import (
    NoDataDir,
    archive_dir,
    database_path,
    export_dir,
    project_path,
)
from caci_spider.sites import SiteMismatch, check_sites
from caci_spider.storage import NewerDatabase, refuse_newer, schema_version_of
from caci_spider.urls import is_loopback

logger = logging.getLogger(__name__)

# Arguments that schedulers, not users, pass to every spider start with "_": Scrapyd names each
# job with ``_job`` and passes on ``_version`` (the deployed version a job asked for); the spider
# takes none of them, and refusing them would fail every such job.
TOOL_ARGUMENT_PREFIX = "_"
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
    "CACI_JSON_LISTINGS": SettingRule(bool),
    "CACI_JSON_PAGE_SIZE": SettingRule(int, 1, 1000),
    "CACI_JSON_MAXSIZE": SettingRule(int, 1024),
    "CACI_JSON_MAX_PAGES": SettingRule(int, 1),
    "CACI_JSON_CROSS_CHECKS": SettingRule(int, 1),
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


# Every setting name the crawl knows: Scrapy's (its defaults, and two it reads without a default),
# the project's (settings.py) and ours. A -s name near one of them is a typo; one far from all
# (a setting of a Scrapy extension) is left alone.
KNOWN_SETTINGS = frozenset(
    {name for name in dir(scrapy_defaults) if name.isupper()}
    | {"CONCURRENT_REQUESTS_PER_IP", "META_COPY_WARN_SKIP_KEYS"}
    | {name for name in dir(default_settings) if name.isupper()}
    | set(SETTING_RULES)
)
# difflib's similarity from which an unknown name is taken for a known one: one or two letters
# off (DOWNLOAD_DELY, LOG_LEVL, RETRY_TIME).
TYPO_SIMILARITY = 0.85
# The type Scrapy reads each of its own settings as: its default value's, except for these
# (whole-number defaults read with getfloat or getbool).
SCRAPY_TYPE_EXCEPTIONS: dict[str, type] = {
    "DNS_TIMEOUT": float,
    "DOWNLOAD_DELAY": float,
    "DOWNLOAD_TIMEOUT": float,
    "TELNETCONSOLE_ENABLED": bool,
}
SCRAPY_TYPES: dict[str, type] = {
    name: SCRAPY_TYPE_EXCEPTIONS.get(name, type(value))
    for name in dir(scrapy_defaults)
    if name.isupper()
    and type(value := getattr(scrapy_defaults, name)) in (bool, int, float)
    and name not in SETTING_RULES
}
LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")
# Read by Scrapy before ``scrapy crawl`` runs (logging, the reactor): a bad value there ends in a
# traceback before preflight, so they are checked when the options are read
# (caci_spider.commands.crawl), before logging is set up.
STARTUP_SETTINGS = ("LOG_", "TWISTED_REACTOR_ENABLED", "FORCE_CRAWLER_PROCESS")


def check_spider_arguments(spidercls: type, arguments: Mapping[str, str]) -> None:
    """Refuse an argument the spider does not take, or a value it does not know."""
    accepted: Mapping[str, tuple[str, ...]] = getattr(spidercls, "arguments", {})
    spider = getattr(spidercls, "name", "the spider")
    usage = " ".join(f"-a {name}={'|'.join(values)}" for name, values in accepted.items())
    for name, value in arguments.items():
        if name.startswith(TOOL_ARGUMENT_PREFIX):
            logger.debug("ignoring the scheduler's argument -a %s=%s", name, value)
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
    check_setting_names(settings)
    for name, rule in SETTING_RULES.items():
        value = settings.get(name)
        if value is None:
            continue
        problem = _setting_problem(value, rule)
        if problem:
            raise RunRefused(f"bad setting -s {name}={value}: {problem}")
    check_scrapy_values(settings)


def command_line_settings(settings: BaseSettings) -> Iterator[str]:
    """The names given with ``-s`` (Scrapyd's ``setting=`` too): the project's own settings and
    the environment's are not typed by hand at each run."""
    for name in settings:
        if settings.getpriority(name) == SETTINGS_PRIORITIES["cmdline"]:
            yield name


def check_setting_names(settings: BaseSettings) -> None:
    """Refuse a ``-s`` name that is a typo of a known setting (Scrapy would ignore it)."""
    for name in command_line_settings(settings):
        if name in KNOWN_SETTINGS:
            continue
        close = difflib.get_close_matches(name, KNOWN_SETTINGS, n=1, cutoff=TYPO_SIMILARITY)
        if close:
            raise RunRefused(f"unknown setting {name}: did you mean {close[0]}?")


def check_scrapy_values(settings: BaseSettings, prefixes: tuple[str, ...] = ("",)) -> None:
    """Refuse a value Scrapy itself would fail on (with a traceback): a LOG_LEVEL it does not
    know, a number or a true/false of the wrong form. Only names starting with one of
    ``prefixes``."""
    for name in settings:
        if not name.startswith(prefixes) or name != "LOG_LEVEL" and name not in SCRAPY_TYPES:
            continue
        value = settings.get(name)
        if value is None:
            continue
        if name == "LOG_LEVEL":
            if not isinstance(value, int) and value not in logging.getLevelNamesMapping():
                raise RunRefused(
                    f"bad setting -s LOG_LEVEL={value}: expected one of {', '.join(LOG_LEVELS)}"
                )
        elif problem := _setting_problem(value, SettingRule(SCRAPY_TYPES[name])):
            raise RunRefused(f"bad setting -s {name}={value}: {problem}")


def check_startup_settings(settings: BaseSettings) -> None:
    """The settings Scrapy reads before ``scrapy crawl`` runs (see :data:`STARTUP_SETTINGS`)."""
    check_scrapy_values(settings, STARTUP_SETTINGS)


_BOOLEANS = frozenset({"0", "1", "True", "False", "true", "false"})


def _setting_problem(value: Any, rule: SettingRule) -> str:
    """What is wrong with ``value`` under ``rule`` (``""``: nothing)."""
    if rule.kind is bool:
        # What Scrapy's Settings.getbool accepts: True, False, or a whole number (0: false).
        return "" if _is_integer(value) or str(value) in _BOOLEANS else "expected True or False"
    if rule.kind in (int, float):
        return _number_problem(value, rule)
    check = _TEXT_CHECKS.get(rule.check)
    return check(value) if check else ""


def _number_problem(value: Any, rule: SettingRule) -> str:
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


def _url_problem(value: Any) -> str:
    parts = urlsplit(str(value))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "expected an http(s) URL such as https://www.cacianalyst.org"
    if parts.path.strip("/") or parts.query:
        return "expected the site's root URL, without a path or query"
    return ""


def _site_problem(value: Any) -> str:
    try:
        sitechoice.local_port(str(value))
    except sitechoice.BadSite as bad:
        return str(bad)
    return ""


def _path_problem(value: Any) -> str:
    return "" if str(value).strip() else "expected a path"


def _directory_problem(value: Any) -> str:
    directory = str(value).strip()
    if directory and not Path(directory).expanduser().is_absolute():
        return "expected an absolute path"
    return ""


# The check a text setting's rule names (SettingRule.check), by name.
_TEXT_CHECKS: dict[str, Callable[[Any], str]] = {
    "url": _url_problem,
    "site": _site_problem,
    "path": _path_problem,
    "directory": _directory_problem,
}


def _is_integer(value: Any) -> bool:
    try:
        int(value)
    except (TypeError, ValueError):
        return False
    return True


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
            foreign = not_our_database(connection)
            version = schema_version_of(connection)
        connection.close()
    except sqlite3.DatabaseError as error:
        raise RunRefused(
            f"CACI_DB_PATH {path} is not a usable SQLite database ({error}): move it away or "
            "choose another -s CACI_DB_PATH=…"
        ) from None
    if foreign:
        raise RunRefused(
            f"CACI_DB_PATH {path} is another program's SQLite database ({foreign}); it was left "
            "as it is: choose another -s CACI_DB_PATH=…"
        )
    try:
        refuse_newer(path, version)
    except NewerDatabase as newer:
        raise RunRefused(str(newer)) from None


_OUR_TABLES = {table.name: frozenset(table.names) for table in TABLES}


def not_our_database(connection: sqlite3.Connection) -> str:
    """Why a SQLite database is not one the crawler wrote ("" when it is, or is empty).

    Ours has a ``sites`` table (every release since it was added writes it first) or, older, a
    ``publications`` or ``staff_publications`` table; and each of its tables named like one of
    ours holds at least half of that table's columns (an older release's had fewer, a newer
    one's has more). A table of another shape under one of our names is another program's.
    """
    columns: dict[str, set[str]] = {}
    for (name,) in connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'"
    ):
        info = connection.execute(f"PRAGMA table_info([{name}])").fetchall()
        columns[name] = {row[1] for row in info}
    if not columns:
        return ""
    for name, ours in _OUR_TABLES.items():
        if name in columns and 2 * len(columns[name] & ours) < len(ours):
            shown = ", ".join(sorted(columns[name]))
            return f"its {name} table has the columns {shown}"
    if not {"sites", "publications", "staff_publications"} & set(columns):
        return f"it holds none of the crawler's tables, but {', '.join(sorted(columns))}"
    return ""


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
