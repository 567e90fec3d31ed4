"""``scrapy crawl analytical_articles``: the Analyst's Analytical Articles (2000–, growing)."""

from __future__ import annotations

from caci_spider.spiders.sections import K2PublicationsSpider


class AnalyticalArticlesSpider(K2PublicationsSpider):
    # Its site and section come from sources.py (category, export file, coverage minimums).
    name = "analytical_articles"
    # Feed first (K2PublicationsSpider's default): the section's feed is live (its newest items
    # are the newest articles) and every field of a row comes from the item page; the listing
    # every CACI_LISTING_WALK_DAYS.
