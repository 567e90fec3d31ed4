"""The page archive: Scrapy's HTTP cache, used as a store of every good page ever fetched.

* Every 200 response is kept (:class:`SqliteArchiveStorage`, one file per spider under
  ``HTTPCACHE_DIR``), so that ``-a mode=reparse`` can rebuild every row after a selector fix
  with no network traffic.
* Online, nothing is served from the archive unasked: every request goes to the site, carrying
  ``If-None-Match`` / ``If-Modified-Since`` from the archived copy; a 304 answer is served from
  the archive (so ``mode=full`` re-reads unchanged pages without downloading them), and so is a
  5xx answer or a dropped connection (a good copy beats an error page).
* Offline (``CACI_OFFLINE``, set by ``mode=reparse``), the archive is the only source; online,
  so it is for one request whose ``meta`` sets :data:`ARCHIVED_ONLY` (a row read again after an
  upgrade of the page rules): a page the archive lacks is then not fetched
  (``IgnoreRequest``), never asked of the site.

Which archive a spider reads: its own file, ``<HTTPCACHE_DIR>/<spider>.sqlite`` (``-a
mode=reparse`` of ``field_reports`` reads ``field_reports.sqlite``, of ``publications``
``publications.sqlite``) and, offline, the files of the other spiders that crawl its sections
(:func:`sister_archives`: a section spider also reads ``publications.sqlite``; ``publications``
also reads each section spider's file), read-only, for a page its own file lacks. So a reparse
rebuilds every row whichever spider fetched its pages. A page is found by its request's
fingerprint (its URL), and a URL names its site: the row it becomes is keyed by the site and id
the spider reads from it (``(site, id)``, as a crawl keys it), nothing else is needed to map
an archived page back to its row.
"""

from __future__ import annotations

import logging
import sqlite3
import time
import zlib
from pathlib import Path

from scrapy import Spider
from scrapy.downloadermiddlewares.httpcache import HttpCacheMiddleware
from scrapy.exceptions import CloseSpider, IgnoreRequest
from scrapy.http import Headers, Request, Response
from scrapy.responsetypes import responsetypes
from scrapy.settings import BaseSettings
from w3lib.http import headers_dict_to_raw, headers_raw_to_dict

from caci_spider.items import Reject, utc_now
from caci_spider.ledger import RunPlan
from caci_spider.middlewares import PUSHBACK_STATUSES
from caci_spider.paths import archive_dir
from caci_spider.sources import sister_spiders
from caci_spider.storage import upsert_sql
from caci_spider.store import store_of

logger = logging.getLogger(__name__)

# Pages the archive could not store, and the first of them ("<archive>: <url>: <error>"): the
# run's self-check fails on them (caci_spider.extensions).
STORE_ERRORS_STAT = "caci/archive/store_errors"
FIRST_STORE_ERROR_STAT = "caci/archive/first_store_error"

# ``request.meta`` key: serve this request from the archive (its own file or a sister's), never
# from the network.
ARCHIVED_ONLY = "caci_archived_only"


def sister_archives(spider: Spider) -> list[str]:
    """The other spiders whose archives hold pages of ``spider``'s publications sections: each
    of its sections' own spider, and the spider of every section; none for a spider of another
    table (staff publications)."""
    plan = RunPlan.of(spider)  # the spider's declared sections (the archive may run alone)
    if plan.export_table != "publications":
        return []
    crawled = tuple(section for _profile, section in plan.crawled_sections)
    return list(sister_spiders(spider.name, crawled))


class ArchivePolicy:
    """An ``HTTPCACHE_POLICY`` for Scrapy's ``HttpCacheMiddleware``."""

    def __init__(self, settings: BaseSettings) -> None:
        self.offline = settings.getbool("CACI_OFFLINE")
        self.retry_times = settings.getint("RETRY_TIMES")

    def retries_left(self, request: Request) -> bool:
        """Whether Scrapy's retries will ask the site again: only then is an error answer not
        covered by the archived copy yet (one 500 must not stand for the site's state)."""
        limit = request.meta.get("max_retry_times", self.retry_times)
        return not request.meta.get("dont_retry") and request.meta.get("retry_times", 0) < limit

    def should_cache_request(self, request: Request) -> bool:
        return request.method == "GET"

    def should_cache_response(self, response: Response, request: Request) -> bool:
        return response.status == 200

    def is_cached_response_fresh(self, cachedresponse: Response, request: Request) -> bool:
        if self.offline or request.meta.get(ARCHIVED_ONLY):
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
        # A 429 or 503 is the site pushing back: it goes on to the retry middleware, which
        # waits for its Retry-After, instead of being covered by the archived copy.
        if response.status in PUSHBACK_STATUSES:
            return False
        if response.status >= 500:
            return not self.retries_left(request)
        return response.status == 304


