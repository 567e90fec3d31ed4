"""One line of the "Staff Publications" sidebar of cacianalyst.org pages.

Its HTML was never captured; only its text is known (docs/site-notes.md, "Staff
publications"). Each entry is one line

    <Type> <Authors>, <Title>, <Venue>, <Date>.

e.g. ``Analysis Laura Linderman, "Rising Stakes in Tbilisi as Elections Approach," Civil
Georgia, September 7, 2024.``  Image alt/file-name text leaks into that text, either on a line of
its own (``Screen Shot 2023-05-08 at 10.32.15 AM``) or glued to the front of an entry
(``2410Starr-coverSilk Road Paper …``).

The grammar is :data:`SIDEBAR_PARTS`: one row per part of the line, read in order, each taking
its part off the text that is left. Everything is plain text and deterministic: every heuristic
is a small, documented rule rather than a statistical guess.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from caci_spider.dates import split_trailing_date
from caci_spider.items import StaffEntry
from caci_spider.names import QUOTE_CLOSERS, take_leading_authors
from caci_spider.staff.kinds import take_leading_label
from caci_spider.text import is_image_label, normalise_text, strip_image_label

__all__ = ["SIDEBAR_PARTS", "EntryParseError", "parse_sidebar_entry"]


class EntryParseError(ValueError):
    """The text is not a publication entry; the message says why."""


# Words allowed in lower case inside a venue name ("Institute for Security and Development").
_VENUE_CONNECTORS = frozenset("of for and the on in at de du des la le & -".split())
# Words that say a title-cased phrase is a venue ("The National Interest", "Press").
_VENUE_WORDS = frozenset(
    """affairs analyst atlantic blog books brookings center centre chronicle council daily
    diplomat dossier economist eurasianet forbes foundation gazette guardian herald hill
    insider institute interest journal magazine monitor news observer online politico post
    press program programme publishers publishing quarterly report review studies times
    tribune university weekly world""".split()
)
# An entry-final period belongs to an abbreviation when it ends "U.S." or "ed.".
_ABBREVIATION_END = re.compile(
    r"(?:(?:^|[\s(])(?:[A-Z]\.)*[A-Z]|\b(?:eds?|al|Jr|Sr|Inc|Ltd|St))\.$"
)


def _has_text(text: str | None) -> bool:
    return text is not None and any(ch.isalnum() for ch in text)


def _strip_final_period(text: str) -> str:
    """Drop the period that ends an entry, but not one that ends an abbreviation ("U.S.")."""
    text = text.rstrip()
    if text.endswith(".") and not _ABBREVIATION_END.search(text):
        text = text[:-1]
    return text.rstrip()


def _clean_venue(text: str) -> str | None:
    venue = _strip_final_period(text.strip(" ,;:"))
    # '"Title" in Foreign Policy' reads the venue after "in".
    venue = re.sub(r"^in\s+(?=[^\W\d_])", "", venue).strip(" ,;:")
    return venue if _has_text(venue) else None


def _looks_like_venue(text: str) -> bool:
    """A short, title-cased phrase without sentence punctuation that says it is a venue.

    Only used to decide whether the last comma segment after an unquoted title is a venue: a
    title-cased phrase could as well be the end of a title that has a comma in it
    ("Kazakhstan, Uzbekistan and the Future of Central Asia").
    """
    words = text.split()
    if any(ch in text for ch in ':?!"“”') or not 1 <= len(words) <= 8:
        return False
    if not all(w[0].isupper() or w[0].isdigit() or w in _VENUE_CONNECTORS for w in words):
        return False
    return (words[0][0].isupper() or words[0][0].isdigit()) and any(
        w.strip(".,").casefold() in _VENUE_WORDS or (w.isupper() and len(w) >= 3) for w in words
    )


def _split_quoted_title(text: str) -> tuple[str, str] | None:
    """Split ``"Title," Venue`` into title and the text after the closing quote.

    ``None`` unless ``text`` opens with a quote that wraps the whole title: a quote followed by
    ":" or a lower-case word other than "in" (as in ``"Title" in Venue``) only opens the title
    (``“Agency Challenge”: Central Asian Diplomacy …``), and an unclosed quote wraps nothing.
    """
    if not text or text[0] not in QUOTE_CLOSERS:
        return None
    closers = QUOTE_CLOSERS[text[0]]
    end = next((i for i, ch in enumerate(text) if i > 0 and ch in closers), -1)
    if end == -1:
        return None
    after = text[end + 1 :]
    following = after.lstrip()
    if following[:1] == ":" or (following[:1].islower() and not following.startswith("in ")):
        return None
    return text[1:end], after


def _split_unquoted_title(text: str) -> tuple[str, str | None]:
    """Split ``Title, Venue`` where the title has no quotes.

    The title is everything up to the last comma segment, which is the venue only when it looks
    like one (short and title-cased); otherwise the whole text is the title.  A comma inside an
    unquoted title followed by a title-cased phrase is inherently ambiguous; the seen entries
    with unquoted titles (Silk Road Papers) carry no venue at all.
    """
    head, sep, last = text.rpartition(",")
    if sep and _has_text(head) and _looks_like_venue(last.strip()):
        return head, last
    return text, None


# -- the parts of a sidebar line, in the order they are taken ---------------------------------

Found = dict[str, Any]


def _take_kind(text: str) -> tuple[Found, str]:
    kind, rest = take_leading_label(text)
    return {"kind": kind}, rest


def _take_date(text: str) -> tuple[Found, str]:
    body, date = split_trailing_date(text)
    if date is None:
        body = _strip_final_period(body)
    return {"date": date}, body.strip(" ,;")


def _take_authors(text: str) -> tuple[Found, str]:
    authors, roles, rest = take_leading_authors(text)
    return {"authors": authors, "roles": roles}, rest


def _take_title(text: str) -> tuple[Found, str]:
    quoted = _split_quoted_title(text)
    if quoted is None:
        opener = text[:1]
        if (
            opener in QUOTE_CLOSERS
            and _has_text(text[1:])
            and not any(ch in text[1:] for ch in QUOTE_CLOSERS[opener])
        ):
            text = text[1:]  # an unclosed opening quote wraps nothing
    title, venue = quoted or _split_unquoted_title(text)
    # The separators left inside quotes go: "Approach," -> "Approach".
    title = title.strip().rstrip(" ,;:").strip()
    return {"title": title, "venue": _clean_venue(venue) if venue else None}, ""


@dataclass(frozen=True)
class Part:
    """One part of a sidebar line: what it gives, and how it is taken off the text."""

    gives: str
    take: Callable[[str], tuple[Found, str]]


# <Type> <Authors>, <Title>, <Venue>, <Date>.  The date is taken before the authors so that the
# names are read from a body that ends with its title.
SIDEBAR_PARTS: tuple[Part, ...] = (
    Part("kind: a type label opens the line", _take_kind),
    Part("date: a date closes it (with the final period)", _take_date),
    Part("authors, roles: the names that follow the label", _take_authors),
    Part("title, venue: a quoted title and what follows it, or Title, Venue", _take_title),
)


def parse_sidebar_entry(text: str) -> StaffEntry:
    """Parse one sidebar line ``<Type> <Authors>, <Title>, <Venue>, <Date>.``.

    A glued image label is dropped, then each part of :data:`SIDEBAR_PARTS` is taken in turn.
    Raises :class:`EntryParseError` for empty text, a bare image label, text with no title, and
    text with neither a type label, an author nor a date ("Read more"), since those are page
    furniture rather than publications.
    """
    original = normalise_text(text)
    if not original:
        raise EntryParseError("empty entry")
    if is_image_label(original):
        raise EntryParseError(f"image label, not a publication entry: {original!r}")
    found: Found = {}
    rest = strip_image_label(original)
    for part in SIDEBAR_PARTS:
        values, rest = part.take(rest)
        found.update(values)
    entry = StaffEntry(**found)
    if not _has_text(entry.title):
        raise EntryParseError(f"no title found in entry: {original!r}")
    if entry.kind is None and not entry.authors and entry.date is None:
        raise EntryParseError(
            f"no type label, author or date found; not a publication entry: {original!r}"
        )
    return entry
