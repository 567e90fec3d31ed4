"""The sites and sections this crawler knows, as data: one :class:`SiteProfile` per K2 site.

A site's facts (its base-URL setting and default, the hosts that are the same site, the
publication name its bylines use, its boilerplate, the names it prints in its chrome) and each
crawled section's (K2 category slug, spider, human name, export file, coverage minimums) are
declared here once; the modules that need them read them from here:

* ``settings.py``: each base-URL setting's default (:attr:`SiteProfile.default_base_url`);
* ``urls.py``: :data:`~caci_spider.urls.SITE_HOSTS` (every profile's hosts) and
  :data:`~caci_spider.urls.STAFF_CATEGORY`;
* ``dates.py``: the publication names of the dated lines (:func:`publication_names_pattern`);
* ``quality.py``: :data:`~caci_spider.quality.SITE_NAMES` and ``SECTION_NAMES``;
* the page objects (``pages/item.py``, ``pages/k2.py``, ``pages/sections.py``): the item's
  site profile (:func:`profile_of`, or the one a spider passes) gives the boilerplate that ends
  a body (:func:`boilerplate_pattern`), the chrome names of a ``<title>`` and the section rules
  its pages are read with (:attr:`Section.rules`, named by the ``RULE_*`` constants below);
* the spiders: ``scrapy crawl <Section.spider>`` is generated from its Section
  (``caci_spider/spiders/generated.py``), with the section's policy (coverage and canary
  fields, feed first, document links; :attr:`Section.kind` says which spider class);
* the local site: its listings' and categories' names.

This module imports nothing of the project at import time, so that any module (settings
included) can read it; the paths of a section are spelled in :mod:`caci_spider.urls`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from urllib.parse import urlsplit

# The section rules an item page can be read with (caci_spider/pages/sections.py implements
# each; a section lists the ones its pages need in ``Section.rules``):
# "AUTHOR'S BIO: …" paragraph → author_bio, not body (older analytical articles).
RULE_AUTHOR_BIO = "author-bio"
# The PDF link ("Read <title> (PDF)", "Click here to download PDF") → pdf_url, not body.
RULE_PDF_LINK = "pdf-link"
# BACKGROUND: / IMPLICATIONS: / CONCLUSIONS: labels open paragraphs; an image's alt text glued
# before one ("karachagBACKGROUND:") is not text.
RULE_SECTION_LABELS = "section-labels"
# A Silk Road Paper, monograph or book page of silkroadstudies.org: the institute line, the type
# label (→ kind), the printed month (→ issue_date), the download / "Buy on Amazon" lines and the
# "Executive Summary" heading are page chrome; the download link → pdf_url, a book's chapter
# links → its chapters' PDFs; a cover image's alt text glued to a paragraph is not text.
RULE_PAPER = "paper"

# The menu path K2's article categories of these sites hang under (Section.parent).
DEFAULT_PARENT = "publications"

# What a section's rows are, and so which spider class walks it (caci_spider/spiders/):
# "publications": a row per item page, every field from the page (K2PublicationsSpider; its
# spider is generated from the Section, caci_spider/spiders/generated.py);
# "staff-publications": a row merges a listing entry with its item page and the Analyst's
# home-page sidebar (StaffPublicationsSpider, a spider of its own).
KIND_PUBLICATIONS = "publications"
KIND_STAFF_PUBLICATIONS = "staff-publications"

# The spider policy of a publications section unless its Section says otherwise: every field of
# a row comes from the item page, so the section's feed is all a night needs.
COVERAGE_FIELDS = ("title", "authors", "published", "issue_date", "body", "hits")
# A stored publication whose page no longer yields one of these has changed layout. (tags too:
# incremental nights refetch no stored item but the canary, so a template that loses only the
# tags is seen here or nowhere)
CANARY_FIELDS = ("title", "authors", "published", "issue_date", "body", "hits", "tags")
# ... and these must read as its row has them (field → one of caci_spider.quality.COMPARISONS:
# "exact", "key", "keys", "date", "words"; a body by word-level similarity).
CANARY_COMPARED: Mapping[str, str] = MappingProxyType(
    {"title": "exact", "authors": "exact", "published": "exact", "body": "words"}
)


@dataclass(frozen=True)
class Section:
    """One crawled section of a site: a K2 category and the spider that walks it."""

    category: str  # the K2 category slug: /<parent>/<category>.html
    spider: str  # the spider's name (``scrapy crawl <spider>``)
    name: str  # the human name the site prints ("Published in Field Reports")
    export_name: str  # the file under CACI_EXPORT_DIR
    # Below these shares of items with the field, a run fails its self-check.
    coverage_minimums: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    # The section rules its item pages are read with (the RULE_* names above).
    rules: frozenset[str] = frozenset()
    # The menu path the category hangs under: "publications" (its listing is
    # <parent>/<category>.html), or "" for a top-level category (silkroadstudies.org's
    # /silkroadstudies-news.html). caci_spider.urls spells the paths.
    parent: str = DEFAULT_PARENT
    # Its spider's policy (caci_spider.spiders: the spider class's attributes of these names).
    # Which spider class walks it (a KIND_* above).
    kind: str = KIND_PUBLICATIONS
    # The fields whose share of items the run reports (and judges with coverage_minimums).
    coverage_fields: tuple[str, ...] = COVERAGE_FIELDS
    # Fields a canary (a stored item fetched again) must still yield when its row has them.
    canary_fields: tuple[str, ...] = CANARY_FIELDS
    # Fields a canary's page must give as its row has them, and how.
    canary_compared: Mapping[str, str] = field(default_factory=lambda: CANARY_COMPARED)
    # Its rows link PDFs (``pdf_url``, caci_spider.documents), fetched into ``documents``, and
    # exports/documents.jsonl is written too.
    links_documents: bool = False
    # Feed-first incremental runs (caci_spider.sitefeed): the section's K2 feed says which ids
    # are new, and the listing is walked only when the feed cannot say. A feed that fails sends
    # the run to the listing, with the reason recorded in crawl_runs.sources. A section whose
    # rows take more than the item page gives walks its listing, and says why.
    feed_first: bool = True
    listing_only_reason: str = "this section does not read its feed"
    # The key of the site whose home page lists the section's newest entries in a sidebar,
    # read too ("": none; the staff publications: the Analyst's "Staff Publications" box).
    home_sidebar_site: str = ""

    @property
    def path(self) -> str:
        """The category's path: the listing is this + ``.html``, the feed this + ``.feed``, an
        item this + ``/item/<id>-<alias>.html`` (:func:`caci_spider.urls.section_path`)."""
        from caci_spider import urls  # noqa: PLC0415 (urls reads this module)

        return urls.section_path(self.parent, self.category)


@dataclass(frozen=True)
class Boilerplate:
    """Text a site prints around its articles, never article text."""

    # The first words of a footer blurb, as a line starts with them; "&" also matches "and".
    footer_blurbs: tuple[str, ...] = ()
    # Headings of a newsletter box (a whole line).
    newsletter_headings: tuple[str, ...] = ()
    # The alt texts of the site's logos and partner banners.
    logo_alts: tuple[str, ...] = ()
    # Headings of the site's sidebar modules (a whole line), which no article text is.
    sidebar_headings: tuple[str, ...] = ()


@dataclass(frozen=True)
class SiteProfile:
    """One Joomla + K2 site."""

    key: str  # the site's key: "cacianalyst"
    base_url_setting: str  # the Scrapy setting holding its base URL
    default_base_url: str  # that setting's default (settings.py reads it from here)
    hosts: tuple[str, ...]  # host keys (no "www.", no trailing dot) that are the same site
    publication_name: str | None  # the name its bylines use ("CACI Analyst"), if any
    boilerplate: Boilerplate = Boilerplate()
    # The names the site prints in its chrome (page titles, headers, footers): as a title, a
    # sign that the title came from the chrome.
    site_names: tuple[str, ...] = ()
    # Menu entries and category names of the site (crawled or not), for the same check.
    section_names: tuple[str, ...] = ()
    sections: tuple[Section, ...] = ()


CACIANALYST = SiteProfile(
    key="cacianalyst",
    base_url_setting="CACI_BASE_URL",
    default_base_url="https://www.cacianalyst.org",
    hosts=("cacianalyst.org",),
    publication_name="CACI Analyst",
    boilerplate=Boilerplate(
        footer_blurbs=("The Central Asia-Caucasus Analyst is a biweekly",),
        newsletter_headings=("Newsletter",),
        logo_alts=("Central Asia-Caucasus Analyst",),
    ),
    site_names=(
        "Central Asia-Caucasus Analyst",
        "The Central Asia-Caucasus Analyst",
        "CACI Analyst",
        "The CACI Analyst",
        "cacianalyst.org",
        "www.cacianalyst.org",
    ),
    section_names=("Field Reports", "Analytical Articles", "News Digest", "Feature Articles"),
    sections=(
        Section(
            category="field-reports",
            spider="field_reports",
            name="Field Reports",
            export_name="field_reports.jsonl",
            coverage_minimums=MappingProxyType(
                {"title": 0.95, "body": 0.95, "published": 0.95, "authors": 0.90}
            ),
            # Feed first: the section stopped in October 2016; its feed still answers, with ids
            # all known: a night costs the feed and the canaries.
        ),
        Section(
            category="analytical-articles",
            spider="analytical_articles",
            name="Analytical Articles",
            export_name="analytical_articles.jsonl",
            coverage_minimums=MappingProxyType(
                {"title": 0.95, "body": 0.95, "published": 0.95, "authors": 0.90}
            ),
            rules=frozenset({RULE_AUTHOR_BIO, RULE_SECTION_LABELS}),
            # Feed first: the section's feed is live (its newest items are the newest articles);
            # the listing every CACI_LISTING_WALK_DAYS.
        ),
        Section(
            category="feature-articles",
            spider="feature_articles",
            name="Feature Articles",
            export_name="feature_articles.jsonl",
            # Abstracts with a PDF: no hits are printed.
            coverage_minimums=MappingProxyType(
                {"title": 0.95, "body": 0.95, "published": 0.95, "authors": 0.90}
            ),
            rules=frozenset({RULE_PDF_LINK}),
            # Abstracts with a PDF (a row is its item page: abstract, name line, date, PDF
            # link); no hits counter and no issue date other than the dated line.
            coverage_fields=("title", "authors", "published", "issue_date", "body", "pdf_url"),
            canary_fields=("title", "authors", "published", "body", "pdf_url"),
            links_documents=True,
        ),
        Section(
            category="news-digest",
            spider="news_digest",
            name="News Digest",
            export_name="news_digest.jsonl",
            # 2001–2006 digests are "By empty": authors are not a measure of extraction here.
            coverage_minimums=MappingProxyType({"title": 0.95, "body": 0.95, "published": 0.95}),
            # ... and no authors to compare. Whether its feed answers is not known: feed first
            # anyway, as a feed with known ids (the section ended in 2011) makes a night one
            # request plus the canaries, and one that fails costs the listing walk it would
            # have made anyway (~800 pages every night to learn nothing).
            canary_fields=("title", "published", "issue_date", "body", "hits", "tags"),
            canary_compared=MappingProxyType(
                {"title": "exact", "published": "exact", "body": "words"}
            ),
        ),
    ),
)

SILKROADSTUDIES = SiteProfile(
    key="silkroadstudies",
    base_url_setting="SILKROAD_BASE_URL",
    default_base_url="https://www.silkroadstudies.org",
    hosts=("silkroadstudies.org",),
    publication_name=None,
    boilerplate=Boilerplate(
        footer_blurbs=("Central Asia-Caucasus Institute & Silk Road Studies Program, a joint",),
        logo_alts=("silkroad",),
    ),
    site_names=(
        "Central Asia-Caucasus Institute",
        "Central Asia-Caucasus Institute & Silk Road Studies Program",
        "Central Asia-Caucasus Institute and Silk Road Studies Program",
        "Central Asia-Caucasus Institute & Silk Road Studies Program Joint Center",
        "Silk Road Studies",
        "Silk Road Studies Program",
        "silkroadstudies.org",
        "www.silkroadstudies.org",
    ),
    section_names=(
        "Staff Publications",
        "Joint Center Publications",
        "Silkroad Papers and Monographs",
        "Silk Road Papers and Monographs",
        "News",
        "Forums & Events",
    ),
    sections=(
        Section(
            category="joint-center-publications",
            spider="staff_publications",
            name="Staff Publications",
            export_name="staff_publications.jsonl",
            # Sidebar and listing entries are messier than item pages: a lower bar for titles.
            coverage_minimums=MappingProxyType({"title": 0.90}),
            kind=KIND_STAFF_PUBLICATIONS,
            coverage_fields=("title", "authors", "date", "venue", "url", "summary"),
            # What a staff item page itself gives (the rest of a row may come from the listing);
            # where it gives them, they must agree with the row (which may hold the listing's
            # spelling: titles and names by key, dates as compatible).
            canary_fields=("title",),
            canary_compared=MappingProxyType({"title": "key", "authors": "keys", "date": "date"}),
            links_documents=True,
            # Its K2 category has a feed too, but the listing is one or two pages and the
            # sidebar is fetched anyway: reading the feed first would save next to nothing and
            # lose the listing's word.
            home_sidebar_site="cacianalyst",
            feed_first=False,
            listing_only_reason=(
                "staff rows merge each listing entry with its item page (the feed has neither "
                "the entries' venue, date and summary nor the entries without a page): the "
                "listing is walked every night"
            ),
        ),
        Section(
            category="silkroad-papers-and-monographs",
            spider="silk_road_papers",
            name="Silkroad Papers and Monographs",
            export_name="silk_road_papers.jsonl",
            # Every paper prints its type label and links its PDF.
            coverage_minimums=MappingProxyType(
                {"title": 0.95, "body": 0.95, "published": 0.95, "authors": 0.90, "kind": 0.90}
            ),
            rules=frozenset({RULE_PAPER}),
            # A row is its item page; papers print no hits counter we rely on; their month is
            # the issue date. The paper's PDF and a book's chapter PDFs are fetched.
            coverage_fields=(
                "title",
                "authors",
                "published",
                "issue_date",
                "kind",
                "body",
                "pdf_url",
            ),  # fmt: skip
            canary_fields=("title", "authors", "published", "kind", "body", "pdf_url"),
            links_documents=True,
        ),
        Section(
            category="silkroadstudies-news",
            spider="srs_news",
            name="News",
            export_name="srs_news.jsonl",
            # Announcements: no byline to measure, and no issue date.
            coverage_minimums=MappingProxyType({"title": 0.95, "body": 0.95, "published": 0.95}),
            parent="",
            coverage_fields=("title", "published", "body"),
            canary_fields=("title", "published", "body"),
        ),
        Section(
            category="forums-and-events",
            spider="srs_events",
            name="Forums & Events",
            export_name="srs_events.jsonl",
            coverage_minimums=MappingProxyType({"title": 0.95, "body": 0.95, "published": 0.95}),
            parent="",
            # Events carry no byline and no issue date; their date and place lines stay in the
            # body.
            coverage_fields=("title", "published", "body"),
            canary_fields=("title", "published", "body"),
        ),
    ),
)

TURKEYANALYST = SiteProfile(
    key="turkeyanalyst",
    base_url_setting="TURKEY_ANALYST_BASE_URL",
    default_base_url="https://www.turkeyanalyst.org",
    hosts=("turkeyanalyst.org",),
    publication_name="Turkey Analyst",
    # The footer blurb is a guess (no stored page of the site reaches its footer; see
    # docs/site-notes.md, "The Turkey Analyst").
    boilerplate=Boilerplate(
        footer_blurbs=("The Turkey Analyst is a biweekly",),
        newsletter_headings=("Newsletter",),
        logo_alts=("turkeyanalyst", "The Turkey Analyst"),
        # A guess, as the footer: a module listing the latest articles.
        sidebar_headings=("Latest Articles",),
    ),
    site_names=(
        "Turkey Analyst",
        "The Turkey Analyst",
        "turkeyanalyst.org",
        "www.turkeyanalyst.org",
    ),
    section_names=("Articles",),
    sections=(
        Section(
            category="turkey-analyst-articles",
            spider="turkey_analyst",
            name="Articles",
            export_name="turkey_analyst.jsonl",
            coverage_minimums=MappingProxyType(
                {"title": 0.95, "body": 0.95, "published": 0.95, "authors": 0.90}
            ),
            # Items with an issue designation ("vol. 2, no. 3") have no issue date. The same K2
            # URL grammar, so the same category feed path; whether it answers is not known.
            coverage_fields=(
                "title",
                "authors",
                "published",
                "issue_date",
                "issue",
                "body",
                "hits",
            ),  # fmt: skip
        ),
    ),
)

PROFILES: tuple[SiteProfile, ...] = (CACIANALYST, SILKROADSTUDIES, TURKEYANALYST)
BY_KEY: Mapping[str, SiteProfile] = MappingProxyType({p.key: p for p in PROFILES})


def crawled_profiles() -> tuple[SiteProfile, ...]:
    """The profiles with at least one crawled section."""
    return tuple(p for p in PROFILES if p.sections)


def sections() -> Iterator[tuple[SiteProfile, Section]]:
    """Every crawled section with its site, in declaration order."""
    for profile in PROFILES:
        for section in profile.sections:
            yield profile, section


def section_of(spider: str) -> tuple[SiteProfile, Section]:
    """The site and section the spider named ``spider`` crawls (``KeyError`` if none)."""
    for profile, section in sections():
        if section.spider == spider:
            return profile, section
    raise KeyError(spider)


def staff_section() -> tuple[SiteProfile, Section]:
    """The site and section of the institute's staff publications (the one section of kind
    ``staff-publications``)."""
    return next((p, s) for p, s in sections() if s.kind == KIND_STAFF_PUBLICATIONS)


# The spider that crawls every section of the publications table in one run.
ALL_SECTIONS_SPIDER = "publications"


def sister_spiders(
    spider: str, crawled: Iterator[Section] | tuple[Section, ...]
) -> tuple[str, ...]:
    """The other spiders that crawl any of the ``crawled`` sections of the spider named
    ``spider``: each section's own spider and the all-sections spider. What one of them
    learnt of a section (its page archive, its rejects' backoff, its last listing walk) holds
    for the others."""
    names = [section.spider for section in crawled]
    return tuple(name for name in dict.fromkeys([*names, ALL_SECTIONS_SPIDER]) if name != spider)


def section_names_by_category() -> dict[str, str]:
    """``{"field-reports": "Field Reports", …}`` for every crawled section."""
    return {section.category: section.name for _, section in sections()}


def site_hosts(profiles: tuple[SiteProfile, ...] | None = None) -> frozenset[str]:
    """The crawled sites' host keys (every profile with a section): links on any of them are
    the sites' own. A declared site without a section (the Turkey Analyst) is not one yet: its
    links stay off-site, as before it was declared."""
    profiles = crawled_profiles() if profiles is None else profiles
    return frozenset(host for profile in profiles for host in profile.hosts)


def host_of(base_url: str) -> str:
    """``https://www.cacianalyst.org.`` → ``cacianalyst.org`` (the profile's host form)."""
    host = (urlsplit(base_url).hostname or "").rstrip(".")
    return host[4:] if host.startswith("www.") else host


def publication_names() -> tuple[str, ...]:
    """The names bylines use ("CACI Analyst", "Turkey Analyst"), of every profile."""
    return tuple(p.publication_name for p in PROFILES if p.publication_name)


def _words_pattern(text: str) -> str:
    """A regex of ``text``: words separated by any whitespace, ``&`` also as ``and``."""
    return r"\s+".join("(?:&|and)" if word == "&" else re.escape(word) for word in text.split())


def publication_names_pattern(names: tuple[str, ...] | None = None) -> str:
    """``(?:CACI\\s+Analyst|Turkey\\s+Analyst)``: a non-capturing group of the names."""
    names = publication_names() if names is None else names
    return "(?:" + "|".join(_words_pattern(name).lower() for name in names) + ")"


def boilerplate_pattern(boilerplate: Boilerplate) -> str:
    """The alternation of one site's footer blurbs (line starts), newsletter and sidebar
    headings (whole lines), lower-case, for a case-insensitive end of body
    (:func:`caci_spider.pages.k2.body_end`); "" for a site with none."""
    parts = [_words_pattern(blurb).lower() for blurb in boilerplate.footer_blurbs]
    for heading in (*boilerplate.newsletter_headings, *boilerplate.sidebar_headings):
        parts.append(_words_pattern(heading).lower() + "$")
    return "|".join(dict.fromkeys(parts))


def profile_of(site: str) -> SiteProfile:
    """The declared profile keyed ``site``; for a key sources.py does not declare, a profile
    with no boilerplate, names or sections (its pages are read by the K2 rules alone)."""
    found = BY_KEY.get(site)
    if found is not None:
        return found
    return SiteProfile(
        key=site, base_url_setting="", default_base_url="", hosts=(), publication_name=None
    )


def site_names(profiles: tuple[SiteProfile, ...] | None = None) -> tuple[str, ...]:
    """The chrome names of the crawled sites (every profile with a section), in order."""
    profiles = crawled_profiles() if profiles is None else profiles
    return tuple(dict.fromkeys(name for p in profiles for name in p.site_names))


def section_names(profiles: tuple[SiteProfile, ...] | None = None) -> tuple[str, ...]:
    """The menu and category names of the crawled sites, in order."""
    profiles = crawled_profiles() if profiles is None else profiles
    return tuple(dict.fromkeys(name for p in profiles for name in p.section_names))
