"""The real ``scrapy crawl staff_publications`` against the local site (both sites in one)."""

from __future__ import annotations

import json

import pytest
import sqlite_utils

from caci_spider.items import STAFF_KEYS
from caci_spider.testworld.fixtures import find_fixture
from tests.conftest import FIXTURES, run_crawl

EXPECTED = json.loads((FIXTURES / "staff_publications" / "expected.json").read_text("utf-8"))
COMPARED = ("kind", "title", "authors", "roles", "venue", "date", "summary")


def source_url(base_url: str, source: str) -> str:
    kind, _, value = source.partition(":")
    if kind == "home":
        return f"{base_url}/"
    if kind == "listing":
        return base_url + find_fixture("staff-listing", f"{value}.").site_path
    return base_url + find_fixture("staff-item", f"{value}-").site_path


@pytest.fixture(scope="module")
def crawled(local_site, tmp_path_factory):
    base_url, _site = local_site
    out = tmp_path_factory.mktemp("staff")
    result = run_crawl("staff_publications", base_url, out, judge_coverage=True)
    return base_url, out, result, sqlite_utils.Database(out / "caci.db")


def stored(db) -> dict[str, dict]:
    rows = {}
    for row in db["staff_publications"].rows:
        for key in ("authors", "roles", "sources"):
            row[key] = json.loads(row[key])
        rows[row["title"].casefold()] = row
    return rows


def test_one_merged_row_per_publication(crawled) -> None:
    base_url, _out, _result, db = crawled
    rows = stored(db)
    assert sorted(rows) == sorted(e["title"].casefold() for e in EXPECTED)
    for want in EXPECTED:
        row = rows[want["title"].casefold()]
        for key in COMPARED:
            assert row[key] == want[key], (want["title"], key)
        url = want["url"]
        assert row["url"] == (f"{base_url}{url}" if url and url.startswith("/") else url)
        assert row["sources"] == sorted(source_url(base_url, s) for s in want["sources"])


def test_ids_are_stable_and_unique(crawled, local_site, tmp_path) -> None:
    base_url, _out, _result, db = crawled
    first = {row["title"]: row["id"] for row in db["staff_publications"].rows}
    assert len(set(first.values())) == len(first)
    run_crawl("staff_publications", base_url, tmp_path)
    again = sqlite_utils.Database(tmp_path / "caci.db")
    assert {row["title"]: row["id"] for row in again["staff_publications"].rows} == first


def test_unparseable_entry_is_rejected_with_its_raw_text(crawled) -> None:
    _base, _out, result, db = crawled
    rejects = [r for r in db["rejects"].rows if r["spider"] == "staff_publications"]
    titled = [r for r in rejects if r["reason"] == "entry without a title"]
    assert [r["raw"] for r in titled] == ["Read More"]
    assert "joint-center-publications.html?start=4" in titled[0]["url"]
    assert "Rejected" in result.stderr


def test_jsonl_export(crawled) -> None:
    _base, out, _result, db = crawled
    records = [
        json.loads(line)
        for line in (out / "staff_publications.jsonl").read_text("utf-8").splitlines()
    ]
    assert [r["id"] for r in records] == sorted(r["id"] for r in db["staff_publications"].rows)
    assert all(list(r) == list(STAFF_KEYS) for r in records)


def test_second_run_changes_nothing(crawled) -> None:
    base_url, out, _result, db = crawled
    before = [
        {k: v for k, v in row.items() if k != "fetched_at"}
        for row in db["staff_publications"].rows_where(order_by="id")
    ]
    run_crawl("staff_publications", base_url, out)
    after = [
        {k: v for k, v in row.items() if k != "fetched_at"}
        for row in db["staff_publications"].rows_where(order_by="id")
    ]
    assert after == before


def test_versions_keep_rows_of_earlier_runs_only(crawled) -> None:
    _base, _out, _result, db = crawled
    # The first run merged sidebar, listing and item observations: no earlier version exists.
    assert db["staff_publication_versions"].count == 0
