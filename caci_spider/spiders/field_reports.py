"""``scrapy crawl field_reports``: every field report of the Central Asia-Caucasus Analyst."""

from __future__ import annotations

from caci_spider.spiders.sections import K2PublicationsSpider


class FieldReportsSpider(K2PublicationsSpider):
    # Its site and section come from sources.py (category, export file, coverage minimums).
    name = "field_reports"
    # Feed first (K2PublicationsSpider's default): every field of a row comes from the item
    # page, so the feed's ids are all a night needs. The section stopped in October 2016; its
    # feed still answers, with ids all known: a night costs the feed and the canaries.
