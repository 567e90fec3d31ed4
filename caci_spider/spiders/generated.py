"""The section spiders, one per publications section of :mod:`caci_spider.sources`.

``scrapy crawl field_reports``, ``scrapy crawl analytical_articles``, …: a section of kind
``publications`` (``Section.kind``) needs no code of its own. Its spider is generated here, a
:class:`~caci_spider.spiders.sections.K2PublicationsSpider` named by ``Section.spider`` whose
policy (coverage and canary fields, feed first, document links) is the Section's. Scrapy's
spider loader finds the classes here (``SPIDER_MODULES``: each class's ``__module__`` is this
module), and so does the Scrapyd egg.

A class is bound here as ``FieldReportsSpider`` (the spider name in CamelCase + ``Spider``);
code that needs one by name takes it from :data:`SECTION_SPIDERS`.
"""

from __future__ import annotations

from caci_spider.sources import KIND_PUBLICATIONS, Section, SiteProfile, sections
from caci_spider.spiders.sections import K2PublicationsSpider


def class_name(spider: str) -> str:
    """``field_reports`` → ``FieldReportsSpider``."""
    return "".join(part.capitalize() for part in spider.split("_")) + "Spider"


def section_spider(
    profile: SiteProfile, section: Section, module: str = __name__
) -> type[K2PublicationsSpider]:
    """The spider class of one publications section: its name is ``section.spider``; its site,
    section and policy come from the Section (``K2PublicationsSpider.__init_subclass__``).
    ``module`` is where Scrapy's spider loader is to find it."""
    doc = (
        f"``scrapy crawl {section.spider}``: the {section.name} of {profile.key} "
        f"(``{profile.base_url_setting}``, ``{section.path}.html``)."
    )
    # K2PublicationsSpider.__init_subclass__ binds the class to the given site and section
    # (which need not be in sources.py: a test profile's).
    namespace: dict[str, object] = {
        "name": section.spider,
        "__module__": module,
        "__doc__": doc,
        "source_site": profile,
        "source_section": section,
    }
    return type(class_name(section.spider), (K2PublicationsSpider,), namespace)


# Every publications section's spider, by spider name, in declaration order (sources.py).
SECTION_SPIDERS: dict[str, type[K2PublicationsSpider]] = {
    section.spider: section_spider(profile, section)
    for profile, section in sections()
    if section.kind == KIND_PUBLICATIONS
}
globals().update({spider.__name__: spider for spider in SECTION_SPIDERS.values()})
