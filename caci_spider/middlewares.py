"""Downloader middleware that keeps the crawl polite when the site pushes back."""

from __future__ import annotations

import logging
import time
from collections import deque
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.utils.defer import deferred_from_coro

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


class LiveStatusMiddleware:
    """Notes in ``request.meta`` what the network answered, before the page archive can
    replace it.

    The archive serves its copy on a 304 (the site is up, the page unchanged) and also on a 5xx
    or a failed connection (a good copy beats an error page). The self-check must tell these
    apart: a listing read from the archive because the site is down is not a live listing.
    Sits below ``HttpCacheMiddleware`` (900), so it sees the answer first; in ``mode=reparse``
    nothing reaches the network and nothing is noted.
    """

    def process_response(self, request: Request, response: Response) -> Response:
        # The archive's copy, handed back for a failed connection, passes here too.
        if "cached" not in response.flags:
            request.meta[LIVE_STATUS] = response.status
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        request.meta[LIVE_STATUS] = type(exception).__name__


def archive_fallback(meta: dict[str, Any]) -> str:
    """Why a response came from the archive instead of the site (``""``: it did not)."""
    live = meta.get(LIVE_STATUS)
    if isinstance(live, str):
        return f"could not be fetched ({live}); the page archive's copy was used"
    if isinstance(live, int) and live >= 500:
        return f"answered HTTP {live}; the page archive's copy was used"
    return ""
