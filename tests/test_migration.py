"""A database written before the contract (issue 15) is migrated on open, nothing lost:
tests/data/caci-before-issue-15.db was written by the previous schema (storage.py at bc49a8e)."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from caci_spider.contract import export_keys, schema_drift
from caci_spider.storage import CaciDatabase
from tests.conftest import REPO_ROOT

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
    database = CaciDatabase(path)
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
        ("field report", "TITLE 12995", "author"),
    ]


def test_opening_a_migrated_database_again_changes_nothing(migrated) -> None:
    path, database, _before = migrated
    database.close()
    with sqlite3.connect(path) as connection:
        dump = list(connection.iterdump())
    CaciDatabase(path).close()
    with sqlite3.connect(path) as connection:
        assert list(connection.iterdump()) == dump
