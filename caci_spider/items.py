"""What flows from the spiders through the pipelines.

* :class:`PublicationPage` – raw fields extracted from one item page (spider → normalise).
* :class:`Publication` – the data contract, one row of ``publications`` (normalise → store).
* :class:`Reject` – something that could not become a row, with the reason (→ ``rejects``).
* :class:`StaffEntry` – what a page says about a staff publication (every staff parser's value);
  :class:`StaffPublication` – one observation of it, with its page and :class:`SourceRank`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum
from typing import Any

from caci_spider.contract import export_keys
from caci_spider.versions import EXTRACTION_VERSION


def is_empty(value: Any) -> bool:
    """A field without a value: ``None``, ``""``, ``[]`` or ``{}`` (``0`` is a value)."""
    return value is None or value == "" or value == [] or value == {}


def utc_now() -> str:
    """ISO 8601 UTC timestamp, to the second (``2026-11-27T17:49:47Z``)."""
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class PublicationPage:
    """Fields of a K2 item page as found, before normalisation."""

    id: int | None
    url: str
    fetched_at: str
    site: str = "cacianalyst"  # the profile key of the site the page is on (sources.py)
    section: str | None = None
    title: str | None = None
    date_line: str | None = None
    byline: str | None = None
    dated_line: str | None = None
    paragraphs: list[str] = field(default_factory=list)
    hits: int | None = None
    modified_line: str | None = None
    tags: list[str] = field(default_factory=list)
    # An "AUTHOR'S BIO:" paragraph, without its label (not a body paragraph).
    author_bio: str | None = None
    # The absolute URL of the publication's PDF link (the link's text is not in the body).
    pdf_url: str | None = None
    # A paper's type label ("Silk Road Paper") and printed month ("June 2025"), as printed, and
    # a book's chapter PDFs (caci_spider.pages.sections.read_paper); none on other sections.
    kind: str | None = None
    printed_month: str | None = None
    chapter_urls: list[str] = field(default_factory=list)


@dataclass
class Publication:
    """One publication, keys in the order of the data contract (docs/data.md)."""

    id: int
    site: str
    url: str
    section: str | None
    kind: str | None
    title: str
    authors: list[str]
    published: str | None
    issue_date: str | None
    issue: str | None
    byline: str | None
    body: str
    author_bio: str | None
    pdf_url: str | None
    hits: int | None
    modified: str | None
    tags: list[str]
    word_count: int
    content_hash: str
    fetched_at: str
    # The page rules that made it: this release's.
    extraction_version: int | None = EXTRACTION_VERSION

    def as_row(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# The keys of a row, in order, as the contract declares them (tests/test_contract.py checks that
# the dataclass agrees).
CONTRACT_KEYS = export_keys("publications")


@dataclass
class NormalisedReport:
    """A normalised report travelling with the page it came from (for reject records)."""

    page: PublicationPage
    report: Publication


@dataclass
class DocumentLinks:
    """Documents a publication links besides its ``pdf_url``: a book's chapter PDFs. Follows
    the publication's page through the pipelines and is recorded in ``document_links`` only
    when the publication's row is stored."""

    site: str
    id: int
    links: list[tuple[str, str]]  # (document URL, role)
    fetched_at: str


@dataclass
class Reject:
    """A page or item that did not make it into the dataset, and why."""

    spider: str
    url: str
    reason: str
    fetched_at: str
    raw: str | None = None
    status: int | None = None
    # The site (profile key) of the publication the page is, where it is one; None for staff
    # pages and pages of no known site.
    site: str | None = None


class SourceRank(IntEnum):
    """How far a page's word on a staff publication counts: a higher rank outranks a lower one.

    Stored with every ``staff_publications`` row (the highest rank that contributed to it, in the
    ``staff_ranks`` side table), so that a later observation is weighed against it.
    """

    SIDEBAR = 0  # the Analyst's "Staff Publications" sidebar: fills gaps
    ITEM = 1  # a staff item page, read for its listing entry: fills what the entry lacks
    LISTING = 2  # the institute's full listing (with its item page, once combined)


@dataclass
class StaffEntry:
    """What a page says about one staff publication: every parser of the three page types
    (sidebar line, listing entry, item page) returns one. Unknown fields are ``None``/empty."""

    kind: str | None = None
    title: str | None = None
    authors: list[str] = field(default_factory=list)
    # Only "editor" is produced (from "ed."/"eds."); plain authors get no entry.
    roles: dict[str, str] = field(default_factory=dict)
    venue: str | None = None
    # ISO 8601, only as precise as the text: "2024", "2024-10" or "2024-09-07".
    date: str | None = None
    # Paragraphs joined by a blank line.
    summary: str | None = None


# Fields of a staff observation that are not columns of its row: its raw text (for a reject), the
# rank of the page it was seen on (kept in the ``staff_ranks`` side table) and the PDFs it links
# (kept in ``document_links``).
STAFF_OBSERVATION_FIELDS = ("raw", "rank", "documents")


@dataclass(kw_only=True)
class StaffPublication(StaffEntry):
    """One observation of a staff publication: a :class:`StaffEntry` and where it was seen.

    Observations of the same publication are merged into one ``staff_publications`` row by the
    store (:func:`caci_spider.staff.precedence.merge_observations`); ``id`` is assigned there.
    """

    sources: list[str]
    fetched_at: str
    url: str | None = None
    raw: str = ""
    rank: SourceRank = SourceRank.SIDEBAR
    id: str = ""
    # PDF download links of its item page (caci_spider.documents): not a column of the row,
    # recorded in document_links once the row is stored.
    documents: list[str] = field(default_factory=list)

    @classmethod
    def observed(
        cls,
        entry: StaffEntry,
        *,
        source: str,
        fetched_at: str,
        rank: SourceRank,
        url: str | None = None,
        raw: str = "",
    ) -> StaffPublication:
        """The observation of ``entry`` on the page ``source``."""
        values = {f.name: getattr(entry, f.name) for f in dataclasses.fields(StaffEntry)}
        return cls(**values, sources=[source], fetched_at=fetched_at, url=url, raw=raw, rank=rank)

    @classmethod
    def from_row(cls, row: dict[str, Any], rank: SourceRank) -> StaffPublication:
        """A stored ``staff_publications`` row as an observation of the given rank."""
        return cls(**{key: row[key] for key in STAFF_KEYS if key in row}, rank=rank)

    def as_row(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in STAFF_KEYS}


STAFF_KEYS = export_keys("staff_publications")
