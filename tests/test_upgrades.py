"""Upgrading is a non-event (docs/upgrading.md): the previous release's database and page archive
go on under today's nightly, rows that newer page rules read otherwise are re-derived from the
archive before anything is judged, and a database a newer release wrote is refused untouched."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from caci_spider.contract import schema_drift
from caci_spider.records import open_database
from caci_spider.storage import EXTRACTION_UPGRADE, NewerDatabase
from caci_spider.testworld.localsite import LocalK2Site, serve
from caci_spider.versions import EXTRACTION_VERSION, SCHEMA_VERSION
from tests.conftest import FIXTURES, REPO_ROOT, run_crawl
from tests.release import PREVIOUS_RELEASE, NoHistory, nightly, unpack_release
from tests.reports import field_report
from tests.test_migration import BEFORE_12, unpacked

# A page rule of a release after this one, as a test sees it: put first on PYTHONPATH, Python
# imports this sitecustomize before anything else, so every module of today's code reads the
# raised version and the changed rule (no environment variable, nothing in the product). The rule
# is an honest improvement a release could make: titles with typographic apostrophes. It reads
# only some stored pages otherwise, so that the test tells re-derived-and-changed rows from
# re-derived-and-unchanged ones.
NEXT_RULES = '''\
"""Test-only (tests/test_upgrades.py): the page rules of the next release."""
import caci_spider.versions as versions

versions.EXTRACTION_VERSION += 1

import caci_spider.records as records  # noqa: E402  (after the version: items reads it)

_normalise = records.normalise_publication


def normalise_publication(page):
    report = _normalise(page)
    report.title = report.title.replace("'", "\\u2019")
    return report


records.normalise_publication = normalise_publication
'''


def rows(path: Path, sql: str) -> list[dict[str, Any]]:
    connection = sqlite3.connect(path)
    connection.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in connection.execute(sql)]
    finally:
        connection.close()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def error_lines(logs: Path) -> list[str]:
    return [
        line
        for log in sorted(logs.glob("*.log"))
        for line in log.read_text("utf-8").splitlines()
        if " ERROR: " in line
    ]


def run_line(logs: Path) -> str:
    (log,) = logs.glob("publications-*.log")
    (line,) = [x for x in log.read_text("utf-8").splitlines() if "] INFO: Run " in x]
    return line


def test_the_previous_releases_database_and_archive_upgrade_without_a_failed_night(
    tmp_path: Path,
) -> None:
    try:
        previous = unpack_release(PREVIOUS_RELEASE, tmp_path / "previous")
    except NoHistory as missing:
        pytest.fail(str(missing))
    next_rules = tmp_path / "next-rules"
    next_rules.mkdir()
    (next_rules / "sitecustomize.py").write_text(NEXT_RULES, "utf-8")
    out = tmp_path / "out"
    db = out / "caci.db"
    with serve(LocalK2Site(FIXTURES)) as (base_url, site):
        first = nightly(previous, out, base_url, site.base_urls, logs=tmp_path / "logs-0")
        assert first.returncode == 0, first.stderr
        assert f"from {previous}" in (tmp_path / "logs-0").joinpath(
            next(p.name for p in (tmp_path / "logs-0").glob("publications-*"))
        ).read_text("utf-8")  # the previous release crawled, not today's code
        before = rows(db, "SELECT * FROM publications ORDER BY site, id")
        staff_before = rows(db, "SELECT id FROM staff_publications ORDER BY id")
        assert "extraction_version" not in before[0] and len(before) == 35
        apostrophes = {(r["site"], r["id"]): r["title"] for r in before if "'" in r["title"]}
        assert 0 < len(apostrophes) < len(before)
        # The previous release left Turkish mojibake in a body that today's rules repair.
        mojibake = {(r["site"], r["id"]) for r in before if "ÅŸ" in r["body"] or "Ã…" in r["body"]}
        assert mojibake
        changed = apostrophes.keys() | mojibake
        for night in (1, 2):
            logs = tmp_path / f"logs-{night}"
            # Every stored row a canary: each one is judged against its re-derived row.
            result = nightly(
                REPO_ROOT, out, base_url, site.base_urls, "-s", "CACI_CANARY_ITEMS=100",
                extra_path=next_rules, logs=logs,
            )  # fmt: skip
            assert (night, result.returncode, result.stdout, result.stderr) == (night, 0, "", "")
            assert error_lines(logs) == []
            line = run_line(logs)
            if night == 1:
                after_first = rows(db, "SELECT * FROM publications ORDER BY site, id")
                assert (
                    f"extraction upgrade: {len(before)} re-derived, {len(changed)} changed" in line
                ), line
            else:
                assert "extraction upgrade" not in line, line
        canaries = rows(db, "SELECT outcome FROM canary_checks WHERE spider = 'publications'")
        assert {c["outcome"] for c in canaries} == {"ok"} and len(canaries) >= len(before)
    # The sections the previous release did not have (silkroadstudies) are new beside them.
    kept = {(r["site"], r["id"]) for r in before}
    everything = rows(db, "SELECT * FROM publications ORDER BY site, id")
    assert {r["site"] for r in everything if (r["site"], r["id"]) not in kept} == {
        "silkroadstudies"
    }
    after = [r for r in everything if (r["site"], r["id"]) in kept]
    after_first = [r for r in after_first if (r["site"], r["id"]) in kept]
    # No row lost, every row made by the next rules, the changed ones as the rule reads them.
    assert [(r["site"], r["id"]) for r in after] == [(r["site"], r["id"]) for r in before]
    assert rows(db, "SELECT id FROM staff_publications ORDER BY id") == staff_before
    assert {r["extraction_version"] for r in after} == {EXTRACTION_VERSION + 1}
    assert after == after_first  # the second night re-derived nothing
    for row in after:
        if (row["site"], row["id"]) in mojibake:
            assert "ÅŸ" not in row["body"] and "Ã…" not in row["body"], row["id"]
    for old, new in zip(before, after, strict=True):
        expected = old["title"].replace("'", "\u2019")
        assert new["title"] == expected
        # The rest as it was, fetched_at too: the page was read from the archive (the repaired
        # bodies aside).
        rest = {"title"} | (
            {"body", "content_hash"} if (old["site"], old["id"]) in mojibake else set()
        )
        assert {k: new[k] for k in old if k not in rest} == {
            k: old[k] for k in old if k not in rest
        }
    # Exactly the rows read otherwise have a version entry: their previous values, the reason.
    versions = rows(db, "SELECT site, id, reason, previous, body FROM publication_versions")
    upgrades = {
        (v["site"], v["id"]): json.loads(v["previous"])
        for v in versions
        if v["reason"] == EXTRACTION_UPGRADE
    }
    assert upgrades.keys() == changed
    for key, title in apostrophes.items():
        assert upgrades[key]["title"] == title
    with sqlite3.connect(db) as connection:
        assert connection.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)

    # The schema changed: a release older than the database refuses it in one line, untouched.
    # (The previous release never read the version, so it cannot; this release is the older one
    # to every later release, shown on the copy a release of the next schema leaves.)
    newer = tmp_path / "newer" / "caci.db"
    newer.parent.mkdir()
    shutil.copy(db, newer)
    with sqlite3.connect(newer) as connection:
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    connection.close()
    untouched = digest(newer)
    with serve(LocalK2Site(FIXTURES)) as (base_url, site):
        refused = run_crawl("publications", base_url, newer.parent, expect_exit=2)
        assert site.hits == {}
    (message,) = [line for line in refused.stderr.splitlines() if "ERROR" in line]
    assert f"ERROR: {newer} was written by a newer release of caci_spider (schema" in message
    assert digest(newer) == untouched
    # Its read-only look may leave SQLite's empty WAL companions, nothing in them.
    wal = newer.with_name("caci.db-wal")
    assert not wal.exists() or wal.stat().st_size == 0


def test_a_database_of_a_newer_schema_is_not_opened_and_left_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "caci.db"
    open_database(path).close()
    with sqlite3.connect(path) as connection:
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    connection.close()
    untouched = digest(path)
    with pytest.raises(NewerDatabase, match=f"schema {SCHEMA_VERSION + 1}"):
        open_database(path)
    assert digest(path) == untouched


def test_only_an_upgrade_keeps_a_change_outside_the_body_as_a_version(tmp_path: Path) -> None:
    database = open_database(tmp_path / "caci.db")
    database.store_report(field_report(12999, "The body."), "field_reports", 1)
    older = field_report(12999, "The body.")
    older.title = "ANOTHER TITLE"
    # A refetch whose page changed its title: the row follows, no version (as before).
    assert database.store_report(older, "field_reports", 2) == "updated"
    assert database.db["publication_versions"].count == 0
    newer = field_report(12999, "The body.")
    newer.title = "A BETTER READ TITLE"
    assert database.store_report(newer, "field_reports", 3, EXTRACTION_UPGRADE) == "updated"
    (entry,) = database.db["publication_versions"].rows
    assert (entry["reason"], json.loads(entry["previous"]), entry["body"]) == (
        EXTRACTION_UPGRADE, {"title": "ANOTHER TITLE"}, "The body."
    )  # fmt: skip
    # Read alike again: no entry.
    assert database.store_report(newer, "field_reports", 4, EXTRACTION_UPGRADE) == "unchanged"
    # A changed body keeps the previous one with the fields that changed, as a page change.
    assert database.store_report(field_report(12999, "Another body."), "field_reports", 5) == (
        "updated"
    )
    reasons = sorted(r["reason"] for r in database.db["publication_versions"].rows)
    assert reasons == ["extraction upgrade", "page changed"]
    database.close()


def test_a_reader_never_errs_through_a_first_crawl_and_a_migration(tmp_path: Path) -> None:
    """A reader (Datasette) open all along sees the old database or the new one: no table yet,
    or every table with its full-text index, never a half-built one."""
    first = tmp_path / "first"
    migrated = tmp_path / "migrated" / "caci.db"
    migrated.parent.mkdir()
    unpacked(BEFORE_12, migrated)  # a release database: its migration rebuilds every table
    errors: list[str] = []
    reads = {first / "caci.db": 0, migrated: 0}
    checked: set[Path] = set()
    stop = threading.Event()

    def reader(path: Path) -> None:
        connection: sqlite3.Connection | None = None
        while not stop.is_set():
            if connection is None and path.exists():
                connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
            if connection is not None:
                try:
                    connection.execute("BEGIN")  # one snapshot for every look below
                    tables = {n for (n,) in connection.execute("SELECT name FROM sqlite_master")}
                    if "publications" in tables:
                        connection.execute("SELECT count(*) FROM publications").fetchone()
                        if "publications_fts" not in tables:
                            errors.append(f"{path.parent.name}: a table without its index")
                    (version,) = connection.execute("PRAGMA user_version").fetchone()
                    if version == SCHEMA_VERSION and path not in checked:
                        # The new database: the whole of today's schema at once.
                        checked.add(path)
                        errors.extend(f"{path.parent.name}: {d}" for d in schema_drift(connection))
                    if "publications_fts" in tables:
                        connection.execute(
                            "SELECT rowid FROM publications_fts WHERE publications_fts MATCH 'the'"
                        ).fetchall()
                        reads[path] += 1
                except sqlite3.Error as error:
                    errors.append(f"{path.parent.name}: {error}")
                finally:
                    connection.rollback()
            time.sleep(0.002)
        if connection is not None:
            connection.close()

    threads = [threading.Thread(target=reader, args=(path,)) for path in reads]
    for thread in threads:
        thread.start()
    try:
        with serve(LocalK2Site(FIXTURES)) as (base_url, _site):
            run_crawl("field_reports", base_url, first)
        open_database(migrated).close()
        time.sleep(0.05)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert errors == []
    assert all(count > 0 for count in reads.values()), reads
    assert checked == set(reads)
