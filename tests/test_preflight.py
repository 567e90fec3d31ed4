"""Every check made before a crawl starts (caci_spider.preflight), each with its exit status.

No Scrapy process: ``preflight`` is called with the project's settings and temporary paths.
"""

from __future__ import annotations

import fcntl
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest
from scrapy.settings import Settings

from caci_spider import exitcodes
from caci_spider import preflight as preflight_module
from caci_spider import settings as project_settings
from caci_spider.preflight import (
    RunRefused,
    check_database_file,
    check_not_production,
    check_settings,
    check_spider_arguments,
    check_startup_settings,
    check_writable,
    preflight,
)
from caci_spider.records import open_database
from caci_spider.spiders.generated import FieldReportsSpider
from caci_spider.spiders.staff_publications import StaffPublicationsSpider
from caci_spider.urls import is_loopback
from tests.conftest import REPO_ROOT, run_crawl
from tests.unit_crawler import unit_settings

LOCAL = "http://127.0.0.1:8088"


def settings_for(tmp_path: Path, **overrides: Any) -> Settings:
    return Settings(unit_settings(tmp_path, **overrides))


def refusal(check: Any, *args: Any) -> RunRefused:
    with pytest.raises(RunRefused) as refused:
        check(*args)
    return refused.value


# -- spider arguments ------------------------------------------------------------------------
def test_a_mistyped_argument_names_what_the_spider_takes() -> None:
    refused = refusal(check_spider_arguments, FieldReportsSpider, {"mod": "full"})
    assert str(refused) == (
        "unknown spider argument -a mod=full: field_reports takes -a mode=incremental|full|reparse "
        "-a walk=auto|listing"
    )
    assert refused.exit_code == exitcodes.USAGE


def test_an_unknown_mode_names_the_modes() -> None:
    refused = refusal(check_spider_arguments, StaffPublicationsSpider, {"mode": "fast"})
    assert str(refused) == "bad spider argument -a mode=fast: use one of incremental|full|reparse"
    assert refused.exit_code == exitcodes.USAGE


def test_known_arguments_and_scrapyd_job_names_pass() -> None:
    for mode in ("incremental", "full", "reparse"):
        check_spider_arguments(FieldReportsSpider, {"mode": mode, "_job": "6487ec79"})


def test_every_scheduler_argument_passes() -> None:
    """Scrapyd passes ``_version`` on as ``-a _version=…``; other schedulers add their own."""
    scheduler = {"_job": "6487ec79", "_version": "r123", "_priority": "1", "_": ""}
    check_spider_arguments(FieldReportsSpider, {"mode": "full", **scheduler})
    check_spider_arguments(StaffPublicationsSpider, scheduler)


def test_a_spider_without_arguments_says_so() -> None:
    class Bare:
        name = "bare"

    assert "bare takes no arguments" in str(refusal(check_spider_arguments, Bare, {"x": "1"}))


