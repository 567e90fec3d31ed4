"""``scrapy crawl news_digest``: the Analyst's News Digest (2001–2011, no longer published)."""

from __future__ import annotations

from caci_spider.spiders.sections import K2PublicationsSpider


class NewsDigestSpider(K2PublicationsSpider):
    # Its site and section come from sources.py (category, export file, coverage minimums).
    name = "news_digest"
    # Whether the section's feed answers is not known (only the analytical and feature feeds
    # were seen). Feed first anyway: a feed that answers with known ids (the section ended in
    # 2011) makes a night one request plus the canaries, and one that fails (404, not a feed)
    # sends the run to the listing walk it would have made anyway, with the reason recorded in
    # crawl_runs.sources. Walking ~800 listing pages every night to learn nothing would cost far
    # more than one failed feed request. Feed first is K2PublicationsSpider's default.

    # 2001–2006 digests are "By empty": no authors to cover or to compare.
    canary_fields = ("title", "published", "issue_date", "body", "hits", "tags")
    canary_compared = {"title": "exact", "published": "exact", "body": "words"}
