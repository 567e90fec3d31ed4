"""The lines that open an item's text, era by era: the byline and the dated line.

docs/site-notes.md ("Bylines and dates, era by era"): 2000–14 items open with one paragraph
``By NAME (M/D/YYYY issue of the CACI Analyst)`` (the Turkey Analyst's: ``by NAME (vol. 6, no. 2
of the Turkey Analyst)``); 2015+ items with a name line (``By NAME`` or a bare name) over a dated
line (``November 16th, 2015, The CACI Analyst``, ``November 3rd, 2015, The Turkey Analyst``,
``March 12, 2025``), or the dated line alone. The publication names are every profile's
(caci_spider.sources). Each form is a :class:`BylineLayout`; :data:`LAYOUTS` lists them in the
order they are tried. The words of a byline (names, "By", bios) are :mod:`caci_spider.names`;
its dates are :mod:`caci_spider.dates`.
"""

from __future__ import annotations

from dataclasses import dataclass

from caci_spider.dates import DATED_SUFFIX, ISSUE_DESIGNATION, ISSUE_PARENTHETICAL, is_dated_line
from caci_spider.names import BYLINE_START, looks_like_name_line

# How many leading body paragraphs may hold the byline and the dated line.
WINDOW = 3
# A "By …" paragraph longer than this is body text that happens to start with "By".
_MAX_BYLINE = 400


def _is_by_line(line: str) -> bool:
    return bool(BYLINE_START.match(line)) and len(line) < _MAX_BYLINE


class BylineLayout:
    """How one era opens an item's text: the byline's form, and how it is glued by one ``<br>``."""

    era = ""

    def unglue(self, line: str) -> list[str] | None:
        """``line`` split in two where this era's byline is glued to the next line, else None."""
        return None

    def read(self, line: str, following: str | None) -> tuple[str | None, str | None] | None:
        """``(byline, dated line)`` when ``line`` (with ``following``) is this era's form."""
        raise NotImplementedError


class LegacyByline(BylineLayout):
    """2000–14: the paragraph ``By NAME (M/D/YYYY issue of the CACI Analyst)``, no dated line;
    the Turkey Analyst's ``by NAME (vol. 6, no. 2 of the Turkey Analyst)`` is the same form."""

    era = "2000–14"

    def unglue(self, line: str) -> list[str] | None:
        issue = ISSUE_PARENTHETICAL.search(line) or ISSUE_DESIGNATION.search(line)
        if BYLINE_START.match(line) and issue and line[issue.end() :].strip():
            return [line[: issue.end()].strip(), line[issue.end() :].strip()]
        return None

    def read(self, line: str, following: str | None) -> tuple[str | None, str | None] | None:
        if _is_by_line(line) and not (following is not None and is_dated_line(following)):
            return line, None
        return None


class DatedByline(BylineLayout):
    """2015+: a name line (``By NAME`` or a bare name), then the dated line."""

    era = "2015+"

    def unglue(self, line: str) -> list[str] | None:
        dated = DATED_SUFFIX.search(line)
        if dated and dated.start() > 0:
            name = line[: dated.start()].strip()
            if BYLINE_START.match(name) or looks_like_name_line(name):
                return [name, dated["dated"].strip()]
        return None

    def read(self, line: str, following: str | None) -> tuple[str | None, str | None] | None:
        if following is None or not is_dated_line(following):
            return None
        if _is_by_line(line) or looks_like_name_line(line):
            return line, following
        return None


class DatedLineOnly(DatedByline):
    """2015+ without a name line: the dated line alone."""

    def read(self, line: str, following: str | None) -> tuple[str | None, str | None] | None:
        return (None, line) if is_dated_line(line) else None


# Tried in this order at each of the first WINDOW paragraphs; the first that reads a paragraph
# is the page's layout. A "By" line is 2000–14 unless a dated line follows it.
LAYOUTS: tuple[BylineLayout, ...] = (LegacyByline(), DatedByline(), DatedLineOnly())


@dataclass(frozen=True)
class Head:
    """What opens an item's text, and the body paragraphs after it."""

    layout: BylineLayout | None  # the form the page was read as; None: neither byline nor date
    byline: str | None
    dated_line: str | None
    body: list[str]


def read_head(
    lines: list[str], title: str | None, layouts: tuple[BylineLayout, ...] = LAYOUTS
) -> Head:
    """Byline, dated line and body from an item's content paragraphs.

    A paragraph repeating the title before them is dropped, and so are later repeats of the
    byline and dated line (K2 repeats the intro at the head of the full text). A byline glued to
    the next line by a single ``<br>`` is split first, whatever its era.
    """
    lines = list(lines)
    while lines and title and lines[0].strip() == title.strip():
        lines.pop(0)
    lines = [part for line in lines[:WINDOW] for part in _unglue(line, layouts)] + lines[WINDOW:]
    window = lines[:WINDOW]
    for index, line in enumerate(window):
        following = window[index + 1] if index + 1 < len(window) else None
        for layout in layouts:
            found = layout.read(line, following)
            if found is not None:
                byline, dated = found
                taken = sum(value is not None for value in found)
                body = lines[:index] + lines[index + taken :]
                return Head(layout, byline, dated, [b for b in body if b not in found])
    return Head(None, None, None, lines)


def _unglue(line: str, layouts: tuple[BylineLayout, ...]) -> list[str]:
    for layout in layouts:
        parts = layout.unglue(line)
        if parts is not None:
            return parts
    return [line]
