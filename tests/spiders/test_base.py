"""K2CategorySpider (caci_spider.spiders.base): the listing walk, one request per id, failures
as rejects, canaries. Its methods are called with responses built from the fixture pages and a
spider built on a temporary database; nothing is fetched.

``FieldReportsSpider`` stands in for the base class: it adds only what an item page yields.
"""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import DNSLookupError
from twisted.python.failure import Failure

from caci_spider.archive import ARCHIVED_ONLY
from caci_spider.channels import channel_of
from caci_spider.channels.canaries import Canaries
from caci_spider.channels.upgrade import Upgrade
from caci_spider.contract import derive
from caci_spider.items import PublicationPage, Reject
from caci_spider.middlewares import LIVE_STATUS
from caci_spider.spiders.generated import FieldReportsSpider
from caci_spider.store import store_of
from caci_spider.urls import ItemRef
from caci_spider.versions import EXTRACTION_VERSION
from tests.conftest import FIXTURES, expected_for
from tests.unit_crawler import CACI, build_spider, html_response

LISTINGS = FIXTURES / "field_reports" / "listings"
ITEMS = FIXTURES / "field_reports" / "items"
FIRST_PAGE_IDS = [12834, 7315, 8145, 12871]


def listing_url(start: int) -> str:
    return f"{CACI}/publications/field-reports.html?start={start}"


def item_url(item_id: int, alias: str = "a") -> str:
    return f"{CACI}/publications/field-reports/item/{item_id}-{alias}.html"


def item_file(item_id: int) -> Path:
    (path,) = ITEMS.glob(f"{item_id}-*.html")
    return path


@pytest.fixture
def spider(tmp_path: Path) -> FieldReportsSpider:
    return spider_for(tmp_path)


def spider_for(
    tmp_path: Path, settings: dict[str, Any] | None = None, mode: str = "incremental"
) -> FieldReportsSpider:
    # The HTML walk's requests (the JSON listing channel: tests/test_json_listings.py).
    settings = {"CACI_JSON_LISTINGS": False, **(settings or {})}
    spider = build_spider(FieldReportsSpider, tmp_path, settings, mode=mode)
    store_of(spider.crawler).spider_opened(spider)
    return spider


def listing(spider: FieldReportsSpider, name: str, start: int, **meta: Any) -> list[Any]:
    body = (LISTINGS / f"{name}.html").read_bytes()
    response = html_response(listing_url(start), body, meta=meta)
    return list(spider.parse_listing(response, start=start))


def requests_of(outputs: list[Any]) -> tuple[list[int], list[int]]:
    """(item ids requested, listing offsets requested), in order."""
    items = [r.cb_kwargs["ref"].id for r in outputs if "ref" in r.cb_kwargs]
    starts = [r.cb_kwargs["start"] for r in outputs if "start" in r.cb_kwargs]
    return items, starts


def failure_of(error: Exception, request: Request) -> Failure:
    """What an errback receives: the error, with Scrapy's ``request`` attribute."""
    failure = Failure(error)
    failure.request = request  # type: ignore[attr-defined]
    return failure


# -- building ------------------------------------------------------------------------------------
def test_the_base_url_gives_the_listing_and_the_allowed_domain(tmp_path: Path) -> None:
    spider = spider_for(tmp_path, {"CACI_BASE_URL": "http://127.0.0.1:8088/"})
    assert spider.base_url == "http://127.0.0.1:8088"
    assert spider.allowed_domains == ["127.0.0.1"]
    request = spider.listing_request(0)
    assert request.url == "http://127.0.0.1:8088/publications/field-reports.html?start=0"
    assert spider.ledger.listing_walk().first_url == request.url
    assert spider.listing_request(8).url.endswith("field-reports.html?start=8")
    assert spider.ledger.listing_walk().first_url == request.url  # only the first page is the first


def test_reparse_reads_the_archive_only_and_without_delay(tmp_path: Path) -> None:
    settings = build_spider(FieldReportsSpider, tmp_path, mode="reparse").crawler.settings
    assert settings.getbool("CACI_OFFLINE") and settings.getbool("HTTPCACHE_IGNORE_MISSING")
    assert settings.getfloat("DOWNLOAD_DELAY") == 0
    assert not settings.getbool("AUTOTHROTTLE_ENABLED")
    live = build_spider(FieldReportsSpider, tmp_path / "live", mode="full").crawler.settings
    assert not live.getbool("CACI_OFFLINE") and live.getfloat("DOWNLOAD_DELAY") == 1.0


