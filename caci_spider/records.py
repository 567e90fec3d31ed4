"""Pure steps that turn an extracted page into a contract row; the pipelines call them in order.

normalise → validate → collapse (in-text de-duplication and derived fields). Keeping them pure
lets the fixture tests run exactly what a crawl runs, without Scrapy's engine.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence

from caci_spider.dates import (
    dates_compatible,
    iso,
    parse_dated_line,
    parse_issue_date,
    parse_issue_designation,
    parse_k2_date,
    parse_partial_date,
)
from caci_spider.items import Publication, PublicationPage, StaffPublication
from caci_spider.names import NameParts, byline_authors, fullest, group_spellings
from caci_spider.staff.precedence import merge_observations
from caci_spider.storage import PublicationsDatabase
from caci_spider.text import (
    PARAGRAPH_SEPARATOR,
    collapse_repeated_paragraphs,
    document_normaliser,
    is_image_label,
    normalise_paragraphs,
    strip_featured_badge,
    title_key,
    word_count,
)
from caci_spider.urls import is_staff_listing_or_item


def normalise_publication(page: PublicationPage) -> Publication:
    """Clean every text field and parse dates and names; derived fields are filled later.

    The page's texts are one document: mojibake in one is evidence for the others.
    """
    published = parse_k2_date(page.date_line)
    texts = [page.title, page.byline, page.dated_line, page.section, page.kind, page.author_bio]
    normalise = document_normaliser([*texts, *page.paragraphs, *page.tags])
    byline = normalise(page.byline) or None
    dated_line = normalise(page.dated_line) or None
    issue_date = None
    if byline:
        issue_date = parse_issue_date(byline, published)
    if issue_date is None and dated_line:
        issue_date = parse_dated_line(dated_line, published)
    # A paper's printed month ("June 2025" → "2025-06"): a partial date, as printed.
    printed_month = parse_partial_date(page.printed_month) if page.printed_month else None
    title = normalise(page.title)
    # A caption or file name printed as text ("Screenshot 2025-03-12 at 11.11.25 AM") is not body.
    paragraphs = [
        p for p in normalise_paragraphs(page.paragraphs, normalise) if not is_image_label(p)
    ]
    body = PARAGRAPH_SEPARATOR.join(paragraphs)
    return Publication(
        id=page.id if page.id is not None else 0,
        site=page.site,
        url=page.url,
        section=normalise(page.section) or None,
        kind=normalise(page.kind) or None,
        title=strip_featured_badge(title) if title else "",
        authors=byline_authors(byline),
        published=iso(published),
        issue_date=printed_month or iso(issue_date),
        # "(vol. 2, no. 3 of the Turkey Analyst)": an issue that is not a date.
        issue=parse_issue_designation(byline),
        byline=byline,
        body=body,
        author_bio=normalise(page.author_bio) or None,
        pdf_url=page.pdf_url or None,
        hits=page.hits,
        modified=iso(parse_k2_date(page.modified_line)),
        tags=[tag for tag in (normalise(t) for t in page.tags) if tag],
        word_count=0,
        content_hash="",
        fetched_at=page.fetched_at,
    )


def validation_problem(page: PublicationPage, report: Publication) -> tuple[str, str | None]:
    """``(reason, offending raw text)`` for an item that must not be stored, or ``("", None)``."""
    if page.id is None or report.id <= 0:
        return "missing id", page.url
    if not report.url:
        return "missing url", None
    if not report.title:
        return "missing title", page.title
    if not report.body:
        return "missing body", None
    if report.published is None:
        return "unparseable published date", page.date_line
    return "", None


def collapse_body(report: Publication) -> Publication:
    """In-text de-duplication, then the fields derived from the final body."""
    kept = collapse_repeated_paragraphs(report.body.split(PARAGRAPH_SEPARATOR))
    report.body = PARAGRAPH_SEPARATOR.join(kept)
    report.word_count = word_count(report.body)
    report.content_hash = hashlib.sha256(report.body.encode("utf-8")).hexdigest()
    return report


def build_publication(page: PublicationPage) -> tuple[Publication | None, str, str | None]:
    """All three steps at once, for tools and tests: ``(report, reject reason, raw)``."""
    report = normalise_publication(page)
    reason, raw = validation_problem(page, report)
    if reason:
        return None, reason, raw
    return collapse_body(report), "", None


def normalise_staff_publication(publication: StaffPublication) -> StaffPublication:
    """The text rules applied to every field of a staff publication (idempotent), its fields
    one document as evidence of mojibake."""
    texts = [publication.title, publication.kind, publication.venue, publication.summary]
    normalise = document_normaliser([*texts, *publication.authors, *publication.roles])
    publication.title = normalise(publication.title) or None
    publication.kind = normalise(publication.kind) or None
    publication.venue = normalise(publication.venue) or None
    publication.authors = [a for a in (normalise(a) for a in publication.authors) if a]
    publication.roles = {normalise(k): v for k, v in publication.roles.items()}
    if publication.summary:
        paragraphs = normalise_paragraphs(publication.summary.split(PARAGRAPH_SEPARATOR), normalise)
        publication.summary = PARAGRAPH_SEPARATOR.join(paragraphs) or None
    return publication


class ProjectStorageRules:
    """The project's domain decisions that storage applies (:class:`caci_spider.storage.rules
    .StorageRules`): author spellings (:mod:`caci_spider.names`), staff observations
    (:mod:`caci_spider.staff.precedence`, :mod:`caci_spider.dates`), title keys
    (:mod:`caci_spider.text`), staff page URLs (:mod:`caci_spider.urls`)."""

    def name_key(self, name: str) -> tuple[str, str]:
        return NameParts.of(name).key

    def group_spellings(self, names: Sequence[str]) -> list[list[str]]:
        return group_spellings(list(names))

    def fullest(self, group: Sequence[str]) -> str:
        return fullest(list(group))

    def staff_id(self, title: str, date: str | None = None) -> str:
        """Stable id: a hash of the normalised title (plus the date for a same-titled
        namesake)."""
        key = title_key(title) + (f"|{date}" if date else "")
        return hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]

    def dates_compatible(self, a: str | None, b: str | None) -> bool:
        return dates_compatible(a, b)

    def merge_staff(
        self, stored: StaffPublication | None, observation: StaffPublication
    ) -> StaffPublication:
        return merge_observations(stored, observation)

    def is_staff_listing_or_item(self, url: str) -> bool:
        return is_staff_listing_or_item(url)

    def paragraphs(self, body: str) -> list[str]:
        return body.split(PARAGRAPH_SEPARATOR)


STORAGE_RULES = ProjectStorageRules()


def open_database(path: str | os.PathLike[str]) -> PublicationsDatabase:
    """The crawl's database at ``path``, storing with the project's rules."""
    return PublicationsDatabase(path, STORAGE_RULES)
