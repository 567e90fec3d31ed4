"""Every run recorded in ``crawl_runs``, judged by the self-check (:mod:`caci_spider.selfcheck`).

A small extension rather than Spidermon: the checks are a few thresholds over what the spider
and the pipelines already keep, and a scheduler only needs an ERROR line and a non-zero exit
status (see :mod:`caci_spider.commands.crawl`); Spidermon would add a framework, its own
settings and reporting stack for that.

The run's counts are taken once, from the rows (:meth:`CaciDatabase.run_counts`), and written
alike to ``crawl_runs``, to Scrapy's stats and to the closing log line.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler

from caci_spider import settings as default_settings
from caci_spider.items import utc_now
from caci_spider.jobdir import leave_jobdir, prepare_jobdir
from caci_spider.preflight import is_loopback
from caci_spider.selfcheck import (
    ItemFetches,
    ListingWalk,
    QualityRejects,
    RefetchedFields,
    RepeatedParagraphs,
    SectionSource,
    canary_problems,
    coverage_of,
    coverage_problems,
    end_problems,
    finished_normally,
    item_problems,
    listing_problems,
    quality_problems,
    repeated_problems,
    vanished_problems,
    write_problems,
)
from caci_spider.store import DatabaseStore, store_of

logger = logging.getLogger(__name__)

SELF_CHECK_STAT = "caci/self_check"
# A run that stored fewer items than this also looks its edge paragraphs up in the stored rows.
_LOOKUP_BELOW_ITEMS = 20
COVERAGE_STAT = "caci/coverage"


class CrawlRunRecorder:
    """Fills the run's ``crawl_runs`` row (started by :class:`DatabaseStore`) and fails the
    self-check when the site changed."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.min_items = settings.getint("CACI_COVERAGE_MIN_ITEMS")
        self.min_share = settings.getfloat("CACI_LISTING_MIN_SHARE")
        self.vanished_max_share = settings.getfloat("CACI_VANISHED_MAX_SHARE")
        self.repeated_min_items = settings.getint("CACI_REPEATED_PARAGRAPH_ITEMS")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlRunRecorder:
        recorder = cls(crawler)
        crawler.signals.connect(recorder.spider_closed, signal=signals.spider_closed)
        return recorder

    def spider_closed(self, spider: Spider, reason: str) -> None:
        store = store_of(self.crawler)
        if store.run_id is None:
            return
        try:
            self.judge(spider, reason, store)
        except Exception:
            # The verdict must not be lost with the recorder: the exit status says failed.
            self.crawler.stats.set_value(SELF_CHECK_STAT, "failed")
            logger.exception("Self-check failed for %s: the run could not be judged", spider.name)

    def repeated_paragraphs(self, spider: Spider, store: DatabaseStore) -> RepeatedParagraphs:
        """This run's edge paragraphs, with the stored rows that hold them too when the run
        stored few items (a full crawl sees the repetition among its own items; a night with
        one new item only against the stored rows)."""
        repeated: RepeatedParagraphs = getattr(spider, "repeated_paragraphs", RepeatedParagraphs())
        if self.repeated_min_items <= 0 or repeated.items >= _LOOKUP_BELOW_ITEMS:
            return repeated
        for line, urls in list(repeated.holders.items()):
            if len(urls) < self.repeated_min_items:
                repeated.add(
                    line, store.database.publications_holding(line, self.repeated_min_items)
                )
        return repeated

    def judge(self, spider: Spider, reason: str, store: DatabaseStore) -> None:
        stats = self.crawler.stats
        database = store.database
        run_id = store.run_id
        assert run_id is not None  # spider_closed judges only a started run
        counts = database.run_counts(run_id)
        rejected = stats.get_value("caci/rejected", 0)
        for outcome in ("new", "updated", "unchanged"):
            stats.set_value(f"caci/items/{outcome}", counts[outcome])
        stats.set_value("caci/duplicates", counts["duplicate"])

        values = stats.get_stats()
        fields = tuple(getattr(spider, "coverage_fields", ()))
        coverage = coverage_of(values, fields, COVERAGE_STAT)
        walk: ListingWalk = getattr(spider, "listing_walk", ListingWalk())
        sources: dict[str, SectionSource] = dict(getattr(spider, "sources", {}))
        walk_problems = listing_problems(
            walk,
            database.previous_listing_entries(spider.name, run_id),
            self.min_share,
            finished=finished_normally(reason),
        )
        canaries = list(getattr(spider, "canary_results", []))
        stored = counts["new"] + counts["updated"] + counts["unchanged"]
        problems = [
            *end_problems(reason, store.first_crawl, stored),
            *walk_problems,
            *canary_problems(canaries),
            *quality_problems(getattr(spider, "quality_rejects", QualityRejects())),
            *repeated_problems(self.repeated_paragraphs(spider, store), self.repeated_min_items),
            *vanished_problems(
                getattr(spider, "refetched_fields", RefetchedFields()), self.vanished_max_share
            ),
            *item_problems(getattr(spider, "item_fetches", ItemFetches())),
            *getattr(spider, "source_problems", []),
            *write_problems(store.write_errors, store.refetch_clashes),
            *coverage_problems(
                coverage,
                dict(getattr(spider, "coverage_minimums", {})),
                sample=values.get(f"{COVERAGE_STAT}/items", 0),
                min_sample=self.min_items,
            ),
        ]
        for problem in problems:
            logger.error("Self-check failed for %s: %s", spider.name, problem)
        verdict = "failed" if problems else "ok"
        stats.set_value(SELF_CHECK_STAT, verdict)
        logger.info(
            "Run %d of %s: %d new, %d updated, %d unchanged, %d duplicate, %d rejected; "
            "self-check %s",
            run_id, spider.name, counts["new"], counts["updated"], counts["unchanged"],
            counts["duplicate"], rejected, verdict,
        )  # fmt: skip
        prefix = "downloader/response_status_count/"
        run: dict[str, Any] = {
            "finished_at": utc_now(),
            "finish_reason": reason,
            "requests": values.get("downloader/request_count", 0),
            "responses_by_status": {
                key.removeprefix(prefix): value
                for key, value in sorted(values.items())
                if key.startswith(prefix)
            },
            "items_new": counts["new"],
            "items_updated": counts["updated"],
            "items_unchanged": counts["unchanged"],
            "items_rejected": rejected,
            "items_duplicate": counts["duplicate"],
            "coverage": coverage,
            "self_check": verdict,
            "problems": problems,
            "listing_pages": walk.pages,
            "listing_entries": walk.entries,
            "canaries": [canary.as_record() for canary in canaries],
            "sources": {name: source.as_record() for name, source in sources.items()},
        }
        try:
            if database.count(getattr(spider, "export_table", "")):
                database.record_sites(
                    {
                        name: self.crawler.settings[name]
                        for name in getattr(spider, "site_settings", ())
                    },
                    utc_now(),
                )
            database.finish_run(run_id, run)
            if finished_normally(reason) and walk.pages and not walk_problems:
                # A complete walk: the next feed-first nights count their days from it.
                for section, source in sources.items():
                    if source.source == "listing":
                        database.record_listing_walk(
                            spider.name, section, run_id, utc_now(), walk.entries
                        )
        except sqlite3.Error as error:
            store.write_failed(f"crawl_runs row {run_id}", error)
            stats.set_value(SELF_CHECK_STAT, "failed")


