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
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler

from caci_spider.items import utc_now
from caci_spider.paths import archive_dir, database_path, export_dir
from caci_spider.pipelines import database_for
from caci_spider.selfcheck import (
    ListingWalk,
    canary_problems,
    coverage_of,
    coverage_problems,
    end_problems,
    finished_normally,
    listing_problems,
)

logger = logging.getLogger(__name__)

SELF_CHECK_STAT = "caci/self_check"
COVERAGE_STAT = "caci/coverage"


class CrawlRunRecorder:
    """Writes a ``crawl_runs`` row per run and fails the self-check when the site changed."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.run_id: int | None = None
        self.first_crawl = False
        settings = crawler.settings
        self.min_items = settings.getint("CACI_COVERAGE_MIN_ITEMS", 10)
        self.min_share = settings.getfloat("CACI_LISTING_MIN_SHARE", 0.8)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlRunRecorder:
        recorder = cls(crawler)
        crawler.signals.connect(recorder.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(recorder.spider_closed, signal=signals.spider_closed)
        return recorder

    def spider_opened(self, spider: Spider) -> None:
        table = getattr(spider, "export_table", None)
        if not table:
            return
        settings = self.crawler.settings
        logger.info(
            "%s: database %s, exports in %s, page archive in %s",
            spider.name, database_path(settings), export_dir(settings), archive_dir(settings),
        )  # fmt: skip
        database = database_for(self.crawler)
        self.first_crawl = database.count(table) == 0
        self.run_id = database.start_run(spider.name, getattr(spider, "mode", ""), utc_now())
        spider.run_id = self.run_id

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.run_id is None:
            return
        stats = self.crawler.stats
        database = database_for(self.crawler)
        counts = database.run_counts(self.run_id)
        rejected = stats.get_value("caci/rejected", 0)
        for outcome in ("new", "updated", "unchanged"):
            stats.set_value(f"caci/items/{outcome}", counts[outcome])
        stats.set_value("caci/duplicates", counts["duplicate"])

        values = stats.get_stats()
        fields = tuple(getattr(spider, "coverage_fields", ()))
        coverage = coverage_of(values, fields, COVERAGE_STAT)
        walk: ListingWalk = getattr(spider, "listing_walk", ListingWalk())
        canaries = list(getattr(spider, "canary_results", []))
        stored = counts["new"] + counts["updated"] + counts["unchanged"]
        problems = [
            *end_problems(reason, self.first_crawl, stored),
            *listing_problems(
                walk,
                database.previous_listing_entries(spider.name, self.run_id),
                self.min_share,
                finished=finished_normally(reason),
            ),
            *canary_problems(canaries),
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
            self.run_id, spider.name, counts["new"], counts["updated"], counts["unchanged"],
            counts["duplicate"], rejected, verdict,
        )  # fmt: skip
        if not problems and database.count(spider.export_table):
            database.record_sites(
                {name: self.crawler.settings[name] for name in spider.site_settings}, utc_now()
            )
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
            "canaries": [
                {"key": c.key, "url": c.url, "outcome": c.outcome, "missing": c.missing}
                for c in canaries
            ],
        }
        database.finish_run(self.run_id, run)