# -- setting values --------------------------------------------------------------------------
def test_the_shipped_settings_pass(tmp_path: Path) -> None:
    check_settings(settings_for(tmp_path))


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("CACI_COVERAGE_MIN_ITEMS", "ten", "expected an integer"),
        ("CACI_COVERAGE_MIN_ITEMS", "-1", "must be at least 0"),
        ("CACI_BAN_THRESHOLD", "0", "must be at least 1"),
        ("CACI_RETRY_AFTER_MAX", "soon", "expected a number"),
        ("CACI_LISTING_MIN_SHARE", "1.5", "must be at most 1"),
        ("CACI_LISTING_MIN_SHARE", "-0.1", "must be at least 0"),
        ("CACI_CANARY_MIN_SIMILARITY", "0", "must be above 0"),
        ("CACI_CANARY_MIN_SIMILARITY", "1.01", "must be at most 1"),
        ("CACI_CANARY_MIN_SIMILARITY", "high", "expected a number"),
        ("CACI_VANISHED_MAX_SHARE", "0", "must be above 0"),
        ("CACI_VANISHED_MAX_SHARE", "20", "must be at most 1"),
        ("CACI_REJECT_BACKOFF_MAX_DAYS", "0", "must be at least 1"),
        ("DOWNLOAD_DELAY", "-1", "must be at least 0"),
        ("DOWNLOAD_TIMEOUT", "0", "must be at least 0.001"),
        ("CONCURRENT_REQUESTS_PER_DOMAIN", "0", "must be at least 1"),
        ("RETRY_TIMES", "3.5", "expected an integer"),
        ("CACI_OFFLINE", "maybe", "expected True or False"),
        ("ROBOTSTXT_OBEY", "yes", "expected True or False"),
        ("CACI_BASE_URL", "www.cacianalyst.org", "expected an http(s) URL"),
        ("CACI_BASE_URL", "ftp://www.cacianalyst.org", "expected an http(s) URL"),
        ("SILKROAD_BASE_URL", "https://www.silkroadstudies.org/publications", "root URL"),
        ("CACI_BASE_URL", "https://www.cacianalyst.org/?lang=en", "root URL"),
        ("CACI_DB_PATH", "  ", "expected a path"),
        ("CACI_EXPORT_DIR", "", "expected a path"),
    ],
)
def test_a_bad_value_is_refused_with_its_setting(
    tmp_path: Path, name: str, value: str, problem: str
) -> None:
    refused = refusal(check_settings, settings_for(tmp_path, **{name: value}))
    assert str(refused).startswith(f"bad setting -s {name}={value}: ")
    assert problem in str(refused)
    assert refused.exit_code == exitcodes.USAGE


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CACI_BASE_URL", "http://127.0.0.1:8088/"),
        ("CACI_LISTING_MIN_SHARE", "1"),
        ("CACI_CANARY_MIN_SIMILARITY", "1"),
        ("CACI_VANISHED_MAX_SHARE", "0.05"),
        ("CACI_OFFLINE", "True"),
        ("RETRY_TIMES", 0),
        ("DOWNLOAD_DELAY", "0.25"),
    ],
)
def test_a_good_value_passes(tmp_path: Path, name: str, value: object) -> None:
    check_settings(settings_for(tmp_path, **{name: value}))


def given(tmp_path: Path, **settings: Any) -> Settings:
    """The project's settings with ``settings`` given on the command line (``-s``)."""
    result = settings_for(tmp_path)
    result.setdict(settings, priority="cmdline")
    return result


@pytest.mark.parametrize(
    ("name", "known"),
    [
        ("DOWNLOAD_DELY", "DOWNLOAD_DELAY"),
        ("LOG_LEVL", "LOG_LEVEL"),
        ("RETRY_TIME", "RETRY_TIMES"),
        ("CONCURENT_REQUESTS", "CONCURRENT_REQUESTS"),
        ("ITEM_PIPELINE", "ITEM_PIPELINES"),
        ("HTTPCACHE_DRI", "HTTPCACHE_DIR"),
        ("SILKROAD_BASE_UR", "SILKROAD_BASE_URL"),
    ],
)
def test_a_setting_name_near_a_known_one_is_a_typo(tmp_path: Path, name: str, known: str) -> None:
    refused = refusal(check_settings, given(tmp_path, **{name: "0"}))
    assert str(refused) == f"unknown setting {name}: did you mean {known}?"
    assert refused.exit_code == exitcodes.USAGE