class JobDirMarks:
    """Marks a ``JOBDIR`` as in use, spent or resumable (:mod:`caci_spider.jobdir`).

    Built with the crawler's extensions, after the spider and before Scrapy's scheduler and
    ``SpiderState`` open the ``JOBDIR``: a killed or spent one is cleared in time.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.jobdir: str | None = crawler.settings.get("JOBDIR")
        prepare_jobdir(self.jobdir)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> JobDirMarks:
        marks = cls(crawler)
        crawler.signals.connect(marks.spider_closed, signal=signals.spider_closed)
        return marks

    def spider_closed(self, spider: Spider, reason: str) -> None:
        leave_jobdir(self.jobdir, finished=reason == "finished")


class ContactWarning:
    """Warns while ``USER_AGENT`` still carries the placeholder contact on a live site."""

    # The contact URL of settings.py's USER_AGENT, which every operator must replace.
    PLACEHOLDER = default_settings.USER_AGENT.partition("(+")[2].rstrip(")")

    def __init__(self, crawler: Crawler) -> None:
        self.user_agent: str = crawler.settings.get("USER_AGENT", "")
        self.site_urls = [
            crawler.settings.get(name, "")
            for name in getattr(crawler.spidercls, "site_settings", ())
        ]

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ContactWarning:
        warning = cls(crawler)
        crawler.signals.connect(warning.spider_opened, signal=signals.spider_opened)
        return warning

    def spider_opened(self, spider: Spider) -> None:
        live = [url for url in self.site_urls if url and not is_loopback(url)]
        if self.PLACEHOLDER in self.user_agent and live:
            spider.logger.warning(
                "USER_AGENT still carries the placeholder contact; set -s USER_AGENT to one "
                "that names you, so that the site's operators can reach you"
            )