def test_an_unknown_mode_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="mode must be one of incremental, full, reparse"):
        build_spider(FieldReportsSpider, tmp_path, mode="fast")


# -- the listing walk ----------------------------------------------------------------------------
def test_the_first_page_requests_its_items_and_the_linked_pages(
    spider: FieldReportsSpider,
) -> None:
    outputs = listing(spider, "page-first", 0)
    items, starts = requests_of(outputs)
    assert items == FIRST_PAGE_IDS
    assert starts == [4, 8, 12, 16]
    request = outputs[0]
    assert request.url == item_url(12834, "georgia-prepares-to-sign-eu-association-agreement")
    assert request.cb_kwargs["listing_title"] == "Georgia Prepares to Sign EU Association Agreement"
    assert request.callback == spider.parse_item and request.errback == spider.fetch_failed
    assert outputs[1].cb_kwargs["listing_title"] is None  # 7315's empty title link
    walk = spider.ledger.listing_walk()
    assert (walk.first_status, walk.first_entries, walk.pages, walk.entries) == (200, 4, 1, 4)
    assert sorted(spider.ledger.unanswered) == sorted(("cacianalyst", i) for i in FIRST_PAGE_IDS)
    assert spider.crawler.stats.get_value("caci/listing_pages") == 1


def test_each_id_is_requested_once_per_run(spider: FieldReportsSpider) -> None:
    listing(spider, "page-first", 0)
    items, starts = requests_of(listing(spider, "page-first", 4))  # offsets shifted
    assert items == [] and starts == [8, 12, 16]  # its own offset is not requested again
    assert spider.ledger.listing_walk().entries == 4  # the same entries, counted once


def test_without_pagination_the_walk_steps_by_the_entries_found(
    spider: FieldReportsSpider,
) -> None:
    items, starts = requests_of(listing(spider, "page-untitled", 8))
    assert items == [7004, 7012, 7013, 7208] and starts == [12]


def test_a_site_that_ignores_start_ends_the_walk(spider: FieldReportsSpider) -> None:
    listing(spider, "page-untitled", 0)
    items, starts = requests_of(listing(spider, "page-untitled", 4))  # the same page again
    assert items == [] and starts == []


def test_a_page_without_entries_ends_the_walk(
    spider: FieldReportsSpider, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        assert listing(spider, "page-empty", 20) == []
    assert (
        spider.ledger.listing_walk().pages == 1
        and spider.ledger.listing_walk().first_entries is None
    )
    assert f"Listing ends at start=20 ({listing_url(20)}): no entries" in caplog.messages


def test_an_empty_first_page_is_noted_for_the_self_check(spider: FieldReportsSpider) -> None:
    assert listing(spider, "page-empty", 0) == []
    assert spider.ledger.listing_walk().first_entries == 0


def test_an_incremental_run_skips_known_ids(tmp_path: Path) -> None:
    spider = spider_for(tmp_path)
    spider.known = {("cacianalyst", 7315), ("cacianalyst", 12871)}
    assert requests_of(listing(spider, "page-first", 0))[0] == [12834, 8145]
    full = spider_for(tmp_path / "full", mode="full")
    full.known = {7315, 12871}  # never loaded by a full run, and not consulted
    assert requests_of(listing(full, "page-first", 0))[0] == FIRST_PAGE_IDS


def test_a_listing_from_the_archive_guides_the_walk_but_is_not_live(
    spider: FieldReportsSpider, caplog: pytest.LogCaptureFixture
) -> None:
    items, starts = requests_of(listing(spider, "page-first", 0, **{LIVE_STATUS: 503}))
    assert items == FIRST_PAGE_IDS and starts == [4, 8, 12, 16]
    walk = spider.ledger.listing_walk()
    assert (walk.pages, walk.entries, walk.first_entries) == (0, 0, None)
    assert walk.first_failure == "served from the archive because the site answered HTTP 503"
    assert any("answered HTTP 503" in m for m in caplog.messages)


def test_a_listing_that_is_not_text_is_a_reject(spider: FieldReportsSpider) -> None:
    response = Response(listing_url(0), body=b"%PDF-1.4", request=Request(listing_url(0)))
    (reject,) = spider.parse_listing(response, start=0)
    assert isinstance(reject, Reject)
    assert (reject.url, reject.reason, reject.status) == (
        listing_url(0),
        "listing is not a text page",
        200,
    )
    assert spider.ledger.listing_walk().first_failure == "is not a text page"


# -- item pages ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty page"),
        (b"  \n ", "empty page"),
        (b"<html><body><p>The first half of a long page", "truncated page: no closing </html>"),
    ],
)
def test_an_unusable_item_page_is_a_reject(
    spider: FieldReportsSpider, body: bytes, reason: str
) -> None:
    ref = ItemRef(7315, item_url(7315), "cacianalyst")
    spider.ledger.unanswered[("cacianalyst", 7315)] = ref.url
    (reject,) = spider.parse_item(html_response(ref.url, body), ref=ref, listing_title=None)
    assert (reject.url, reject.reason, reject.status) == (ref.url, reason, 200)
    assert spider.ledger.unanswered == {}


