"""K2's JSON listings (issue 25): the channel a due listing walk reads first.

Real crawls of the local site, folded: one ``publications`` first crawl where every section
answers JSON in another way (2.10+ paging under a cap of 7, 2.6-2.9 paging, JSONP only, a broken
answer, another category), the same site crawled by the HTML route for the rows to compare, a
``mode=full`` after one edit, a ``mode=reparse`` from the archive, and the setting turned off.
Hostile and wrong JSON, the UTC offset and JSON-built rows against every fixture run in-process.
"""

from __future__ import annotations

import json
import math
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlite_utils

from caci_spider import jsonlistings
from caci_spider.jsonlistings import JsonRefused, learn_offset, offset_bounds, parse_page
from caci_spider.pages.item import item_page
from caci_spider.records import build_publication
from caci_spider.testworld.localsite import LocalK2Site, host_of_profile, serve
from caci_spider.testworld.localsite.crawl import base_url_settings
from caci_spider.urls import item_ref
from tests.conftest import FIXTURES, run_crawl

BASE = "http://127.0.0.1:8000"
FIELD_REPORTS = "/publications/field-reports"  # the section's own path (Section.path)
MODES = {
    "field-reports": "new",
    "analytical-articles": "old",
    "feature-articles": "jsonp",
    "news-digest": "broken",
    "turkey-analyst-articles": "wrong-category",
    "silkroadstudies-news": "new",  # a top-level category: /silkroadstudies-news.json
}
CAP = 7


def rows(out: Path) -> dict[tuple[str, int], dict]:
    db = sqlite_utils.Database(out / "caci.db")
    return {(row["site"], row["id"]): row for row in db["publications"].rows}


def last_run(out: Path, mode: str = "incremental") -> dict:
    db = sqlite_utils.Database(out / "caci.db")
    run = next(db["crawl_runs"].rows_where("mode = ?", [mode], order_by="id desc", limit=1))
    return {k: json.loads(v) if k in ("problems", "sources") else v for k, v in run.items()}


def paths_since(site: LocalK2Site, start: int) -> list[str]:
    return [path for _t, path, _s in site.log[start:]]


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    """The folded crawls: (site, {name: (out, paths requested)}, {name: rows after it})."""
    with serve(LocalK2Site(FIXTURES)) as (base_url, site):
        sites = base_url_settings(base_url, site.base_urls)
        site.json_section_modes = dict(MODES)
        site.json_cap = CAP
        runs = {}
        snapshots: dict[str, dict] = {}
        for name, arguments in (
            ("json", ()),
            ("html", ("-s", "CACI_JSON_LISTINGS=False")),
        ):
            out = tmp_path_factory.mktemp(name)
            start = len(site.log)
            run_crawl("publications", base_url, out, *sites, *arguments)
            runs[name] = (out, paths_since(site, start))
            snapshots[name] = rows(out)  # before the later runs change them
        # mode=full on the JSON crawl's database, one field report edited meanwhile.
        edited = 12997
        page = site.item_content(edited).replace(
            b"The recent civil protests", b"The recent Sakartvelo protests"
        )
        site.change_item(edited, page)
        start = len(site.log)
        run_crawl("publications", base_url, runs["json"][0], *sites, "-a", "mode=full")
        runs["full"] = (runs["json"][0], paths_since(site, start))
        start = len(site.log)
        run_crawl("publications", base_url, runs["json"][0], *sites, "-a", "mode=reparse")
        runs["reparse"] = (runs["json"][0], paths_since(site, start))
        yield site, runs, snapshots


