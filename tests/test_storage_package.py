"""The storage package (issue 23): statements per stored publication, the stored ``category``
that selects a section's rows (a fresh database, a fresh crawl, and every stored release
database migrated in place), and storage making no text decision of its own."""

from __future__ import annotations

import ast
import gzip
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from caci_spider.records import open_database
from caci_spider.storage import STEPS, PublicationsDatabase, export_publications
from caci_spider.versions import SCHEMA_VERSION
from tests.conftest import REPO_ROOT
from tests.reports import CACI, field_report
from tests.test_publications_end_to_end import SECTIONS, crawl, exported, fixture_keys

STORAGE = REPO_ROOT / "caci_spider" / "storage"
DATA = REPO_ROOT / "tests" / "data"
RELEASES = (
    "caci-before-issue-15.db", "caci-before-issue-12.db.gz", "caci-before-issue-28.db.gz",
    "caci-before-issue-23.db.gz",
)  # fmt: skip
# The budget of issue 23 for a new publication on a crawl's hot path.
MAX_STATEMENTS_PER_NEW_ITEM = 6


def statements(database: PublicationsDatabase) -> list[str]:
    """The statements the connection runs from now on (trigger programs and FTS5's own
    statements aside: SQLite reports them as comments or as their top statement again)."""
    seen: list[str] = []

    def trace(sql: str) -> None:
        if not sql.startswith("--") and (not seen or seen[-1] != sql):
            seen.append(sql)

    database.db.conn.set_trace_callback(trace)
    return seen


def test_a_new_publication_costs_at_most_six_statements(tmp_path: Path) -> None:
    database = open_database(tmp_path / "caci.db")
    run_id = database.start_run("field_reports", "incremental", "2026-01-01T00:00:00Z")
    # Its author is known (an earlier item's): the crawl's usual case.
    assert database.store_report(field_report(1, "First body."), "field_reports", run_id) == "new"
    report = field_report(2, "Second body.")
    seen = statements(database)
    # What DeduplicatePipeline and StorePipeline ask of the database for one new item.
    assert database.duplicate_of(report) is None
    assert database.publication(report.site, report.id) is None
    assert database.store_report(report, "field_reports", run_id) == "new"
    database.db.conn.set_trace_callback(None)
    assert len(seen) <= MAX_STATEMENTS_PER_NEW_ITEM, seen
    assert [s.split()[0] for s in seen] == ["WITH", "BEGIN", "INSERT", "INSERT", "INSERT", "COMMIT"]
    links = database.db.execute(
        "SELECT position, author_id FROM publication_authors WHERE publication_id = 2"
    ).fetchall()
    assert links == [(0, 1)]
    database.close()


def test_the_probe_is_read_again_once_the_connection_wrote(tmp_path: Path) -> None:
    database = open_database(tmp_path / "caci.db")
    report = field_report(2, "A body.")
    assert database.duplicate_of(report) is None
    # A lower id with the same body stored meanwhile: duplicate_of must see it.
    database.store_report(field_report(1, "A body."), "field_reports")
    assert database.duplicate_of(report) == 1
    assert database.publication("cacianalyst", 1) is not None
    database.close()


def test_a_fresh_database_stores_each_rows_category_and_selects_sections_by_it(
    tmp_path: Path,
) -> None:
    database = open_database(tmp_path / "caci.db")
    database.store_report(field_report(1, "One."), "field_reports")
    article = field_report(2, "Two.", url=f"{CACI}/publications/analytical-articles/item/2-y.html")
    database.store_report(article, "analytical_articles")
    categories = database.db.execute("SELECT id, category FROM publications ORDER BY id")
    assert categories.fetchall() == [(1, "field-reports"), (2, "analytical-articles")]
    assert database.count_publications("cacianalyst", "field-reports") == 1
    assert database.count_publications("turkeyanalyst", "field-reports") == 0
    pairs = [("cacianalyst", "analytical-articles")]
    assert [r["id"] for r in database.canary_candidates("s", "publications", 5, pairs)] == [2]
    database.db.execute("UPDATE publications SET extraction_version = NULL")
    assert [r["id"] for r in database.outdated_publications(pairs)] == [2]
    path = tmp_path / "field_reports.jsonl"
    assert export_publications(database, path, "cacianalyst", "field-reports") == 1
    assert '"id": 1,' in path.read_text()
    assert "category" not in path.read_text()  # SQLite only: the exports keep their keys
    database.close()


