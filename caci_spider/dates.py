r"""Every date form of the two sites, in one grammar, parsed without guessing beyond the text.

Field reports (exact dates):

* K2 date lines: ``Wednesday, 11 February 2004`` (tag listings add ``12:32``).
* ``Last modified on Wednesday, 12 March 2025``.
* Byline issue dates: ``(2/11/2004 issue …)`` month-first, ``(the 05/02/2014 issue …)`` day-first.
* Dated lines under 2015+ bylines: ``November 16th, 2015, The CACI Analyst``,
  ``January 28, 2021, the CACI Analyst``, ``March 28, 2022``, and year-less ``May 6th, the CACI
  Analyst``.

Staff publications (as precise as the text: ``2024``, ``2024-10`` or ``2024-09-07``):
:data:`PARTIAL_DATE_FORMS`, one row per written form, most precise first.

All forms are written with the same tokens (month names, weekdays, ordinal suffixes); the day
and year tokens differ where the forms do: a K2 date line prints any two digits and four-digit
year, while a staff text's date must look like a date (``[0-3]?\d``, ``19xx``/``20xx``) so that
"Vision 2030" or "31" is not read as one.
"""

from __future__ import annotations

import re
from datetime import date

from caci_spider.sources import publication_names_pattern
from caci_spider.text import normalise_text

# Each month's English name and the abbreviations the site prints, by number (1–12).
_MONTH_FORMS = (
    ("january", "jan"),
    ("february", "feb"),
    ("march", "mar"),
    ("april", "apr"),
    ("may",),
    ("june", "jun"),
    ("july", "jul"),
    ("august", "aug"),
    ("september", "sep", "sept"),
    ("october", "oct"),
    ("november", "nov"),
    ("december", "dec"),
)
MONTHS = {name: number for number, names in enumerate(_MONTH_FORMS, start=1) for name in names}
MONTH_NAMES = tuple(names[0].capitalize() for names in _MONTH_FORMS)
# -- tokens ------------------------------------------------------------------------------------
_MONTH = r"(?P<month>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_WEEKDAY = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday),?\s+"
_ORDINAL = r"(?:st|nd|rd|th)?"
# Staff texts: a day and a year that look like one; an optional weekday and clock time.
_DAY = r"(?P<day>[0-3]?\d)" + _ORDINAL
_YEAR = r"(?P<year>(?:19|20)\d{2})"
_OPTIONAL_WEEKDAY = rf"(?:{_WEEKDAY})?"
_TIME = r"(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?"

# -- field reports ---------------------------------------------------------------------------

# "Wednesday, 11 February 2004" with an optional "12:32" time.
_K2_DATE = re.compile(
    rf"{_OPTIONAL_WEEKDAY}(?P<day>\d{{1,2}})\s+{_MONTH}\s+(?P<year>\d{{4}})(?:\s+\d{{1,2}}:\d{{2}})?",
    re.IGNORECASE,
)
K2_DATE_LINE = re.compile(rf"^\s*{_K2_DATE.pattern}\s*$", re.IGNORECASE)

# The publication names of every site's bylines (caci_spider.sources): "CACI Analyst", "Turkey
# Analyst".
_PUBLICATION = publication_names_pattern()

# "November 16th, 2015, The CACI Analyst" / "May 6th, the CACI Analyst" / "March 28, 2022".
DATED_LINE = re.compile(
    rf"^\s*{_MONTH}\s+(?P<day>\d{{1,2}}){_ORDINAL}"
    rf"(?:,?\s+(?P<year>\d{{4}}))?(?:,?\s+(?:the\s+)?{_PUBLICATION})?\s*\.?\s*$",
    re.IGNORECASE,
)

# The same line glued after a name by a single <br>: "By Najia Badykova November 16th, 2015, …".
DATED_SUFFIX = re.compile(
    rf"\s(?P<dated>{_MONTH}\s+\d{{1,2}}{_ORDINAL}(?:,?\s+\d{{4}})?"
    rf"(?:,?\s+(?:the\s+)?{_PUBLICATION})?)\s*\.?\s*$",
    re.IGNORECASE,
)