class ArchiveMiddleware(HttpCacheMiddleware):
    """Scrapy's ``HttpCacheMiddleware``, except that a failed connection is covered by the
    archived copy only once Scrapy's retries are spent, as error answers are (ArchivePolicy)."""

    policy: ArchivePolicy

    def process_request(  # type: ignore[override]
        self, request: Request
    ) -> Request | Response | None:
        response = super().process_request(request)
        if response is None and request.meta.get(ARCHIVED_ONLY):
            # The benign "not in cache" of offline runs: the row waits for its next fetch.
            raise IgnoreRequest(f"Ignored request not in cache: {request}")
        return response

    def process_exception(  # type: ignore[override]
        self, request: Request, exception: Exception
    ) -> Request | Response | None:
        if isinstance(self.policy, ArchivePolicy) and self.policy.retries_left(request):
            request.meta.pop("cached_response", None)
            return None
        return super().process_exception(request, exception)


class ArchiveUnavailable(Exception):
    """The archive file cannot serve this crawl (unopenable, read-only, someone else's table)."""


class SqliteArchiveStorage:
    """An ``HTTPCACHE_STORAGE``: the archive as one SQLite file per spider,
    ``<HTTPCACHE_DIR>/<spider>.sqlite``, one row per request fingerprint.

    Scrapy's ``FilesystemCacheStorage`` writes a directory and seven files per page (tens of
    thousands of files for one category, and the dearest part of a crawl after extraction);
    ``DbmCacheStorage`` depends on which ``dbm`` backend the machine has and pickles. Here a page
    is one row: status, URLs, raw headers and the zlib-compressed body, committed at once in WAL
    mode with ``synchronous=NORMAL`` (a killed crawl loses nothing it stored; only an operating
    system crash can lose the last pages). Readable with any SQLite client:
    ``SELECT url, status, stored_at FROM pages``.

    Trouble with the archive never costs a page:

    * a damaged row is a page the archive does not have (fetched again; offline, a reject
      ``archived copy unreadable``);
    * a page that cannot be stored (disk full, a lock held too long) is logged and counted
      (``caci/archive/store_errors``) and still goes on to the spider; the run's self-check
      fails, naming the archive and the first error;
    * a damaged file (not a database, or malformed pages found while crawling) is moved aside
      (``….damaged-<time>``, with its WAL files) and a new one begun;
    * a file that cannot serve the crawl (cannot be opened or written, holds a ``pages`` table
      of another shape, or is missing or empty in offline ``mode=reparse``) closes the crawl with
      reason ``archive_unavailable`` before it fetches anything.
    """

    # zlib's fastest level: on a page of ~11 KiB it costs ~0.12 ms instead of ~0.2 ms at the
    # default 6, for ~8 % more bytes. Any level reads back with zlib.decompress, so archives
    # written before keep working.
    COMPRESSION_LEVEL = 1
    BUSY_TIMEOUT_S = 10.0  # as the crawl's database: wait out a reader rather than fail

    def __init__(self, settings: BaseSettings) -> None:
        self.archive_dir = archive_dir(settings)
        self.archive_dir.mkdir(parents=True, exist_ok=True)
        self.expiration_secs = settings.getint("HTTPCACHE_EXPIRATION_SECS")
        self.offline = settings.getbool("CACI_OFFLINE")
        self.connection: sqlite3.Connection | None = None
        self.path: Path | None = None
        self.recovered = False
        # Offline: the archives of the spiders that crawl the same sections, read-only.
        self.sisters: list[sqlite3.Connection] = []

    def path_for(self, spider_name: str) -> Path:
        return self.archive_dir / f"{spider_name}.sqlite"

    def open_spider(self, spider: Spider) -> None:
        self._fingerprinter = spider.crawler.request_fingerprinter
        self._stats = spider.crawler.stats
        self.path = self.path_for(spider.name)
        try:
            # Online, read only for ARCHIVED_ONLY requests.
            self.sisters = self._open_sisters(sister_archives(spider))
            if not (self.offline and self.sisters and not self.path.exists()):
                self.connection = self._open(self.path)
            if self.offline and not self._has_pages():
                raise ArchiveUnavailable("it holds no page to reparse")
        except (ArchiveUnavailable, sqlite3.Error, OSError) as error:
            logger.error("The page archive %s cannot serve this crawl (%s)", self.path, error)
            self.close_spider(spider)
            # Raised from a spider_opened handler: Scrapy closes the spider before any request.
            raise CloseSpider("archive_unavailable") from error

    def _open(self, path: Path) -> sqlite3.Connection:
        if self.offline and not path.exists():
            raise ArchiveUnavailable("no archive file")  # and do not leave an empty one behind
        try:
            return self._connect(path)
        except sqlite3.DatabaseError as error:
            if not _is_damage(error):
                raise  # locked, unreadable, read-only: nothing to move aside
            self._set_aside(path, error)
            return self._connect(path)

    def _connect(self, path: Path) -> sqlite3.Connection:
        # Autocommit: every statement is its own transaction.
        connection = sqlite3.connect(path, isolation_level=None, timeout=self.BUSY_TIMEOUT_S)
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute(_CREATE_PAGES)
            columns = tuple(row[1] for row in connection.execute("PRAGMA table_info(pages)"))
            if columns != tuple(_PAGE_COLUMNS):
                raise ArchiveUnavailable(f"its pages table has other columns: {columns}")
            # A write that changes nothing: a read-only file fails here, not on every page.
            (version,) = connection.execute("PRAGMA user_version").fetchone()
            connection.execute(f"PRAGMA user_version = {int(version)}")
        except (ArchiveUnavailable, sqlite3.Error):
            connection.close()
            raise
        return connection

    def _has_pages(self) -> bool:
        connections = [c for c in (self.connection, *self.sisters) if c is not None]
        return any(
            c.execute("SELECT 1 FROM pages LIMIT 1").fetchone() is not None for c in connections
        )

    def _open_sisters(self, names: list[str]) -> list[sqlite3.Connection]:
        """Read-only connections to the sister archives that exist and can be read."""
        sisters = []
        for name in names:
            path = self.path_for(name)
            if not path.exists():
                continue
            try:
                connection = sqlite3.connect(
                    f"{path.as_uri()}?mode=ro", uri=True, timeout=self.BUSY_TIMEOUT_S
                )
                columns = tuple(row[1] for row in connection.execute("PRAGMA table_info(pages)"))
            except sqlite3.Error as error:
                logger.warning("The page archive %s cannot be read (%s): not used", path, error)
                continue
            if columns != tuple(_PAGE_COLUMNS):
                connection.close()
                logger.warning("The page archive %s holds no pages table: not used", path)
                continue
            sisters.append(connection)
        return sisters

    def _set_aside(self, path: Path, error: Exception) -> None:
        damaged = _move_aside(path)
        logger.error(
            "The page archive %s is damaged (%s): moved to %s, starting a new one",
            path, error, damaged,
        )  # fmt: skip
        self._stats.inc_value("caci/archive/damaged_files")

    def _damaged(self, error: sqlite3.Error) -> bool:
        """After a failed read or write: set a damaged file aside and begin a new one (once a
        crawl). True when the archive is usable again."""
        if not _is_damage(error) or self.recovered or self.path is None:
            return False  # a lock, a full disk: not damage
        self.recovered = True
        if self.connection is not None:
            self.connection.close()
            self.connection = None
        try:
            self._set_aside(self.path, error)
            self.connection = self._connect(self.path)
        except (ArchiveUnavailable, sqlite3.Error, OSError) as reopen_error:
            logger.error("The page archive cannot be reopened (%s)", reopen_error)
            return False
        return True

    def close_spider(self, spider: Spider) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None
        for sister in self.sisters:
            sister.close()
        self.sisters = []

    def retrieve_response(self, spider: Spider, request: Request) -> Response | None:
        if self.connection is None and not self.sisters:
            return None
        fingerprint = self._fingerprinter.fingerprint(request).hex()
        row = None
        if self.connection is not None:
            try:
                row = self.connection.execute(_SELECT_PAGE, (fingerprint,)).fetchone()
            except sqlite3.Error as error:
                logger.warning("The page archive cannot be read for %s (%s)", request.url, error)
                self._damaged(error)
                return None
        sisters = self.sisters if self.offline or request.meta.get(ARCHIVED_ONLY) else []
        for sister in sisters:
            try:
                found = sister.execute(_SELECT_PAGE, (fingerprint,)).fetchone()
            except sqlite3.Error as error:
                logger.warning("A sister archive cannot be read for %s (%s)", request.url, error)
                continue
            # The newest copy wins, whichever archive holds it: a page another spider of the
            # same section fetched again later is what the site said last.
            if found is not None and (row is None or found[-1] > row[-1]):
                row = found
        if row is None:
            return None
        status, response_url, raw_headers, body, stored_at = row
        if 0 < self.expiration_secs < time.time() - stored_at:
            return None
        try:
            body = zlib.decompress(body)
        except zlib.error as error:
            # A damaged row is a page we do not have: fetch it again rather than fail the request.
            logger.warning("Archived copy of %s is unreadable (%s)", request.url, error)
            if self.offline:  # nothing to fetch it from: say so
                reject = Reject(spider.name, request.url, "archived copy unreadable", utc_now())
                store_of(spider.crawler).record_reject(reject)
            return None
        request.meta["cache_timestamp"] = stored_at
        headers = Headers(headers_raw_to_dict(raw_headers))
        # As the downloader does: headers and URL first, the body where they do not decide.
        response_class = responsetypes.from_args(headers=headers, url=response_url, body=body)
        return response_class(url=response_url, status=status, headers=headers, body=body)

    def store_response(self, spider: Spider, request: Request, response: Response) -> None:
        row = (
            self._fingerprinter.fingerprint(request).hex(),
            request.url,
            request.method,
            response.status,
            response.url,
            headers_dict_to_raw(response.headers),
            zlib.compress(response.body, self.COMPRESSION_LEVEL),
            time.time(),
        )
        failure = "the archive could not be started again after damage"
        for _attempt in range(2):  # once more in a new file after setting a damaged one aside
            if self.connection is None:
                break
            try:
                self.connection.execute(_INSERT_PAGE, row)
                return
            except sqlite3.Error as error:
                failure = str(error)
                if not self._damaged(error):
                    # The page still reaches the spider and the database: only its archive copy
                    # is lost. The self-check's ERROR line says it for the run.
                    logger.warning("Could not archive %s (%s)", request.url, error)
                    break
        self._stats.inc_value(STORE_ERRORS_STAT)
        if self._stats.get_value(FIRST_STORE_ERROR_STAT) is None:
            self._stats.set_value(FIRST_STORE_ERROR_STAT, f"{self.path}: {request.url}: {failure}")


