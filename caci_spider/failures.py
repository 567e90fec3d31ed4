"""What a failed request says: its request, its HTTP status, a short reason."""

from __future__ import annotations

import re

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from caci_spider.middlewares import HostDidNotAnswer

# IgnoreRequest messages that are decisions, not failures (Scrapy's and ours).
BENIGN_IGNORE = re.compile(r"robots\.txt|not in cache|banned this crawl", re.IGNORECASE)


def failed_request(failure: Failure) -> scrapy.Request:
    """The request an errback's failure is about (Scrapy sets it; Twisted's types omit it)."""
    request: scrapy.Request = failure.request  # type: ignore[attr-defined]
    return request


def http_status(failure: Failure) -> int | None:
    """The status of an error answer (``HttpError``), else ``None``."""
    error = failure.value
    return error.response.status if isinstance(error, HttpError) else None


def failure_name(failure: Failure) -> str:
    return type(failure.value).__name__


def failure_reason(failure: Failure) -> str:
    """A short reason: ``HTTP 404``, or what the request failed of (``Forbidden by robots.txt``,
    ``DownloadConnectionRefusedError``)."""
    code = http_status(failure)
    if code is not None:
        return f"HTTP {code}"
    message = failure.getErrorMessage().strip()
    return message[:60] if message and len(message) <= 60 else failure_name(failure)


def status_text(failure: Failure) -> str:
    """The failure as an item page's tally counts it."""
    if failure.check(HostDidNotAnswer):
        return "its host did not answer"
    return failure_reason(failure)


def first_listing_failure(failure: Failure) -> str:
    """Why the first listing page could not be read (``ListingWalk.first_failure``)."""
    code = http_status(failure)
    if code is not None:
        return f"answered HTTP {code}"
    return f"could not be fetched ({failure_name(failure)}: {failure.getErrorMessage()[:200]})"


def left_unread(failure: Failure) -> bool:
    """Whether the site gave nothing for the page: no connection, dropped because its host did
    not answer, forbidden by robots.txt, not in the archive (not an error answer)."""
    return http_status(failure) is None and bool(
        not failure.check(IgnoreRequest)
        or failure.check(HostDidNotAnswer)
        or BENIGN_IGNORE.search(failure.getErrorMessage())
    )


def reject_of(failure: Failure) -> tuple[str, str, str | None]:
    """What a failed page becomes: ``("dropped" | "ignored", "", None)`` (no reject), or
    ``("reject", reason, raw)``."""
    if failure.check(HostDidNotAnswer):
        # Not this page's failure: the host's, said once (caci_spider.middlewares).
        return "dropped", "", None
    status = http_status(failure)
    if status is not None:
        return "reject", f"HTTP {status}", None
    if failure.check(IgnoreRequest) and BENIGN_IGNORE.search(failure.getErrorMessage()):
        # Not a failure of the site: robots.txt, a ban already recorded, or (reparse) a page
        # the archive does not hold. (HttpError is an IgnoreRequest: tested first.)
        return "ignored", "", None
    if failure.check(IgnoreRequest):
        # A redirect loop, a redirect off the configured hosts, a bad encoding: the page cannot
        # be had, which is a reject like any other.
        return "reject", f"not fetched: {failure.getErrorMessage()}"[:200], None
    # A short category as the reason (it names a stats counter); the details go to raw.
    return "reject", f"fetch failed: {failure_name(failure)}", failure.getErrorMessage()[:1000]


def page_problem(response: Response) -> str:
    """Why an item page cannot be read at all (``""``: it can)."""
    if not isinstance(response, TextResponse):
        return "item is not a text page"
    if not response.body.strip():
        return "empty page"
    if response.body.rfind(b"</html", -4096) < 0 and b"</HTML" not in response.body[-4096:]:
        # Every K2 page ends with </html>: without it the server stopped mid-page, and the text
        # would be a cut-off copy.
        return "truncated page: no closing </html>"
    return ""
