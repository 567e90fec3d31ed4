"""K2's created-date line, as the other templates print it (ISO, Joomla's)."""

from __future__ import annotations

import re

MONTHS = (
    "January February March April May June July August September October November December".split()
)
_DATE = re.compile(
    r"\b(?P<day>\d{1,2})\s+(?P<month>" + "|".join(MONTHS) + r")\s+(?P<year>\d{4})"
    r"(?:\s+(?P<hour>\d{1,2}):(?P<minute>\d{2}))?",
    re.IGNORECASE,
)
_DATE_CREATED = re.compile(rb'class="itemDateCreated">\s*(.*?)\s*<', re.DOTALL)


def k2_date_line(page: bytes) -> str | None:
    """The K2 created-date line of an item page (``Monday, 28 March 2022``), if it shows one."""
    match = _DATE_CREATED.search(page)
    return " ".join(match[1].decode("utf-8", "replace").split()) if match else None


def _parse_date(line: str) -> tuple[int, int, int, int, int] | None:
    match = _DATE.search(line)
    if match is None:
        return None
    month = [m.lower() for m in MONTHS].index(match["month"].lower()) + 1
    hour, minute = int(match["hour"] or 0), int(match["minute"] or 0)
    return int(match["year"]), month, int(match["day"]), hour, minute


def iso_datetime(line: str) -> str | None:
    """``Monday, 28 March 2022`` → ``2022-03-28T00:00:00+00:00`` (PHP's date format ``c``)."""
    parts = _parse_date(line)
    if parts is None:
        return None
    year, month, day, hour, minute = parts
    return f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:00+00:00"


def _joomla_date(line: str) -> str | None:
    """Joomla's DATE_FORMAT_LC3 (``d F Y``): ``28 March 2022``."""
    parts = _parse_date(line)
    return None if parts is None else f"{parts[2]:02d} {MONTHS[parts[1] - 1]} {parts[0]}"
