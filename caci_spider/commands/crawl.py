"""``scrapy crawl`` with plain errors and exit statuses a scheduler can act on.

Before Scrapy starts, :func:`caci_spider.preflight.preflight` checks the spider arguments, the
settings, the paths, the database's sites and its lock (the settings Scrapy reads before the
command runs, such as LOG_LEVEL, as soon as the options are read); a problem is one ERROR line
and exit 2 (usage) or 75 (another run holds the lock), never a traceback. After the crawl, the
status is 1 when the run did not finish normally (``banned``, ``shutdown``,
``archive_unavailable``, …) or failed its self-check (see :mod:`caci_spider.extensions`).
Codes: :mod:`caci_spider.exitcodes`.
"""

from __future__ import annotations

import argparse
import logging
import sys

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.crawler import Crawler
from scrapy.spiders import Spider

from caci_spider import exitcodes, sitechoice
from caci_spider.extensions import SELF_CHECK_STAT
from caci_spider.preflight import RunRefused, check_startup_settings, preflight
from caci_spider.selfcheck import finished_normally

logger = logging.getLogger("caci_spider")


def crawl_failed(stats: dict) -> bool:
    # No verdict at all (the recorder could not run to its end) is a failure too.
    return (
        not finished_normally(str(stats.get("finish_reason", "")))
        or stats.get(SELF_CHECK_STAT) != "ok"
    )


class Command(ScrapyCrawlCommand):
    crawler: Crawler | None = None

    def _create_crawler(self, spidercls: type[Spider] | str) -> Crawler:
        self.crawler = super()._create_crawler(spidercls)
        return self.crawler

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        # Scrapy sets up logging (LOG_LEVEL, …) before it runs the command: a value it cannot
        # take is refused here, in one line on stderr, as logging is not set up yet.
        if self.settings is not None:
            try:
                check_startup_settings(self.settings)
            except RunRefused as refused:
                print(f"ERROR: {refused}", file=sys.stderr)
                sys.exit(refused.exit_code)

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) == 1 and self.crawler_process and self.settings is not None:
            try:
                spidercls = self.crawler_process.spider_loader.load(args[0])
            except KeyError:
                spiders = ", ".join(sorted(self.crawler_process.spider_loader.list()))
                self.refuse(f"unknown spider {args[0]!r}: choose one of {spiders}", exitcodes.USAGE)
                return
            else:
                try:
                    # CACI_SITE=local stands for the local site's base URLs, paths and pace;
                    # preflight then checks them as if they had been given one by one.
                    sitechoice.apply(self.settings)
                except sitechoice.BadSite as bad:
                    value = sitechoice.chosen(self.settings)
                    self.refuse(
                        f"bad setting -s {sitechoice.SETTING}={value}: {bad}", exitcodes.USAGE
                    )
                    return
                try:
                    self.lock = preflight(spidercls, self.settings, opts.spargs)
                except RunRefused as refused:
                    self.refuse(str(refused), refused.exit_code)
                    return
        super().run(args, opts)
        crawler = self.crawler
        if (
            self.exitcode == exitcodes.OK
            and crawler
            and crawler.stats
            and crawl_failed(crawler.stats.get_stats())
        ):
            self.exitcode = exitcodes.CRAWL_FAILED

    def refuse(self, message: str, exit_code: int) -> None:
        level = logging.WARNING if exit_code == exitcodes.SKIPPED else logging.ERROR
        logger.log(level, message)
        if self.settings and self.settings.get("LOG_FILE"):
            # The log file is the scheduler's record; the terminal still gets the one line.
            print(f"{logging.getLevelName(level)}: {message}", file=sys.stderr)
        self.exitcode = exit_code
