"""Crawlers for unit tests: the project's settings with temporary paths, no engine, no network.

Components (the store, pipelines, extensions, middlewares) get a crawler from Scrapy's own
``get_crawler``. Spiders are built the way ``Crawler.crawl()`` builds them, spider first and then
the crawler's components: a spider's ``from_crawler`` may still change settings
(``-a mode=reparse`` does), which ``get_crawler`` has frozen already.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler, get_reactor_settings

from caci_spider import settings as project_settings

SpiderT = TypeVar("SpiderT", bound=Spider)

CACI = "https://www.cacianalyst.org"
SILKROAD = "https://www.silkroadstudies.org"


def unit_settings(tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    """``caci_spider/settings.py`` with every file the crawl writes under ``tmp_path``."""
    values = {name: value for name, value in vars(project_settings).items() if name.isupper()}
    values.update(
        CACI_DB_PATH=str(tmp_path / "caci.db"),
        CACI_EXPORT_DIR=str(tmp_path / "exports"),
        HTTPCACHE_DIR=str(tmp_path / "httpcache"),
        LOG_LEVEL="DEBUG",
    )
    values.update(overrides)
    return values


def component_crawler(
    tmp_path: Path, spidercls: type[Spider] | None = None, **settings: Any
) -> Crawler:
    """A crawler whose extensions are built (``crawler.get_extension`` works); no spider."""
    return get_crawler(spidercls, unit_settings(tmp_path, **settings))


def build_spider(
    spidercls: type[SpiderT],
    tmp_path: Path,
    settings: dict[str, Any] | None = None,
    **arguments: Any,
) -> SpiderT:
    """A spider with its crawler, as ``Crawler.crawl()`` makes them, before the engine."""
    crawler = Crawler(
        spidercls, {**unit_settings(tmp_path, **(settings or {})), **get_reactor_settings()}
    )
    spider = crawler._create_spider(**arguments)
    crawler.spider = spider
    crawler._apply_settings()
    assert isinstance(spider, spidercls)
    return spider


def html_response(
    url: str,
    body: bytes | str,
    status: int = 200,
    meta: dict[str, Any] | None = None,
    **request_kwargs: Any,
) -> HtmlResponse:
    """A response as the downloader hands it to a callback: with its request (and meta)."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    request = Request(url, meta=dict(meta or {}), **request_kwargs)
    return HtmlResponse(url, status=status, body=data, encoding="utf-8", request=request)