def test_a_first_crawl_reads_json_where_it_proves_itself_and_html_elsewhere(crawled) -> None:
    site, runs, _snapshots = crawled
    out, paths = runs["json"]
    sources = {key: value for key, value in last_run(out)["sources"].items()}
    assert {key: value["source"] for key, value in sources.items()} == {
        "field-reports": "json",
        "analytical-articles": "json",
        "feature-articles": "listing",
        "news-digest": "listing",
        "turkey-analyst-articles": "listing",
        # silkroadstudies.org's sections: JSON where the local site answers it.
        "silkroad-papers-and-monographs": "listing",
        "silkroadstudies-news": "json",
        "forums-and-events": "listing",
    }
    assert "offset P*limit" in sources["field-reports"]["json"]
    assert f"JSON pages of {CAP}" in sources["field-reports"]["json"]
    assert "page counts from 1" in sources["analytical-articles"]["json"]
    assert "UTC offset +01:00" in sources["field-reports"]["json"]
    assert "JSONP" in sources["feature-articles"]["json"]
    assert "not well-formed" in sources["news-digest"]["json"]
    assert "category 'field-reports'" in sources["turkey-analyst-articles"]["json"]
    # Requests: ceil(N/cap) + 3 JSON pages at most, 3 item pages (cross-checks), no listing page.
    reports = site.section("field-reports")
    assert reports is not None
    listed = len([i for i in reports.order if i in reports.items])
    json_pages = [p for p in paths if p.startswith("/publications/field-reports.json")]
    assert len(json_pages) <= math.ceil(listed / CAP) + 3
    assert not [p for p in paths if p == "/publications/field-reports.html"]
    assert len([p for p in paths if p.startswith("/publications/field-reports/item/")]) == 3
    # The section without JSON walked its HTML listing, as before.
    assert "/publications/feature-articles.html" in paths


def test_json_rows_equal_the_html_routes_rows(crawled) -> None:
    _site, _runs, snapshots = crawled
    html_rows, json_rows = snapshots["html"], snapshots["json"]
    assert json_rows.keys() == html_rows.keys()
    for key, html_row in html_rows.items():
        json_row = json_rows[key]
        for name, value in html_row.items():
            if name in ("fetched_at", "first_seen", "last_seen", "run_id") or (
                name == "hits" and value is None
            ):
                continue
            assert json_row[name] == value, (key, name)


def test_full_with_json_updates_only_the_edited_row_and_reparse_rebuilds_offline(crawled) -> None:
    _site, runs, _snapshots = crawled
    out, paths = runs["full"]
    run = last_run(out, "full")
    assert run["items_updated"] == 1, run
    assert run["items_new"] == 0
    assert len([p for p in paths if "/field-reports/item/" in p]) == 3  # the cross-checks only
    assert "Sakartvelo" in rows(out)[("cacianalyst", 12997)]["body"]
    reparse_out, reparse_paths = runs["reparse"]
    assert reparse_paths == []  # the archive only
    reparse = last_run(reparse_out, "reparse")
    assert reparse["sources"]["field-reports"]["source"] == "json", reparse["sources"]
    assert reparse["problems"] == []


def test_the_setting_turns_the_channel_off(tmp_path) -> None:
    with serve(LocalK2Site(FIXTURES)) as (base_url, site):
        site.json_mode = "new"
        run_crawl("field_reports", base_url, tmp_path, "-s", "CACI_JSON_LISTINGS=False")
        assert not [p for _t, p, _s in site.log if ".json" in p]
        assert last_run(tmp_path)["sources"]["field-reports"]["source"] == "listing"


# -- in-process ----------------------------------------------------------------------------------
def test_json_rows_equal_html_rows_on_every_fixture() -> None:
    """Every fixture item's row from the local site's JSON equals the row from its page."""
    site = LocalK2Site(FIXTURES)
    site.json_mode = "new"
    compared = 0
    for category in ["field-reports", *site.sections]:
        content = site.section(category)
        assert content is not None
        host = host_of_profile(content.profile)
        body = site.json_listing(category, {"limit": ["100"]}, "127.0.0.1:8000", host).body
        url = f"{BASE}/publications/{category}.json"
        section = content.section.path
        for item in parse_page(body, url, BASE, section, content.profile.key, 10**8):
            built = jsonlistings.item_page_of(item, site.json_utc_offset, "now")
            json_row, json_reason, _ = build_publication(built)
            ref = item_ref(item.ref.url, item.ref.url, BASE, section, site=content.profile.key)
            assert ref is not None
            page = item_page(site.item_page(item.ref.id, category), ref, "now").extract()
            page.title = page.title or content.items[item.ref.id].title  # the listing's title
            html_row, html_reason, _ = build_publication(page)
            compared += 1
            if html_row is None or json_row is None:
                assert html_row is None and json_row is None, (item.ref.id, html_reason)
                continue
            expected, got = html_row.as_row(), json_row.as_row()
            for name, value in expected.items():
                if name == "fetched_at" or (name == "hits" and value is None):
                    continue
                assert got[name] == value, (category, item.ref.id, name)
    assert compared >= 30