def release_copy(name: str, tmp_path: Path) -> Path:
    path = tmp_path / "caci.db"
    if name.endswith(".gz"):
        with gzip.open(DATA / name) as packed, path.open("wb") as unpacked:
            shutil.copyfileobj(packed, unpacked)
    else:
        shutil.copy(DATA / name, path)
    return path


@pytest.mark.parametrize("name", RELEASES)
def test_every_stored_release_database_gains_the_category_of_each_row(
    name: str, tmp_path: Path
) -> None:
    path = release_copy(name, tmp_path)
    with sqlite3.connect(path) as connection:
        columns = [r[1] for r in connection.execute("PRAGMA table_info(publications)")]
        urls = dict(connection.execute("SELECT rowid, url FROM publications").fetchall())
    connection.close()
    assert urls and "category" not in columns
    open_database(path).close()
    with sqlite3.connect(path) as connection:
        stored = dict(connection.execute("SELECT rowid, category FROM publications").fetchall())
        (version,) = connection.execute("PRAGMA user_version").fetchone()
        dump = list(connection.iterdump())
    connection.close()
    assert version == SCHEMA_VERSION
    # Each row's section's category: the segment before /item/ of its URL.
    assert stored == {
        rowid: url.split("/item/")[0].rsplit("/", 1)[1] for rowid, url in urls.items()
    }
    open_database(path).close()  # a second open changes nothing
    with sqlite3.connect(path) as connection:
        assert list(connection.iterdump()) == dump
    connection.close()


def test_a_database_of_the_previous_schema_gains_the_category_in_place(tmp_path: Path) -> None:
    path = tmp_path / "caci.db"
    database = open_database(path)
    database.store_report(field_report(1, "One."), "field_reports")
    database.close()
    # Schema 1: the same database without the column.
    with sqlite3.connect(path) as connection:
        connection.execute("ALTER TABLE publications DROP COLUMN category")
        connection.execute("PRAGMA user_version = 1")
    connection.close()
    open_database(path).close()
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT category FROM publications").fetchall() == [
            ("field-reports",)
        ]
        assert connection.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    connection.close()


def test_a_fresh_crawl_stores_each_rows_section_category(local_site, tmp_path: Path) -> None:
    base_url, site = local_site
    crawl("publications", site, base_url, tmp_path)
    with sqlite3.connect(tmp_path / "caci.db") as connection:
        stored = dict(
            ((s, i), c)
            for s, i, c in connection.execute("SELECT site, id, category FROM publications")
        )
    connection.close()
    want = {
        key: section.category for _, section in SECTIONS for key in fixture_keys(section.spider)
    }
    assert stored == want
    for _, section in SECTIONS:  # each section's export holds its rows, by the column
        rows = exported(tmp_path / section.export_name)
        assert sorted((r["site"], r["id"]) for r in rows) == fixture_keys(section.spider)


TEXT_RULE_MODULES = {
    "caci_spider.names", "caci_spider.dates", "caci_spider.text", "caci_spider.urls",
    "caci_spider.staff.precedence", "caci_spider.staff",
}  # fmt: skip


def test_storage_imports_no_text_rule_module() -> None:
    for module in STORAGE.glob("*.py"):
        tree = ast.parse(module.read_text("utf-8"))
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | {
            alias.name for n in ast.walk(tree) if isinstance(n, ast.Import) for alias in n.names
        }
        assert not imported & TEXT_RULE_MODULES, module.name


def test_the_migration_is_named_steps() -> None:
    assert [step.name for step in STEPS][0].startswith("tables")
    assert STEPS[-1].name == "schema version"


def test_importing_storage_loads_no_text_rule_module() -> None:
    """Not even through another module: the rules come in with the caller
    (records.open_database), never by an import of storage's own."""
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, caci_spider.storage; print(' '.join(sys.modules))"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    rule_modules = TEXT_RULE_MODULES | {"caci_spider.records"}
    assert not rule_modules & set(loaded)
