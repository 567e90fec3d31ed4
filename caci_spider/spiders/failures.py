"""What a failed request says: its request, its HTTP status, a short reason."""

from __future__ import annotations

import re

import scrapy
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

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
