"""Every run recorded in ``crawl_runs``, judged by the self-check (:mod:`caci_spider.selfcheck`).

A small extension rather than Spidermon: the checks are a few thresholds over what the spider
and the pipelines already keep, and a scheduler only needs an ERROR line and a non-zero exit
status (see :mod:`caci_spider.commands.crawl`); Spidermon would add a framework, its own
settings and reporting stack for that.

The run's counts are taken once, from the rows (:meth:`PublicationsDatabase.run_counts`), and
written alike to ``crawl_runs``, to Scrapy's stats and to the closing log line.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any
from urllib.parse import urlsplit

from scrapy import Spider, signals
from scrapy.crawler import Crawler

from caci_spider import settings as default_settings
from caci_spider.archive import FIRST_STORE_ERROR_STAT, STORE_ERRORS_STAT
from caci_spider.items import utc_now
from caci_spider.jobdir import leave_jobdir, prepare_jobdir
from caci_spider.ledger import ItemFetches, ListingWalk, RepeatedParagraphs, RunLedger
from caci_spider.middlewares import HOST_DOWN_STAT, PAGES_READ_STAT
from caci_spider.selfcheck import (
    RunReview,
    SectionReview,
    Thresholds,
    coverage_of,
    end_problems,
    finished_normally,
    problems_of,
    section_coverage_rule,
    section_read_rule,
    section_walk_rule,
    write_problems,
)
from caci_spider.storage import PublicationsDatabase
from caci_spider.store import DatabaseStore, store_of
from caci_spider.urls import is_loopback

logger = logging.getLogger(__name__)

SELF_CHECK_STAT = "caci/self_check"
# A run that stored fewer items than this also looks its edge paragraphs up in the stored rows.
_LOOKUP_BELOW_ITEMS = 20
COVERAGE_STAT = "caci/coverage"
# Per target (K2 category) of a spider: caci/coverage_by_section/<category>/<field>.
SECTION_COVERAGE_STAT = "caci/coverage_by_section"


class HeldBack(logging.Filter):
    """Holds a logger's records back instead of emitting them, to be emitted later."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def filter(self, record: logging.LogRecord) -> bool:
        self.records.append(record)
        return False


