"""Feed-first nightly runs (issue 13): against a copy of one first crawl of the local site, as
every scheduled night after the first. The feed faults (404, malformed, oversized, hostile XML,
stale with the walk due) and 15 new items at once are rows of the fault matrix's nightly table,
each checked for the listing walk and the rows it stores (tests/test_faults.py::test_nightly)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlite_utils

from caci_spider.sitefeed import FeedRefused, parse_feed
from caci_spider.spiders.generated import FieldReportsSpider
from caci_spider.spiders.staff_publications import StaffPublicationsSpider
from caci_spider.testworld.localsite import LocalK2Site, serve
from caci_spider.testworld.localsite.fault_matrix import first_night, free_port
from tests.conftest import FIXTURES, ITEM_FIXTURES, run_crawl

SEED = next(p for p in ITEM_FIXTURES if p.name.startswith("8145-"))
LISTING = "/publications/field-reports.html"
FEED = "/publications/field-reports.feed"


@pytest.fixture(scope="module")
def first_crawl(tmp_path_factory):
    template = tmp_path_factory.mktemp("first-crawl")
    port = free_port()
    first_night(template, port)
    return template, port


@pytest.fixture
def night(first_crawl, tmp_path):
    """(base URL, a fresh site on the first crawl's port, a copy of its files)."""
    template, port = first_crawl
    out = tmp_path / "night"
    shutil.copytree(template, out)
    with serve(LocalK2Site(FIXTURES), port=port) as (base_url, site):
        yield base_url, site, out


def publish(site: LocalK2Site, scratch: Path, ids: range) -> None:
    scratch.mkdir(exist_ok=True)
    for item_id in ids:
        title = f"REPORT {item_id}"
        html = SEED.read_text("utf-8").replace("IS AZERBAIJAN TURNING TOWARDS RUSSIA?", title)
        html = html.replace("During his three-day visit", f"During visit number {item_id}")
        path = scratch / f"{item_id}-new-report.html"
        path.write_text(html, "utf-8")
        site.add_item(path, position=2)


def last_run(out: Path) -> dict:
    db = sqlite_utils.Database(out / "caci.db")
    run = next(db["crawl_runs"].rows_where(order_by="id desc", limit=1))
    return {k: json.loads(v) if k in ("problems", "sources") else v for k, v in run.items()}


def stored_ids(out: Path) -> set[int]:
    return {row["id"] for row in sqlite_utils.Database(out / "caci.db")["publications"].rows}


def item_paths(site: LocalK2Site) -> list[str]:
    return [path for _t, path, _s in site.log if "/item/" in path]


def backdate_walk(out: Path, days: float) -> None:
    when = (datetime.now(UTC) - timedelta(days=days)).isoformat(timespec="seconds")
    with sqlite3.connect(out / "caci.db") as conn:
        conn.execute("UPDATE listing_walks SET walked_at = ?", [when.replace("+00:00", "Z")])


def test_an_unchanged_night_costs_the_feed_and_the_canary(night) -> None:
    base_url, site, out = night
    run_crawl("field_reports", base_url, out, judge_coverage=True)
    paths = [path for _t, path, _s in site.log]
    assert sorted(paths) == sorted(["/robots.txt", FEED, item_paths(site)[0]])  # 2 + robots.txt
    run = last_run(out)
    assert (run["self_check"], run["requests"], run["listing_pages"]) == ("ok", 3, 0)
    source = run["sources"]["field-reports"]
    assert (source["source"], source["feed_items"], source["feed_new"]) == ("feed", 10, 0)


def test_three_new_items_at_the_top_of_the_feed_cost_three_item_requests(night, tmp_path) -> None:
    base_url, site, out = night
    before = stored_ids(out)
    publish(site, tmp_path / "new", range(13001, 13004))
    run_crawl("field_reports", base_url, out)
    assert stored_ids(out) - before == {13001, 13002, 13003}
    assert LISTING not in site.hits
    assert len(item_paths(site)) == 3 + 1  # the new ones and the canary
    assert last_run(out)["sources"]["field-reports"]["reason"] == "10 items in the feed, 3 new"


def test_a_stale_feed_hides_new_items_until_the_weekly_walk(night, tmp_path) -> None:
    base_url, site, out = night
    before = stored_ids(out)
    site.feed_fault = "stale"
    publish(site, tmp_path / "new", range(13001, 13003))
    run_crawl("field_reports", base_url, out)  # not a failure by itself
    assert stored_ids(out) == before and LISTING not in site.hits
    # A run 8 days after the last complete walk walks the listing and finds them.
    backdate_walk(out, 8)
    run_crawl("field_reports", base_url, out)
    assert stored_ids(out) - before == {13001, 13002}
    source = last_run(out)["sources"]["field-reports"]
    assert (
        source["source"] == "listing"
        and "days old, CACI_LISTING_WALK_DAYS is 7" in (source["reason"])
    )
    walk = next(sqlite_utils.Database(out / "caci.db")["listing_walks"].rows)
    assert walk["run_id"] == last_run(out)["id"]  # the new walk is recorded for the next week


def test_walk_listing_argument_walks_the_listing(night) -> None:
    base_url, site, out = night
    run_crawl("field_reports", base_url, out, "-a", "walk=listing")
    assert FEED not in site.hits and site.hits[LISTING] >= 5
    assert last_run(out)["sources"]["field-reports"]["reason"] == "-a walk=listing"


# -- the parser on its own --------------------------------------------------------------------
BASE = "http://127.0.0.1:8"


def served_feed(site: LocalK2Site, query: str = "") -> bytes:
    return site.respond(f"{FEED}{query}", {"Host": "127.0.0.1:8"}).body


@pytest.mark.parametrize("form", ["", "?type=rss", "?type=atom"])
def test_rss_and_atom_forms_give_the_same_ten_newest_ids(form) -> None:
    site = LocalK2Site(FIXTURES)
    entries = parse_feed(served_feed(site, form), BASE + FEED, BASE, "/publications/field-reports")
    newest = sorted(site.items, key=lambda i: (site.item_created(i), i), reverse=True)[:10]
    assert [entry.ref.id for entry in entries] == newest
    html_form = site.respond(
        f"{LISTING}?format=feed&type={'atom' if 'atom' in form else 'rss'}", {"Host": "h"}
    )
    assert html_form.status == 200 and b"/publications/field-reports/item/" in html_form.body


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ("malformed", "not well-formed XML"),
        ("entity-expansion", "hostile XML, refused (DTDForbidden)"),
        ("external-entity", "hostile XML, refused (DTDForbidden)"),
        ("oversized", "larger than 1048576 bytes"),
        ("empty", "lists no items"),
        ("no-links", "has no K2 item link"),
        ("status", "neither RSS nor Atom"),
    ],
)
def test_a_faulty_feed_is_refused_with_its_reason(fault, reason) -> None:
    site = LocalK2Site(FIXTURES)
    site.feed_fault = fault
    with pytest.raises(FeedRefused, match=reason.replace("(", r"\(").replace(")", r"\)")):
        parse_feed(
            served_feed(site),
            BASE + FEED,
            BASE,
            "/publications/field-reports",
            max_size=1024 * 1024,
        )


def test_feed_first_is_per_section() -> None:
    assert FieldReportsSpider.feed_first
    assert not StaffPublicationsSpider.feed_first
    assert "listing entry" in StaffPublicationsSpider.listing_only_reason
