"""The page archive: Scrapy's HTTP cache, used as a store of every good page ever fetched.

* Every 200 response is kept (gzip-compressed, ``HTTPCACHE_DIR``), so that ``-a mode=reparse``
  can rebuild every row after a selector fix with no network traffic.
* Online, nothing is served from the archive unasked: every request goes to the site, carrying
  ``If-None-Match`` / ``If-Modified-Since`` from the archived copy; a 304 answer is served from
  the archive (so ``mode=full`` re-reads unchanged pages without downloading them), and so is a
  5xx answer or a dropped connection (a good copy beats an error page).
* Offline (``CACI_OFFLINE``, set by ``mode=reparse``), the archive is the only source.
"""

from __future__ import annotations

from scrapy.http import Request, Response
from scrapy.settings import BaseSettings


class ArchivePolicy:
    """An ``HTTPCACHE_POLICY`` for Scrapy's ``HttpCacheMiddleware``."""

    def __init__(self, settings: BaseSettings) -> None:
        self.offline = settings.getbool("CACI_OFFLINE")

    def should_cache_request(self, request: Request) -> bool:
        return request.method == "GET"

    def should_cache_response(self, response: Response, request: Request) -> bool:
        return response.status == 200

    def is_cached_response_fresh(self, cachedresponse: Response, request: Request) -> bool:
        if self.offline:
            return True
        etag = cachedresponse.headers.get(b"ETag")
        last_modified = cachedresponse.headers.get(b"Last-Modified")
        if etag:
            request.headers[b"If-None-Match"] = etag
        if last_modified:
            request.headers[b"If-Modified-Since"] = last_modified
        return False

    def is_cached_response_valid(
        self, cachedresponse: Response, response: Response, request: Request
    ) -> bool:
        return response.status == 304 or response.status >= 500
