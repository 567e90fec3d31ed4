"""Date forms of the Analyst, parsed without guessing beyond what the text says.

* K2 date lines: ``Wednesday, 11 February 2004`` (tag listings add ``12:32``).
* ``Last modified on Wednesday, 12 March 2025``.
* Byline issue dates: ``(2/11/2004 issue …)`` month-first, ``(the 05/02/2014 issue …)`` day-first.
* Dated lines under 2015+ bylines: ``November 16th, 2015, The CACI Analyst``,
  ``January 28, 2021, the CACI Analyst``, ``March 28, 2022``, and year-less ``May 6th, the CACI
  Analyst``.
"""

from __future__ import annotations

import re
from datetime import date

MONTHS = {
    name: number
    for number, names in enumerate(
        [
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
        ],
        start=1,
    )
    for name in names
}
_MONTH = r"(?P<month>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_WEEKDAY = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday),?\s+"

# "Wednesday, 11 February 2004" with an optional "12:32" time.
_K2_DATE = re.compile(
    rf"(?:{_WEEKDAY})?(?P<day>\d{{1,2}})\s+{_MONTH}\s+(?P<year>\d{{4}})(?:\s+\d{{1,2}}:\d{{2}})?",
    re.IGNORECASE,
)
K2_DATE_LINE = re.compile(rf"^\s*{_K2_DATE.pattern}\s*$", re.IGNORECASE)

# "November 16th, 2015, The CACI Analyst" / "May 6th, the CACI Analyst" / "March 28, 2022".
DATED_LINE = re.compile(
    rf"^\s*{_MONTH}\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?"
    r"(?:,?\s+(?P<year>\d{4}))?(?:,?\s+(?:the\s+)?CACI\s+Analyst)?\s*\.?\s*$",
    re.IGNORECASE,
)

# The same line glued after a name by a single <br>: "By Najia Badykova November 16th, 2015, …".
DATED_SUFFIX = re.compile(
    rf"\s(?P<dated>{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?"
    r"(?:,?\s+(?:the\s+)?CACI\s+Analyst)?)\s*\.?\s*$",
    re.IGNORECASE,
)

# "(2/11/2004 issue of the CACI Analyst)" and "(the 05/02/2014 issue …)".
ISSUE_PARENTHETICAL = re.compile(
    r"\(\s*(?P<the>the\s+)?(?P<first>\d{1,2})/(?P<second>\d{1,2})/(?P<year>\d{4})\s+issue\b[^)]*\)?",
    re.IGNORECASE,
)


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
