"""Downloader middleware that keeps the crawl polite when the site pushes back."""

from __future__ import annotations

import logging
import time
from collections import deque
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadConnectionRefusedError,
    DownloadTimeoutError,
    IgnoreRequest,
)
from scrapy.http import Response
from scrapy.utils.defer import deferred_from_coro
from twisted.internet.error import ConnectError, DNSLookupError
from twisted.internet.error import TimeoutError as TwistedTimeoutError

from caci_spider.sources import PROFILES

logger = logging.getLogger(__name__)

# The site asks the crawl to slow down: Retry-After is honoured, and the page archive does not
# cover these answers with its copy (caci_spider.archive).
PUSHBACK_STATUSES = frozenset({429, 503})
_BAN = frozenset({403, 429})


def parse_retry_after(value: bytes | str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:  # "-0000" or no zone: HTTP dates are always GMT
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class PoliteRetryMiddleware(RetryMiddleware):
    """Scrapy's retries, plus two things Scrapy does not do.

    * **Retry-After** on 429 and 503 is honoured: the domain's download slot waits that long
      (at most ``CACI_RETRY_AFTER_MAX`` seconds) before its next request, retry included.
    * **Bans**: once ``CACI_BAN_THRESHOLD`` of the last ``2 × CACI_BAN_THRESHOLD`` answers are
      403/429, the spider is closed with finish reason ``banned`` instead of hammering the site.
    """

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.max_wait = settings.getfloat("CACI_RETRY_AFTER_MAX")
        self.ban_threshold = settings.getint("CACI_BAN_THRESHOLD")
        # Refusals among the last responses: a window, not a streak, because a ban may leave
        # listing pages alone while refusing every item page in between.
        self.recent: deque[bool] = deque(maxlen=2 * self.ban_threshold)
        self.refusals = 0
        self.banned = False
        self.held: dict[str, tuple[float, float]] = {}  # slot key → (delay, jitter) before

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PoliteRetryMiddleware:
        middleware = cls(crawler.settings)
        middleware.crawler = crawler
        return middleware

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        if self.banned:  # not one more request while the spider closes
            raise IgnoreRequest("the site has banned this crawl")

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Request | Response:
        if self.banned:
            raise IgnoreRequest("the site has banned this crawl")
        self._count_refusals(response)
        if response.status in PUSHBACK_STATUSES and not request.meta.get("dont_retry"):
            wait = parse_retry_after(response.headers.get(b"Retry-After"))
            if wait:
                self._hold_slot(request, min(wait, self.max_wait))
        elif response.status < 400:
            self._release_slot(request)
        return super().process_response(request, response)

    def _count_refusals(self, response: Response) -> None:
        self.recent.append(response.status in _BAN)
        self.refusals = sum(self.recent)
        if self.refusals >= self.ban_threshold and not self.banned:
            self.banned = True
            logger.error(
                "%d HTTP 403/429 answers in the last %d responses (last: %s): closing the "
                "spider as banned",
                self.refusals,
                len(self.recent),
                response.url,
            )
            self.crawler.stats.set_value("caci/banned_after", self.refusals)
            deferred_from_coro(self.crawler.engine.close_spider_async(reason="banned"))

    def _slot(self, request: Request) -> tuple[str, Any]:
        downloader = self.crawler.engine.downloader
        key = downloader.get_slot_key(request)
        return key, downloader.slots.get(key)

    def _hold_slot(self, request: Request, wait: float) -> None:
        key, slot = self._slot(request)
        if slot is None:
            return
        self.held.setdefault(key, (slot.delay, slot.jitter))
        # No jitter while held: the wait is a minimum, not an average.
        slot.delay, slot.jitter = max(slot.delay, wait), 0.0
        self.crawler.stats.inc_value("caci/retry_after_honoured")
        logger.info("%s asked to wait %.0f s (Retry-After): holding %s", request.url, wait, key)

    def _release_slot(self, request: Request) -> None:
        key, slot = self._slot(request)
        if key in self.held and slot is not None:
            slot.delay, slot.jitter = self.held.pop(key)


LIVE_STATUS = "caci_live_status"
# Pages the sites served this run (200, or 304: unchanged since the archived copy), robots.txt
# left out: the run line's "read".
PAGES_READ_STAT = "caci/pages/read"


class LiveStatusMiddleware:
    """Notes in ``request.meta`` what the network answered, before the page archive can
    replace it.

    The archive serves its copy on a 304 (the site is up, the page unchanged) and also on a 5xx
    or a failed connection (a good copy beats an error page). The self-check must tell these
    apart: a listing read from the archive because the site is down is not a live listing.
    Sits below ``HttpCacheMiddleware`` (900), so it sees the answer first; in ``mode=reparse``
    nothing reaches the network and nothing is noted.
    """

    def __init__(self, crawler: Crawler | None = None) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LiveStatusMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        # The archive's copy, handed back for a failed connection, passes here too.
        if "cached" not in response.flags:
            request.meta[LIVE_STATUS] = response.status
            stats = self.crawler.stats if self.crawler is not None else None
            page = not request.url.endswith("/robots.txt")
            if stats is not None and page and response.status in (200, 304):
                stats.inc_value(PAGES_READ_STAT)
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        request.meta[LIVE_STATUS] = type(exception).__name__


def archive_fallback(meta: dict[str, Any]) -> str:
    """Why a response came from the archive instead of the site (``""``: it did not)."""
    live = meta.get(LIVE_STATUS)
    if isinstance(live, str):
        return f"served from the archive because the site did not answer ({live})"
    if isinstance(live, int) and live >= 500:
        return f"served from the archive because the site answered HTTP {live}"
    return ""


# Failures that say the host is not there at all (nothing listening, no such name, no answer in
# time), as opposed to a page that fails on a host that works.
CONNECTION_FAILURES = (
    DownloadConnectionRefusedError,
    CannotResolveHostError,
    DownloadTimeoutError,
    ConnectError,
    DNSLookupError,
    TwistedTimeoutError,
)
HOST_DOWN_STAT = "caci/host_down"


class HostDidNotAnswer(IgnoreRequest):
    """A request dropped because its host did not answer earlier in this run."""


class UnansweringHostMiddleware:
    """Stops asking a host that does not answer.

    When a request to a host that has not answered anything in this run fails at the connection
    level (refused, unresolvable, timed out) and its retries are spent, the host is taken to be
    down for the rest of the run: one ERROR line names it, the base-URL settings that point at
    it and the cause, and every other request to it is dropped at once
    (:class:`HostDidNotAnswer`), instead of being retried and covered page by page by the page
    archive. Other hosts go on. A host that answered once is never given up: a page failing
    later is that page's failure. ``caci/host_down/<host>`` holds the cause, for the self-check.

    Sits between the page archive (900) and the network, so that it sees the failure before the
    archive could cover it with its copy.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.retry_times = crawler.settings.getint("RETRY_TIMES")
        self.answered: set[str] = set()
        self.down: dict[str, str] = {}  # host → why

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> UnansweringHostMiddleware:
        return cls(crawler)

    @staticmethod
    def host_of(request: Request) -> str:
        return urlsplit(request.url).netloc.lower()

    def process_request(self, request: Request) -> None:
        host = self.host_of(request)
        if host in self.down:
            raise HostDidNotAnswer(f"{host} did not answer earlier in this run")

    def process_response(self, request: Request, response: Response) -> Response:
        if "cached" not in response.flags:
            self.answered.add(self.host_of(request))
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        host = self.host_of(request)
        if host in self.down and not isinstance(exception, IgnoreRequest):
            raise HostDidNotAnswer(f"{host} did not answer earlier in this run")
        if host in self.answered or not isinstance(exception, CONNECTION_FAILURES):
            return
        limit = request.meta.get("max_retry_times", self.retry_times)
        if not request.meta.get("dont_retry") and request.meta.get("retry_times", 0) < limit:
            return  # Scrapy's retries ask again first
        cause = str(exception).strip().rstrip(".") or type(exception).__name__
        self.down[host] = f"{type(exception).__name__}: {cause}"[:300]
        settings = self.settings_naming(host)
        named = " and ".join(f"{name} ({self.crawler.settings[name]})" for name in settings)
        logger.error(
            "%s did not answer (%s) at %s: the run drops its other requests to it; check that "
            "the site is up and that %s %s at it",
            host, self.down[host], request.url, named or "the base URL setting",
            "point" if len(settings) > 1 else "points",
        )  # fmt: skip
        if self.crawler.stats is not None:
            self.crawler.stats.set_value(f"{HOST_DOWN_STAT}/{host}", self.down[host])
        raise HostDidNotAnswer(f"{host} did not answer ({self.down[host]})")

    def settings_naming(self, host: str) -> list[str]:
        """The base-URL settings whose URL is on ``host``."""
        names = [profile.base_url_setting for profile in PROFILES]
        return [
            name
            for name in dict.fromkeys(names)
            if urlsplit(str(self.crawler.settings.get(name) or "")).netloc.lower() == host
        ]
