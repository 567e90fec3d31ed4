"""Retry-After, bans and the live status (caci_spider.middlewares), without a downloader.

The middleware under test gets a crawler from ``get_crawler`` and a stand-in engine that has
only what it touches: the downloader's slots and ``close_spider_async``.
"""

from __future__ import annotations

from email.utils import formatdate
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from scrapy import Request
from scrapy.core.downloader import Slot
from scrapy.downloadermiddlewares.httpcache import HttpCacheMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Response

from caci_spider.middlewares import (
    LIVE_STATUS,
    LiveStatusMiddleware,
    PoliteRetryMiddleware,
    archive_fallback,
    parse_retry_after,
)
from caci_spider.spiders.generated import FieldReportsSpider
from tests.unit_crawler import build_spider, component_crawler

URL = "https://www.cacianalyst.org/publications/field-reports/item/7315-a.html"
NOW = 1_800_000_000.0


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (b"120", 120.0),
        ("  7 ", 7.0),
        ("0", None),  # no wait at all is no wait to honour
        (formatdate(NOW + 90, usegmt=True), 90.0),
        (formatdate(NOW + 90, usegmt=True).encode("latin-1"), 90.0),
        (formatdate(NOW - 600, usegmt=True), 0.0),  # a date in the past: go ahead now
        (b"", None),
        (None, None),
        (b"soon", None),
        (b"-5", None),
        (b"1.5", None),
    ],
)
def test_parse_retry_after(value: bytes | str | None, seconds: float | None) -> None:
    parsed = parse_retry_after(value, now=NOW)
    if seconds is None:
        assert not parsed
    else:
        assert parsed == pytest.approx(seconds)


class StandInEngine:
    """``crawler.engine`` as far as PoliteRetryMiddleware uses it."""

    def __init__(self) -> None:
        self.slots: dict[str, Slot] = {}
        self.downloader = SimpleNamespace(
            slots=self.slots, get_slot_key=lambda request: request.url.split("/")[2]
        )
        self.closed: list[str] = []

    def close_spider_async(self, reason: str) -> None:
        self.closed.append(reason)


def polite(tmp_path: Path, **settings: Any) -> tuple[PoliteRetryMiddleware, StandInEngine]:
    crawler = component_crawler(tmp_path, **settings)
    crawler.spider = crawler._create_spider()  # Scrapy's retries log and count per spider
    engine = StandInEngine()
    crawler.engine = engine  # type: ignore[assignment]
    engine.slots["www.cacianalyst.org"] = Slot(concurrency=1, delay=1.0, jitter=0.5)
    return PoliteRetryMiddleware.from_crawler(crawler), engine


def answer(status: int, url: str = URL, **headers: str) -> Response:
    return Response(url, status=status, headers=headers)


def test_retry_after_holds_the_slot_until_a_good_answer(tmp_path: Path) -> None:
    middleware, engine = polite(tmp_path)
    slot = engine.slots["www.cacianalyst.org"]
    request = Request(URL)
    retry = middleware.process_response(request, answer(429, **{"Retry-After": "45"}))
    assert isinstance(retry, Request) and retry.url == URL  # Scrapy's retry, as before
    assert (slot.delay, slot.jitter) == (45.0, 0.0)
    assert middleware.crawler.stats.get_value("caci/retry_after_honoured") == 1

    passed = middleware.process_response(retry, answer(200))
    assert isinstance(passed, Response) and passed.status == 200
    assert (slot.delay, slot.jitter) == (1.0, 0.5)
    assert middleware.held == {}


def test_the_first_delay_is_restored_after_several_holds(tmp_path: Path) -> None:
    middleware, engine = polite(tmp_path)
    slot = engine.slots["www.cacianalyst.org"]
    middleware.process_response(Request(URL), answer(503, **{"Retry-After": "30"}))
    middleware.process_response(Request(URL), answer(503, **{"Retry-After": "10"}))
    assert slot.delay == 30.0  # a shorter request never shortens a held wait
    middleware.process_response(Request(URL), answer(200))
    assert (slot.delay, slot.jitter) == (1.0, 0.5)


def test_a_retry_after_beyond_the_maximum_is_capped(tmp_path: Path) -> None:
    middleware, engine = polite(tmp_path, CACI_RETRY_AFTER_MAX=60)
    middleware.process_response(Request(URL), answer(429, **{"Retry-After": "86400"}))
    assert engine.slots["www.cacianalyst.org"].delay == 60.0


@pytest.mark.parametrize(
    ("status", "meta"),
    [(429, {"dont_retry": True}), (500, {}), (403, {})],
    ids=["dont_retry", "not-pushback", "forbidden"],
)
def test_no_hold_without_a_pushback_to_honour(
    tmp_path: Path, status: int, meta: dict[str, Any]
) -> None:
    middleware, engine = polite(tmp_path)
    middleware.process_response(Request(URL, meta=meta), answer(status, **{"Retry-After": "45"}))
    assert engine.slots["www.cacianalyst.org"].delay == 1.0
    assert middleware.crawler.stats.get_value("caci/retry_after_honoured") is None


