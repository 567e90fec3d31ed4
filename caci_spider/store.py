"""The crawl's database, owned by one extension: :class:`DatabaseStore`.

As kingfisher-collect's storage extension does, one component owns the connection, the lock and
the run: it holds ``<database>.lock`` from the moment the crawler is built, opens the database
on first use, starts the run's ``crawl_runs`` row when the spider opens and closes the database
when the engine stops. Pipelines, spiders, the page archive, the feed exporter and the run
recorder find it with :func:`store_of` (``crawler.get_extension``); none of them imports
another component to reach it. It also holds the run's ledger (:func:`ledger_of`,
:mod:`caci_spider.ledger`): the store owns the run, so it owns what the run learns.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider

from caci_spider import __version__
from caci_spider.items import Reject, utc_now
from caci_spider.ledger import RunLedger, RunPlan
from caci_spider.locking import lock_database
from caci_spider.paths import PACKAGE_DIR, archive_dir, database_path, export_dir
from caci_spider.records import open_database
from caci_spider.storage import PUBLICATIONS, PublicationsDatabase

logger = logging.getLogger(__name__)


class DatabaseStore:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.path = database_path(settings)
        self.backoff_max_days = settings.getint("CACI_REJECT_BACKOFF_MAX_DAYS")
        # Taken before Scrapy starts by the crawl command's preflight; taken here for any
        # other runner (the same process finds its own lock again).
        self.lock = lock_database(self.path)
        self._database: PublicationsDatabase | None = None
        self.run_id: int | None = None
        self.started_at: str | None = None  # the run's start (crawl_runs.started_at)
        self.first_crawl = False
        self.write_errors: list[str] = []
        # Exports the run could not write, as "path (error)": each kept its previous file
        # (storage.write_jsonl_atomic) and the run's self-check fails.
        self.export_errors: list[str] = []
        # Stored items refetched with another stored item's body (see storage.store_report).
        self.refetch_clashes: list[str] = []
        # Everything the run learns (caci_spider.ledger), found with ledger_of(crawler).
        self.ledger = RunLedger()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DatabaseStore:
        store = cls(crawler)
        crawler.signals.connect(store.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(store.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(store.engine_stopped, signal=signals.engine_stopped)
        return store

    @property
    def database(self) -> PublicationsDatabase:
        if self._database is None:
            self._database = open_database(self.path)
        return self._database

    def spider_opened(self, spider: Spider) -> None:
        ledger = self.ledger
        if not ledger.planned:
            ledger.adopt(RunPlan.of(spider))
        # Scrapy's SpiderState (built before this extension) put the JOBDIR's state there.
        state = vars(spider).get("state")
        if isinstance(state, dict):
            ledger.keep_in(state)
        table = ledger.plan.export_table
        if not table:
            return
        settings = self.crawler.settings
        logger.info(
            "%s: caci_spider %s from %s; database %s, exports in %s, page archive in %s",
            spider.name, __version__, PACKAGE_DIR, self.path, export_dir(settings),
            archive_dir(settings),
        )  # fmt: skip
        try:
            self.first_crawl = self.stored_rows_of(ledger.plan) == 0
            self.count_rows_at_start(ledger)
            self.started_at = utc_now()
            self.run_id = self.database.start_run(spider.name, ledger.plan.mode, self.started_at)
        except sqlite3.Error as error:
            logger.error("The database %s cannot be written (%s)", self.path, error)
            # Raised from a spider_opened handler: Scrapy closes the spider before any request.
            raise CloseSpider("database_unavailable") from error

    def count_rows_at_start(self, ledger: RunLedger) -> None:
        """Each target's stored rows when the run began (a resumed run keeps its own)."""
        rows = ledger.section_rows_at_start
        if ledger.plan.export_table == PUBLICATIONS and not rows:
            for target in ledger.plan.targets:
                rows[target.key] = self.database.count_publications(target.site, target.category)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        """Resolve the earlier rejects of the pages read live; a finished run's item requests
        that never got an answer are rejects (a stopped run resumes them: not lost)."""
        ledger = self.ledger
        self.resolve_read_pages(ledger.pages_read_live)
        if reason != "finished":
            return
        # Every item request ends in its callback or errback, except when Scrapy drops its
        # redirect silently (an off-site target, or one the dupefilter has seen): a reject too.
        site_of_url = ledger.plan.site_of if ledger.plan.export_table == PUBLICATIONS else None
        for url in ledger.unanswered.values():
            reason_text = (
                "dropped without an answer: a redirect loop, or a redirect off the configured hosts"
            )
            site = site_of_url(url) if site_of_url else None
            self.record_reject(Reject(spider.name, url, reason_text, utc_now(), site=site))

    def stored_rows_of(self, plan: RunPlan) -> int:
        """The rows the spider's crawls stored: of its sections (``crawled_sections``) for a
        spider of publications, else of its whole table. None yet: a first crawl."""
        table, sections = plan.export_table, plan.crawled_sections
        if table != PUBLICATIONS or not sections:
            return self.database.count(table)
        return sum(
            self.database.count_publications(profile.key, section.category)
            for profile, section in sections
        )

    def engine_stopped(self) -> None:
        if self._database is not None:
            self._database.close()
            self._database = None

    def write_failed(self, url: str, error: sqlite3.Error) -> None:
        """A write the database refused (locked by another program, disk full): counted, and
        a failed self-check (:mod:`caci_spider.selfcheck`), never lost silently."""
        self.write_errors.append(f"{url}: {error}")
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value("caci/store_errors")
        # A WARNING: the self-check's one ERROR line says it for the run, with the first one.
        logger.warning("Could not write %s to %s: %s", url, self.path, error)

    def export_failed(self, path: Path, error: Exception) -> None:
        """An export that could not be written (disk full, a directory where the file goes):
        its previous file stays; counted, and a failed self-check."""
        self.export_errors.append(f"{path} ({error_text(error)})")
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value("caci/export_errors")
        logger.warning(
            "Could not write %s (%s): its previous file is kept", path, error_text(error)
        )

    def record_reject(self, reject: Reject) -> None:
        """Into ``rejects`` (with its backoff), counted in the stats, logged once."""
        try:
            self.database.record_reject(reject, self.backoff_max_days, self.started_at)
        except sqlite3.Error as error:
            self.write_failed(reject.url, error)
        self.ledger.note_reject(reject)  # per section, for crawl_runs.sections
        stats = self.crawler.stats
        if stats is not None:
            stats.inc_value("caci/rejected")
            stats.inc_value(f"caci/rejected/{reject.reason}")
        logger.warning("Rejected %s: %s", reject.url, reject.reason)

    def resolve_read_pages(self, urls: set[str]) -> None:
        """Resolve the earlier rejects of the pages this run read fine (:meth:`PublicationsDatabase.
        resolve_read_pages`)."""
        if self.started_at is None or not urls:
            return
        try:
            resolved = self.database.resolve_read_pages(sorted(urls), self.started_at, utc_now())
        except sqlite3.Error as error:
            self.write_failed("rejects of the pages read", error)
            return
        if resolved and self.crawler.stats is not None:
            self.crawler.stats.set_value("caci/rejects_resolved", resolved)


def error_text(error: BaseException) -> str:
    """An OS error as ``[Errno 28] No space left on device``, without the file names its
    ``str`` repeats (the caller names the file); any other error as its message."""
    if isinstance(error, OSError) and error.strerror:
        return f"[Errno {error.errno}] {error.strerror}"
    return str(error) or type(error).__name__


def store_of(crawler: Crawler) -> DatabaseStore:
    store = crawler.get_extension(DatabaseStore)
    if store is None:
        raise RuntimeError("caci_spider.store.DatabaseStore is not enabled in EXTENSIONS")
    return store


def ledger_of(crawler: Crawler) -> RunLedger:
    """The run's ledger (:mod:`caci_spider.ledger`), held by the store: the one owner of the
    run. Its plan is the crawler's spider's, taken at first use."""
    ledger = store_of(crawler).ledger
    if not ledger.planned and crawler.spider is not None:
        ledger.adopt(RunPlan.of(crawler.spider))
    return ledger
