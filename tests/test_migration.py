"""Databases written by earlier releases are migrated in place on open, nothing lost:
tests/data/caci-before-issue-15.db was written before the contract (storage.py at bc49a8e),
tests/data/caci-before-issue-12.db.gz before rows were keyed by (site, id) (9577242),
tests/data/caci-before-issue-28.db.gz before databases and page rules were versioned (f61f9fe,
written by ``python -m tests.release``), tests/data/caci-before-issue-23.db.gz by the last
release of schema 1, before ``publications.category`` (69aa823, likewise). Every one of them
goes through today's code."""

from __future__ import annotations

import gzip
import re
import shutil
import sqlite3
from pathlib import Path

import pytest

from caci_spider.contract import export_keys, schema_drift
from caci_spider.records import open_database
from caci_spider.sources import sections
from caci_spider.storage import PublicationsDatabase
from caci_spider.versions import EXTRACTION_VERSION, SCHEMA_VERSION
from tests.conftest import REPO_ROOT
from tests.reports import field_report

BEFORE = REPO_ROOT / "tests" / "data" / "caci-before-issue-15.db"


def contract_rows(path: Path, table: str) -> list[tuple]:
    """The table's rows, in the contract's keys that this old schema already had."""
    with sqlite3.connect(BEFORE) as connection:
        old = {row[1] for row in connection.execute(f"PRAGMA table_info([{table}])")}
    keys = ", ".join(f"[{k}]" for k in export_keys(table) if k in old)
    with sqlite3.connect(path) as connection:
        return connection.execute(f"SELECT {keys} FROM [{table}] ORDER BY id").fetchall()


@pytest.fixture
def migrated(tmp_path: Path):
    path = tmp_path / "caci.db"
    shutil.copy(BEFORE, path)
    before = {t: contract_rows(path, t) for t in ("publications", "staff_publications")}
    database = open_database(path)
    yield path, database, before
    database.close()


def test_the_old_database_is_the_previous_schema() -> None:
    with sqlite3.connect(BEFORE) as connection:
        tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master")}
        columns = [row[1] for row in connection.execute("PRAGMA table_info(publications)")]
    assert "author_aliases" not in tables and "staff_publications_fts" not in tables
    assert "year" not in columns


def test_migration_gives_the_contracts_schema_and_keeps_every_row(migrated) -> None:
    path, database, before = migrated
    with sqlite3.connect(path) as connection:
        assert schema_drift(connection) == []
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    for table, rows in before.items():
        assert contract_rows(path, table) == rows and rows


def test_migration_fills_year_and_month(migrated) -> None:
    _path, database, _before = migrated
    staff = {
        r["title"]: (r["date"], r["year"], r["month"])
        for r in database.db["staff_publications"].rows
    }
    assert staff == {
        "Central Asia after the Pandemic": ("2024-07", 2024, 7),
        "Greater Central Asia": ("2023", 2023, None),
    }
    years = {r["id"]: (r["year"], r["month"]) for r in database.db["publications"].rows}
    assert years[12995] == (2010, 4)


def test_migration_indexes_staff_publications_for_search(migrated) -> None:
    _path, database, _before = migrated
    found = [r["title"] for r in database.db["staff_publications"].search("Pandemic")]
    assert found == ["Central Asia after the Pandemic"]
    assert [r["title"] for r in database.db["staff_publications"].search("Starr")] == found
    # ...and keeps it in sync afterwards (triggers).
    from caci_spider.items import StaffPublication

    database.store_staff(
        StaffPublication(title="Greater Central Asia", summary="Connectivity.", date="2023",
                         sources=["https://x/"], fetched_at="2026-02-01T00:00:00Z"), 3,
    )  # fmt: skip
    assert [r["title"] for r in database.db["staff_publications"].search("Connectivity")] == [
        "Greater Central Asia"
    ]


def test_migration_merges_authors_and_links_staff_authors(migrated) -> None:
    _path, database, _before = migrated
    authors = {r["name"]: r["id"] for r in database.db["authors"].rows}
    # Svante Cornell (field report) is Svante E. Cornell (staff); Marcela Londono is Londoño.
    assert sorted(authors) == [
        "Marcela Londoño", "Roger N. McDermott", "S. Frederick Starr",
        "Svante E. Cornell",
    ]  # fmt: skip
    aliases = {r["alias"]: r["author_id"] for r in database.db["author_aliases"].rows}
    assert aliases["Svante Cornell"] == aliases["Svante E. Cornell"] == authors["Svante E. Cornell"]
    assert aliases["Marcela Londono"] == aliases["Marcela Londoño"]
    works = database.db.execute(
        "SELECT kind, title, role FROM author_publications WHERE author = 'Svante E. Cornell'"
        " ORDER BY date DESC"
    ).fetchall()
    assert works == [
        ("staff publication", "Central Asia after the Pandemic", "editor"),
        ("staff publication", "Greater Central Asia", "author"),
        ("publication", "TITLE 12995", "author"),
    ]


