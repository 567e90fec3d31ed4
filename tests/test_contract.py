"""The data contract is declared once (caci_spider.contract): the schema, the JSON Lines keys,
the tables of the data page (docs/data.md) and the Datasette files agree with it, and each
drifts detectably."""

from __future__ import annotations

import dataclasses
import shutil
import sqlite3
from pathlib import Path

import pytest

from caci_spider import contract
from caci_spider.contract import Column, drifted, export_keys, schema_drift
from caci_spider.items import (
    CONTRACT_KEYS,
    STAFF_KEYS,
    STAFF_OBSERVATION_FIELDS,
    Publication,
    StaffPublication,
)
from caci_spider.records import open_database
from tests.conftest import REPO_ROOT

DATA_PAGE = REPO_ROOT / "docs" / "data.md"
DATASETTE = REPO_ROOT / "datasette"


def item_drift(item: type, table: str, internal: tuple[str, ...] = ()) -> set[str]:
    """Fields the item has and the table's columns lack, or the other way round."""
    fields = {f.name for f in dataclasses.fields(item)} - set(internal)
    return fields ^ set(export_keys(table))


def test_the_items_have_the_contracts_keys() -> None:
    assert tuple(f.name for f in dataclasses.fields(Publication)) == CONTRACT_KEYS
    assert export_keys("publications") == CONTRACT_KEYS
    assert export_keys("staff_publications") == STAFF_KEYS
    assert item_drift(Publication, "publications") == set()
    assert item_drift(StaffPublication, "staff_publications", STAFF_OBSERVATION_FIELDS) == set()


def test_a_new_database_has_the_contracts_schema(tmp_path: Path) -> None:
    open_database(tmp_path / "caci.db").close()
    with sqlite3.connect(tmp_path / "caci.db") as connection:
        assert schema_drift(connection) == []


def test_the_committed_data_page_tables_and_datasette_files_are_the_contracts() -> None:
    assert drifted(DATASETTE, DATA_PAGE) == [], "run: python -m caci_spider.contract"
    assert contract.main(["--check", "--datasette", str(DATASETTE), "--page", str(DATA_PAGE)]) == 0


@pytest.fixture
def copies(tmp_path: Path) -> tuple[Path, Path]:
    shutil.copytree(DATASETTE, tmp_path / "datasette")
    shutil.copy(DATA_PAGE, tmp_path / "data.md")
    return tmp_path / "datasette", tmp_path / "data.md"


def with_extra_column(monkeypatch: pytest.MonkeyPatch) -> None:
    """A column declared in the contract only."""
    table = contract.PUBLICATIONS
    extra = Column("site", str, "the site the row comes from", facet="column")
    changed = dataclasses.replace(table, columns=(*table.columns, extra))
    monkeypatch.setattr(
        contract, "TABLES", tuple(changed if t is table else t for t in contract.TABLES)
    )


def test_a_column_added_to_the_contract_only_is_drift(copies, monkeypatch, tmp_path) -> None:
    datasette, page = copies
    open_database(tmp_path / "caci.db").close()  # the schema as the unchanged contract makes it
    with_extra_column(monkeypatch)
    assert sorted(p.name for p in drifted(datasette, page)) == [
        "data.md",
        "datasette.json",  # a facet
        "metadata.json",  # a column description
    ]
    with sqlite3.connect(tmp_path / "caci.db") as connection:
        assert schema_drift(connection)
    # ...and the item no longer has the contract's keys.
    assert tuple(f.name for f in dataclasses.fields(Publication)) != export_keys("publications")


def test_a_column_added_to_the_data_page_only_is_drift(copies) -> None:
    datasette, page = copies
    text = page.read_text("utf-8")
    row = "| fetched_at | str | ISO 8601 UTC time of the fetch"
    page.write_text(text.replace(row, "| site | str | the site |\n" + row, 1), "utf-8")
    assert [p.name for p in drifted(datasette, page)] == ["data.md"]


def test_a_column_added_to_the_datasette_files_only_is_drift(copies) -> None:
    datasette, page = copies
    metadata = datasette / "metadata.json"
    text = metadata.read_text("utf-8")
    metadata.write_text(text.replace('"columns": {', '"columns": {"site": "x", ', 1), "utf-8")
    assert [p.name for p in drifted(datasette, page)] == ["metadata.json"]


def test_a_column_added_to_the_database_only_is_drift(tmp_path: Path) -> None:
    open_database(tmp_path / "caci.db").close()
    with sqlite3.connect(tmp_path / "caci.db") as connection:
        connection.execute("ALTER TABLE staff_publications ADD COLUMN site TEXT")
        (problem,) = schema_drift(connection)
    assert problem.startswith("staff_publications: columns")


def test_a_field_added_to_an_item_only_is_drift() -> None:
    @dataclasses.dataclass
    class WiderReport(Publication):
        language: str = ""

    @dataclasses.dataclass(kw_only=True)
    class WiderStaff(StaffPublication):
        isbn: str = ""

    assert item_drift(WiderReport, "publications") == {"language"}
    assert item_drift(WiderStaff, "staff_publications", STAFF_OBSERVATION_FIELDS) == {"isbn"}


def test_facets_and_hidden_columns_come_from_the_columns() -> None:
    config = contract.datasette_config()
    tables = config["databases"]["caci"]["tables"]
    assert tables["publications"]["facets"] == [
        "site", "section", "kind", {"array": "authors"}, {"array": "tags"}, "year"
    ]  # fmt: skip
    assert tables["publications"]["sort_desc"] == "published"
    assert tables["staff_publications"]["sort_desc"] == "date"
    assert "year" in tables["staff_publications"]["facets"]
    assert "col-content_hash" in config["extra_css_urls"][0]
    assert config["settings"]["truncate_cells_html"] > 0
