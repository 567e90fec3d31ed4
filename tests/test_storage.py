"""Storage rules: upsert per id, known values kept, cross-id duplicates, atomic exports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from caci_spider.items import CONTRACT_KEYS, Publication, Reject
from caci_spider.records import open_database
from caci_spider.storage import (
    PublicationsDatabase,
    export_publications,
    export_table,
    merge_keeping_known,
    write_jsonl_atomic,
)
from tests.reports import field_report


def report(item_id: int, body: str = "A body.\n\nSecond paragraph.", **fields) -> Publication:
    return field_report(item_id, body, **fields)


@pytest.fixture
def database(tmp_path: Path) -> PublicationsDatabase:
    db = open_database(tmp_path / "caci.db")
    yield db
    db.close()


def test_schema_wal_and_column_order(database: PublicationsDatabase) -> None:
    assert database.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    columns = [c.name for c in database.db["publications"].columns]
    # The contract's keys, then the columns derived in SQLite only (year, month, category).
    assert columns == [*CONTRACT_KEYS, "year", "month", "category"]
    assert "publications_fts" in database.db.table_names()


def test_store_new_unchanged_updated(database: PublicationsDatabase) -> None:
    assert database.store_report(report(1), "field_reports") == "new"
    assert (
        database.store_report(report(1, fetched_at="2026-02-01T00:00:00Z"), "field_reports")
        == "unchanged"
    )
    assert database.store_report(report(1, body="A new body."), "field_reports") == "updated"
    assert database.publication("cacianalyst", 1)["body"] == "A new body."
    assert database.db["publications"].count == 1


def test_a_worse_fetch_never_erases_known_values(database: PublicationsDatabase) -> None:
    database.store_report(report(1, hits=4672, tags=["Georgia"]), "field_reports")
    database.store_report(report(1, hits=None, tags=[], authors=[], byline=None), "field_reports")
    row = database.publication("cacianalyst", 1)
    assert row["hits"] == 4672
    assert row["tags"] == ["Georgia"]
    assert row["authors"] == ["Fariz Ismailzade"]
    assert row["byline"].startswith("By Fariz")


def test_fts_stays_in_sync_through_upserts(database: PublicationsDatabase) -> None:
    database.store_report(report(1, body="Karachaganak oil policy."), "field_reports")
    database.store_report(report(1, body="Gas pipeline politics."), "field_reports")
    assert [r["id"] for r in database.db["publications"].search("pipeline")] == [1]
    assert list(database.db["publications"].search("Karachaganak")) == []


def test_authors_many_to_many_in_order(database: PublicationsDatabase) -> None:
    database.store_report(report(1, authors=["Svante Cornell", "Marcela Londoño"]), "field_reports")
    database.store_report(report(2, body="Other.", authors=["Marcela Londoño"]), "field_reports")
    names = database.db.execute(
        "SELECT a.name FROM publication_authors pa JOIN authors a ON a.id = pa.author_id "
        "WHERE pa.publication_id = 1 ORDER BY pa.position"
    ).fetchall()
    assert [n for (n,) in names] == ["Svante Cornell", "Marcela Londoño"]
    assert database.db["authors"].count == 2


def test_higher_id_with_same_body_is_a_duplicate(database: PublicationsDatabase) -> None:
    database.store_report(report(10), "field_reports")
    assert database.duplicate_of(report(12)) == 10
    assert database.duplicate_of(report(10)) is None
    assert database.duplicate_of(report(9)) is None


def test_a_stored_row_that_becomes_a_duplicate_leaves_publications(
    database: PublicationsDatabase,
) -> None:
    database.store_report(report(10), "field_reports")
    database.store_report(report(12, body="An older, different body."), "field_reports")
    database.record_duplicate(report(12), 10)
    assert [r["id"] for r in database.db["publications"].rows] == [10]
    assert {r["id"]: r["duplicate_of"] for r in database.db["duplicates"].rows} == {12: 10}


def test_lower_id_fetched_later_demotes_the_stored_higher_id(
    database: PublicationsDatabase,
) -> None:
    database.store_report(report(12), "field_reports")
    assert database.duplicate_of(report(10)) is None
    database.store_report(report(10), "field_reports")
    assert [r["id"] for r in database.db["publications"].rows] == [10]
    assert {r["id"]: r["duplicate_of"] for r in database.db["duplicates"].rows} == {12: 10}
    assert database.db["publication_authors"].count == 1


def test_a_new_id_with_a_body_a_stored_row_changed_to_in_this_run_demotes_nothing(
    database: PublicationsDatabase,
) -> None:
    # A redesign serves one text everywhere: item 12's refetch changed its body to it, then a
    # page that never had a row (10, once rejected) reads the same text. Not a re-import.
    database.store_report(report(12, body="Its own text."), "field_reports", run_id=1)
    assert database.store_report(report(12, body="One text."), "field_reports", run_id=2) == (
        "updated"
    )
    assert database.store_report(report(10, body="One text."), "field_reports", run_id=2) == (
        "clash"
    )
    assert [r["id"] for r in database.db["publications"].rows] == [12]
    assert database.db["duplicates"].count == 0
    # In a later run the same situation is a re-import: the lower id wins.
    assert database.store_report(report(10, body="One text."), "field_reports", run_id=3) == "new"
    assert [r["id"] for r in database.db["publications"].rows] == [10]


def test_rejects_upsert_and_clear_on_success(database: PublicationsDatabase) -> None:
    item = report(5)
    reject = Reject("field_reports", item.url, "missing body", "2026-01-01T00:00:00Z")
    database.record_reject(reject)
    database.record_reject(reject)
    assert database.db["rejects"].count == 1
    database.store_report(item, "field_reports")
    # Resolved, kept as history: no longer a current reject.
    assert [r["resolved_at"] is not None for r in database.db["rejects"].rows] == [True]


def test_export_is_ordered_and_in_contract_order(
    database: PublicationsDatabase, tmp_path: Path
) -> None:
    database.store_report(report(3, body="Three."), "field_reports")
    database.store_report(report(1, body="One."), "field_reports")
    path = tmp_path / "out" / "field_reports.jsonl"
    assert export_table(database, "publications", path) == 2
    records = [json.loads(line) for line in path.read_text("utf-8").splitlines()]
    assert [r["id"] for r in records] == [1, 3]
    assert all(list(r) == list(CONTRACT_KEYS) for r in records)


def test_a_page_has_one_current_reason_and_resolved_rows_stay_as_history(
    database: PublicationsDatabase,
) -> None:
    url = report(6).url
    first = Reject("publications", url, "fetch failed: DownloadConnectionRefusedError",
                   "2026-01-01T00:00:00Z", raw="refused", site="cacianalyst")  # fmt: skip
    database.record_reject(first, run_started_at="2026-01-01T00:00:00Z")
    # The next night the page answers 500: one current reason, the latest.
    later = Reject("publications", url, "HTTP 500", "2026-01-02T00:00:00Z", status=500,
                   site="cacianalyst")  # fmt: skip
    database.record_reject(later, run_started_at="2026-01-02T00:00:00Z")
    rows = {r["reason"]: r for r in database.db["rejects"].rows}
    assert rows["HTTP 500"]["resolved_at"] is None
    assert rows["HTTP 500"]["attempts"] == 2  # the backoff still counts both failures
    assert rows[first.reason]["resolved_at"] == "2026-01-02T00:00:00Z"
    # Two bad entries of one listing page in one run stay side by side.
    listing = "https://x/publications/joint-center-publications.html?start=0"
    for raw in ("entry one", "entry two"):
        database.record_reject(
            Reject("staff_publications", listing, "entry without a title", "2026-01-03T00:00:00Z",
                   raw=raw),
            run_started_at="2026-01-03T00:00:00Z",
        )  # fmt: skip
    assert database.db["rejects"].count_where("url = ? AND resolved_at IS NULL", [listing]) == 2
    # The next run reads that listing fine: its entries' rejects no longer describe the site.
    resolved = database.resolve_read_pages([listing], "2026-01-04T00:00:00Z", "2026-01-04T00:05")
    assert resolved == 2
    assert database.db["rejects"].count_where("resolved_at IS NULL") == 1
    assert database.backed_off_urls("staff_publications", "2026-01-04T00:06:00Z") == set()


def test_failed_export_keeps_the_previous_file(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    write_jsonl_atomic(path, [{"a": 1}])

    def broken_rows():
        yield {"a": 2}
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        write_jsonl_atomic(path, broken_rows())
    assert path.read_text("utf-8") == '{"a": 1}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["x.jsonl"]


def test_staff_rows_merge_and_keep_versions_across_runs(database: PublicationsDatabase) -> None:
    from caci_spider.items import SourceRank, StaffPublication

    listing = "https://www.silkroadstudies.org/publications/joint-center-publications.html?start=0"

    def seen(run_id: int, **fields) -> str:
        values = dict(title="Greater Central Asia", sources=["https://x/"], fetched_at=f"t{run_id}")
        values.update(fields)
        return database.store_staff(StaffPublication(**values), run_id)

    assert seen(1, kind="Silk Road Paper", date="2024") == "new"
    # Same run, the listing adds a precise date and a venue: merged, no version kept.
    assert seen(1, date="2024-10", venue="AFPC", sources=[listing], rank=SourceRank.LISTING) == (
        "updated"
    )
    assert database.db["staff_publication_versions"].count == 0
    row = list(database.rows("staff_publications"))[0]
    assert (row["kind"], row["date"], row["venue"]) == ("Silk Road Paper", "2024-10", "AFPC")
    assert row["sources"] == sorted(["https://x/", listing])
    # A later run sees a new summary: the row from run 1 is kept as a version.
    assert seen(2, summary="A longer summary.") == "updated"
    assert database.db["staff_publication_versions"].count == 1
    # An incompatible date is another publication with its own id.
    assert seen(2, date="2019") == "new"
    assert database.db["staff_publications"].count == 2


def test_merge_keeping_known_fills_only_what_the_new_fetch_lacks() -> None:
    old = {"id": 1, "title": "Old", "hits": 10, "tags": ["Georgia"], "authors": ["A"], "x": 1}
    new = {"id": 1, "title": "New", "hits": None, "tags": [], "authors": ["B"], "modified": ""}
    assert merge_keeping_known(old, new) == {
        "id": 1,
        "title": "New",
        "hits": 10,
        "tags": ["Georgia"],
        "authors": ["B"],
        "modified": None,  # empty before and now
    }


def test_merge_keeping_known_without_a_stored_row_is_the_new_row() -> None:
    new = {"id": 1, "hits": None}
    merged = merge_keeping_known(None, new)
    assert merged == new and merged is not new
    assert merge_keeping_known({}, new) == new


def test_merge_keeping_known_keeps_zero_and_false() -> None:
    """Only None, "", [] and {} are missing values: a count of 0 is a value."""
    assert merge_keeping_known({"hits": 5, "flag": True}, {"hits": 0, "flag": False}) == {
        "hits": 0,
        "flag": False,
    }


def test_canary_checks_keep_the_differing_fields_and_old_databases_gain_the_column(
    tmp_path: Path,
) -> None:
    import sqlite3

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:  # canary_checks as an earlier version made it
        conn.execute(
            "CREATE TABLE canary_checks (spider TEXT, item_key TEXT, url TEXT, checked_at TEXT,"
            " run_id INTEGER, outcome TEXT, missing TEXT, PRIMARY KEY (spider, item_key))"
        )
    conn.close()
    database = open_database(path)
    try:
        difference = {"field": "title", "stored": "OLD", "new": "Home", "why": "site name"}
        database.record_canary(
            "field_reports", "8145", "u", 1, "changed", [], "2026-01-01T00:00:00Z", [difference]
        )
        (row,) = database.rows("canary_checks", order_by="item_key")
        assert (row["missing"], row["differing"]) == ([], [difference])
    finally:
        database.close()


def test_publications_holding_finds_a_paragraph_whole_through_the_index(
    database: PublicationsDatabase,
) -> None:
    database.store_report(report(1, body="Bookmark and Share\n\nFirst text."), "field_reports")
    database.store_report(report(2, body="Second text.\n\nBookmark and Share"), "field_reports")
    database.store_report(report(3, body="Bookmark and Share this text, he said."), "field_reports")
    urls = database.publications_holding("Bookmark and Share", 5)
    assert sorted(u.rsplit("/", 1)[-1] for u in urls) == ["1-x.html", "2-x.html"]
    assert database.publications_holding("«»", 5) == []  # nothing FTS5 can search for


# -- (site, id): a K2 id is unique only within its site ------------------------------------------
TURKEY = "https://www.turkeyanalyst.org"


def turkey(item_id: int, body: str = "A body.\n\nSecond paragraph.", **fields) -> Publication:
    return report(
        item_id, body, site="turkeyanalyst", section="Articles",
        url=f"{TURKEY}/publications/turkey-analyst-articles/item/{item_id}-t.html", **fields,
    )  # fmt: skip


def keys(database: PublicationsDatabase, table: str = "publications") -> list[tuple[str, int]]:
    return sorted((r["site"], r["id"]) for r in database.db[table].rows)


@pytest.mark.parametrize("same_body", [False, True])
def test_the_same_id_on_two_sites_is_two_publications(
    database: PublicationsDatabase, same_body: bool
) -> None:
    database.store_report(report(12997, "Georgia's covert U-turn."), "field_reports", run_id=1)
    body = "Georgia's covert U-turn." if same_body else "Turkey's AKP and the army."
    assert database.duplicate_of(turkey(12997, body)) is None
    assert database.store_report(turkey(12997, body), "turkey_analyst", run_id=1) == "new"
    assert keys(database) == [("cacianalyst", 12997), ("turkeyanalyst", 12997)]
    assert database.db["duplicates"].count == 0
    assert database.publication("turkeyanalyst", 12997)["section"] == "Articles"
    assert database.publication("cacianalyst", 12997)["body"] == "Georgia's covert U-turn."
    # Each keeps its own authors, versions and run record.
    database.store_report(turkey(12997, "Changed.", authors=["Gareth Jenkins"]), "t", run_id=2)
    assert database.publication("cacianalyst", 12997)["authors"] == ["Fariz Ismailzade"]
    links = database.db.execute(
        "SELECT site, publication_id, a.name FROM publication_authors pa"
        " JOIN authors a ON a.id = pa.author_id ORDER BY site"
    ).fetchall()
    assert links == [
        ("cacianalyst", 12997, "Fariz Ismailzade"), ("turkeyanalyst", 12997, "Gareth Jenkins"),
    ]  # fmt: skip
    assert [(r["site"], r["id"]) for r in database.db["publication_versions"].rows] == [
        ("turkeyanalyst", 12997)
    ]
    assert database.run_keys("publications", 2) == [("turkeyanalyst", "12997")]
    assert database.run_keys("publications", 1) == [
        ("cacianalyst", "12997"), ("turkeyanalyst", "12997"),
    ]  # fmt: skip
    assert database.db["item_runs"].count == 2
    assert database.body_changed("turkeyanalyst", 12997, 2)
    assert not database.body_changed("cacianalyst", 12997, 2)


def test_cross_id_duplicates_stay_within_a_site(database: PublicationsDatabase) -> None:
    database.store_report(report(12), "field_reports")
    # A lower id on the other site with the same body is not a duplicate of it, nor it of that.
    assert database.duplicate_of(turkey(10)) is None
    assert database.store_report(turkey(10), "turkey_analyst") == "new"
    assert database.duplicate_of(turkey(14)) == 10
    assert database.duplicate_of(report(14)) == 12
    assert keys(database) == [("cacianalyst", 12), ("turkeyanalyst", 10)]
    # A lower id of the Analyst demotes its own site's higher id only.
    assert database.store_report(report(11), "field_reports") == "new"
    assert keys(database) == [("cacianalyst", 11), ("turkeyanalyst", 10)]
    assert [(r["site"], r["id"], r["duplicate_of"]) for r in database.db["duplicates"].rows] == [
        ("cacianalyst", 12, 11)
    ]
    database.record_duplicate(turkey(14), 10)
    assert database.known_report_ids("cacianalyst") == {11, 12}
    assert database.known_report_ids("turkeyanalyst") == {10, 14}


def test_stored_rows_and_canary_candidates_read_the_site(database: PublicationsDatabase) -> None:
    database.store_report(report(5, "Analyst."), "field_reports", run_id=1)
    database.store_report(
        analytical(4, "Analytical."),
        "analytical_articles", run_id=1,
    )  # fmt: skip
    database.store_report(turkey(5, "Turkey."), "turkey_analyst", run_id=1)
    rows = list(database.stored_rows("publications", database.run_keys("publications", 1)))
    assert [(r["site"], r["id"], r["body"]) for r in rows] == [
        ("cacianalyst", 5, "Analyst."), ("cacianalyst", 4, "Analytical."),
        ("turkeyanalyst", 5, "Turkey."),
    ]  # fmt: skip
    scoped = database.canary_candidates(
        "publications", "publications", 5, [("turkeyanalyst", "turkey-analyst-articles"),
                                            ("cacianalyst", "field-reports")],
    )  # fmt: skip
    assert [(r["site"], r["id"]) for r in scoped] == [("cacianalyst", 5), ("turkeyanalyst", 5)]
    everything = database.canary_candidates("publications", "publications", 5)
    assert len(everything) == 3
    database.record_canary(
        "publications", "5", "u", 1, "ok", [], "2026-01-01T00:00:00Z", site="cacianalyst"
    )
    first = database.canary_candidates(
        "publications", "publications", 1,
        [("turkeyanalyst", "turkey-analyst-articles"), ("cacianalyst", "field-reports")],
    )  # fmt: skip
    assert [(r["site"], r["id"]) for r in first] == [("turkeyanalyst", 5)]
    assert database.canary_candidates("x", "publications", 1, []) == []


def test_rows_of_older_page_rules_are_found_and_canaried_last(
    database: PublicationsDatabase,
) -> None:
    for item_id in (5, 6, 7):
        database.store_report(report(item_id, f"Body {item_id}."), "field_reports", run_id=1)
    database.store_report(turkey(5, "Turkey."), "turkey_analyst", run_id=1)
    database.db.execute("UPDATE publications SET extraction_version = NULL WHERE id = 5")
    database.db.execute("UPDATE publications SET extraction_version = 0 WHERE id = 6")
    field_reports = [("cacianalyst", "field-reports")]
    outdated = database.outdated_publications(field_reports)
    assert [(r["site"], r["id"]) for r in outdated] == [("cacianalyst", 5), ("cacianalyst", 6)]
    assert len(database.outdated_publications(field_reports, limit=1)) == 1
    assert database.outdated_publications([]) == []
    # Never checked, all three: the one of today's rules first.
    candidates = database.canary_candidates("field_reports", "publications", 3, field_reports)
    assert [r["id"] for r in candidates] == [7, 5, 6]


def test_rejects_keep_the_site_of_a_publications_page(database: PublicationsDatabase) -> None:
    item = turkey(7)
    database.record_reject(
        Reject("turkey_analyst", item.url, "missing body", "2026-01-01T00:00:00Z",
               site="turkeyanalyst")
    )  # fmt: skip
    database.record_reject(
        Reject("staff_publications", "https://x/", "HTTP 404", "2026-01-01T00:00:00Z")
    )
    assert sorted((r["spider"], r["site"]) for r in database.db["rejects"].rows) == [
        ("staff_publications", None),
        ("turkey_analyst", "turkeyanalyst"),
    ]
    database.store_report(item, "turkey_analyst")
    assert database.db["rejects"].count_where("resolved_at IS NULL") == 1


def test_a_publications_pdf_is_linked_by_site_and_id(database: PublicationsDatabase) -> None:
    database.link_document(
        "https://x/a.pdf", "publications", "cacianalyst", "12997", "download", "t"
    )
    database.link_document(
        "https://x/a.pdf", "publications", "turkeyanalyst", "12997", "download", "t"
    )
    assert database.db["document_links"].count == 2


# -- exports: a section's file, and the aggregate ------------------------------------------------
def analytical(item_id: int, body: str) -> Publication:
    return report(
        item_id, body, section="Analytical Articles",
        url=f"https://www.cacianalyst.org/publications/analytical-articles/item/{item_id}-a.html",
    )  # fmt: skip


def exported(path: Path) -> list[tuple[str, int]]:
    return [(r["site"], r["id"]) for r in map(json.loads, path.read_text("utf-8").splitlines())]


def test_each_sections_export_holds_exactly_its_sites_and_categorys_rows(
    database: PublicationsDatabase, tmp_path: Path
) -> None:
    for item in (
        report(13000, "F3."), report(12997, "F1."), analytical(13002, "A2."),
        analytical(12990, "A1."), turkey(12997, "T1."), turkey(3, "T0."),
    ):  # fmt: skip
        database.store_report(item, "publications")
    counts = {}
    for site, category, name in (
        ("cacianalyst", "field-reports", "field_reports.jsonl"),
        ("cacianalyst", "analytical-articles", "analytical_articles.jsonl"),
        ("cacianalyst", "news-digest", "news_digest.jsonl"),
        ("turkeyanalyst", "turkey-analyst-articles", "turkey_analyst.jsonl"),
    ):
        counts[name] = export_publications(database, tmp_path / name, site=site, category=category)
    assert counts == {
        "field_reports.jsonl": 2, "analytical_articles.jsonl": 2, "news_digest.jsonl": 0,
        "turkey_analyst.jsonl": 2,
    }  # fmt: skip
    assert exported(tmp_path / "field_reports.jsonl") == [
        ("cacianalyst", 12997),
        ("cacianalyst", 13000),
    ]
    assert exported(tmp_path / "analytical_articles.jsonl") == [
        ("cacianalyst", 12990),
        ("cacianalyst", 13002),
    ]
    assert exported(tmp_path / "turkey_analyst.jsonl") == [
        ("turkeyanalyst", 3),
        ("turkeyanalyst", 12997),
    ]
    assert (tmp_path / "news_digest.jsonl").read_text("utf-8") == ""
    # The aggregate: every row, by site, then id; keys in the contract's order.
    assert export_publications(database, tmp_path / "publications.jsonl") == 6
    assert exported(tmp_path / "publications.jsonl") == [
        ("cacianalyst", 12990), ("cacianalyst", 12997), ("cacianalyst", 13000),
        ("cacianalyst", 13002), ("turkeyanalyst", 3), ("turkeyanalyst", 12997),
    ]  # fmt: skip
    records = [
        json.loads(line)
        for line in (tmp_path / "publications.jsonl").read_text("utf-8").splitlines()
    ]
    assert all(list(r) == list(CONTRACT_KEYS) for r in records)
    assert export_table(database, "publications", tmp_path / "all.jsonl") == 6
    assert (tmp_path / "all.jsonl").read_text("utf-8") == (
        tmp_path / "publications.jsonl"
    ).read_text("utf-8")


def test_a_publications_page_counts_the_attempts_of_every_spider_that_fetches_it(
    tmp_path: Path,
) -> None:
    """field_reports and publications fetch the same item pages: a page that keeps failing
    waits longer each time, whichever of them failed last."""
    database = open_database(tmp_path / "caci.db")
    url = "https://www.cacianalyst.org/publications/field-reports/item/7999-x.html"
    for n, spider in enumerate(["field_reports", "publications", "field_reports"]):
        database.record_reject(
            Reject(spider, url, "HTTP 404", f"2026-01-0{n + 1}T00:00:00Z", status=404,
                   site="cacianalyst")
        )  # fmt: skip
    attempts = {row["attempts"] for row in database.db["rejects"].rows}
    assert attempts == {3}
    assert database.backed_off_urls(("publications", "field_reports"), "2026-01-04T00:00:00Z") == {
        url
    }
    database.close()