class CrawlRunRecorder:
    """Fills the run's ``crawl_runs`` row (started by :class:`DatabaseStore`) and fails the
    self-check when the site changed.

    The verdict (the self-check's ERROR lines and the run line) is judged when the spider
    closes but logged when the engine stops, after Scrapy's stats dump and "Spider closed": the
    last lines a person or a scheduler reads are the run's verdict."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.verdict = HeldBack()
        self.engine_running = False
        settings = crawler.settings
        self.min_items = settings.getint("CACI_COVERAGE_MIN_ITEMS")
        self.min_share = settings.getfloat("CACI_LISTING_MIN_SHARE")
        self.vanished_max_share = settings.getfloat("CACI_VANISHED_MAX_SHARE")
        self.repeated_min_items = settings.getint("CACI_REPEATED_PARAGRAPH_ITEMS")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlRunRecorder:
        recorder = cls(crawler)
        crawler.signals.connect(recorder.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(recorder.engine_started, signal=signals.engine_started)
        crawler.signals.connect(recorder.engine_stopped, signal=signals.engine_stopped)
        return recorder

    def spider_closed(self, spider: Spider, reason: str) -> None:
        store = store_of(self.crawler)
        if store.run_id is None:
            return
        # Without a running engine (a unit test) there is nothing to wait for: log it at once.
        if self.engine_running:
            logger.addFilter(self.verdict)
        try:
            self.judge(spider, reason, store)
        except Exception:
            # The verdict must not be lost with the recorder: the exit status says failed.
            self.crawler.stats.set_value(SELF_CHECK_STAT, "failed")
            logger.exception("Self-check failed for %s: the run could not be judged", spider.name)
        finally:
            logger.removeFilter(self.verdict)

    def engine_started(self) -> None:
        self.engine_running = True

    def engine_stopped(self) -> None:
        records, self.verdict.records = self.verdict.records, []
        for record in records:
            logger.handle(record)

    @property
    def thresholds(self) -> Thresholds:
        return Thresholds(
            self.min_items, self.min_share, self.vanished_max_share, self.repeated_min_items
        )

    def repeated_paragraphs(self, ledger: RunLedger, store: DatabaseStore) -> RepeatedParagraphs:
        """This run's edge paragraphs, with the stored rows that hold them too when the run
        stored few items (a full crawl sees the repetition among its own items; a night with
        one new item only against the stored rows)."""
        repeated = ledger.repeated_paragraphs
        if self.repeated_min_items <= 0 or repeated.items >= _LOOKUP_BELOW_ITEMS:
            return repeated
        for line, urls in list(repeated.holders.items()):
            if len(urls) < self.repeated_min_items:
                repeated.add(
                    line, store.database.publications_holding(line, self.repeated_min_items)
                )
        return repeated

    def section_reviews(
        self, ledger: RunLedger, database: PublicationsDatabase, run_id: int, values: dict[str, Any]
    ) -> dict[str, SectionReview]:
        """What each target's (site, section) rules read: its listing walk against its own
        last walk, its coverage against its section's ``coverage_minimums``, its item pages.
        A spider with several targets names the section in each problem."""
        targets = ledger.plan.targets
        several = len(targets) > 1
        counts = self.section_counts(ledger, database, run_id)
        reviews: dict[str, SectionReview] = {}
        for target in targets:
            key = target.key
            prefix = f"{SECTION_COVERAGE_STAT}/{key}"
            reviews[key] = SectionReview(
                label=f"{target.section.name} ({target.site}): " if several else "",
                several=several,
                walk=ledger.listing_walks.get(key, ListingWalk()),
                previous=database.previous_section_entries(ledger.plan.name, key, run_id)
                if several
                else database.previous_listing_entries(ledger.plan.name, run_id),
                coverage=coverage_of(values, tuple(target.policy.coverage_fields), prefix),
                minimums=dict(target.section.coverage_minimums),
                sample=values.get(f"{prefix}/items", 0),
                fetches=ledger.section_fetches.get(key, ItemFetches()),
                first_crawl=ledger.section_rows_at_start.get(key) == 0,
                stored=sum(counts.get(key, {}).values()),
            )
        return reviews

    def section_records(
        self, ledger: RunLedger, review: RunReview, counts: dict[str, dict[str, int]]
    ) -> dict[str, dict[str, Any]]:
        """Each target's record of the run (``crawl_runs.sections``, by K2 category): items
        new/updated/unchanged/rejected, its listing walk and source, its canaries, its coverage
        and the problems judged on that section alone."""
        canaries = ledger.canaries_by_target()
        records: dict[str, dict[str, Any]] = {}
        for target in ledger.plan.targets:
            key = target.key
            section = review.sections[key]
            results = canaries.get(key, [])
            source = ledger.sources.get(key)
            records[key] = {
                "site": target.site,
                "spider": target.section.spider,
                "source": source.source if source is not None else "",
                **counts.get(key, {"new": 0, "updated": 0, "unchanged": 0}),
                "checked": sum(1 for c in results if c.outcome == "ok"),
                "not_read": section.fetches.not_read,
                "rejected": ledger.rejects_by_target.get(key, 0),
                "listing_pages": section.walk.pages,
                "listing_entries": section.walk.entries,
                "canaries": {
                    "ok": sum(1 for c in results if c.outcome == "ok"),
                    "changed": sum(1 for c in results if c.failed),
                    "fetch_failed": sum(1 for c in results if c.outcome.startswith("fetch")),
                },
                "coverage_items": section.sample,
                "coverage": section.coverage,
                "coverage_problems": section_coverage_rule(section, review),
                "walk_problems": section_walk_rule(section, review),
                "read_problems": section_read_rule(section, review),
            }
        return records

    @staticmethod
    def section_counts(
        ledger: RunLedger, database: PublicationsDatabase, run_id: int
    ) -> dict[str, dict[str, int]]:
        """new/updated/unchanged rows of the run per target, by each stored row's URL (an
        unchanged row taken only from the page archive's copies is not counted: not read)."""
        table = ledger.plan.export_table
        counts: dict[str, dict[str, int]] = {}
        for (run, name, site, key), outcome in list(database.run_outcomes.items()):
            if run != run_id or name != table:
                continue
            if outcome == "unchanged" and (name, site, key) not in ledger.live_rows:
                continue
            row = next(database.stored_rows(table, [(site, key)]), None)
            owner = ledger.key_of_url(row.get("url") or "") if row else ""
            tally = counts.setdefault(owner, {"new": 0, "updated": 0, "unchanged": 0})
            tally[outcome] += 1
        return counts

    def hosts_down(self) -> dict[str, str]:
        """Each host that did not answer this run (caci_spider.middlewares), with its cause."""
        prefix = f"{HOST_DOWN_STAT}/"
        return {
            key.removeprefix(prefix): str(cause)
            for key, cause in sorted(self.crawler.stats.get_stats().items())
            if key.startswith(prefix)
        }

    def without_consequences(
        self,
        ledger: RunLedger,
        reason: str,
        problems: list[str],
        down: dict[str, str],
        store: DatabaseStore,
    ) -> tuple[list[str], list[str]]:
        """(the problems, the hosts' own sentences among them): a sentence per host that did
        not answer, naming the sections it serves, first, and the problems it explains left
        out: its sections' listing, item pages and coverage and, when no host of the spider
        answered, every problem of what the run read (it read nothing)."""
        targets = ledger.plan.targets
        host_of = {t.key: urlsplit(t.base_url).netloc.lower() for t in targets}
        silent = [t for t in targets if host_of[t.key] in down]
        labels = tuple(f"{t.section.name} ({t.site}): " for t in silent)
        sentences = []
        for host, cause in down.items():
            sections = ", ".join(
                f"{t.section.name} ({t.site})" for t in silent if host_of[t.key] == host
            )
            sentences.append(
                f"{host} did not answer ({cause}): nothing was read from it"
                + (f" for {sections}" if sections else "")
            )
        hosts = {
            urlsplit(str(self.crawler.settings.get(name) or "")).netloc.lower()
            for name in ledger.plan.site_settings
        }
        if hosts and hosts <= set(down):
            kept = [
                *end_problems(reason, first_crawl=False, stored=0),
                *write_problems(store.write_errors, store.refetch_clashes),
            ]
        else:
            kept = [p for p in problems if not (labels and p.startswith(labels))]
        return [*sentences, *kept], sentences

    def run_counts(
        self, ledger: RunLedger, database: PublicationsDatabase, run_id: int
    ) -> dict[str, int]:
        """The run line's counts, set in the stats too (unchanged: rows read live only)."""
        stats = self.crawler.stats
        counts = database.run_counts(run_id)
        counts["unchanged"] = sum(
            1
            for (run, name, site, key), outcome in database.run_outcomes.items()
            if run == run_id and outcome == "unchanged" and (name, site, key) in ledger.live_rows
        )
        counts["checked"] = sum(1 for canary in ledger.canary_results if canary.outcome == "ok")
        counts["not_read"] = ledger.item_fetches.not_read
        counts["read"] = stats.get_value(PAGES_READ_STAT, 0)
        for outcome in ("new", "updated", "unchanged", "checked", "not_read"):
            stats.set_value(f"caci/items/{outcome}", counts[outcome])
        stats.set_value("caci/duplicates", counts["duplicate"])
        return counts

    def review(
        self,
        ledger: RunLedger,
        reason: str,
        store: DatabaseStore,
        counts: dict[str, int],
        values: dict[str, Any],
    ) -> RunReview:
        """What the self-check's rules (caci_spider.selfcheck.RULES) judge."""
        database, run_id = store.database, store.run_id
        assert run_id is not None
        return RunReview(
            ledger=ledger,
            reason=reason,
            thresholds=self.thresholds,
            stored=counts["new"] + counts["updated"] + counts["unchanged"],
            first_crawl=store.first_crawl,
            write_errors=store.write_errors,
            refetch_clashes=store.refetch_clashes,
            database=store.path,
            export_errors=store.export_errors,
            archive_failures=values.get(STORE_ERRORS_STAT, 0),
            first_archive_failure=values.get(FIRST_STORE_ERROR_STAT, ""),
            repeated=self.repeated_paragraphs(ledger, store),
            sections=self.section_reviews(ledger, database, run_id, values),
            previous_walk=None
            if ledger.plan.targets
            else database.previous_listing_entries(ledger.plan.name, run_id),
            coverage=coverage_of(values, ledger.plan.coverage_fields, COVERAGE_STAT),
            coverage_sample=values.get(f"{COVERAGE_STAT}/items", 0),
        )

    def judge(self, spider: Spider, reason: str, store: DatabaseStore) -> None:
        ledger = store.ledger
        stats = self.crawler.stats
        run_id = store.run_id
        assert run_id is not None  # spider_closed judges only a started run
        counts = self.run_counts(ledger, store.database, run_id)
        down = self.hosts_down()
        values = stats.get_stats()
        review = self.review(ledger, reason, store, counts, values)
        sections = self.section_records(
            ledger, review, self.section_counts(ledger, store.database, run_id)
        )
        problems = problems_of(review)
        said: list[str] = []  # a host that did not answer was said at once, in one line
        if down:
            problems, said = self.without_consequences(ledger, reason, problems, down, store)
        for problem in problems:
            if problem not in said:
                logger.error("Self-check failed for %s: %s", spider.name, problem)
        verdict = "failed" if problems else "ok"
        stats.set_value(SELF_CHECK_STAT, verdict)
        rejected = stats.get_value("caci/rejected", 0)
        logger.info(
            "Run %d of %s: %d read, %d new, %d updated, %d unchanged, %d checked, %d not read, "
            "%d duplicate, %d rejected%s; self-check %s",
            run_id, spider.name, counts["read"], counts["new"], counts["updated"],
            counts["unchanged"], counts["checked"], counts["not_read"], counts["duplicate"],
            rejected, upgrade_summary(values), verdict,
        )  # fmt: skip
        run = self.run_record(ledger, reason, review, counts, sections, problems, values)
        self.record(spider, reason, store, run, sections)

    @staticmethod
    def run_record(
        ledger: RunLedger,
        reason: str,
        review: RunReview,
        counts: dict[str, int],
        sections: dict[str, dict[str, Any]],
        problems: list[str],
        values: dict[str, Any],
    ) -> dict[str, Any]:
        """The run's ``crawl_runs`` row."""
        prefix = "downloader/response_status_count/"
        walk = ledger.listing_walk()
        return {
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
            "items_rejected": values.get("caci/rejected", 0),
            "items_duplicate": counts["duplicate"],
            "coverage": review.coverage,
            "self_check": "failed" if problems else "ok",
            "problems": problems,
            "listing_pages": sum(section["listing_pages"] for section in sections.values())
            if sections
            else walk.pages,
            "listing_entries": sum(section["listing_entries"] for section in sections.values())
            if sections
            else walk.entries,
            "canaries": [canary.as_record() for canary in ledger.canary_results],
            "sources": {name: source.as_record() for name, source in ledger.sources.items()},
            "sections": {
                key: {name: value for name, value in section.items() if name != "walk_problems"}
                for key, section in sections.items()
            }
            or None,
        }

    def record(
        self,
        spider: Spider,
        reason: str,
        store: DatabaseStore,
        run: dict[str, Any],
        sections: dict[str, dict[str, Any]],
    ) -> None:
        """Write the run's row, the sites claim and each complete listing walk."""
        ledger, database, run_id = store.ledger, store.database, store.run_id
        assert run_id is not None
        try:
            if database.count(ledger.plan.export_table):
                database.record_sites(
                    {name: self.crawler.settings[name] for name in ledger.plan.site_settings},
                    utc_now(),
                )
            database.finish_run(run_id, run)
            for key, source in ledger.sources.items():
                section_walk = ledger.listing_walks.get(key, ledger.listing_walk())
                section_problems = sections[key]["walk_problems"] if key in sections else []
                if (
                    finished_normally(reason)
                    and source.source in ("listing", "json")
                    and section_walk.pages
                    and not section_problems
                ):
                    # A complete walk: the next feed-first nights count their days from it.
                    database.record_listing_walk(
                        spider.name, key, run_id, utc_now(), section_walk.entries
                    )
        except sqlite3.Error as error:
            store.write_failed(f"crawl_runs row {run_id}", error)
            self.crawler.stats.set_value(SELF_CHECK_STAT, "failed")
            logger.error(
                "Self-check failed for %s: the run could not be recorded in %s (%s)",
                spider.name, store.path, error,
            )  # fmt: skip


def upgrade_summary(values: dict[str, Any]) -> str:
    """The run line's account of the extraction upgrade (``""``: none this run): rows read
    again from their archived pages, how many of them changed, and how many wait for their
    next fetch (no archived page)."""
    rederived = values.get("caci/upgrade/rederived", 0)
    waiting = values.get("caci/upgrade/not_archived", 0)
    if not rederived and not waiting:
        return ""
    summary = (
        f"; extraction upgrade: {rederived} re-derived, "
        f"{values.get('caci/upgrade/changed', 0)} changed"
    )
    return summary + (f", {waiting} not archived (re-derived when fetched)" if waiting else "")


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
