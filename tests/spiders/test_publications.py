"""PublicationsSpider (caci_spider.spiders.publications) and the section spiders: targets (one
(site, section) pair each, every section of both sites for ``publications``), requests that
carry their target, known ids per site, politeness per host, and each section judged on its own
in the run's ``crawl_runs`` row. Responses are built from the fixture pages; nothing is fetched.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from scrapy import Request
from scrapy.core.downloader import Downloader
from scrapy.utils.project import get_project_settings

from caci_spider import urls
from caci_spider.channels import channel_of
from caci_spider.channels.feedfirst import FeedFirst
from caci_spider.contract import derive
from caci_spider.extensions import CrawlRunRecorder
from caci_spider.items import Reject, utc_now
from caci_spider.preflight import RunRefused, check_not_production
from caci_spider.spiders.base import K2CategorySpider
from caci_spider.spiders.generated import (
    AnalyticalArticlesSpider,
    FeatureArticlesSpider,
    NewsDigestSpider,
    TurkeyAnalystSpider,
)
from caci_spider.spiders.publications import PublicationsSpider
from caci_spider.store import store_of
from caci_spider.urls import ItemRef
from caci_spider.versions import EXTRACTION_VERSION
from tests.conftest import FIXTURES
from tests.unit_crawler import CACI, build_spider, html_response

TURKEY = "https://www.turkeyanalyst.org"
SRS = "https://www.silkroadstudies.org"
CATEGORIES = [
    "field-reports",
    "analytical-articles",
    "feature-articles",
    "news-digest",
    "silkroad-papers-and-monographs",
    "silkroadstudies-news",
    "forums-and-events",
    "turkey-analyst-articles",
]
# Each category's site and base URL.
SITE_OF = {
    **dict.fromkeys(CATEGORIES[:4], ("cacianalyst", CACI)),
    **dict.fromkeys(CATEGORIES[4:7], ("silkroadstudies", SRS)),
    "turkey-analyst-articles": ("turkeyanalyst", TURKEY),
}


def path_of(category: str) -> str:
    """``/publications/<category>``, or ``/<category>`` for a top-level one."""
    return urls.category_path(category)


def opened(spidercls: type[K2CategorySpider], tmp_path: Path, **settings: Any) -> Any:
    spider = build_spider(spidercls, tmp_path, settings)
    store_of(spider.crawler).spider_opened(spider)
    return spider


def started(spider: K2CategorySpider) -> list[Request]:
    async def collect() -> list[Request]:
        return [request async for request in spider.start()]

    return asyncio.run(collect())


def listing(spider: K2CategorySpider, directory: str, base: str, category: str) -> list[Any]:
    body = (FIXTURES / directory / "listings" / "start-0.html").read_bytes()
    url = f"{base}/publications/{category}.html?start=0"
    return list(spider.parse_listing(html_response(url, body), start=0, target=category))


def store_row(spider: K2CategorySpider, site: str, item_id: int, url: str) -> None:
    # Made by this release's page rules: no extraction upgrade to wait for.
    row = {"id": item_id, "site": site, "url": url, "title": "T", "body": "B",
           "extraction_version": EXTRACTION_VERSION}  # fmt: skip
    # As storage stores it: with its derived columns (the section's category from the URL).
    spider.store.database.db.table("publications").insert(row | derive("publications", row))


# -- targets ----------------------------------------------------------------------------------
def test_publications_has_a_target_per_section_each_at_its_sites_base_url(tmp_path) -> None:
    spider = opened(PublicationsSpider, tmp_path)
    assert [(t.site, t.key, t.base_url) for t in spider.targets] == [
        (SITE_OF[c][0], c, SITE_OF[c][1]) for c in CATEGORIES
    ]
    # each section follows its section spider's policy
    assert [t.policy.name for t in spider.targets] == [
        "field_reports", "analytical_articles", "feature_articles", "news_digest",
        "silk_road_papers", "srs_news", "srs_events", "turkey_analyst",
    ]  # fmt: skip
    assert spider.site_settings == (
        "CACI_BASE_URL", "SILKROAD_BASE_URL", "TURKEY_ANALYST_BASE_URL",
    )  # fmt: skip


@pytest.mark.parametrize(
    "spidercls",
    [AnalyticalArticlesSpider, FeatureArticlesSpider, NewsDigestSpider, TurkeyAnalystSpider],
)
def test_a_section_spider_has_one_target(spidercls, tmp_path) -> None:
    spider = opened(spidercls, tmp_path)
    (target,) = spider.targets
    assert (target.section.spider, target.policy) == (spidercls.name, spidercls)
    assert spider.aggregate_export is None


def test_every_first_request_carries_its_target(tmp_path) -> None:
    spider = opened(PublicationsSpider, tmp_path, CACI_CANARY_ITEMS=0, CACI_JSON_LISTINGS=False)
    requests = started(spider)
    # a first run: every section's listing (no complete walk recorded yet), in order
    assert [r.cb_kwargs["target"] for r in requests] == CATEGORIES
    assert [r.url for r in requests] == [
        f"{SITE_OF[c][1]}{path_of(c)}.html?start=0" for c in CATEGORIES
    ]
    assert f"{SRS}/silkroadstudies-news.html?start=0" in [r.url for r in requests]
    assert {key: source.reason for key, source in spider.ledger.sources.items()} == dict.fromkeys(
        CATEGORIES, "no complete listing walk recorded yet"
    )


def test_a_listing_routes_its_items_to_its_own_site_and_section(tmp_path) -> None:
    spider = opened(PublicationsSpider, tmp_path)
    turkey = listing(spider, "turkey_analyst", TURKEY, "turkey-analyst-articles")
    assert {r.cb_kwargs["target"] for r in turkey} == {"turkey-analyst-articles"}
    assert {r.cb_kwargs["ref"].site for r in turkey if "ref" in r.cb_kwargs} == {"turkeyanalyst"}
    assert all(
        r.url.startswith(f"{TURKEY}/publications/turkey-analyst-articles/")
        for r in turkey
        if "ref" in r.cb_kwargs
    )
    digest = listing(spider, "news_digest", CACI, "news-digest")
    assert {r.cb_kwargs["ref"].site for r in digest if "ref" in r.cb_kwargs} == {"cacianalyst"}
    walks = spider.ledger.listing_walks
    assert walks["turkey-analyst-articles"].pages == 1 and walks["news-digest"].pages == 1
    assert walks["field-reports"].pages == 0  # each section's walk is its own
    # a page's URL names its section, on its own site's host
    url = f"{TURKEY}/publications/turkey-analyst-articles/item/12997-x.html"
    assert spider.ledger.target_of_url(url).key == "turkey-analyst-articles"
    assert spider.ledger.target_of_url(url.replace(TURKEY, CACI)) is None  # not a CACI section
    assert spider.ledger.target_of_url(f"{CACI}/publications/news-digest.html?start=4").key == (
        "news-digest"
    )


def test_an_id_known_on_one_site_is_new_on_the_other(tmp_path) -> None:
    """(cacianalyst, 12997) is stored; the Turkey Analyst's 12997 is another publication."""
    spider = opened(PublicationsSpider, tmp_path, CACI_CANARY_ITEMS=0)
    store_row(spider, "cacianalyst", 12997, f"{CACI}/publications/field-reports/item/12997-a.html")
    started(spider)
    assert ("cacianalyst", 12997) in spider.known
    assert ("turkeyanalyst", 12997) not in spider.known
    requested = [
        r.cb_kwargs["ref"]
        for r in listing(spider, "turkey_analyst", TURKEY, "turkey-analyst-articles")
        if "ref" in r.cb_kwargs
    ]
    assert ItemRef(12997, requested[-1].url, "turkeyanalyst") in requested
    assert spider.ledger.unanswered[("turkeyanalyst", 12997)].startswith(TURKEY)


