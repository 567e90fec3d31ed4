"""The header lines of a staff listing entry or item page, and the summary after them.

On silkroadstudies.org an entry (docs/site-notes.md, "Staff publications") reads, after its
title: authors; ``Venue, Month D, YYYY``; ``Read at Venue``; ``By Name``; a venue-first
``Venue`` / ``January 2020`` / authors form; then the summary paragraphs. The grammar is
:data:`LINE_FORMS`: one row per form a header line can take, tried in order; the first that
reads the line gives its fields, and the header ends at the first line no form reads.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from caci_spider.dates import parse_partial_date, split_trailing_date
from caci_spider.items import StaffEntry
from caci_spider.names import BYLINE_START, byline_authors, parse_authors
from caci_spider.staff.kinds import kind_named
from caci_spider.text import (
    PARAGRAPH_SEPARATOR,
    is_image_label,
    normalise_text,
    strip_image_label,
    title_key,
)

__all__ = ["LINE_FORMS", "parse_venue_date_line", "read_entry_lines"]

_READ_MORE = re.compile(r"^(?:read\s+more|continue\s+reading|click\s+here)\b", re.IGNORECASE)
_READ_AT = re.compile(r"^read\s+(?:at|on|in)\s+(?P<venue>.+?)\s*$", re.IGNORECASE)
_READ_AT_PREFIX = re.compile(r"^Read (?:at|on)\s+", re.IGNORECASE)
_MAX_HEADER_LINES = 5
_MAX_HEADER_LENGTH = 160


def parse_venue_date_line(text: str) -> tuple[str | None, str | None]:
    """Split a listing's venue line into ``(venue, iso_date)``.

    Handles "The American Interest, March 13, 2020", a date alone ("January 2020" ->
    ``(None, "2020-01")``), the 2017 form "Read at The Hill" -> ``("The Hill", None)`` and a
    venue alone.  Venue spelling is kept as published ("Americanl Interest" is in the source).
    """
    cleaned = _READ_AT_PREFIX.sub("", normalise_text(text))
    venue, date = split_trailing_date(cleaned)
    venue = venue.strip(" ,;:.")
    return (venue or None), date


def _names_line(line: str) -> bool:
    """A line of person names only (the byline rules: no bio, organisation or sentence)."""
    return bool(byline_authors(line)) and not line.endswith(("…", "...")) and "  " not in line


@dataclass(frozen=True)
class Cursor:
    """The line being read, the two after it (look-ahead), and the entry's title key."""

    line: str
    following: str
    after_following: str
    title_key: str | None


Found = dict[str, Any]


def _furniture(cursor: Cursor) -> Found | None:
    """The title repeated, or "Read more": read, and skipped."""
    line, key = cursor.line, cursor.title_key
    return {} if _READ_MORE.match(line) or (key and title_key(line) == key) else None


def _kind(cursor: Cursor) -> Found | None:
    kind = kind_named(cursor.line)
    return {"kind": kind} if kind else None


def _read_at(cursor: Cursor) -> Found | None:
    match = _READ_AT.match(cursor.line)
    return {"venue": match["venue"]} if match else None


def _authors(cursor: Cursor) -> Found | None:
    if not _names_line(cursor.line):
        return None
    authors, roles = parse_authors(cursor.line)
    return {"authors": authors, "roles": roles}


def _by_authors(cursor: Cursor) -> Found | None:
    return _authors(cursor) if BYLINE_START.match(cursor.line) else None


def _date(cursor: Cursor) -> Found | None:
    date = parse_partial_date(cursor.line)
    return {"date": date} if date else None


def _venue_before_date(cursor: Cursor) -> Found | None:
    """``Venue`` / ``January 2020`` / authors: a venue line whose next line is a date (and that is
    not itself the authors, unless authors follow the date)."""
    if not parse_partial_date(cursor.following):
        return None
    if _names_line(cursor.line) and not _names_line(cursor.after_following):
        return None
    return {"venue": cursor.line}


