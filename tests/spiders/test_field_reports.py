"""FieldReportsSpider (caci_spider.spiders.field_reports): what an incremental run skips, and
what it reads from an item page (fixture pages, a spider on a temporary database)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from caci_spider.items import PublicationPage, Reject, utc_now
from caci_spider.spiders.generated import FieldReportsSpider
from caci_spider.store import store_of
from caci_spider.urls import ItemRef
from tests.conftest import FIXTURES, expected_for
from tests.unit_crawler import CACI, build_spider, html_response

ITEMS = FIXTURES / "field_reports" / "items"
TITLE_7315 = "SADJAYA’S DEATH THROWS GEORGIAN POLITICS INTO TURMOIL"


def item_file(item_id: int) -> Path:
    (path,) = ITEMS.glob(f"{item_id}-*.html")
    return path


def item_url(item_id: int, alias: str = "a", base: str = CACI) -> str:
    return f"{base}/publications/field-reports/item/{item_id}-{alias}.html"


@pytest.fixture
def spider(tmp_path: Path) -> FieldReportsSpider:
    spider = build_spider(FieldReportsSpider, tmp_path)
    store_of(spider.crawler).spider_opened(spider)
    return spider


def test_known_items_are_stored_duplicate_and_waiting_ids(spider: FieldReportsSpider) -> None:
    database = spider.store.database
    database.db.table("publications").insert(
        {"id": 8145, "site": "cacianalyst", "url": item_url(8145)}
    )
    database.db.table("duplicates").insert(
        {"id": 12871, "site": "cacianalyst", "duplicate_of": 12834}
    )
    # Another site's ids are not the Analyst's.
    database.db.table("publications").insert({"id": 9001, "site": "turkeyanalyst", "url": "t"})
    database.db.table("duplicates").insert({"id": 9002, "site": "turkeyanalyst"})
    for item_id, reason, status in [
        (7999, "HTTP 404", 404),  # fails for good: waits a day
        (7998, "HTTP 500", 500),  # fails for the moment: tried by the next run
    ]:
        spider.store.record_reject(
            Reject(spider.name, item_url(item_id), reason, utc_now(), status=status)
        )
    spider.store.record_reject(  # a listing page waiting: not an id
        Reject(
            spider.name, f"{CACI}/publications/field-reports.html?start=4", "HTTP 404", utc_now()
        )
    )
    assert spider.known_items() == {("cacianalyst", i) for i in (8145, 12871, 7999)}


def test_an_item_page_gives_its_raw_fields(spider: FieldReportsSpider) -> None:
    expected = expected_for(item_file(8145))
    ref = ItemRef(8145, expected["url"], "cacianalyst")
    (page,) = spider.parse_item(
        html_response(ref.url, item_file(8145).read_bytes()), ref=ref, listing_title="ignored"
    )
    assert isinstance(page, PublicationPage)
    assert (page.id, page.url, page.title, page.hits) == (
        8145,
        expected["url"],
        expected["title"],
        expected["hits"],
    )
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", page.fetched_at)


def test_a_redirect_to_the_canonical_alias_keeps_the_url_the_server_settled_on(
    spider: FieldReportsSpider,
) -> None:
    asked = ItemRef(8145, item_url(8145, "old-alias"), "cacianalyst")
    settled = item_url(
        8145, "field-reports-caci-analyst-2004-2-11-art-8145", "http://cacianalyst.org"
    )
    response = html_response(settled, item_file(8145).read_bytes())
    (page,) = spider.parse_item(response, ref=asked, listing_title=None)
    # The server's URL, in the base URL's canonical form.
    assert page.url == item_url(8145, "field-reports-caci-analyst-2004-2-11-art-8145")


def test_a_redirect_to_another_item_keeps_the_id_asked_for(spider: FieldReportsSpider) -> None:
    asked = ItemRef(8145, item_url(8145), "cacianalyst")
    response = html_response(item_url(9999), item_file(8145).read_bytes())
    (page,) = spider.parse_item(response, ref=asked, listing_title=None)
    assert (page.id, page.url) == (8145, item_url(8145))


def test_the_listing_title_fills_a_page_without_any_title(spider: FieldReportsSpider) -> None:
    body = item_file(7315).read_text("utf-8").replace(f"<title>{TITLE_7315}</title>", "")
    ref = ItemRef(7315, item_url(7315), "cacianalyst")
    (untitled,) = spider.extract_item(html_response(ref.url, body), ref, listing_title=None)
    assert not untitled.title
    (page,) = spider.extract_item(html_response(ref.url, body), ref, listing_title="FROM LISTING")
    assert page.title == "FROM LISTING"
    (titled,) = spider.extract_item(
        html_response(ref.url, item_file(7315).read_bytes()), ref, listing_title="FROM LISTING"
    )
    assert titled.title == TITLE_7315  # the page's own <title> comes first


@pytest.mark.parametrize("item_id", [12995, 8145])
def test_reextract_normalises_as_the_pipelines_do(spider: FieldReportsSpider, item_id: int) -> None:
    """Normalised and with the body collapsed (8145 repeats its intro in its full text), so that
    a canary compares values with its stored row."""
    expected = expected_for(item_file(item_id))
    row = {"id": item_id, "site": expected["site"], "url": expected["url"]}
    fresh = spider.reextract(html_response(row["url"], item_file(item_id).read_bytes()), row)
    for key in ("title", "authors", "published", "issue_date", "body", "hits", "modified", "tags"):
        assert fresh[key] == expected[key], key


def test_a_resumed_run_keeps_the_source_it_chose(tmp_path: Path) -> None:
    # Night 1 fell back to the listing (its feed answered 404) and was stopped; the resumed run
    # must go on walking, not ask for the feed again and record "feed" with a listing reason.
    spider = build_spider(FieldReportsSpider, tmp_path)
    spider.ledger.source().use_listing("feed failed: the feed answered HTTP 404")
    (request,) = spider.initial_requests()
    assert request.callback == spider.parse_listing
    assert (spider.ledger.source().source, spider.ledger.source().reason) == (
        "listing",
        "feed failed: the feed answered HTTP 404",
    )
    fresh = build_spider(FieldReportsSpider, tmp_path / "fresh", {"CACI_JSON_LISTINGS": False})
    (first,) = fresh.initial_requests()  # nothing decided: no walk recorded yet, the listing
    assert fresh.ledger.source().reason == "no complete listing walk recorded yet"
    assert first.callback == fresh.parse_listing