# "(2/11/2004 issue of the CACI Analyst)" and "(the 05/02/2014 issue …)".
ISSUE_PARENTHETICAL = re.compile(
    r"\(\s*(?P<the>the\s+)?(?P<first>\d{1,2})/(?P<second>\d{1,2})/(?P<year>\d{4})\s+issue\b[^)]*\)?",
    re.IGNORECASE,
)

# An issue designation that is not a date: "(vol. 2, no. 3 of the Turkey Analyst)" → "vol. 2,
# no. 3" (the row's ``issue``; records.normalise_publication).
ISSUE_DESIGNATION = re.compile(
    r"\(\s*(?P<issue>vol\.?\s*\d+\s*,\s*no\.?\s*\d+)\s+of\s+(?:the\s+)?"
    rf"{_PUBLICATION}\s*\)",
    re.IGNORECASE,
)


def parse_issue_designation(text: str | None) -> str | None:
    """``By X (vol. 2, no. 3 of the Turkey Analyst)`` → ``vol. 2, no. 3`` (spacing normalised)."""
    match = ISSUE_DESIGNATION.search(text or "")
    if not match:
        return None
    return re.sub(r"\s*,\s*", ", ", re.sub(r"\s+", " ", match["issue"]))


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def parse_k2_date(text: str | None) -> date | None:
    """``Wednesday, 11 February 2004`` (anywhere in ``text``) → ``date(2004, 2, 11)``."""
    if not text:
        return None
    match = _K2_DATE.search(text)
    if not match:
        return None
    return _safe_date(int(match["year"]), MONTHS[match["month"].lower()], int(match["day"]))


def k2_date_text(value: date) -> str:
    """``date(2022, 3, 28)`` → ``28 March 2022``: a date given as data (an ISO ``datetime``
    attribute) written as K2 prints it, so that it reads as a date line."""
    return f"{value.day} {MONTH_NAMES[value.month - 1]} {value.year}"


def is_dated_line(text: str) -> bool:
    """True for the dated line printed under a 2015+ byline."""
    return bool(DATED_LINE.match(text))


def parse_dated_line(text: str, published: date | None) -> date | None:
    """Parse a dated line; a year-less one takes the year that puts it nearest ``published``."""
    match = DATED_LINE.match(text)
    if not match:
        return None
    month, day = MONTHS[match["month"].lower()], int(match["day"])
    if match["year"]:
        return _safe_date(int(match["year"]), month, day)
    if published is None:
        return None
    candidates = [
        d
        for year in (published.year - 1, published.year, published.year + 1)
        if (d := _safe_date(year, month, day)) is not None
    ]
    return _nearest(candidates, published)


def parse_issue_date(text: str, published: date | None) -> date | None:
    """Date of a ``(M/D/YYYY issue …)`` parenthetical.

    Plain forms are month-first and ``the DD/MM/YYYY`` forms day-first; where both readings are
    valid dates the one nearest ``published`` wins, the form's own order breaking ties.
    """
    match = ISSUE_PARENTHETICAL.search(text)
    if not match:
        return None
    first, second, year = int(match["first"]), int(match["second"]), int(match["year"])
    month_first = _safe_date(year, first, second)
    day_first = _safe_date(year, second, first)
    preferred, other = (day_first, month_first) if match["the"] else (month_first, day_first)
    candidates = [d for d in (preferred, other) if d is not None]
    if len(candidates) < 2 or published is None:
        return candidates[0] if candidates else None
    return _nearest(candidates, published)


def _nearest(candidates: list[date], reference: date) -> date | None:
    """The candidate nearest ``reference``; the earlier-listed one on a tie."""
    if not candidates:
        return None
    return min(candidates, key=lambda d: abs((d - reference).days))


def iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


# -- staff publications: dates as precise as the text ----------------------------------------