def test_a_slot_the_downloader_no_longer_has_is_left_alone(tmp_path: Path) -> None:
    middleware, engine = polite(tmp_path)
    engine.slots.clear()
    other = "https://cacianalyst.org/publications/field-reports/item/1-a.html"
    retry = middleware.process_response(Request(other), answer(429, other, **{"Retry-After": "5"}))
    assert isinstance(retry, Request) and middleware.held == {}


def test_refusals_in_the_window_close_the_spider_as_banned(tmp_path: Path) -> None:
    middleware, engine = polite(tmp_path, CACI_BAN_THRESHOLD=3)
    for status in (403, 200, 429, 200):
        middleware.process_response(Request(URL), answer(status))
    assert not middleware.banned and engine.closed == []
    middleware.process_response(Request(URL), answer(403))
    assert middleware.banned and engine.closed == ["banned"]
    assert middleware.crawler.stats.get_value("caci/banned_after") == 3
    # Not one more request, and not one more answer passed on, while the spider closes.
    with pytest.raises(IgnoreRequest, match="banned"):
        middleware.process_request(Request(URL))
    with pytest.raises(IgnoreRequest, match="banned"):
        middleware.process_response(Request(URL), answer(200))
    assert engine.closed == ["banned"]  # closed once


def test_refusals_that_left_the_window_do_not_count(tmp_path: Path) -> None:
    middleware, engine = polite(tmp_path, CACI_BAN_THRESHOLD=2)  # window of 4 answers
    for status in (403, 200, 200, 200, 403, 200, 200, 200, 403):
        middleware.process_response(Request(URL), answer(status))
    assert middleware.refusals == 1 and not middleware.banned and engine.closed == []


def test_the_live_status_is_what_the_network_answered() -> None:
    middleware = LiveStatusMiddleware()
    request = Request(URL)
    response = answer(304)
    assert middleware.process_response(request, response) is response
    assert request.meta[LIVE_STATUS] == 304

    archived = Request(URL)
    middleware.process_response(archived, Response(URL, status=200, flags=["cached"]))
    assert LIVE_STATUS not in archived.meta

    failed = Request(URL)
    middleware.process_exception(failed, TimeoutError("took too long"))
    assert failed.meta[LIVE_STATUS] == "TimeoutError"


@pytest.mark.parametrize(
    ("live", "fallback"),
    [
        ("ConnectionRefusedError", "the site did not answer (ConnectionRefusedError)"),
        (503, "the site answered HTTP 503"),
        (500, "the site answered HTTP 500"),
        (304, ""),
        (200, ""),
        (404, ""),
        (None, ""),
    ],
)
def test_archive_fallback(live: int | str | None, fallback: str) -> None:
    meta = {} if live is None else {LIVE_STATUS: live}
    expected = f"served from the archive because {fallback}" if fallback else ""
    assert archive_fallback(meta) == expected


def test_retry_after_on_a_503_for_an_archived_page_is_honoured(tmp_path: Path) -> None:
    """The whole downloader chain for one page the archive holds: the site answers 503 with
    Retry-After; the archive does not cover it with its copy, and the crawl waits before the
    next request to that site (README: "Retry-After honoured on 429/503")."""
    spider = build_spider(FieldReportsSpider, tmp_path)
    crawler = spider.crawler
    engine = StandInEngine()
    crawler.engine = engine  # type: ignore[assignment]
    slot = engine.slots["www.cacianalyst.org"] = Slot(concurrency=1, delay=1.0, jitter=0.5)
    archive = HttpCacheMiddleware.from_crawler(crawler)
    archive.spider_opened(spider)
    live, polite = LiveStatusMiddleware(), PoliteRetryMiddleware.from_crawler(crawler)
    listing = "https://www.cacianalyst.org/publications/field-reports.html?start=0"
    first = Request(listing)
    assert archive.process_request(first) is None
    archive.process_response(first, HtmlResponse(listing, body=b"<html></html>", request=first))

    again = Request(listing)
    assert archive.process_request(again) is None  # asked of the site, conditionally
    busy = Response(listing, status=503, headers={"Retry-After": "120"}, request=again)
    served = archive.process_response(again, live.process_response(again, busy))
    assert served is busy and "cached" not in served.flags
    assert again.meta[LIVE_STATUS] == 503
    polite.process_response(again, served)
    assert slot.delay == 120.0


def test_an_http_date_without_a_zone_is_gmt() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 11, 29, 0, 0, 0, tzinfo=UTC).timestamp()
    assert parse_retry_after("Sun, 29 Nov 2026 00:00:10 -0000", now=now) == 10.0
    assert parse_retry_after("Sun, 29 Nov 2026 00:00:10 GMT", now=now) == 10.0
