"""``scrapy crawl publications``: every section of the three K2 sites in one run.

The one a scheduler calls. Each section keeps its policy (``Section``: feed first or not,
coverage and canary fields) and its own listing walk, canaries and coverage minimums; each site
is read at its own base URL, with its own politeness (Scrapy's download slots, and so
``DOWNLOAD_DELAY``, ``CONCURRENT_REQUESTS_PER_DOMAIN`` and robots.txt, are per host). At close
every section's export is written, plus ``publications.jsonl`` (every row, by site then id).
"""

from __future__ import annotations

from typing import ClassVar

from caci_spider.sources import Section, sections
from caci_spider.spiders.base import K2CategorySpider
from caci_spider.spiders.generated import SECTION_SPIDERS
from caci_spider.spiders.sections import K2PublicationsSpider


class PublicationsSpider(K2PublicationsSpider):
    name = "publications"
    # Every publications section of sources.py (each has its generated spider), in declaration
    # order.
    crawled_sections = tuple(
        (profile, section) for profile, section in sections() if section.spider in SECTION_SPIDERS
    )
    aggregate_export: ClassVar[str | None] = "publications.jsonl"
    export_name = "publications.jsonl"
    # The union of the sections' fields; each section is judged on its own minimums.
    coverage_fields = tuple(
        dict.fromkeys(
            name for spider in SECTION_SPIDERS.values() for name in spider.coverage_fields
        )
    )
    links_documents = any(spider.links_documents for spider in SECTION_SPIDERS.values())

    @classmethod
    def policy_of(cls, section: Section) -> type[K2CategorySpider]:
        return SECTION_SPIDERS[section.spider]