def _venue_and_date(cursor: Cursor) -> Found | None:
    venue, date = parse_venue_date_line(cursor.line)
    return {"venue": venue, "date": date} if date else None


@dataclass(frozen=True)
class LineForm:
    """One form a header line can take.

    ``read`` gives the fields the line holds, or ``None`` when the line is not of this form;
    the form is tried only while the fields in ``unless_known`` are unknown. A field keeps the
    first value any line gave it. ``ends_header`` ends the header at a line of this form.
    """

    name: str
    read: Callable[[Cursor], Found | None]
    unless_known: tuple[str, ...] = ()
    ends_header: bool = False


def _overlong(cursor: Cursor) -> Found | None:
    return {} if len(cursor.line) > _MAX_HEADER_LENGTH else None


# Tried in this order; the first form that reads a line wins.
LINE_FORMS: tuple[LineForm, ...] = (
    LineForm("Read more / the title again", _furniture),
    LineForm("a type label: Silk Road Paper", _kind, unless_known=("kind",)),
    LineForm("a paragraph: the summary begins", _overlong, ends_header=True),
    LineForm("Read at Venue", _read_at),
    LineForm("By Name and Name", _by_authors, unless_known=("authors",)),
    LineForm("a date: January 2020", _date),
    LineForm("a venue over a date line", _venue_before_date, unless_known=("venue",)),
    LineForm("Venue, Month D, YYYY", _venue_and_date, unless_known=("date",)),
    LineForm("Name, Name and Name", _authors, unless_known=("authors",)),
)


def classify(cursor: Cursor, entry: StaffEntry) -> tuple[LineForm, Found] | None:
    """The first form of :data:`LINE_FORMS` that reads the line (given what is known)."""
    for form in LINE_FORMS:
        if any(getattr(entry, name) for name in form.unless_known):
            continue
        found = form.read(cursor)
        if found is not None:
            return form, found
    return None


def _fill(entry: StaffEntry, found: Found) -> None:
    """A field keeps the first value a line gave it."""
    for name, value in found.items():
        if value and not getattr(entry, name):
            setattr(entry, name, value)


def _read_header(lines: list[str], key: str | None, entry: StaffEntry) -> int:
    """Fill ``entry`` from the header lines; the number of lines the header takes."""
    padded = [*lines, "", ""]
    end = min(len(lines), _MAX_HEADER_LINES)
    for index in range(end):
        cursor = Cursor(padded[index], padded[index + 1], padded[index + 2], key)
        classified = classify(cursor, entry)
        if classified is None or classified[0].ends_header:
            return index
        _fill(entry, classified[1])
    return end


def _content_lines(lines: list[str]) -> list[str]:
    """The lines normalised, glued image labels removed, empty and image-only lines dropped."""
    cleaned = [strip_image_label(normalise_text(line)) for line in lines]
    return [line for line in cleaned if line and not is_image_label(line)]


def _summary(lines: list[str], key: str | None) -> str | None:
    """The lines after the header, without "Read more" and repetitions of the title."""
    kept = [line for line in lines if not _READ_MORE.match(line) and title_key(line) != key]
    return PARAGRAPH_SEPARATOR.join(kept) or None


def read_entry_lines(lines: list[str], title: str | None) -> StaffEntry:
    """The header fields of an entry's lines, and the summary that follows them.

    ``title`` (the entry's own) is only used to skip its repetitions; the entry returned has no
    title.
    """
    key = title_key(title) if title else None
    cleaned = _content_lines(lines)
    entry = StaffEntry()
    header = _read_header(cleaned, key, entry)
    if entry.venue and (label := kind_named(entry.venue)):
        # "Silk Road Paper, October 2024": the "venue" is the publication's type.
        entry.kind, entry.venue = label, None
    entry.summary = _summary(cleaned[header:], key)
    return entry