def answer(items: list, **extra) -> bytes:
    return json.dumps({"site": {"url": BASE}, "items": items, **extra}).encode()


def good_item(**changes) -> dict:
    item = {
        "id": 1234,
        "title": "A &amp; B",
        "link": "/publications/field-reports/item/1234-a-b.html",
        "introtext": "<p>x</p>",
        "fulltext": "",
        "created": "2020-01-01 23:00:00",
        "category": {"alias": "field-reports", "name": "Field Reports"},
    }
    return {**item, **changes}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"x" * 2000, "larger than 1000 bytes"),
        (b'{"a":' * 50000 + b"1" + b"}" * 50000, "nested deeper"),
        (b'{"a":' * 50 + b"1" + b"}" * 50, "nested deeper"),
        (answer([{"a": [[[[[[[[[[[[[[1]]]]]]]]]]]]]]}]), "nested deeper"),
        (b"cb(" + answer([good_item()]) + b")", "JSONP"),
        (b"<html><body>listing</body></html>", "HTML page"),
        (answer([good_item()])[:-10], "not well-formed"),
        (b"[1, 2]", "a list, not an object"),
        (json.dumps({"items": [good_item()]}).encode(), "no site object"),
        (answer([good_item(id="12a")]), "no integer id"),
        (answer([good_item(id=True)]), "no integer id"),
        (answer([good_item(fulltext=None)]), "no fulltext"),
        (answer([good_item(title=["A"])]), "no title"),
        (
            answer(
                [
                    good_item(
                        link="http://elsewhere.example/publications/field-reports/item/1234-a.html"
                    )
                ]
            ),
            "off the section's host",
        ),  # fmt: skip
        (answer([good_item(link="/publications/field-reports/item/999-a.html")]), "does not link"),
        (answer([good_item(category={"alias": "news-digest"})]), "not in category"),
        (answer([good_item()], category={"alias": "news-digest"}), "category 'news-digest'"),
        (answer([good_item(created="yesterday")]), "no created date"),
        (answer([good_item()] * 1001), "more than 1000"),
    ],
)
def test_hostile_or_wrong_json_is_refused_with_a_reason(body: bytes, reason: str) -> None:
    max_size = 1000 if reason.startswith("larger") else 10**7
    with pytest.raises(JsonRefused, match=reason):
        parse_page(body, f"{BASE}/x.json", BASE, FIELD_REPORTS, "cacianalyst", max_size)


def test_a_good_item_is_read_with_its_title_escaped_as_k2_stores_it() -> None:
    (item,) = parse_page(answer([good_item()]), BASE, BASE, FIELD_REPORTS, "cacianalyst", 10**6)
    page = jsonlistings.item_page_of(item, timedelta(hours=1), "now")
    assert (item.ref.id, page.title, page.date_line) == (1234, "A & B", "Thursday, 2 January 2020")


def test_the_utc_offset_is_learnt_from_date_lines_and_refused_when_they_disagree() -> None:
    # Local midnight east of UTC is the previous day in UTC.
    east = offset_bounds("2020-01-01 23:00:00", date(2020, 1, 2), None)
    assert learn_offset([east]) == timedelta(hours=1)
    timed = offset_bounds("2020-06-01 10:30:00", date(2020, 6, 1), (12, 30))
    assert learn_offset([east, timed]) == timedelta(hours=2)
    wrong = offset_bounds("2020-06-01 10:30:00", date(2020, 6, 3), None)
    assert learn_offset([east, wrong]) is None
