"""Every spider that ``scrapy list`` names starts: its first request comes out of
``spider.start()`` and points at its own site. Built as ``Crawler.crawl()`` builds a spider,
on a temporary database; nothing is fetched."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

from scrapy import Request, Spider
from scrapy.spiderloader import SpiderLoader
from scrapy.utils.project import get_project_settings

from caci_spider.urls import domain_of
from tests.conftest import REPO_ROOT
from tests.unit_crawler import build_spider


def scrapy_list() -> list[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "list"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout.split()


async def first_request(spider: Spider) -> Request:
    async for request in spider.start():
        return request
    raise AssertionError(f"{spider.name} yields no start request")


def test_every_listed_spider_yields_its_first_request(tmp_path: Path) -> None:
    names = scrapy_list()
    loader = SpiderLoader.from_settings(get_project_settings())
    assert names == sorted(loader.list()) and names  # what a scheduler would run
    for name in names:
        spider = build_spider(loader.load(name), tmp_path / name)
        request = asyncio.run(first_request(spider))
        base_urls = [
            spider.crawler.settings[setting].rstrip("/")
            for setting in getattr(spider, "site_settings", ())
        ]
        assert any(request.url.startswith(f"{base}/") for base in base_urls), (name, request)
        assert domain_of(request.url) in getattr(spider, "allowed_domains", []), (name, request)
        assert urlsplit(request.url).scheme == "https"
        assert request.callback is not None and request.errback is not None, name
