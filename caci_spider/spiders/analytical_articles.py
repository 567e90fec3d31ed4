"""``scrapy crawl analytical_articles``: the Analyst's Analytical Articles (2000–, growing)."""

from __future__ import annotations

from caci_spider.spiders.sections import K2PublicationsSpider


class AnalyticalArticlesSpider(K2PublicationsSpider):
    # Its site and section come from sources.py (category, export file, coverage minimums).
    name = "analytical_articles"
    # The section's feed is live (its newest items are the newest articles) and every field of
    # a row comes from the item page: the feed first, the listing every CACI_LISTING_WALK_DAYS.
    feed_first = True
    feed_first_reason = "the feed is live and every field of a row comes from the item page"
