"""What flows from the spiders through the pipelines.

* :class:`FieldReportPage` – raw fields extracted from one item page (spider → normalise).
* :class:`FieldReport` – the data contract, one row of ``publications`` (normalise → store).
* :class:`Reject` – something that could not become a row, with the reason (→ ``rejects``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


def utc_now() -> str:
    """ISO 8601 UTC timestamp, to the second (``2026-11-27T17:49:47Z``)."""
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class FieldReportPage:
    """Fields of a K2 item page as found, before normalisation."""

    id: int | None
    url: str
    fetched_at: str
    section: str | None = None
    title: str | None = None
    date_line: str | None = None
    byline: str | None = None
    dated_line: str | None = None
    paragraphs: list[str] = field(default_factory=list)
    hits: int | None = None
    modified_line: str | None = None
    tags: list[str] = field(default_factory=list)


@dataclass
class FieldReport:
    """One publication, keys in the order of the data contract (README)."""

    id: int
    url: str
    section: str | None
    title: str
    authors: list[str]
    published: str | None
    issue_date: str | None
    byline: str | None
    body: str
    hits: int | None
    modified: str | None
    tags: list[str]
    word_count: int
    content_hash: str
    fetched_at: str

    def as_row(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


CONTRACT_KEYS = tuple(f.name for f in dataclasses.fields(FieldReport))


@dataclass
class NormalisedReport:
    """A normalised report travelling with the page it came from (for reject records)."""

    page: FieldReportPage
    report: FieldReport


@dataclass
class Reject:
    """A page or item that did not make it into the dataset, and why."""

    spider: str
    url: str
    reason: str
    fetched_at: str
    raw: str | None = None
    status: int | None = None


@dataclass
class StaffPublication:
    """One staff publication as seen on one page (sidebar, listing or item page).

    Observations of the same publication are merged into one ``staff_publications`` row by the
    store; ``id`` is assigned there.
    """

    title: str | None
    sources: list[str]
    fetched_at: str
    kind: str | None = None
    authors: list[str] = field(default_factory=list)
    roles: dict[str, str] = field(default_factory=dict)
    venue: str | None = None
    date: str | None = None
    url: str | None = None
    summary: str | None = None
    raw: str = ""
    # Listing and item pages are the authoritative copy; the sidebar only fills gaps.
    authoritative: bool = False
    id: str = ""

    def as_row(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in STAFF_KEYS}


STAFF_KEYS = (
    "id",
    "kind",
    "title",
    "authors",
    "roles",
    "venue",
    "date",
    "url",
    "summary",
    "sources",
    "fetched_at",
)