def test_an_item_that_is_not_text_is_a_reject(spider: FieldReportsSpider) -> None:
    ref = ItemRef(7315, item_url(7315), "cacianalyst")
    response = Response(ref.url, body=b"GIF89a", request=Request(ref.url))
    (reject,) = spider.parse_item(response, ref=ref, listing_title=None)
    assert reject.reason == "item is not a text page"


def test_an_uppercase_closing_tag_is_a_whole_page(spider: FieldReportsSpider) -> None:
    ref = ItemRef(8145, item_url(8145), "cacianalyst")
    body = item_file(8145).read_bytes().replace(b"</html>", b"</HTML>")
    (page,) = spider.parse_item(html_response(ref.url, body), ref=ref, listing_title=None)
    assert isinstance(page, PublicationPage) and page.id == 8145


# -- failures --------------------------------------------------------------------------------------
def test_a_first_listing_page_answering_an_error(spider: FieldReportsSpider) -> None:
    request = spider.listing_request(0)
    response = html_response(request.url, b"<html></html>", status=404)
    (reject,) = spider.fetch_failed(failure_of(HttpError(response, "Ignoring"), request))
    assert (reject.url, reject.reason, reject.status, reject.raw) == (
        request.url,
        "HTTP 404",
        404,
        None,
    )
    assert spider.ledger.listing_walk().first_failure == "answered HTTP 404"


def test_a_first_listing_page_that_cannot_be_fetched(spider: FieldReportsSpider) -> None:
    request = spider.listing_request(0)
    (reject,) = spider.fetch_failed(failure_of(DNSLookupError("no such host"), request))
    assert reject.reason == "fetch failed: DNSLookupError"
    assert "no such host" in (reject.raw or "") and reject.status is None
    assert spider.ledger.listing_walk().first_failure.startswith(
        "could not be fetched (DNSLookupError: "
    )


def test_a_later_listing_page_does_not_touch_the_first_failure(spider: FieldReportsSpider) -> None:
    request = spider.listing_request(4)
    response = html_response(request.url, b"", status=500)
    (reject,) = spider.fetch_failed(failure_of(HttpError(response, "Ignoring"), request))
    assert reject.reason == "HTTP 500" and spider.ledger.listing_walk().first_failure == ""


def test_a_failed_item_is_answered(spider: FieldReportsSpider) -> None:
    request = spider.item_request(ItemRef(7999, item_url(7999), "cacianalyst"), None)
    assert spider.ledger.unanswered == {("cacianalyst", 7999): item_url(7999)}
    response = html_response(request.url, b"", status=410)
    (reject,) = spider.fetch_failed(failure_of(HttpError(response, "Ignoring"), request))
    assert (reject.reason, reject.status) == ("HTTP 410", 410)
    assert spider.ledger.unanswered == {}


