"""The real ``scrapy crawl field_reports`` against the local K2 site over HTTP."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import sqlite_utils

from caci_spider.items import CONTRACT_KEYS
from caci_spider.testworld.localsite import BROKEN_SERVER_ITEM_ID, MISSING_ITEM_ID
from caci_spider.versions import EXTRACTION_VERSION
from tests.conftest import GOOD_FIELD_REPORTS, ITEM_FIXTURES, expected_for, run_crawl

COMPARED_KEYS = [
    key
    for key in CONTRACT_KEYS
    if key not in ("url", "fetched_at", "word_count", "content_hash", "extraction_version")
]


def crawl(base_url: str, out: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return run_crawl("field_reports", base_url, out, *arguments)


def expected_rows() -> dict[int, dict]:
    rows = {}
    for page in ITEM_FIXTURES:
        expected = expected_for(page)
        if "reject" in expected or "duplicate_of" in expected:
            continue
        rows[expected["id"]] = expected
    return rows


@pytest.fixture(scope="module")
def crawled(local_site, tmp_path_factory):
    base_url, site = local_site
    out = tmp_path_factory.mktemp("crawl")
    site.hits.clear()
    first = run_crawl("field_reports", base_url, out, judge_coverage=True)
    hits = dict(site.hits)
    db = sqlite_utils.Database(out / "caci.db")
    return base_url, out, first, db, hits


def test_every_good_fixture_is_stored_with_its_expected_fields(crawled) -> None:
    base_url, _out, _result, db, _hits = crawled
    stored = {row["id"]: row for row in db["publications"].rows}
    expected = expected_rows()
    assert sorted(stored) == sorted(expected)
    for item_id, want in expected.items():
        row = stored[item_id]
        for key in COMPARED_KEYS:
            value = row[key]
            if key in ("authors", "tags"):
                value = json.loads(value)
            assert value == want[key], f"{item_id} {key}"
        assert row["url"] == want["url"].replace("https://www.cacianalyst.org", base_url)
        assert row["extraction_version"] == EXTRACTION_VERSION  # today's rules made it


def test_a_normal_first_crawl_passes_its_self_check(crawled) -> None:
    _base, _out, result, db, _hits = crawled
    run = list(db["crawl_runs"].rows)[0]
    assert (run["self_check"], run["finish_reason"], run["mode"]) == (
        "ok",
        "finished",
        "incremental",
    )
    assert (
        run["items_new"] == GOOD_FIELD_REPORTS
        and run["items_rejected"] == 3
        and run["items_duplicate"] == 1
    )
    assert json.loads(run["coverage"])["title"] == 1.0
    assert "'caci/self_check': 'ok'" in result.stderr


def test_fts_finds_a_known_article(crawled) -> None:
    _base, _out, _result, db, _hits = crawled
    hits = list(db["publications"].search('"three-day visit"'))
    titles = [hit["title"] for hit in hits]
    assert "IS AZERBAIJAN TURNING TOWARDS RUSSIA?" in titles


def test_authors_many_to_many(crawled) -> None:
    _base, _out, _result, db, _hits = crawled
    rows = db.execute(
        "SELECT a.name FROM publication_authors pa JOIN authors a ON a.id = pa.author_id "
        "JOIN publications p ON p.id = pa.publication_id "
        "WHERE p.title = 'IS AZERBAIJAN TURNING TOWARDS RUSSIA?' ORDER BY pa.position"
    ).fetchall()
    assert [name for (name,) in rows] == ["Fariz Ismailzade"]


def test_rejects_record_the_404_and_the_empty_body(crawled) -> None:
    _base, _out, result, db, _hits = crawled
    rejects = list(db["rejects"].rows)
    by_reason = {(row["reason"], row["status"]) for row in rejects}
    assert ("HTTP 404", 404) in by_reason
    assert ("HTTP 500", 500) in by_reason  # still failing after the retries
    missing = [row for row in rejects if row["status"] == 404]
    assert str(MISSING_ITEM_ID) in missing[0]["url"]
    broken = [p for p in ITEM_FIXTURES if "reject" in expected_for(p)]
    assert broken, "fixtures must include a page that is rejected"
    for page in broken:
        item_id = page.name.split("-")[0]
        reasons = [row["reason"] for row in rejects if f"/item/{item_id}-" in row["url"]]
        assert reasons and expected_for(page)["reject"] in reasons[0]
        assert f"/item/{item_id}-" in result.stderr  # one WARNING naming the URL
    assert "caci/rejected" in result.stderr


def test_duplicates_table_keeps_the_lower_id(crawled) -> None:
    _base, _out, _result, db, _hits = crawled
    duplicates = {row["id"]: row["duplicate_of"] for row in db["duplicates"].rows}
    expected = {
        expected_for(p)["id"]: expected_for(p)["duplicate_of"]
        for p in ITEM_FIXTURES
        if "duplicate_of" in expected_for(p)
    }
    assert expected and duplicates == expected
    stored = {row["id"] for row in db["publications"].rows}
    assert not stored & set(duplicates)


def test_jsonl_export_matches_the_table(crawled) -> None:
    _base, out, _result, db, _hits = crawled
    lines = (out / "field_reports.jsonl").read_text("utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["id"] for r in records] == sorted(row["id"] for row in db["publications"].rows)
    for record in records:
        assert list(record) == list(CONTRACT_KEYS)
        assert isinstance(record["authors"], list) and isinstance(record["tags"], list)
    assert not list(out.glob(".field_reports.jsonl.*")), "temporary export files left behind"


def test_each_item_is_fetched_once(crawled) -> None:
    _base, _out, _result, _db, hits = crawled
    # The first listing page links one item three ways (path, host variant, print view).
    item_hits = {path: count for path, count in hits.items() if "/item/" in path}
    broken = f"/item/{BROKEN_SERVER_ITEM_ID}-"
    assert {count for path, count in item_hits.items() if broken not in path} == {1}
    assert len(item_hits) == len(ITEM_FIXTURES) + 2  # every fixture, the 404 and the 500 link
    # The 500 page is retried (RETRY_TIMES=1 in the tests), then given up.
    assert [c for p, c in item_hits.items() if broken in p] == [2]


def test_second_run_is_idempotent(crawled) -> None:
    base_url, out, _result, db, _hits = crawled

    def snapshot() -> tuple:
        pubs = [
            {k: v for k, v in row.items() if k != "fetched_at"}
            for row in db["publications"].rows_where(order_by="id")
        ]
        return (
            pubs,
            db["duplicates"].count,
            db["rejects"].count,
            db["authors"].count,
            db["publication_authors"].count,
        )

    before = snapshot()
    crawl(base_url, out)
    assert snapshot() == before


def test_a_failed_refetch_never_touches_the_stored_row(crawled, local_site) -> None:
    base_url, out, _result, db, _hits = crawled
    _base, site = local_site
    seed_id = 8145
    before = db["publications"].get(("cacianalyst", seed_id))
    site.failing[seed_id] = 410
    try:
        crawl(base_url, out, "-a", "mode=full")  # refetch every item
    finally:
        del site.failing[seed_id]
    assert db["publications"].get(("cacianalyst", seed_id)) == before
    gone = [r for r in db["rejects"].rows if f"/item/{seed_id}-" in r["url"]]
    assert [(r["reason"], r["status"]) for r in gone] == [("HTTP 410", 410)]
    exported = (out / "field_reports.jsonl").read_text("utf-8")
    assert f'"id": {seed_id},' in exported
