"""Every run recorded in ``crawl_runs``, and a self-check that fails the run loudly.

A small extension rather than Spidermon: the checks are four thresholds over counters the
pipelines already keep, and a scheduler only needs an ERROR line and a non-zero exit status
(see :mod:`caci_spider.commands.crawl`); Spidermon would add a framework, its own settings and
reporting stack for that.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler

from caci_spider.items import utc_now
from caci_spider.pipelines import database_for

logger = logging.getLogger(__name__)

SELF_CHECK_STAT = "caci/self_check"
COVERAGE_STAT = "caci/coverage"


def coverage_of(stats: dict[str, Any], fields: tuple[str, ...]) -> dict[str, float]:
    total = stats.get(f"{COVERAGE_STAT}/items", 0)
    if not total:
        return {}
    return {name: round(stats.get(f"{COVERAGE_STAT}/{name}", 0) / total, 4) for name in fields}


def self_check_problems(
    coverage: dict[str, float],
    minimums: dict[str, float],
    stored: int,
    first_crawl: bool,
    sample: int,
    min_sample: int,
) -> list[str]:
    """Why a run looks like a silent site redesign, or ``[]``.

    Coverage is judged only over at least ``min_sample`` extracted items: an incremental run
    that re-reads one known-bad page says nothing about the site.
    """
    problems = []
    if first_crawl and stored == 0:
        problems.append("stored nothing on a first crawl")
    if sample < min_sample:
        return problems
    for name, minimum in minimums.items():
        if name in coverage and coverage[name] < minimum:
            problems.append(
                f"coverage of {name} is {coverage[name]:.1%}, below the minimum {minimum:.0%}"
            )
    return problems


class CrawlRunRecorder:
    """Writes a ``crawl_runs`` row per run and fails the self-check when extraction degrades."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.run_id: int | None = None
        self.first_crawl = False

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
        database = database_for(self.crawler)
        self.first_crawl = database.count(table) == 0
        self.run_id = database.start_run(spider.name, getattr(spider, "mode", ""), utc_now())
        spider.run_id = self.run_id

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.run_id is None:
            return
        stats = self.crawler.stats.get_stats()
        fields = tuple(getattr(spider, "coverage_fields", ()))
        coverage = coverage_of(stats, fields)
        stored = (
            stats.get("caci/items/new", 0)
            + stats.get("caci/items/updated", 0)
            + stats.get("caci/items/unchanged", 0)
        )
        problems = self_check_problems(
            coverage,
            dict(getattr(spider, "coverage_minimums", {})),
            stored,
            self.first_crawl,
            sample=stats.get(f"{COVERAGE_STAT}/items", 0),
            min_sample=self.crawler.settings.getint("CACI_COVERAGE_MIN_ITEMS", 10),
        )

        if reason == "banned":
            problems.append("the site refused the crawl (banned)")
        for problem in problems:
            logger.error("Self-check failed for %s: %s", spider.name, problem)
        self.crawler.stats.set_value(SELF_CHECK_STAT, "failed" if problems else "ok")
        prefix = "downloader/response_status_count/"
        database = database_for(self.crawler)
        counts = database.run_counts(self.run_id)
        database.finish_run(
            self.run_id,
            {
                "finished_at": utc_now(),
                "finish_reason": reason,
                "requests": stats.get("downloader/request_count", 0),
                "responses_by_status": {
                    key.removeprefix(prefix): value
                    for key, value in sorted(stats.items())
                    if key.startswith(prefix)
                },
                # From the rows themselves: an id stored and later demoted as a duplicate of a
                # lower id counts once, as a duplicate.
                "items_new": counts["new"],
                "items_updated": counts["updated"],
                "items_unchanged": stats.get("caci/items/unchanged", 0),
                "items_rejected": stats.get("caci/rejected", 0),
                "items_duplicate": counts["duplicate"],
                "coverage": coverage,
                "self_check": "failed" if problems else "ok",
                "problems": problems,
            },
        )