@pytest.mark.parametrize(
    "message",
    [
        "Forbidden by robots.txt",
        "the site has banned this crawl",
        "Request not in cache",
    ],
)
def test_a_decision_not_to_fetch_is_no_reject(spider: FieldReportsSpider, message: str) -> None:
    request = spider.item_request(ItemRef(7999, item_url(7999), "cacianalyst"), None)
    assert list(spider.fetch_failed(failure_of(IgnoreRequest(message), request))) == []
    assert spider.crawler.stats.get_value("caci/ignored") == 1


def test_a_request_dropped_on_the_way_is_a_reject(spider: FieldReportsSpider) -> None:
    request = spider.item_request(ItemRef(7999, item_url(7999), "cacianalyst"), None)
    failure = failure_of(IgnoreRequest("max redirections reached"), request)
    (reject,) = spider.fetch_failed(failure)
    assert reject.reason == "not fetched: max redirections reached"


def test_requests_never_answered_are_rejects_when_the_run_finishes(
    tmp_path: Path,
) -> None:
    spider = spider_for(tmp_path)
    spider.item_request(ItemRef(7999, item_url(7999), "cacianalyst"), None)
    store_of(spider.crawler).spider_closed(spider, "shutdown")  # a stopped run resumes them
    assert list(spider.store.database.rows("rejects", order_by="url")) == []
    store_of(spider.crawler).spider_closed(spider, "finished")
    (row,) = spider.store.database.rows("rejects", order_by="url")
    assert row["url"] == item_url(7999)
    assert row["reason"].startswith("dropped without an answer")


# -- the start -------------------------------------------------------------------------------------
async def started(spider: FieldReportsSpider) -> list[Request]:
    return [request async for request in spider.start()]


def stored_row(spider: FieldReportsSpider, item_id: int, **fields: Any) -> dict[str, Any]:
    row = {
        "id": item_id,
        "site": "cacianalyst",
        "url": item_url(item_id),
        "title": "T",
        "body": "B",
        "extraction_version": EXTRACTION_VERSION,  # made by this release's page rules
        **fields,
    }
    # As storage stores it: with its derived columns (the section's category from the URL).
    spider.store.database.db.table("publications").insert(row | derive("publications", row))
    return row


def test_an_incremental_run_starts_with_the_listing_then_its_canary(tmp_path: Path) -> None:
    spider = spider_for(tmp_path, {"CACI_CANARY_ITEMS": 2})
    for item_id in (8145, 7315, 12834):
        stored_row(spider, item_id)
    first, *canaries = asyncio.run(started(spider))
    assert first.url == listing_url(0) and first.callback == spider.parse_listing
    assert [(r.url, r.priority, channel_of(r)) for r in canaries] == [
        (item_url(7315), 1, "canaries"),
        (item_url(8145), 1, "canaries"),
    ]
    assert spider.known == {("cacianalyst", i) for i in (7315, 8145, 12834)}
    # The walk will not ask for the canaries' pages again.
    assert requests_of(listing(spider, "page-first", 0))[0] == [12871]


def test_rows_of_older_page_rules_are_read_from_the_archive_before_the_canaries(
    tmp_path: Path,
) -> None:
    spider = spider_for(tmp_path, {"CACI_CANARY_ITEMS": 3})
    stored_row(spider, 8145, extraction_version=None)  # before versions were recorded
    stored_row(spider, 7315, extraction_version=EXTRACTION_VERSION - 1)
    stored_row(spider, 12834)  # this release's: nothing to do

    async def run() -> tuple[list[Request], bool, list[Request]]:
        start = spider.start()
        upgrades = [await anext(start), await anext(start)]
        following = asyncio.ensure_future(anext(start))
        await asyncio.sleep(0.05)
        waited = not following.done()  # nothing else is asked for before they are answered
        page = item_file(8145).read_text("utf-8")
        for request in upgrades:
            if request.url == item_url(8145):
                response = html_response(request.url, page, meta=request.meta)
                items = list(spider.channel(Upgrade).parse_upgrade(response, **request.cb_kwargs))
                assert [type(item) for item in items] == [PublicationPage]
            else:  # no archived page: the row waits for its next fetch
                error = IgnoreRequest("Ignored request not in cache")
                assert (
                    list(spider.channel(Upgrade).upgrade_failed(failure_of(error, request))) == []
                )
        return upgrades, waited, [await following] + [r async for r in start]

    upgrades, waited, rest = asyncio.run(run())
    assert [(r.url, r.meta.get(ARCHIVED_ONLY), r.dont_filter) for r in upgrades] == [
        (item_url(7315), True, True), (item_url(8145), True, True),
    ]  # fmt: skip
    assert waited
    assert rest[0].callback == spider.parse_listing
    assert [channel_of(r) for r in rest[1:]] == ["canaries"] * 3
    # The store pipeline is told which row is an upgrade (until it is stored).
    assert spider.ledger.upgrading == {("cacianalyst", 8145)}
    assert spider.crawler.stats.get_value("caci/upgrade/not_archived") == 1