def test_settings_far_from_every_known_one_pass(tmp_path: Path) -> None:
    """Settings of Scrapy extensions, and a near name set in settings.py, not with -s."""
    extensions = {"PLAYWRIGHT_BROWSER_TYPE": "firefox", "ZYTE_API_KEY": "k", "SENTRY_DSN": "x"}
    extensions |= {"SCHEDULER_PERSIST": "True", "REDIS_URL": "redis://127.0.0.1"}
    check_settings(given(tmp_path, **extensions))
    check_settings(settings_for(tmp_path, DOWNLOAD_DELY="0"))  # priority "project"


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("LOG_LEVEL", "LOUD", "expected one of CRITICAL, ERROR, WARNING, INFO, DEBUG"),
        ("LOG_LEVEL", "info", "expected one of CRITICAL, ERROR, WARNING, INFO, DEBUG"),
        ("LOG_ENABLED", "maybe", "expected True or False"),
        ("CONCURRENT_ITEMS", "many", "expected an integer"),
        ("DEPTH_LIMIT", "2.5", "expected an integer"),
        ("AUTOTHROTTLE_TARGET_CONCURRENCY", "high", "expected a number"),
        ("CLOSESPIDER_TIMEOUT", "1h", "expected a number"),
        ("TELNETCONSOLE_ENABLED", "no", "expected True or False"),
        ("DNS_TIMEOUT", "soon", "expected a number"),
    ],
)
def test_a_value_scrapy_would_fail_on_is_refused(
    tmp_path: Path, name: str, value: str, problem: str
) -> None:
    refused = refusal(check_settings, given(tmp_path, **{name: value}))
    assert str(refused) == f"bad setting -s {name}={value}: {problem}"
    assert refused.exit_code == exitcodes.USAGE


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("LOG_LEVEL", "DEBUG"),
        ("LOG_LEVEL", "WARNING"),
        ("LOG_ENABLED", "0"),
        ("DNS_TIMEOUT", "2.5"),  # a whole-number default Scrapy reads as a float
        ("DOWNLOAD_TIMEOUT", "7.5"),
        ("TELNETCONSOLE_ENABLED", "False"),  # default 1, read as true/false
        ("CLOSESPIDER_ITEMCOUNT", "100"),
        ("FEED_EXPORT_ENCODING", "latin-1"),  # a string: any value
    ],
)
def test_a_value_scrapy_takes_passes(tmp_path: Path, name: str, value: str) -> None:
    check_settings(given(tmp_path, **{name: value}))


def test_the_startup_settings_are_the_logging_ones(tmp_path: Path) -> None:
    """What Scrapy reads before the command runs; the rest waits for preflight (logged)."""
    with pytest.raises(RunRefused, match="LOG_LEVEL=LOUD"):
        check_startup_settings(given(tmp_path, LOG_LEVEL="LOUD"))
    with pytest.raises(RunRefused, match="TWISTED_REACTOR_ENABLED=maybe"):
        check_startup_settings(given(tmp_path, TWISTED_REACTOR_ENABLED="maybe"))
    check_startup_settings(given(tmp_path, CONCURRENT_ITEMS="many"))


def test_an_unknown_caci_setting_is_a_typo(tmp_path: Path) -> None:
    refused = refusal(check_settings, settings_for(tmp_path, CACI_CANARY_ITEM="2"))
    assert str(refused).startswith("unknown setting CACI_CANARY_ITEM: the crawler reads ")
    assert "CACI_CANARY_ITEMS" in str(refused)
    assert refused.exit_code == exitcodes.USAGE


# -- a local site never writes to the production files ------------------------------------------
@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:8088", True),
        ("http://127.3.2.1", True),
        ("http://localhost:8000", True),
        ("http://[::1]:8088", True),
        ("https://www.cacianalyst.org", False),
        ("http://10.0.0.2", False),
        ("", False),
    ],
)
def test_is_loopback(url: str, loopback: bool) -> None:
    assert is_loopback(url) is loopback


def local_paths(tmp_path: Path) -> dict[str, str]:
    return {
        "CACI_DB_PATH": str(tmp_path / "local" / "caci.db"),
        "CACI_EXPORT_DIR": str(tmp_path / "local"),
        "HTTPCACHE_DIR": str(tmp_path / "local" / "httpcache"),
    }