def test_an_incremental_night_reads_each_sections_feed_and_a_canary_of_each(tmp_path) -> None:
    spider = opened(PublicationsSpider, tmp_path)
    database = spider.store.database
    for target in spider.targets:
        database.record_listing_walk(spider.name, target.key, 1, utc_now(), 4)
        store_row(
            spider,
            target.site,
            100 + len(target.key),
            f"{target.base_url}{path_of(target.key)}/item/{100 + len(target.key)}-a.html",
        )
    requests = started(spider)
    feeds = [r for r in requests if channel_of(r) == "feed"]
    canaries = [r for r in requests if channel_of(r) == "canaries"]
    assert [r.url for r in feeds] == [f"{SITE_OF[c][1]}{path_of(c)}.feed" for c in CATEGORIES]
    # one canary per section, among that section's own rows
    assert [(r.cb_kwargs["target"], r.cb_kwargs["row"]["site"]) for r in canaries] == [
        (c, SITE_OF[c][0]) for c in CATEGORIES
    ]
    assert all(f"{path_of(r.cb_kwargs['target'])}/item/" in r.url for r in canaries)


def test_a_feed_that_fails_sends_only_its_section_to_the_listing(tmp_path) -> None:
    spider = opened(PublicationsSpider, tmp_path)
    from scrapy.spidermiddlewares.httperror import HttpError
    from twisted.python.failure import Failure

    request = spider.channel(FeedFirst).feed_request("news-digest")
    failure = Failure(HttpError(html_response(request.url, b"", status=404), "Ignoring"))
    failure.request = request  # type: ignore[attr-defined]
    (fallback,) = spider.channel(FeedFirst).feed_failed(failure)
    assert fallback.url == f"{CACI}/publications/news-digest.html?start=0"
    assert fallback.cb_kwargs["target"] == "news-digest"
    assert spider.ledger.sources["news-digest"].reason == "feed failed: the feed answered HTTP 404"
    assert spider.ledger.sources["field-reports"].source == ""


