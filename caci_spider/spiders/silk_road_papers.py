"""``scrapy crawl silk_road_papers``: the Silk Road Papers and Monographs of silkroadstudies.org
(``SILKROAD_BASE_URL``): papers, monographs and books, each row its executive summary with the
PDF that is the publication (``pdf_url``, role ``paper``) and a book's chapter PDFs (role
``chapter``), fetched into ``documents``."""

from __future__ import annotations

from caci_spider.spiders.sections import K2PublicationsSpider


class SilkRoadPapersSpider(K2PublicationsSpider):
    # Its site and section come from sources.py (category, export file, coverage minimums).
    name = "silk_road_papers"
    # Feed first (K2PublicationsSpider's default): the same K2 platform as the Analyst, so the
    # same category feed path; whether it answers is not known, and a feed that fails sends the
    # run to the listing (reason recorded in crawl_runs.sources). A row is its item page.

    # Papers print no hits counter we rely on; their month is the issue date.
    coverage_fields = ("title", "authors", "published", "issue_date", "kind", "body", "pdf_url")
    canary_fields = ("title", "authors", "published", "kind", "body", "pdf_url")
    links_documents = True
