"""One precedence function where staff observations meet, and the rank the store keeps."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from caci_spider.items import STAFF_KEYS, SourceRank, StaffPublication
from caci_spider.records import open_database
from caci_spider.staff.precedence import PRECEDENCE, merge_observations
from caci_spider.storage import STAFF_RANKS, PublicationsDatabase, export_table

HOME = "https://www.cacianalyst.org/"
LISTING = "https://www.silkroadstudies.org/publications/joint-center-publications.html?start=0"
ITEM = "https://www.silkroadstudies.org/publications/joint-center-publications/item/13338-x.html"


def seen(rank: SourceRank, source: str, **fields) -> StaffPublication:
    values = dict(title="Central Asia After the Pandemic", fetched_at="t")
    values.update(fields)
    return StaffPublication(sources=[source], rank=rank, **values)


def test_the_item_page_fills_what_its_listing_entry_lacks() -> None:
    listing = seen(SourceRank.LISTING, LISTING, date="2020", summary="Teaser.", url=ITEM)
    item = seen(
        SourceRank.ITEM, ITEM, date="2020-06-02", summary="Teaser. And the whole body.",
        venue="AFPC Defense Dossier", url=ITEM, roles={"A B": "editor"},
    )  # fmt: skip
    combined = merge_observations(listing, item)
    assert (combined.date, combined.summary, combined.venue) == ("2020", "Teaser.", item.venue)
    assert combined.roles == item.roles  # a gap: filled
    assert combined.sources == sorted([LISTING, ITEM]) and combined.rank == SourceRank.LISTING


def test_between_sidebar_and_listing_the_more_precise_date_wins_in_either_order() -> None:
    sidebar = seen(SourceRank.SIDEBAR, HOME, date="2024-09-07", venue="Civil Georgia")
    listing = seen(SourceRank.LISTING, LISTING, date="2024-09", venue="Civil Georgia Online")
    for first, second in ((sidebar, listing), (listing, sidebar)):
        merged = merge_observations(first, second)
        assert (merged.date, merged.venue) == ("2024-09-07", "Civil Georgia Online")


def test_a_page_s_own_address_beats_a_link_and_a_known_value_is_never_lost() -> None:
    sidebar = seen(SourceRank.SIDEBAR, HOME, url="https://elsewhere.example/x", kind="Book")
    combined = seen(SourceRank.LISTING, ITEM, url=ITEM)
    merged = merge_observations(sidebar, combined)
    assert (merged.url, merged.kind) == (ITEM, "Book")


def test_every_rule_names_a_field_of_the_observation() -> None:
    names = {f for f in StaffPublication.__dataclass_fields__}
    assert set(PRECEDENCE) <= names


@pytest.fixture
def database(tmp_path: Path) -> PublicationsDatabase:
    db = open_database(tmp_path / "caci.db")
    yield db
    db.close()


def rank_of(database: PublicationsDatabase, staff_row_id: str) -> int:
    (rank,) = database.db.execute(
        f"SELECT rank FROM {STAFF_RANKS} WHERE id = ?", [staff_row_id]
    ).fetchone()
    return rank


def test_the_rank_is_stored_beside_the_row_not_in_it(
    database: PublicationsDatabase, tmp_path
) -> None:
    sidebar = seen(SourceRank.SIDEBAR, HOME, date="2020", venue="Sidebar venue")
    assert database.store_staff(sidebar, 1) == "new"
    assert rank_of(database, sidebar.id) == SourceRank.SIDEBAR
    listing = seen(SourceRank.LISTING, "https://mirror.example/list", venue="Listing venue")
    assert database.store_staff(listing, 1) == "updated"
    assert rank_of(database, sidebar.id) == SourceRank.LISTING
    # The rank comes from the store, not from the URLs: a later sidebar line stays below it.
    assert database.store_staff(seen(SourceRank.SIDEBAR, HOME, venue="Other"), 2) == "unchanged"
    (row,) = database.rows("staff_publications")
    assert row["venue"] == "Listing venue"
    # The contract's keys, then the columns derived in SQLite only; no rank among them.
    columns = [c.name for c in database.db.table("staff_publications").columns]
    assert columns == [*STAFF_KEYS, "year", "month"]
    export_table(database, "staff_publications", tmp_path / "staff.jsonl")
    exported = json.loads((tmp_path / "staff.jsonl").read_text("utf-8"))
    assert list(exported) == list(STAFF_KEYS)


def test_rows_stored_before_ranks_were_kept_get_theirs_once(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    open_database(path).close()
    connection = sqlite3.connect(path)
    connection.execute(f"DROP TABLE {STAFF_RANKS}")
    for row_id, sources in (("a", [HOME]), ("b", [HOME, LISTING])):
        connection.execute(
            "INSERT INTO staff_publications (id, title, sources) VALUES (?, ?, ?)",
            [row_id, row_id, json.dumps(sources)],
        )
    connection.commit()
    connection.close()
    database = open_database(path)
    try:
        assert rank_of(database, "a") == SourceRank.SIDEBAR
        assert rank_of(database, "b") == SourceRank.LISTING
    finally:
        database.close()