# -- politeness: per host -----------------------------------------------------------------------
def test_both_sites_are_allowed_and_each_host_is_its_own_download_slot(tmp_path) -> None:
    spider = opened(PublicationsSpider, tmp_path)
    assert spider.allowed_domains == ["cacianalyst.org", "silkroadstudies.org", "turkeyanalyst.org"]
    settings = spider.crawler.settings
    # one request at a time per host, DOWNLOAD_DELAY and robots.txt per host
    assert settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN") == 1
    assert settings.getbool("ROBOTSTXT_OBEY")
    # Scrapy's downloader keys its slots (delay, concurrency) by the request's host name
    downloader = SimpleNamespace(DOWNLOAD_SLOT=Downloader.DOWNLOAD_SLOT, ip_concurrency=0)
    slots = {
        Downloader.get_slot_key(downloader, Request(url))  # type: ignore[arg-type]
        for url in (
            f"{CACI}/publications/field-reports.html",
            f"{CACI}/publications/news-digest.feed",
            f"{TURKEY}/publications/turkey-analyst-articles.html",
        )
    }
    assert slots == {"www.cacianalyst.org", "www.turkeyanalyst.org"}


def test_a_loopback_turkey_analyst_never_writes_into_production(tmp_path) -> None:
    settings = get_project_settings()  # the production paths
    settings.set("TURKEY_ANALYST_BASE_URL", "http://127.0.0.1:8089")
    with pytest.raises(RunRefused, match="TURKEY_ANALYST_BASE_URL points at a local site"):
        check_not_production(settings, PublicationsSpider.site_settings)


# -- the run's row: every section on its own ------------------------------------------------------
def coverage(spider: K2CategorySpider, key: str, items: int, **fields: int) -> None:
    stats = spider.crawler.stats
    stats.set_value(f"caci/coverage_by_section/{key}/items", items)
    for name, count in fields.items():
        stats.set_value(f"caci/coverage_by_section/{key}/{name}", count)


def test_each_section_is_judged_on_its_own_coverage_minimums(tmp_path) -> None:
    spider = opened(PublicationsSpider, tmp_path, CACI_COVERAGE_MIN_ITEMS=10)
    full = dict(title=20, authors=20, published=20, issue_date=20, body=20, hits=20)
    coverage(spider, "field-reports", 20, **full)
    # feature articles print no hits: not a problem
    coverage(spider, "feature-articles", 20, **{**full, "hits": 0, "pdf_url": 20})
    # news digests: one author in three is no problem; a lost published date is
    coverage(spider, "news-digest", 20, **{**full, "authors": 6, "published": 2})
    # too few Turkey items to judge
    coverage(spider, "turkey-analyst-articles", 3, title=0)
    recorder = spider.crawler.get_extension(CrawlRunRecorder)
    recorder.spider_closed(spider, "finished")
    (run,) = spider.store.database.rows("crawl_runs")
    assert run["self_check"] == "failed"
    assert [p for p in run["problems"] if "coverage" in p] == [
        "News Digest (cacianalyst): coverage of published is 10.0%, below the minimum 95%"
    ]
    sections = run["sections"]
    assert list(sections) == CATEGORIES
    assert sections["news-digest"]["coverage"]["published"] == 0.1
    assert sections["news-digest"]["coverage_problems"] == [
        "News Digest (cacianalyst): coverage of published is 10.0%, below the minimum 95%"
    ]
    assert "hits" not in sections["feature-articles"]["coverage"]
    assert sections["turkey-analyst-articles"]["site"] == "turkeyanalyst"
    assert sections["field-reports"]["coverage_problems"] == []


def test_the_runs_row_counts_items_and_rejects_per_section(tmp_path) -> None:
    from tests.reports import field_report

    spider = opened(PublicationsSpider, tmp_path)
    store = spider.store
    turkey = field_report(
        12997, "Turkey.", site="turkeyanalyst",
        url=f"{TURKEY}/publications/turkey-analyst-articles/item/12997-x.html",
    )  # fmt: skip
    store.database.store_report(field_report(12997, "Georgia."), spider.name, store.run_id)
    store.database.store_report(turkey, spider.name, store.run_id)
    store.record_reject(
        Reject(spider.name, f"{TURKEY}/publications/turkey-analyst-articles/item/5-x.html",
               "HTTP 404", utc_now(), status=404)
    )  # fmt: skip
    spider.crawler.get_extension(CrawlRunRecorder).spider_closed(spider, "finished")
    (run,) = store.database.rows("crawl_runs")
    sections = run["sections"]
    counts = {
        key: (s["new"], s["updated"], s["unchanged"], s["rejected"]) for key, s in sections.items()
    }
    assert counts == {
        "field-reports": (1, 0, 0, 0),
        "analytical-articles": (0, 0, 0, 0),
        "feature-articles": (0, 0, 0, 0),
        "news-digest": (0, 0, 0, 0),
        "silkroad-papers-and-monographs": (0, 0, 0, 0),
        "silkroadstudies-news": (0, 0, 0, 0),
        "forums-and-events": (0, 0, 0, 0),
        "turkey-analyst-articles": (1, 0, 0, 1),
    }
    assert run["items_new"] == 2
