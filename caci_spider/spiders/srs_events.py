"""``scrapy crawl srs_events``: the forums and events of silkroadstudies.org
(``SILKROAD_BASE_URL``), a top-level K2 category (``/forums-and-events.html``); an event's date
and place lines stay in its body."""

from __future__ import annotations

from caci_spider.spiders.sections import K2PublicationsSpider


class SilkRoadEventsSpider(K2PublicationsSpider):
    # Its site and section come from sources.py (category, export file, coverage minimums).
    name = "srs_events"
    # Feed first (K2PublicationsSpider's default), as every K2 section: a feed that fails sends
    # the run to the listing, with the reason recorded in crawl_runs.sources.

    # Events carry no byline and no issue date.
    coverage_fields = ("title", "published", "body")
    canary_fields = ("title", "published", "body")
