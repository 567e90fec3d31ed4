"""``scrapy crawl`` that exits non-zero when a scheduler should notice.

Scrapy's own command exits 0 whenever the crawl could start. This one also exits 1 when the run
did not finish normally (``banned``, ``shutdown``, …) or failed its self-check (see
:mod:`caci_spider.extensions`), so that cron, systemd or Scrapyd report it.
"""

from __future__ import annotations

import argparse

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.crawler import Crawler
from scrapy.spiders import Spider

from caci_spider.extensions import SELF_CHECK_STAT

SUCCESSFUL_FINISH = ("finished",)


def crawl_failed(stats: dict) -> bool:
    reason = stats.get("finish_reason", "")
    ok_reason = reason in SUCCESSFUL_FINISH or str(reason).startswith("closespider_")
    return not ok_reason or stats.get(SELF_CHECK_STAT) == "failed"


class Command(ScrapyCrawlCommand):
    crawler: Crawler | None = None

    def _create_crawler(self, spidercls: type[Spider] | str) -> Crawler:
        self.crawler = super()._create_crawler(spidercls)
        return self.crawler

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        super().run(args, opts)
        crawler = self.crawler
        if (
            self.exitcode == 0
            and crawler
            and crawler.stats
            and crawl_failed(crawler.stats.get_stats())
        ):
            self.exitcode = 1