@pytest.mark.parametrize(
    ("mode", "settings"), [("full", {}), ("reparse", {}), ("incremental", {"CACI_CANARY_ITEMS": 0})]
)
def test_only_incremental_runs_have_canaries(
    tmp_path: Path, mode: str, settings: dict[str, Any]
) -> None:
    spider = spider_for(tmp_path, settings, mode=mode)
    stored_row(spider, 8145)
    assert [r.url for r in asyncio.run(started(spider))] == [listing_url(0)]


# -- canaries --------------------------------------------------------------------------------------
def canary_row(spider: FieldReportsSpider, item_id: int, **fields: Any) -> dict[str, Any]:
    stored_row(spider, item_id, **fields)
    (row,) = spider.store.database.canary_candidates(spider.name, "publications", 1)
    return row


def check_canary(
    spider: FieldReportsSpider, row: dict[str, Any], page: Path, **meta: Any
) -> list[Any]:
    response = html_response(row["url"], page.read_bytes(), meta=meta)
    return list(spider.channel(Canaries).parse_canary(response, row=row))


def canary_check(spider: FieldReportsSpider) -> dict[str, Any]:
    (check,) = spider.store.database.db.execute(
        "SELECT item_key, outcome, missing, run_id FROM canary_checks"
    ).fetchall()
    return dict(zip(("item_key", "outcome", "missing", "run_id"), check, strict=True))


def oracle_row(item_id: int, **fields: Any) -> dict[str, Any]:
    """The stored row of a fixture item: its oracle's compared values (JSON columns encoded)."""
    expected = expected_for(item_file(item_id))
    row = {key: expected[key] for key in ("title", "published", "hits", "body")}
    return {**row, "authors": json.dumps(expected["authors"]), **fields}


def test_a_canary_that_still_reads_the_same_is_ok(spider: FieldReportsSpider) -> None:
    row = canary_row(spider, 8145, **oracle_row(8145))
    assert check_canary(spider, row, item_file(8145)) == []  # never an item
    (result,) = spider.ledger.canary_results
    assert (result.key, result.outcome, result.missing, result.differing) == ("8145", "ok", [], [])
    assert canary_check(spider) == {
        "item_key": "8145",
        "outcome": "ok",
        "missing": "[]",
        "run_id": spider.store.run_id,
    }
    assert spider.crawler.stats.get_value("caci/canary/ok") == 1


def edited(item_id: int, old: str, new: str, tmp_path: Path) -> Path:
    page = tmp_path / item_file(item_id).name
    text = item_file(item_id).read_text("utf-8")
    assert old in text
    page.write_text(text.replace(old, new), "utf-8")
    return page


def test_a_canary_whose_title_changed_has_changed_and_names_both_values(
    spider: FieldReportsSpider, tmp_path: Path
) -> None:
    row = canary_row(spider, 8145, **oracle_row(8145))
    page = edited(8145, "IS AZERBAIJAN TURNING TOWARDS RUSSIA?", "Field Reports", tmp_path)
    check_canary(spider, row, page)
    (result,) = spider.ledger.canary_results
    assert (result.outcome, result.missing) == ("changed", [])
    assert [(d.field, d.stored, d.new, d.why) for d in result.differing] == [
        ("title", "IS AZERBAIJAN TURNING TOWARDS RUSSIA?", "Field Reports", ""),
        ("title", "IS AZERBAIJAN TURNING TOWARDS RUSSIA?", "Field Reports", "site name"),
    ]
    (differing,) = spider.store.database.db.execute(
        "SELECT differing FROM canary_checks"
    ).fetchone()
    assert json.loads(differing)[0] == {
        "field": "title",
        "stored": "IS AZERBAIJAN TURNING TOWARDS RUSSIA?",
        "new": "Field Reports",
        "why": "",
    }
    assert list(spider.store.database.rows("publications"))[0]["title"] == row["title"]


