"""StaffPublicationsSpider (caci_spider.spiders.staff_publications): the home page's sidebar,
the staff listing and its item pages, read from the fixture pages by a spider on a temporary
database; nothing is fetched."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from scrapy import Request
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from caci_spider.items import Reject, StaffPublication, utc_now
from caci_spider.middlewares import LIVE_STATUS
from caci_spider.spiders.staff_publications import NO_ARTICLE_TEXT, StaffPublicationsSpider
from caci_spider.store import store_of
from caci_spider.urls import ItemRef
from tests.conftest import FIXTURES
from tests.unit_crawler import CACI, SILKROAD, build_spider, html_response

STAFF = FIXTURES / "staff_publications"
CATEGORY = f"{SILKROAD}/publications/joint-center-publications"
HOME = f"{CACI}/"


def listing_url(start: int) -> str:
    return f"{CATEGORY}.html?start={start}"


def item_path(item_id: int) -> Path:
    (path,) = (STAFF / "items").glob(f"{item_id}-*.html")
    return path


@pytest.fixture
def spider(tmp_path: Path) -> StaffPublicationsSpider:
    return spider_for(tmp_path)


def spider_for(tmp_path: Path) -> StaffPublicationsSpider:
    spider = build_spider(StaffPublicationsSpider, tmp_path)
    store_of(spider.crawler).spider_opened(spider)
    return spider


def walk(spider: StaffPublicationsSpider, start: int) -> list[Any]:
    body = (STAFF / "listings" / f"start-{start}.html").read_bytes()
    return list(spider.parse_listing(html_response(listing_url(start), body), start=start))


def failure_of(error: Exception, request: Request) -> Failure:
    failure = Failure(error)
    failure.request = request  # type: ignore[attr-defined]
    return failure


def test_both_sites_are_crawled(spider: StaffPublicationsSpider) -> None:
    assert (spider.base_url, spider.caci_base_url) == (SILKROAD, CACI)
    assert spider.allowed_domains == ["cacianalyst.org", "silkroadstudies.org"]


def test_the_start_is_the_home_page_then_the_listing(spider: StaffPublicationsSpider) -> None:
    async def started() -> list[Request]:
        return [request async for request in spider.start()]

    home, first = asyncio.run(started())
    assert (home.url, home.callback, home.errback) == (HOME, spider.parse_home, spider.home_failed)
    assert (first.url, first.callback) == (listing_url(0), spider.parse_listing)


def test_the_sidebar_gives_its_publications(spider: StaffPublicationsSpider) -> None:
    response = html_response(HOME, (FIXTURES / "site_chrome.html").read_bytes())
    outputs = list(spider.parse_home(response))
    assert len(outputs) == 7 and all(isinstance(o, StaffPublication) for o in outputs)
    assert all(o.sources == [HOME] for o in outputs)
    assert "The Changing Geopolitics of Central Asia and the Caucasus" in {o.title for o in outputs}
    assert spider.ledger.source_problems == []


def test_a_home_page_without_the_sidebar_is_a_source_problem(
    spider: StaffPublicationsSpider,
) -> None:
    response = html_response(HOME, "<html><body><p>Welcome</p></body></html>")
    assert list(spider.parse_home(response)) == []
    assert spider.ledger.source_problems == [
        f"the home page ({HOME}) has no Staff Publications block: its layout changed or the "
        "sidebar moved"
    ]


def test_a_home_page_from_the_archive_still_gives_its_sidebar_but_says_so(
    spider: StaffPublicationsSpider,
) -> None:
    body = (FIXTURES / "site_chrome.html").read_bytes()
    outputs = list(spider.parse_home(html_response(HOME, body, meta={LIVE_STATUS: 502})))
    assert len(outputs) == 7
    assert spider.ledger.source_problems == [
        f"the home page ({HOME}) served from the archive because the site answered HTTP 502"
    ]


def test_a_failed_home_page_is_a_reject_and_a_source_problem(
    spider: StaffPublicationsSpider,
) -> None:
    request = Request(HOME)
    response = html_response(HOME, b"", status=503)
    (reject,) = spider.home_failed(failure_of(HttpError(response, "Ignoring"), request))
    assert isinstance(reject, Reject) and (reject.url, reject.reason) == (HOME, "HTTP 503")
    assert spider.ledger.source_problems == [
        f"the home page ({HOME}) answered HTTP 503: no Staff Publications sidebar"
    ]


def test_the_listing_requests_each_linked_item_page_with_its_entry(
    spider: StaffPublicationsSpider,
) -> None:
    outputs = walk(spider, 0)
    requests = [o for o in outputs if isinstance(o, Request)]
    assert [r.cb_kwargs.get("ref", ItemRef(0, "", "")).id for r in requests] == [
        13389,
        13352,
        13338,
        13335,
        0,  # page 4
        0,  # page 8
    ]
    untitled = requests[2]
    assert untitled.cb_kwargs["listing_title"] is None
    assert untitled.cb_kwargs["listing_entry"].venue == "AFPC Defense Dossier"
    assert (
        spider.ledger.listing_walk().entries == 4
        and spider.ledger.listing_walk().first_entries == 4
    )


def test_an_entry_without_an_item_link_goes_to_validation_as_it_is(
    spider: StaffPublicationsSpider,
) -> None:
    outputs = walk(spider, 4)
    entries = [o for o in outputs if isinstance(o, StaffPublication)]
    assert [e.title for e in entries] == [None]  # the garbage entry: rejected downstream
    assert entries[0].raw == "Read More"
    assert spider.ledger.listing_walk().entries == 4  # it counts as an entry of the listing


def test_an_incremental_run_reuses_item_pages_read_before(tmp_path: Path) -> None:
    spider = spider_for(tmp_path)
    seen = f"{CATEGORY}/item/13389-greater-central-asia-as-a-component-of-us-global-strategy.html"
    spider.known = {seen}
    outputs = walk(spider, 0)
    (entry,) = [o for o in outputs if isinstance(o, StaffPublication)]
    assert entry.title == "Greater Central Asia As a Component of U.S. Global Strategy"
    assert 13389 not in spider.ledger.requested_keys


def test_the_item_page_fills_what_the_listing_entry_lacks(spider: StaffPublicationsSpider) -> None:
    request = [o for o in walk(spider, 0) if isinstance(o, Request)][2]
    ref = request.cb_kwargs["ref"]
    response = html_response(ref.url, item_path(13338).read_bytes())
    (publication,) = spider.parse_item(response, **request.cb_kwargs)
    assert publication.title == "Central Asia After the Pandemic: An Opening for American Strategy"
    assert publication.venue == "AFPC Defense Dossier" and publication.date == "2020-05-31"
    assert publication.url == ref.url
    assert set(publication.sources) == {listing_url(0), ref.url}


def test_a_failed_item_page_keeps_its_listing_entry(spider: StaffPublicationsSpider) -> None:
    request = [o for o in walk(spider, 0) if isinstance(o, Request)][0]
    response = html_response(request.url, b"", status=404)
    reject, entry = spider.fetch_failed(failure_of(HttpError(response, "Ignoring"), request))
    assert (reject.url, reject.reason) == (request.url, "HTTP 404")
    assert entry is request.cb_kwargs["listing_entry"]
    assert entry.title == "Greater Central Asia As a Component of U.S. Global Strategy"


def test_an_item_page_without_article_text_is_not_read_and_keeps_its_listing_entry(
    spider: StaffPublicationsSpider,
) -> None:
    # A template that renders the text by script: the page answers 200 with its <title> only.
    request = [o for o in walk(spider, 0) if isinstance(o, Request)][2]
    page = b"<html><head><title>Central Asia After the Pandemic</title></head><body></body></html>"
    read_before = spider.ledger.item_fetches.read
    reject, entry = spider.parse_item(html_response(request.url, page), **request.cb_kwargs)
    assert (reject.url, reject.reason) == (request.url, NO_ARTICLE_TEXT)
    assert entry is request.cb_kwargs["listing_entry"]
    assert (
        spider.ledger.item_fetches.read == read_before
        and spider.ledger.item_fetches.failures == {NO_ARTICLE_TEXT: 1}
    )
    # As a canary, the same page yields nothing: every field of the row is missing.
    assert spider.reextract(html_response(request.url, page), {"url": request.url}) == {}


def test_known_items_are_the_pages_read_and_the_rejects_waiting(
    spider: StaffPublicationsSpider,
) -> None:
    database = spider.store.database
    read = f"{CATEGORY}/item/13327-us-strategy.html"
    database.db.table("staff_publications").insert(
        {"id": "abc", "title": "T", "sources": f'["{listing_url(4)}", "{read}"]'}
    )
    waiting = f"{CATEGORY}/item/13309-why-open-trade-routes.html"
    spider.store.record_reject(Reject(spider.name, waiting, "HTTP 404", utc_now(), status=404))
    assert spider.known_items() == {listing_url(4), read, waiting}


def test_reextract_reads_the_item_page_as_stored(spider: StaffPublicationsSpider) -> None:
    url = f"{CATEGORY}/item/13327-us-strategy-towards-afghanistan-and-the-rest-of-central-asia.html"
    fresh = spider.reextract(html_response(url, item_path(13327).read_bytes()), {"url": url})
    assert fresh["title"] == "U.S. Strategy Towards Afghanistan and (The Rest of) Central Asia"
    assert spider.reextract(html_response(url, b"<html></html>"), {"url": HOME}) == {}