# One row per written form, tried in this order (most precise first), so that "September 7,
# 2024" is never read as a bare "2024" and "October 2024" never as a bare year.
PARTIAL_DATE_FORMS: tuple[tuple[str, str], ...] = (
    # "September 7, 2024", "Sept. 7th 2024", "Monday, March 13, 2020"
    ("month day year", _OPTIONAL_WEEKDAY + _MONTH + r"\s+" + _DAY + r",?\s+" + _YEAR + _TIME),
    # "24 January 2019", K2's "Thursday, 24 January 2019 00:00"
    ("day month year", _OPTIONAL_WEEKDAY + _DAY + r"\s+" + _MONTH + r",?\s+" + _YEAR + _TIME),
    # "2024-09-07", "2024-09"
    ("ISO", _YEAR + r"-(?P<nmonth>[01]\d)(?:-(?P<nday>[0-3]\d))?"),
    # "October 2024", "Oct. 2024"
    ("month year", _MONTH + r",?\s+" + _YEAR),
    # "Spring 2023": a season gives the year only.
    ("season year", r"(?:spring|summer|fall|autumn|winter)\s+" + _YEAR),
    # "2023"
    ("year", _YEAR),
)
_PARTIAL_DATES = tuple(re.compile(p, re.IGNORECASE) for _name, p in PARTIAL_DATE_FORMS)
# A date ending an entry or a venue line must stand at the start, after a comma/semicolon, or
# after a closing quote.  That keeps "Vision 2030" or "Title May 2023" from donating a date.
_TRAILING_DATES = tuple(
    re.compile(r"(?:^|(?<=[,;\"”»]))\s*(?:" + p + r")\s*\.?\s*$", re.IGNORECASE)
    for _name, p in PARTIAL_DATE_FORMS
)


def _partial_iso(match: re.Match[str]) -> str:
    """The ISO string of a date match, keeping only the precision the text has.

    An impossible day ("February 30, 2024") keeps the year and month only.
    """
    groups = match.groupdict()
    year = int(groups["year"])
    month: int | None = None
    if groups.get("month"):
        month = MONTHS[groups["month"].lower()]
    elif groups.get("nmonth"):
        month = int(groups["nmonth"])
    day_text = groups.get("day") or groups.get("nday")
    if month is None or not 1 <= month <= 12:
        return f"{year:04d}"
    if day_text and (day := _safe_date(year, month, int(day_text))):
        return day.isoformat()
    return f"{year:04d}-{month:02d}"


def parse_partial_date(text: str) -> str | None:
    """Read a whole-string date expression as ISO 8601, as precise as the text.

    "October 2024" -> "2024-10", "September 7, 2024" -> "2024-09-07", "2023" -> "2023".  Returns
    ``None`` when the (normalised, trailing "."/"," stripped) text is not a date. Partial
    precision is kept rather than padded to the first of the month, so downstream code can tell
    "published in October" from "published on October 1".
    """
    cleaned = normalise_text(text).rstrip(".,; ")
    for pattern in _PARTIAL_DATES:
        match = pattern.fullmatch(cleaned)
        if match:
            return _partial_iso(match)
    return None


def split_trailing_date(text: str) -> tuple[str, str | None]:
    """Split a trailing date (and the text's final period) off ``text``.

    Returns the text before the date, with separating commas/spaces removed, and the ISO date;
    ``(text, None)`` when the text does not end in a date.
    """
    for pattern in _TRAILING_DATES:
        match = pattern.search(text)
        if match:
            return text[: match.start()].rstrip(" ,;"), _partial_iso(match)
    return text, None


# A day and a month without a year: the date line of a news item in a compiled digest
# ("10 April", "April 10th").
_DAY_MONTH_LINES = tuple(
    re.compile(pattern + r"\.?", re.IGNORECASE)
    for pattern in (
        _OPTIONAL_WEEKDAY + _DAY + r"\s+" + _MONTH,
        _OPTIONAL_WEEKDAY + _MONTH + r"\s+" + _DAY,
    )
)


def is_date_line(text: str) -> bool:
    """True for a paragraph that is a date and nothing else: "10 April", "April 10, 2009",
    "Thursday, 23 April 2009". Such a line repeats across a news digest's items and issues
    without being page chrome."""
    cleaned = normalise_text(text).rstrip(".,; ")
    if parse_partial_date(cleaned) is not None:
        return True
    return any(pattern.fullmatch(cleaned) for pattern in _DAY_MONTH_LINES)


def date_precision(iso_date: str) -> int:
    """1 for ``2024``, 2 for ``2024-10``, 3 for ``2024-10-07``."""
    return iso_date.count("-") + 1


def dates_compatible(first: str | None, second: str | None) -> bool:
    """``2024`` and ``2024-10`` agree; ``2023`` and ``2024`` do not; a missing date agrees."""
    return not first or not second or first.startswith(second) or second.startswith(first)