def test_opening_a_migrated_database_again_changes_nothing(migrated) -> None:
    path, database, _before = migrated
    database.close()
    with sqlite3.connect(path) as connection:
        dump = list(connection.iterdump())
    open_database(path).close()
    with sqlite3.connect(path) as connection:
        assert list(connection.iterdump()) == dump


# -- issue 12: rows keyed by (site, id) ---------------------------------------------------------
# tests/data/caci-before-issue-12.db.gz: written by 9577242 (both spiders against the local
# site with PDFs, a full run, a reparse with one changed body).
BEFORE_12 = REPO_ROOT / "tests" / "data" / "caci-before-issue-12.db.gz"
# The tables that gained `site`, with what their earlier rows get.
SITE_TABLES = (
    "publications", "publication_authors", "duplicates", "publication_versions", "rejects",
    "canary_checks", "item_runs", "document_links",
)  # fmt: skip


def gunzipped(tmp_path: Path, name: str = "caci.db") -> Path:
    path = tmp_path / name
    with gzip.open(BEFORE_12) as source, path.open("wb") as target:
        shutil.copyfileobj(source, target)
    return path


def every_row(path: Path, columns_of: Path | None = None) -> dict[str, list[tuple]]:
    """Every row of every table (FTS shadow tables aside), in the columns the table has in
    ``columns_of`` (the database before the migration), sorted."""
    with sqlite3.connect(columns_of or path) as connection:
        tables = [
            name
            for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '%_fts%'"
            )
        ]
        columns = {
            t: [r[1] for r in connection.execute(f"PRAGMA table_info([{t}])")] for t in tables
        }
    with sqlite3.connect(path) as connection:
        return {
            table: sorted(
                connection.execute(f"SELECT {', '.join(f'[{c}]' for c in names)} FROM [{table}]"),
                key=repr,
            )
            for table, names in columns.items()
        }


def schema(path: Path) -> set[tuple[str, str, str]]:
    """Every table, index and trigger with its SQL, whitespace aside (a column added at the
    end, as ``crawl_runs.sections``, is written by ALTER TABLE with other line breaks)."""
    with sqlite3.connect(path) as connection:
        return {
            (kind, name, re.sub(r"\s*([,()])\s*", r"\1", re.sub(r"\s+", " ", sql or "")))
            for kind, name, sql in connection.execute(
                "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
            )
        }


@pytest.fixture
def release(tmp_path: Path):
    """The release database before and after its first open: (path, before, database)."""
    before = gunzipped(tmp_path, "before.db")
    path = gunzipped(tmp_path)
    database = open_database(path)
    yield path, before, database
    database.close()


def test_the_release_database_is_keyed_by_id_alone(tmp_path: Path) -> None:
    with sqlite3.connect(gunzipped(tmp_path)) as connection:
        columns = [row[1] for row in connection.execute("PRAGMA table_info(publications)")]
        pk = [row[1] for row in connection.execute("PRAGMA table_info(duplicates)") if row[5]]
    assert "site" not in columns and pk == ["id"]


def test_the_first_open_keeps_every_row_of_every_table(release) -> None:
    path, before, database = release
    database.close()
    kept = every_row(path, columns_of=before)
    old = every_row(before)
    assert kept == old
    counts = {table: len(rows) for table, rows in old.items() if rows}
    assert {t: counts.get(t) for t in (
        "publications", "staff_publications", "duplicates", "rejects", "publication_versions",
        "crawl_runs", "item_runs", "publication_authors", "documents", "document_links",
    )} == {
        "publications": 18, "staff_publications": 16, "duplicates": 1, "rejects": 17,
        "publication_versions": 1, "crawl_runs": 6, "item_runs": 34, "publication_authors": 22,
        "documents": 4, "document_links": 11,
    }  # fmt: skip


