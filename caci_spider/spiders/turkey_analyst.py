"""``scrapy crawl turkey_analyst``: the articles of The Turkey Analyst (www.turkeyanalyst.org,
``TURKEY_ANALYST_BASE_URL``), the institute's sister K2 site."""

from __future__ import annotations

from caci_spider.spiders.sections import K2PublicationsSpider


class TurkeyAnalystSpider(K2PublicationsSpider):
    # Its site and section come from sources.py (category, export file, coverage minimums).
    name = "turkey_analyst"
    # The same K2 platform and URL grammar, so the same category feed path; whether it answers
    # is not known. Feed first: a feed that fails sends the run to the listing (reason recorded
    # in crawl_runs.sources), one that answers saves the nightly listing walk. Feed first is
    # K2PublicationsSpider's default.

    # Items with an issue designation ("vol. 2, no. 3") have no issue date.
    coverage_fields = ("title", "authors", "published", "issue_date", "issue", "body", "hits")
