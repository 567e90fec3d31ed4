"""The bare Scrapy baseline: request a list of URLs, extract nothing.

``python -m benchmarks.bare_crawl --urls FILE --stats OUT.json [-s NAME=VALUE ...]``

Scrapy's default settings plus only the ``-s`` overrides given (the benchmark passes the same
concurrency, no delay and no AutoThrottle as for the real crawl): no project settings, so no
pipelines, no extensions, no page archive, no robots.txt. The spider yields every URL of the
file as a start request and its callback does nothing. Scrapy's final stats are written to
``--stats`` as JSON.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import scrapy
from scrapy.crawler import CrawlerProcess
from scrapy.http import Response


class BareSpider(scrapy.Spider):
    name = "bare"

    def __init__(self, urls: list[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.urls = urls

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.urls:
            yield scrapy.Request(url, callback=self.parse)

    def parse(self, response: Response) -> None:
        return None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--urls", type=Path, required=True, help="one URL a line")
    parser.add_argument("--stats", type=Path, required=True, help="write final stats here")
    parser.add_argument("-s", dest="settings", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args(argv)
    settings: dict[str, Any] = {"LOG_LEVEL": "INFO", "TELNETCONSOLE_ENABLED": False}
    for pair in args.settings:
        name, _, value = pair.partition("=")
        settings[name] = value
    urls = [line.strip() for line in args.urls.read_text("utf-8").splitlines() if line.strip()]
    process = CrawlerProcess(settings, install_root_handler=True)
    crawler = process.create_crawler(BareSpider)
    process.crawl(crawler, urls=urls)
    process.start()
    stats = {key: value for key, value in crawler.stats.get_stats().items()}
    args.stats.write_text(json.dumps(stats, default=str, indent=1), "utf-8")


if __name__ == "__main__":
    main()