def test_the_first_open_gives_the_contracts_schema_keyed_by_site_and_id(release, tmp_path) -> None:
    path, _before, database = release
    with sqlite3.connect(path) as connection:
        assert schema_drift(connection) == []
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    for table in ("publications", "duplicates"):
        assert database.db[table].pks == ["site", "id"]
    assert database.db["publication_versions"].pks == ["site", "id", "content_hash", "reason"]
    assert database.db["publication_authors"].pks == ["site", "publication_id", "position"]
    assert database.db["item_runs"].pks == ["item_table", "site", "item_id"]
    # The same schema as a database made new, to the index and the trigger.
    open_database(tmp_path / "new.db").close()
    database.close()
    assert schema(path) == schema(tmp_path / "new.db")


def test_earlier_rows_are_the_analysts_and_staff_rows_the_institutes(release) -> None:
    _path, _before, database = release
    db = database.db

    def sites(sql: str) -> list[tuple]:
        return db.execute(sql).fetchall()

    for table in ("publications", "publication_authors", "duplicates", "publication_versions"):
        assert sites(f"SELECT DISTINCT site FROM [{table}]") == [("cacianalyst",)], table
    assert sorted(sites("SELECT spider, site, count(*) FROM rejects GROUP BY 1, 2")) == [
        ("field_reports", "cacianalyst", 4), ("staff_publications", None, 13),
    ]  # fmt: skip
    assert sorted(sites("SELECT item_table, site, count(*) FROM item_runs GROUP BY 1, 2")) == [
        ("publications", "cacianalyst", 18), ("staff_publications", "silkroadstudies", 16),
    ]  # fmt: skip
    assert sites("SELECT DISTINCT item_table, site FROM document_links") == [
        ("staff_publications", "silkroadstudies")
    ]
    assert sites("SELECT spider, site FROM canary_checks") == [("field_reports", "cacianalyst")]
    assert database.known_report_ids("cacianalyst") >= {12871, 12834, 12999}
    assert database.known_report_ids("turkeyanalyst") == set()
    assert database.publication("cacianalyst", 12999)["site"] == "cacianalyst"
    # The author links still name their publications: every field report has its authors.
    works = db.execute(
        "SELECT count(*) FROM author_publications WHERE kind = 'publication'"
    ).fetchone()
    assert works == (22,)


def test_the_full_text_index_passes_its_check_and_its_triggers_fire(release) -> None:
    _path, _before, database = release
    db = database.db
    db.execute("INSERT INTO publications_fts(publications_fts) VALUES('integrity-check')")
    (indexed,) = db.execute("SELECT count(*) FROM publications_fts").fetchone()
    assert indexed == db["publications"].count == 18
    # Every stored row is found by a word of its body, as before.
    for site, item_id, body in db.execute("SELECT site, id, body FROM publications").fetchall():
        word = max((w for w in body.split() if w.isalpha()), key=len)
        found = [(r["site"], r["id"]) for r in db["publications"].search(word)]
        assert (site, item_id) in found, word
    database.store_report(
        field_report(12997, "Zanzibarian marmalade.", site="turkeyanalyst"), "turkey_analyst", 7
    )
    database.store_report(field_report(12999, "A quokka was seen."), "field_reports", 7)
    assert [(r["site"], r["id"]) for r in db["publications"].search("Zanzibarian")] == [
        ("turkeyanalyst", 12997)
    ]
    assert [(r["site"], r["id"]) for r in db["publications"].search("quokka")] == [
        ("cacianalyst", 12999)
    ]
    db.execute("INSERT INTO publications_fts(publications_fts) VALUES('integrity-check')")
    # The changed body went to the versions table, beside the one the release kept.
    assert db.execute("SELECT count(*) FROM publication_versions WHERE id = 12999").fetchone() == (
        2,
    )


def test_a_second_open_changes_nothing(release) -> None:
    path, _before, database = release
    database.close()
    with sqlite3.connect(path) as connection:
        dump = list(connection.iterdump())
    open_database(path).close()
    with sqlite3.connect(path) as connection:
        assert list(connection.iterdump()) == dump


def test_a_migration_that_fails_leaves_the_database_as_it_was(tmp_path, monkeypatch) -> None:
    path = gunzipped(tmp_path)
    with sqlite3.connect(path) as connection:
        dump = list(connection.iterdump())

    def broken(*_args, **_kwargs):
        raise sqlite3.OperationalError("disk I/O error")

    # The last step of the migration: everything before it is rolled back with it.
    monkeypatch.setattr(PublicationsDatabase, "_ensure_fts", broken)
    with pytest.raises(sqlite3.OperationalError):
        open_database(path)
    with sqlite3.connect(path) as connection:
        assert list(connection.iterdump()) == dump
    monkeypatch.undo()
    open_database(path).close()
    with sqlite3.connect(path) as connection:
        assert schema_drift(connection) == []