@pytest.mark.parametrize("production", ["CACI_DB_PATH", "CACI_EXPORT_DIR", "HTTPCACHE_DIR"])
def test_a_local_site_is_refused_each_production_path(tmp_path: Path, production: str) -> None:
    shipped = getattr(project_settings, production)  # as settings.py gives it
    paths = {**local_paths(tmp_path), production: shipped}
    settings = settings_for(tmp_path, SILKROAD_BASE_URL=LOCAL, **paths)
    refused = refusal(check_not_production, settings, ("CACI_BASE_URL", "SILKROAD_BASE_URL"))
    assert str(refused).startswith(f"SILKROAD_BASE_URL points at a local site but {production} ")
    assert "-s CACI_SITE=local" in str(refused)
    assert refused.exit_code == exitcodes.USAGE
    check_not_production(settings, ("CACI_BASE_URL",))  # the live Analyst site: its own files


def test_a_local_site_with_its_own_files_passes(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, CACI_BASE_URL=LOCAL, **local_paths(tmp_path))
    check_not_production(settings, ("CACI_BASE_URL",))


# -- paths ---------------------------------------------------------------------------------------
def test_a_directory_that_cannot_be_made_is_refused_with_its_setting(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a directory")
    refused = refusal(check_writable, tmp_path / "a-file" / "exports", "CACI_EXPORT_DIR")
    assert str(refused).startswith(f"cannot write to {tmp_path / 'a-file' / 'exports'} (")
    assert str(refused).endswith("choose another -s CACI_EXPORT_DIR=…")
    assert refused.exit_code == exitcodes.USAGE


def test_a_writable_directory_is_made_and_left_empty(tmp_path: Path) -> None:
    check_writable(tmp_path / "new" / "exports", "CACI_EXPORT_DIR")
    assert list((tmp_path / "new" / "exports").iterdir()) == []


def test_the_database_file(tmp_path: Path) -> None:
    check_database_file(tmp_path / "missing.db")
    (tmp_path / "dir.db").mkdir()
    assert "is not a file" in str(refusal(check_database_file, tmp_path / "dir.db"))
    (tmp_path / "text.db").write_text("a text file, not a database " * 20)
    refused = refusal(check_database_file, tmp_path / "text.db")
    assert "is not a usable SQLite database" in str(refused)
    assert refused.exit_code == exitcodes.USAGE
    sqlite3.connect(tmp_path / "empty.db").close()
    check_database_file(tmp_path / "empty.db")
    open_database(tmp_path / "good.db").close()
    check_database_file(tmp_path / "good.db")


def tables(path: Path, *statements: str) -> Path:
    with sqlite3.connect(path) as connection:
        for statement in statements:
            connection.execute(statement)
    connection.close()
    return path


@pytest.mark.parametrize(
    ("statements", "problem"),
    [
        (
            ["CREATE TABLE publications (id INTEGER PRIMARY KEY, doi TEXT, title TEXT)"],
            "its publications table has the columns doi, id, title",
        ),
        (
            ["CREATE TABLE sites (id INTEGER PRIMARY KEY, name TEXT, url TEXT)"],
            "its sites table has the columns id, name, url",
        ),
        (
            ["CREATE TABLE notes (id, text)", "CREATE TABLE tags (note_id, tag)"],
            "it holds none of the crawler's tables, but notes, tags",
        ),
    ],
)
def test_another_programs_database_is_refused(
    tmp_path: Path, statements: list[str], problem: str
) -> None:
    database = tables(tmp_path / "caci.db", *statements)
    refused = refusal(check_database_file, database)
    assert str(refused) == (
        f"CACI_DB_PATH {database} is another program's SQLite database ({problem}); it was "
        "left as it is: choose another -s CACI_DB_PATH=…"
    )
    assert refused.exit_code == exitcodes.USAGE


def test_databases_of_every_release_are_ours(tmp_path: Path) -> None:
    # An older release's (fewer columns), one from before the sites table, a newer one's.
    check_database_file(REPO_ROOT / "tests" / "data" / "caci-before-issue-15.db")
    old = "CREATE TABLE publications (id INTEGER PRIMARY KEY, url, section, title, authors, "
    old += "published, issue_date, byline, body, hits, modified, tags, word_count)"
    check_database_file(tables(tmp_path / "old.db", old))
    newer = open_database(tmp_path / "newer.db")
    newer.db.execute("ALTER TABLE publications ADD COLUMN language TEXT")
    newer.db.execute("CREATE TABLE schema_versions (version INTEGER)")
    newer.close()
    check_database_file(tmp_path / "newer.db")


@pytest.mark.parametrize(
    ("setting", "mode"),
    [
        ("CACI_DB_PATH", "incremental"),
        ("CACI_EXPORT_DIR", "incremental"),
        ("HTTPCACHE_DIR", "full"),
        ("JOBDIR", "incremental"),
    ],
)
def test_preflight_checks_every_path(tmp_path: Path, setting: str, mode: str) -> None:
    (tmp_path / "a-file").write_text("")
    blocked = tmp_path / "a-file" / "sub"
    value = str(blocked / "caci.db") if setting == "CACI_DB_PATH" else str(blocked)
    settings = settings_for(tmp_path, **{setting: value})
    refused = refusal(preflight, FieldReportsSpider, settings, {"mode": mode})
    assert f"-s {setting}=…" in str(refused) and refused.exit_code == exitcodes.USAGE


def test_reparse_does_not_need_a_writable_archive(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    settings = settings_for(tmp_path, HTTPCACHE_DIR=str(tmp_path / "a-file" / "sub"))
    preflight(FieldReportsSpider, settings, {"mode": "reparse"})


# -- the lock and the sites ------------------------------------------------------------------------
@pytest.fixture
def other_run(tmp_path: Path) -> Iterator[IO[bytes]]:
    """Another crawl holding the database's lock (an flock of its own open file)."""
    path = tmp_path / "caci.db.lock"
    with path.open("wb") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        yield handle


def write_holder(handle: IO[bytes], since: float) -> None:
    handle.write(f"4242 {since:.0f}\n".encode())
    handle.flush()


def test_a_run_holding_the_lock_means_this_one_is_skipped(
    tmp_path: Path, other_run: IO[bytes]
) -> None:
    write_holder(other_run, time.time() - 60)
    refused = refusal(preflight, FieldReportsSpider, settings_for(tmp_path), {})
    assert refused.exit_code == exitcodes.SKIPPED
    assert "pid 4242" in str(refused) and str(refused).endswith(": skipping this run")


def test_a_lock_held_far_too_long_is_a_failure_not_a_skip(
    tmp_path: Path, other_run: IO[bytes]
) -> None:
    write_holder(other_run, time.time() - 3 * 3600)
    settings = settings_for(tmp_path, CACI_LOCK_STALE_HOURS=2)
    refused = refusal(preflight, FieldReportsSpider, settings, {})
    assert refused.exit_code == exitcodes.CRAWL_FAILED
    assert "CACI_LOCK_STALE_HOURS=2" in str(refused)


def test_a_database_another_program_writes_to_is_a_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "caci.db"
    writer = sqlite3.connect(database, isolation_level=None)
    writer.execute("CREATE TABLE sites (setting, base_url, recorded_at)")
    writer.execute("BEGIN IMMEDIATE")
    real_connect = sqlite3.connect
    monkeypatch.setattr(  # no ten-second wait for the writer
        preflight_module.sqlite3,
        "connect",
        lambda *args, **kwargs: real_connect(*args, **{**kwargs, "timeout": 0}),
    )
    try:
        refused = refusal(preflight, FieldReportsSpider, settings_for(tmp_path), {})
    finally:
        writer.rollback()
        writer.close()
    assert refused.exit_code == exitcodes.CRAWL_FAILED
    assert "locked by another program" in str(refused)
    assert_lock_free(database)


def assert_lock_free(database: Path) -> None:
    with Path(f"{database}.lock").open("ab") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises while someone holds it
        fcntl.flock(handle, fcntl.LOCK_UN)


def test_a_database_of_another_site_is_refused_and_the_lock_let_go(tmp_path: Path) -> None:
    database = tmp_path / "caci.db"
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE sites (setting, base_url, recorded_at)")
        connection.execute("INSERT INTO sites VALUES ('CACI_BASE_URL', ?, '')", [LOCAL])
    connection.close()
    refused = refusal(preflight, FieldReportsSpider, settings_for(tmp_path), {})
    assert refused.exit_code == exitcodes.USAGE
    assert f"holds the data of {LOCAL} (CACI_BASE_URL)" in str(refused)
    assert_lock_free(database)


def test_a_good_run_holds_the_lock(tmp_path: Path) -> None:
    lock = preflight(StaffPublicationsSpider, settings_for(tmp_path), {"mode": "full"})
    assert not lock.closed and lock.name == f"{(tmp_path / 'caci.db').resolve()}.lock"
    with open(lock.name, "ab") as handle, pytest.raises(BlockingIOError):
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    for directory in ("exports", "httpcache"):
        assert (tmp_path / directory).is_dir()


def test_the_argument_is_reported_before_the_setting(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, CACI_BAN_THRESHOLD="0")
    assert "-a mod=full" in str(refusal(preflight, FieldReportsSpider, settings, {"mod": "full"}))


def test_a_relative_data_dir_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RunRefused, match="CACI_DATA_DIR=srv/caci: expected an absolute path"):
        check_settings(settings_for(tmp_path, CACI_DATA_DIR="srv/caci"))


def test_an_egg_without_a_data_dir_refuses_a_relative_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Scrapyd egg has no checkout: a relative path needs CACI_DATA_DIR (exit 2)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CACI_DATA_DIR", raising=False)
    monkeypatch.setattr("caci_spider.paths.package_checkout", lambda: None)
    settings = settings_for(tmp_path, CACI_DB_PATH="exports/caci.db")
    with pytest.raises(RunRefused, match="CACI_DB_PATH=exports/caci.db is a relative path") as e:
        preflight(FieldReportsSpider, settings, {})
    assert e.value.exit_code == exitcodes.USAGE
    settings = settings_for(tmp_path, CACI_DB_PATH="exports/caci.db", CACI_DATA_DIR=str(tmp_path))
    preflight(FieldReportsSpider, settings, {}).close()
    assert (tmp_path / "exports" / "caci.db.lock").is_file()


# -- through the real ``scrapy crawl`` ------------------------------------------------------------
@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["-s", "DOWNLOAD_DELY=0"], "unknown setting DOWNLOAD_DELY: did you mean DOWNLOAD_DELAY?"),
        (["-s", "LOG_LEVEL=LOUD"], "bad setting -s LOG_LEVEL=LOUD: expected one of CRITICAL,"),
        (["-s", "CONCURRENT_ITEMS=many"], "bad setting -s CONCURRENT_ITEMS=many: expected an"),
        (["-s", "LOG_FILE_APPEND=maybe"], "bad setting -s LOG_FILE_APPEND=maybe: expected True"),
        ([], "is another program's SQLite database (its publications table has the columns"),
    ],
)
def test_scrapy_crawl_refuses_in_one_line(
    tmp_path: Path, arguments: list[str], message: str
) -> None:
    database = tables(
        tmp_path / "caci.db",
        "CREATE TABLE publications (id INTEGER PRIMARY KEY, doi TEXT, title TEXT)",
        "INSERT INTO publications VALUES (1, '10.1000/1', 'Another program wrote this')",
    )
    before = database.read_bytes()
    result = run_crawl("field_reports", "http://127.0.0.1:9", tmp_path, *arguments, expect_exit=2)
    errors = [line for line in result.stderr.splitlines() if "ERROR" in line]
    assert len(errors) == 1 and message in errors[0], result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert database.read_bytes() == before  # left byte for byte as it was
    assert [p.name for p in tmp_path.iterdir()] == ["caci.db"]  # nothing made beside it