_PAGE_COLUMNS = {
    "fingerprint": "TEXT PRIMARY KEY",
    "url": "TEXT NOT NULL",
    "method": "TEXT NOT NULL",
    "status": "INTEGER NOT NULL",
    "response_url": "TEXT NOT NULL",
    "headers": "BLOB NOT NULL",
    "body": "BLOB NOT NULL",
    "stored_at": "REAL NOT NULL",
}
_CREATE_PAGES = "CREATE TABLE IF NOT EXISTS pages ({})".format(
    ", ".join(f"{name} {kind}" for name, kind in _PAGE_COLUMNS.items())
)
_INSERT_PAGE = upsert_sql("pages", tuple(_PAGE_COLUMNS), ("fingerprint",))
_SELECT_PAGE = (
    "SELECT status, response_url, headers, body, stored_at FROM pages WHERE fingerprint = ?"
)


def _is_damage(error: sqlite3.Error) -> bool:
    """SQLite's own class for "file is not a database" and "disk image is malformed"; its
    subclasses are locks, constraints and misuse, which moving the file would not mend."""
    return type(error) is sqlite3.DatabaseError


def _move_aside(path: Path) -> Path:
    """Rename a damaged database file (and its WAL files) out of the way; returns the new name."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    target = path.with_name(f"{path.name}.damaged-{stamp}")
    for suffix in ("", "-wal", "-shm"):
        companion = path.with_name(path.name + suffix)
        if companion.exists():
            companion.rename(target.with_name(target.name + suffix))
    return target