def test_a_database_that_has_site_but_is_keyed_by_id_is_finished_alike(tmp_path: Path) -> None:
    # As the first step of issue 12 left it: `site` filled in publications, keys not changed.
    path = gunzipped(tmp_path)
    with sqlite3.connect(path) as connection:
        connection.execute("ALTER TABLE publications ADD COLUMN site TEXT")
        connection.execute("UPDATE publications SET site = 'cacianalyst'")
    before = every_row(path)
    open_database(path).close()
    with sqlite3.connect(path) as connection:
        assert schema_drift(connection) == []
        connection.execute(
            "INSERT INTO publications_fts(publications_fts) VALUES('integrity-check')"
        )
    open_database(tmp_path / "new.db").close()
    assert schema(path) == schema(tmp_path / "new.db")
    kept = {t: len(rows) for t, rows in every_row(path).items()}
    assert {t: len(rows) for t, rows in before.items()} == {t: kept[t] for t in before}


# -- every release database (tests/data/caci-*.db*, written by tests/release.py since issue 28)
RELEASE_DATABASES = sorted((REPO_ROOT / "tests" / "data").glob("caci-*.db*"))


def unpacked(release_db: Path, target: Path) -> Path:
    opener = gzip.open if release_db.suffix == ".gz" else open
    with opener(release_db, "rb") as source, target.open("wb") as copy:
        shutil.copyfileobj(source, copy)
    return target


def test_a_release_database_is_kept_for_each_release() -> None:
    names = [path.name for path in RELEASE_DATABASES]
    assert names == [
        "caci-before-issue-12.db.gz", "caci-before-issue-15.db", "caci-before-issue-23.db.gz",
        "caci-before-issue-28.db.gz",
    ]  # fmt: skip


# The versions each release database was written with (schema, page rules): issue 28 began
# recording them; the release before issue 23 (which brought schema 2: publications.category)
# is the last release of schema 1.
RELEASE_VERSIONS = {"caci-before-issue-23.db.gz": (1, 1)}


@pytest.mark.parametrize("release_db", RELEASE_DATABASES, ids=lambda path: path.name)
def test_every_release_database_opens_in_todays_schema_keeping_every_row(
    release_db: Path, tmp_path: Path
) -> None:
    before = unpacked(release_db, tmp_path / "before.db")
    path = unpacked(release_db, tmp_path / "caci.db")
    schema, page_rules = RELEASE_VERSIONS.get(release_db.name, (0, None))  # 0: not versioned
    with sqlite3.connect(before) as connection:
        assert connection.execute("PRAGMA user_version").fetchone() == (schema,)
    database = open_database(path)
    every_section = [(profile.key, section.category) for profile, section in sections()]
    outdated = database.outdated_publications(every_section)
    if page_rules == EXTRACTION_VERSION:
        # Made by today's page rules: nothing to re-derive, every row in a section.
        assert outdated == [] and database.count("publications") > 0
        assert sum(database.count_publications(*pair) for pair in every_section) == (
            database.count("publications")
        )
    else:
        # Every row was made by earlier page rules: the first crawl re-derives them all.
        assert len(outdated) == database.count("publications") > 0
    database.close()
    with sqlite3.connect(path) as connection:
        assert schema_drift(connection) == []
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert connection.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
        for fts in ("publications_fts", "staff_publications_fts"):
            connection.execute(f"INSERT INTO {fts}({fts}) VALUES('integrity-check')")
        reasons = connection.execute("SELECT DISTINCT reason FROM publication_versions").fetchall()
    assert set(reasons) <= {("page changed",)}
    # Every row of what was collected (author ids aside: an old release's authors are merged
    # by today's name rules, as test_migration_merges_authors_and_links_staff_authors shows).
    old, kept = every_row(before), every_row(path, columns_of=before)
    collected = ("publications", "staff_publications", "publication_versions", "duplicates",
                 "rejects", "crawl_runs", "documents", "canary_checks")  # fmt: skip
    assert {t: kept[t] for t in collected if t in old} == {t: old[t] for t in collected if t in old}