@pytest.mark.parametrize(
    ("similarity", "outcome"), [("0.9", "ok"), ("0.999", "changed")], ids=["typo", "strict"]
)
def test_a_canary_body_is_compared_word_by_word(
    tmp_path: Path, similarity: str, outcome: str
) -> None:
    spider = spider_for(tmp_path, {"CACI_CANARY_MIN_SIMILARITY": similarity})
    row = canary_row(spider, 8145, **oracle_row(8145))
    page = edited(8145, "Local analysts believe", "Local analysts beleive", tmp_path)
    check_canary(spider, row, page)
    (result,) = spider.ledger.canary_results
    assert result.outcome == outcome
    if outcome == "changed":
        (difference,) = result.differing
        assert (difference.field, difference.stored, difference.new) == (
            "body",
            "believe",
            "beleive",
        )
        assert difference.why.startswith("word similarity 0.99") and difference.why.endswith(
            "0.999"
        )


def test_a_canary_body_with_new_page_chrome_has_changed(
    spider: FieldReportsSpider, tmp_path: Path
) -> None:
    row = canary_row(spider, 8145, **oracle_row(8145))
    text = item_file(8145).read_text("utf-8")
    start = text.index('<div class="itemFullText">')
    end = text.index("</p>", start) + len("</p>")
    page = tmp_path / item_file(8145).name
    page.write_text(text[:end] + "<p>Print | E-mail</p>" + text[end:], "utf-8")
    check_canary(spider, row, page)
    (result,) = spider.ledger.canary_results
    assert [(d.field, d.new, d.why) for d in result.differing] == [
        ("body", "Print | E-mail", "page chrome")
    ]


def test_a_canary_whose_page_lost_a_field_has_changed(spider: FieldReportsSpider) -> None:
    row = canary_row(spider, 7004, title="T", hits=311)  # its page shows no hits
    check_canary(spider, row, item_file(7004))
    (result,) = spider.ledger.canary_results
    assert (result.outcome, result.missing) == ("changed", ["hits"])
    assert spider.crawler.stats.get_value("caci/canary/changed") == 1


def test_a_canary_from_the_archive_says_nothing_about_the_layout(
    spider: FieldReportsSpider,
) -> None:
    row = canary_row(spider, 7004, title="T", hits=311)
    check_canary(spider, row, item_file(7004), **{LIVE_STATUS: "TimeoutError"})
    (result,) = spider.ledger.canary_results
    assert result.outcome == (
        "fetch failed: served from the archive because the site did not answer (TimeoutError)"
    )
    assert not result.failed


def test_a_canary_that_cannot_be_fetched_is_noted(spider: FieldReportsSpider) -> None:
    row = canary_row(spider, 8145)
    request = Request(row["url"], cb_kwargs={"row": row})
    response = html_response(row["url"], b"", status=503)
    canaries = spider.channel(Canaries)
    assert list(canaries.canary_failed(failure_of(HttpError(response, "Ignoring"), request))) == []
    (result,) = spider.ledger.canary_results
    assert result.outcome == "fetch failed: HTTP 503"
    assert canary_check(spider)["outcome"] == "fetch failed: HTTP 503"
    assert list(spider.store.database.rows("rejects", order_by="url")) == []  # not a reject
    assert spider.ledger.item_fetches.failures == {"HTTP 503": 1}


def test_a_removed_canary_is_replaced_by_the_next_candidate(spider: FieldReportsSpider) -> None:
    row = canary_row(spider, 8145)
    request = Request(row["url"], cb_kwargs={"row": row, "attempt": 1})
    response = html_response(row["url"], b"", status=404)
    canaries = spider.channel(Canaries)
    (replacement,) = canaries.canary_failed(failure_of(HttpError(response, "Ignoring"), request))
    assert replacement.cb_kwargs["attempt"] == 2 and replacement.meta["dont_cache"]
    assert spider.ledger.item_fetches.failures == {}  # a removed item says nothing about the site
