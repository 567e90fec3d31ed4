"""Text-level parsing of "Staff Publications" entries.

The cacianalyst.org item pages carry a "Staff Publications" sidebar whose HTML we have never
seen; only its extracted text is known (see SITE.md §9).  Each entry is one line of the form

    <Type> <Authors>, <Title>, <Venue>, <Date>.

e.g. ``Analysis Laura Linderman, "Rising Stakes in Tbilisi as Elections Approach," Civil
Georgia, September 7, 2024.``  Image alt/file-name text leaks into that text, either on a line of
its own (``Screen Shot 2023-05-08 at 10.32.15 AM``) or glued to the front of an entry
(``2410Starr-coverSilk Road Paper …``).  The dedicated listing on silkroadstudies.org (SITE.md §3)
instead spreads an entry over an authors line and a ``Venue, Month D, YYYY`` line; the helpers
:func:`parse_authors`, :func:`parse_venue_date_line` and :func:`parse_partial_date` serve that
layout.

Everything here works on plain text (callers extract it from HTML) and is deterministic: the
same string always gives the same result, and every heuristic is a small, documented rule rather
than a statistical guess. Month names come from :mod:`caci_spider.dates`.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from dataclasses import dataclass, field

from caci_spider.dates import MONTHS

__all__ = [
    "KIND_LABELS",
    "EntryParseError",
    "StaffEntry",
    "is_image_label",
    "parse_authors",
    "parse_partial_date",
    "parse_sidebar_entry",
    "parse_venue_date_line",
    "strip_image_label",
    "title_key",
]


@dataclass
class StaffEntry:
    """One parsed "Staff Publications" entry; fields the text does not give are ``None``/empty."""

    kind: str | None = None
    title: str | None = None
    authors: list[str] = field(default_factory=list)
    # Only "editor" is produced (from "ed."/"eds."); plain authors get no entry.
    roles: dict[str, str] = field(default_factory=dict)
    venue: str | None = None
    # ISO 8601, only as precise as the text: "2024", "2024-10" or "2024-09-07".
    date: str | None = None


class EntryParseError(ValueError):
    """The text is not a publication entry; the message says why."""


def _words(text: str) -> frozenset[str]:
    """A word set written as one whitespace-separated string (easier to read than a list)."""
    return frozenset(text.split())


# ---------------------------------------------------------------------------------------------
# Type labels
# ---------------------------------------------------------------------------------------------

# The closed list of type labels that may open a sidebar entry, each mapped to its canonical
# spelling.  Labels are matched case-sensitively and as whole words at the very start of the
# entry (after any image label was removed), longest first, so "Silk Road Paper" wins over a
# shorter label and "Book Chapter" over "Book".  Case-sensitivity keeps a title such as
# "analysis of ..." (or an unlabelled entry opening with a capitalised word that is not in this
# list) from losing its first word.  Seen on the site: "Silk Road Paper", "Analysis", "Book";
# the rest are the usual think-tank publication types, added so that a new sidebar entry of a
# common type is still recognised.
KIND_LABELS: dict[str, str] = {
    "Silk Road Paper": "Silk Road Paper",
    "Silk Road Monograph": "Silk Road Monograph",
    "Policy Paper": "Policy Paper",
    "Policy Brief": "Policy Brief",
    "Issue Brief": "Issue Brief",
    "Research Paper": "Research Paper",
    "Working Paper": "Working Paper",
    "Journal Article": "Journal Article",
    "Book Chapter": "Book Chapter",
    "Book": "Book",
    "Monograph": "Monograph",
    "Analysis": "Analysis",
    "Article": "Article",
    "Commentary": "Commentary",
    "Op-ed": "Op-ed",
    "Op-Ed": "Op-ed",
    "Interview": "Interview",
    "Report": "Report",
    "Testimony": "Testimony",
}
_KIND_RE = re.compile(
    "^(?P<label>"
    + "|".join(re.escape(label) for label in sorted(KIND_LABELS, key=len, reverse=True))
    + r")(?=\s|$)"
)

# ---------------------------------------------------------------------------------------------
# Image labels (alt text / file names that leak into the extracted text)
# ---------------------------------------------------------------------------------------------

_IMAGE_EXT = r"(?:\.(?:jpe?g|png|gif|webp|tiff?))?"
# "2410Starr-cover", "ChangingGeopolitics-cover2", "2505-Instac-Cover".  The stem is checked
# separately (see _is_filename_stem) so that ordinary words such as "Hard-cover" do not count.
_COVER_RE = re.compile(
    r"(?P<stem>[A-Za-z0-9][A-Za-z0-9_-]*?)[-_][Cc]over\d*" + _IMAGE_EXT + r"(?![a-z])"
)
# macOS screenshot names, with optional "(2)"/"-1" copy suffixes.
_SCREENSHOT_RE = re.compile(
    r"Screen ?[Ss]hot[ _]\d{4}-\d{2}-\d{2}"
    r"(?:[ _]at[ _]\d{1,2}[.:]\d{2}(?:[.:]\d{2})?(?:[ _]?[AaPp]\.?[Mm]\.?)?)?"
    r"(?:-\d+|\s?\(\d+\))?" + _IMAGE_EXT
)
# Stock-photo and camera file names: "shutterstock 1148957687-2", "IMG_1234".
_STOCK_RE = re.compile(r"(?:[Ss]hutterstock|IMG|DSCN?)[ _-]?\d+(?:-\d+)?" + _IMAGE_EXT)
# A bare image file name: "map-of-region.jpg".
_FILE_RE = re.compile(r"\S+\.(?:jpe?g|png|gif|webp|tiff?)", re.IGNORECASE)


def _is_filename_stem(stem: str) -> bool:
    """A cover-image stem looks like a file name: it has a digit or an inner capital letter.

    "2410Starr" and "ChangingGeopolitics" qualify; "Hard" (as in "Hard-cover") does not.
    """
    return any(ch.isdigit() for ch in stem) or any(ch.isupper() for ch in stem[1:])


def _match_image_label(text: str) -> re.Match[str] | None:
    """Return a match for an image label at the start of ``text`` (not necessarily all of it)."""
    for pattern in (_SCREENSHOT_RE, _STOCK_RE):
        match = pattern.match(text)
        if match:
            return match
    match = _COVER_RE.match(text)
    if match and _is_filename_stem(match.group("stem")):
        return match
    return None


def is_image_label(text: str) -> bool:
    """Tell whether ``text`` as a whole is leaked image alt/file-name text, not content.

    Such lines appear in the sidebar between real entries ("Screen Shot 2023-05-08 at 10.32.15
    AM") and must be skipped rather than reported as unparseable entries.
    """
    cleaned = _normalise(text)
    if not cleaned:
        return False
    if _FILE_RE.fullmatch(cleaned):
        return True
    match = _match_image_label(cleaned)
    return bool(match) and match.end() == len(cleaned)


def strip_image_label(text: str) -> str:
    """Remove an image label glued to (or standing before) the start of an entry.

    The text extractor drops the ``<img>`` but keeps its alt text, with no space before the
    entry's own text: ``2410Starr-coverSilk Road Paper S. Frederick Starr, …`` becomes
    ``Silk Road Paper S. Frederick Starr, …``.  Text without such a label is returned
    whitespace-normalised but otherwise unchanged.
    """
    cleaned = _normalise(text)
    match = _match_image_label(cleaned)
    if match is None:
        return cleaned
    return cleaned[match.end() :].lstrip()


# ---------------------------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------------------------

_MONTHS = MONTHS  # one month table for the whole project (caci_spider.dates)
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_YEAR = r"(?P<year>(?:19|20)\d{2})"
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_WEEKDAY = r"(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day,?\s+)?"
_TIME = r"(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?"

# Tried in this order (most precise first), so "September 7, 2024" is never read as a bare
# "2024" and "October 2024" never as a bare year.
_DATE_PATTERNS: tuple[str, ...] = (
    # "September 7, 2024", "Sept. 7th 2024", "Monday, March 13, 2020"
    _WEEKDAY + _MONTH + r"\s+" + _DAY + r",?\s+" + _YEAR + _TIME,
    # "24 January 2019", K2's "Thursday, 24 January 2019 00:00"
    _WEEKDAY + _DAY + r"\s+" + _MONTH + r",?\s+" + _YEAR + _TIME,
    # "2024-09-07", "2024-09"
    _YEAR + r"-(?P<nmonth>[01]\d)(?:-(?P<nday>[0-3]\d))?",
    # "October 2024", "Oct. 2024"
    _MONTH + r",?\s+" + _YEAR,
    # "Spring 2023": a season gives the year only.
    r"(?:spring|summer|fall|autumn|winter)\s+" + _YEAR,
    # "2023"
    _YEAR,
)
_DATE_FULL_RES = tuple(re.compile(p, re.IGNORECASE) for p in _DATE_PATTERNS)
# A date ending an entry or a venue line must stand at the start, after a comma/semicolon, or
# after a closing quote.  That keeps "Vision 2030" or "Title May 2023" from donating a date.
_DATE_TAIL_RES = tuple(
    re.compile(r"(?:^|(?<=[,;\"”»]))\s*(?:" + p + r")\s*\.?\s*$", re.IGNORECASE)
    for p in _DATE_PATTERNS
)


def _iso_from_match(match: re.Match[str]) -> str:
    """Build the ISO string for a date match, keeping only the precision the text has.

    An impossible day ("February 30, 2024") keeps the year and month only.
    """
    groups = match.groupdict()
    year = int(groups["year"])
    month: int | None = None
    if groups.get("month"):
        month = _MONTHS[groups["month"].lower()]
    elif groups.get("nmonth"):
        month = int(groups["nmonth"])
    day_text = groups.get("day") or groups.get("nday")
    if month is None or not 1 <= month <= 12:
        return f"{year:04d}"
    if day_text:
        try:
            return datetime.date(year, month, int(day_text)).isoformat()
        except ValueError:
            pass
    return f"{year:04d}-{month:02d}"


def parse_partial_date(text: str) -> str | None:
    """Read a whole-string date expression as ISO 8601, as precise as the text.

    "October 2024" -> "2024-10", "September 7, 2024" -> "2024-09-07", "2023" -> "2023".  Returns
    ``None`` when the (whitespace-normalised, trailing "."/"," stripped) text is not a date.
    Partial precision is kept rather than padded to the first of the month, so downstream code
    can tell "published in October" from "published on October 1".
    """
    cleaned = _normalise(text).rstrip(".,; ")
    for pattern in _DATE_FULL_RES:
        match = pattern.fullmatch(cleaned)
        if match:
            return _iso_from_match(match)
    return None


def _split_trailing_date(text: str) -> tuple[str, str | None]:
    """Split a trailing date (and the entry's final period) off ``text``.

    Returns the text before the date, with separating commas/spaces removed, and the ISO date;
    ``(text, None)`` when the text does not end in a date.
    """
    for pattern in _DATE_TAIL_RES:
        match = pattern.search(text)
        if match:
            return text[: match.start()].rstrip(" ,;"), _iso_from_match(match)
    return text, None


def parse_venue_date_line(text: str) -> tuple[str | None, str | None]:
    """Split a listing's venue line into ``(venue, iso_date)``.

    Handles "The American Interest, March 13, 2020", a date alone ("January 2020" ->
    ``(None, "2020-01")``), the 2017 form "Read at The Hill" -> ``("The Hill", None)`` and a
    venue alone.  Venue spelling is kept as published ("Americanl Interest" is in the source).
    """
    cleaned = _normalise(text)
    cleaned = re.sub(r"^Read (?:at|on)\s+", "", cleaned, flags=re.IGNORECASE)
    venue, date = _split_trailing_date(cleaned)
    venue = venue.strip(" ,;:.")
    return (venue or None), date


# ---------------------------------------------------------------------------------------------
# Authors
# ---------------------------------------------------------------------------------------------

_HONORIFIC_RE = re.compile(r"^(?:(?:Dr|Prof|Professor|Mr|Mrs|Ms|Amb)\.?\s+)+")
_BY_RE = re.compile(r"^by(?:\s+|$)", re.IGNORECASE)
_ROLE_RE = re.compile(r"^\(?(?:eds?|editors?)\.?\)?$", re.IGNORECASE)
_GLUED_ROLE_RE = re.compile(r"\s*\((?:eds?|editors?)\.?\)$", re.IGNORECASE)
_ET_AL_RE = re.compile(r"\s+et\.? al\.?$")
_SUFFIXES = frozenset({"Jr.", "Jr", "Sr.", "Sr", "II", "III", "IV"})
_AND_SPLIT_RE = re.compile(r"\s+(?:and|&)\s+")
_LEADING_AND_RE = re.compile(r"^(?:and|&)\s+")

# Lower-case name particles allowed inside a name ("Thomas de Waal").
_PARTICLES = _words(
    "al bin da das de del della den der di dos du el ibn la le ten ter van von y zu"
)
# Capitalised words that start or fill titles in this corpus but never (or hardly ever) occur
# in a staff member's name.  A comma segment containing one is not an author, which keeps short
# title-case titles ("Why Central Asia Matters") out of the author list.
_NOT_NAME_WORDS = _words(
    """A An And Are As At Be By Can For From How In Into Is It Its New No Not Of On Or Our
    Should The Their To Toward Towards Was Were What When Where Which Who Why Will With Without
    After Against Amid Before Between Beyond Over Through Under
    Afghanistan Armenia Asia Asian Azerbaijan Baku Beijing Caspian Caucasus Central China
    Chinese Eurasia Eurasian Europe European Georgia Georgian Iran Iranian Kabul Kazakhstan
    Kyrgyzstan Middle Moscow Russia Russian Tajikistan Tbilisi Turkey Turkish Turkmenistan
    Türkiye Ukraine Uzbekistan America American Global World Western Eastern Sea
    Analysis Challenge Challenges Connection Cooperation Corridor Crisis Democracy Diplomacy
    Economy Elections Energy Future Geopolitics Integration Paper Peace Policy Politics Reform
    Region Regional Relations Report Return Rise Road Security Silk Strategy Trade Transit War
    """
)
_INITIAL_RE = re.compile(r"^(?:[^\W\d_]\.-?)+$")
_NAME_WORD_RE = re.compile(r"^(?:[dDlL]['’])?[^\W\d_]+(?:['’-][^\W\d_]+)*$")


def _is_name_token_word(token: str) -> bool:
    """A capitalised word such as "Starr", "Swantström", "O'Neil" or "Al-Rasheed"."""
    if not _NAME_WORD_RE.match(token):
        return False
    core = re.sub(r"^[dDlL]['’]", "", token)
    if not core[0].isupper():
        return False
    # All-capital words of two or more letters are acronyms ("CEPA", "NATO"), not names.
    letters = [ch for ch in core if ch.isalpha()]
    return not (len(letters) >= 2 and all(ch.isupper() for ch in letters))


def _looks_like_name(text: str) -> bool:
    """Tell whether ``text`` reads as one personal name.

    A name has 2-5 tokens; each is a capitalised word, an initial ("S.", "J.-P.") or a lower-case
    particle; at least two are not particles, the last is a word, and none is a title word from
    ``_NOT_NAME_WORDS`` (so "U.S. Policy" or "Central Asia" is not a name).
    """
    tokens = text.split()
    if not 2 <= len(tokens) <= 5:
        return False
    substantive = 0
    for token in tokens:
        if token in _NOT_NAME_WORDS or token.rstrip(".") in {"U.S", "U.K", "E.U", "U.N"}:
            return False
        if token in _PARTICLES:
            continue
        if not (_INITIAL_RE.match(token) or _is_name_token_word(token)):
            return False
        substantive += 1
    return substantive >= 2 and _is_name_token_word(tokens[-1])


def _clean_name(text: str) -> str:
    """Drop "By", honorifics, "et al." and stray punctuation around one name."""
    name = " ".join(text.split())
    name = _BY_RE.sub("", name)
    name = _LEADING_AND_RE.sub("", name)
    name = _HONORIFIC_RE.sub("", name)
    name = _ET_AL_RE.sub("", name)
    name = name.strip(" ,;:")
    # A final period ends the line, unless it belongs to an initial ("John Q.").
    if name.endswith(".") and not _INITIAL_RE.match(name.rsplit(" ", 1)[-1]):
        name = name[:-1].rstrip()
    return name


def _names_in_segment(segment: str, *, strict: bool) -> list[str] | None:
    """Split one comma segment into names ("A and B", "A & B", "and C").

    With ``strict`` every part must look like a name, else ``None`` is returned: the sidebar
    parser uses that to find where the author list ends.
    """
    segment = _clean_name(segment)
    parts = [_clean_name(part) for part in _AND_SPLIT_RE.split(segment)]
    parts = [part for part in parts if part]
    if strict and (not parts or not all(_looks_like_name(part) for part in parts)):
        return None
    return parts


def _set_editors(authors: list[str], roles: dict[str, str]) -> None:
    """Mark every author listed so far as editor ("ed." and "eds." follow the names)."""
    for name in authors:
        roles.setdefault(name, "editor")


def _add_unique(authors: list[str], names: list[str]) -> None:
    for name in names:
        if name not in authors:
            authors.append(name)


def parse_authors(text: str) -> tuple[list[str], dict[str, str]]:
    """Parse an authors line into names and roles.

    Accepts the listing forms "Svante Cornell, Brenda Shaffer, and Jonathan Schanzer",
    "S. Frederick Starr & Michael Doran", "By S. Frederick Starr, S. Enders Wimbush" and
    "Svante E. Cornell, ed.".  The caller vouches that the line is an authors line, so names are
    not checked against the name heuristics; "By", honorifics (Dr., Prof.) and "et al." are
    dropped and "ed."/"eds." turn into ``{"name": "editor"}`` roles.
    """
    authors: list[str] = []
    roles: dict[str, str] = {}
    cleaned = _BY_RE.sub("", _normalise(text))
    for segment in cleaned.split(","):
        segment = segment.strip()
        if not segment:
            continue
        if _ROLE_RE.match(segment):
            _set_editors(authors, roles)
            continue
        if segment in _SUFFIXES and authors:
            authors[-1] = f"{authors[-1]} {segment}"
            continue
        editor = bool(_GLUED_ROLE_RE.search(segment))
        segment = _GLUED_ROLE_RE.sub("", segment)
        names = _names_in_segment(segment, strict=False) or []
        _add_unique(authors, names)
        if editor:
            _set_editors(authors, roles)
    return authors, roles


# ---------------------------------------------------------------------------------------------
# Sidebar entries
# ---------------------------------------------------------------------------------------------

# Opening quote -> the characters accepted as its closer (sites mix straight and curly quotes).
_QUOTE_CLOSERS: dict[str, str] = {'"': '"”', "“": '”"', "„": '“”"', "«": "»", "”": '”"'}
# A regex, not str.translate: translating with a dict is slow on long paragraphs.
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
# Words allowed in lower case inside a venue name ("Institute for Security and Development").
_VENUE_CONNECTORS = _words("of for and the on in at de du des la le & -")
# An entry-final period belongs to an abbreviation when it ends "U.S." or "ed.".
_ABBREVIATION_END_RE = re.compile(
    r"(?:(?:^|[\s(])(?:[A-Z]\.)*[A-Z]|\b(?:eds?|al|Jr|Sr|Inc|Ltd|St))\.$"
)


def _normalise(text: str) -> str:
    """NFC, zero-width characters removed, all whitespace (NBSP included) collapsed."""
    text = _ZERO_WIDTH.sub("", unicodedata.normalize("NFC", text))
    return " ".join(text.split())


def _has_text(text: str | None) -> bool:
    return bool(text) and any(ch.isalnum() for ch in text)


def _strip_final_period(text: str) -> str:
    """Drop the period that ends an entry, but not one that ends an abbreviation ("U.S.")."""
    text = text.rstrip()
    if text.endswith(".") and not _ABBREVIATION_END_RE.search(text):
        text = text[:-1]
    return text.rstrip()


def _clean_title(text: str) -> str:
    """Trim spaces and the separators left inside quotes ("Approach," -> "Approach")."""
    return text.strip().rstrip(" ,;:").strip()


def _clean_venue(text: str) -> str | None:
    venue = _strip_final_period(text.strip(" ,;:"))
    # '"Title" in Foreign Policy' reads the venue after "in".
    venue = re.sub(r"^in\s+(?=[^\W\d_])", "", venue).strip(" ,;:")
    return venue if _has_text(venue) else None


def _looks_like_venue(text: str) -> bool:
    """A short, title-cased phrase without sentence punctuation ("The National Interest").

    Only used to decide whether the last comma segment after an unquoted title is a venue.
    """
    if any(ch in text for ch in ':?!"“”'):
        return False
    words = text.split()
    if not 1 <= len(words) <= 8 or not (words[0][0].isupper() or words[0][0].isdigit()):
        return False
    if not all(w[0].isupper() or w[0].isdigit() or w in _VENUE_CONNECTORS for w in words):
        return False
    # A title-cased phrase could as well be the end of a title that has a comma in it
    # ("Kazakhstan, Uzbekistan and the Future of Central Asia"): a venue must say it is one.
    return any(
        w.strip(".,").casefold() in _VENUE_WORDS or (w.isupper() and len(w) >= 3) for w in words
    )


def _take_authors(text: str) -> tuple[list[str], dict[str, str], str]:
    """Consume the leading author names of an entry body; return them and the rest.

    The author list is the run of leading segments (delimited by commas, or by an opening quote
    that starts a quoted title) that each consist of names.  It ends at the first segment that
    is not a name or that is "ed."/"eds." (which makes the names editors).  The last segment is
    never taken as a name, because an entry always needs a title after its authors.
    """
    authors: list[str] = []
    roles: dict[str, str] = {}
    # "By" opens a byline only if names follow; otherwise it belongs to the title.
    rest = _BY_RE.sub("", text).lstrip()
    while rest and rest[0] not in _QUOTE_CLOSERS:
        comma = rest.find(",")
        quote = min((i for i in (rest.find(q) for q in _QUOTE_CLOSERS) if i > 0), default=-1)
        if comma == -1 and quote == -1:
            if authors and _ROLE_RE.match(rest.strip()):
                _set_editors(authors, roles)
                rest = ""
            break
        if quote != -1 and (comma == -1 or quote < comma):
            segment, after = rest[:quote], rest[quote:]
        else:
            segment, after = rest[:comma], rest[comma + 1 :]
        segment, after = segment.strip(), after.strip()
        if _ROLE_RE.match(segment):
            if not authors:
                break
            _set_editors(authors, roles)
            rest = after
            break
        if segment in _SUFFIXES and authors:
            authors[-1] = f"{authors[-1]} {segment}"
            rest = after
            continue
        editor = bool(_GLUED_ROLE_RE.search(segment))
        names = _names_in_segment(_GLUED_ROLE_RE.sub("", segment), strict=True)
        if names is None or not after.strip(" ,;"):
            break
        if authors and not _continues_author_list(segment, after):
            break
        _add_unique(authors, names)
        rest = after
        if editor:
            _set_editors(authors, roles)
            break
    if not authors:
        return authors, roles, text
    return authors, roles, rest


def _split_quoted_title(text: str) -> tuple[str, str] | None:
    """Split ``"Title," Venue`` into title and the text after the closing quote.

    Returns ``None`` unless ``text`` opens with a quote that wraps the whole title: a quote
    followed by ":" or a lower-case word other than "in" (as in ``"Title" in Venue``) only
    opens the title (``“Agency Challenge”: Central Asian Diplomacy …``), and an unclosed quote
    wraps nothing.
    """
    if not text or text[0] not in _QUOTE_CLOSERS:
        return None
    closers = _QUOTE_CLOSERS[text[0]]
    end = next((i for i, ch in enumerate(text) if i > 0 and ch in closers), -1)
    if end == -1:
        return None
    after = text[end + 1 :]
    following = after.lstrip()
    if following[:1] == ":" or (following[:1].islower() and not following.startswith("in ")):
        return None
    return text[1:end], after


_VENUE_WORDS = _words(
    """affairs analyst atlantic blog books brookings center centre chronicle council daily
    diplomat dossier economist eurasianet forbes foundation gazette guardian herald hill
    insider institute interest journal magazine monitor news observer online politico post
    press program programme publishers publishing quarterly report review studies times
    tribune university weekly world"""
)


def _continues_author_list(segment: str, after: str) -> bool:
    """Whether a comma segment after the first author is another author, not the title.

    Name lists are "A and B", Oxford lists "A, B, and C", or names with initials
    ("S. Frederick Starr, S. Enders Wimbush"); a bare two-word segment such as
    "Lost Enlightenment" after one author is the title.
    """
    return (
        bool(re.match(r"^(?:and|&)\s", segment))
        or bool(re.search(r"\b[A-Z]\.", segment))
        or bool(re.match(r"^(?:and|&)\s", after.lstrip()))
    )


def _split_unquoted_title(text: str) -> tuple[str, str | None]:
    """Split ``Title, Venue`` where the title has no quotes.

    The title is everything up to the last comma segment, which is the venue only when it
    looks like one (short and title-cased); otherwise the whole text is the title.  A comma
    inside an unquoted title followed by a title-cased phrase is inherently ambiguous; the
    seen entries with unquoted titles (Silk Road Papers) carry no venue at all.
    """
    head, sep, last = text.rpartition(",")
    if sep and _has_text(head) and _looks_like_venue(last.strip()):
        return head, last
    return text, None


def parse_sidebar_entry(text: str) -> StaffEntry:
    """Parse one sidebar entry ``<Type> <Authors>, <Title>, <Venue>, <Date>.``.

    Steps, each a fixed rule: drop a glued image label; take a known type label from the start;
    take the trailing date; take the leading names as authors; the title is then a quoted
    string if one follows (its inner trailing comma dropped), else the next comma segment(s);
    what stands between title and date is the venue.

    Raises :class:`EntryParseError` for empty text, a bare image label, text with no title,
    and text with neither a type label, an author nor a date ("Read more"), since those are
    page furniture rather than publications.
    """
    original = _normalise(text)
    if not original:
        raise EntryParseError("empty entry")
    if is_image_label(original):
        raise EntryParseError(f"image label, not a publication entry: {original!r}")
    body = strip_image_label(original)

    kind: str | None = None
    match = _KIND_RE.match(body)
    if match:
        kind = KIND_LABELS[match.group("label")]
        body = body[match.end() :].lstrip()

    body, date = _split_trailing_date(body)
    if date is None:
        body = _strip_final_period(body)
    body = body.strip(" ,;")

    authors, roles, rest = _take_authors(body)

    venue: str | None = None
    quoted = _split_quoted_title(rest)
    if quoted is not None:
        title, after = quoted
        venue = _clean_venue(after)
    else:
        if (
            rest[:1] in _QUOTE_CLOSERS
            and _has_text(rest[1:])
            and not any(ch in rest[1:] for ch in _QUOTE_CLOSERS[rest[0]])
        ):
            rest = rest[1:]  # an unclosed opening quote wraps nothing
        title, venue_text = _split_unquoted_title(rest)
        venue = _clean_venue(venue_text) if venue_text else None
    title = _clean_title(title)

    if not _has_text(title):
        raise EntryParseError(f"no title found in entry: {original!r}")
    if kind is None and not authors and date is None:
        raise EntryParseError(
            f"no type label, author or date found; not a publication entry: {original!r}"
        )
    return StaffEntry(kind=kind, title=title, authors=authors, roles=roles, venue=venue, date=date)


# ---------------------------------------------------------------------------------------------
# De-duplication
# ---------------------------------------------------------------------------------------------

# Curly and typographic quotes fold to their straight forms before punctuation is removed, so
# that ’ (joined like ') and ' give the same key.
_QUOTE_FOLD = str.maketrans(
    {"‘": "'", "’": "'", "‚": "'", "‛": "'", "ʼ": "'", "′": "'",
     "“": '"', "”": '"', "„": '"', "‟": '"', "«": '"', "»": '"', "″": '"'}
)  # fmt: skip


def title_key(title: str) -> str:
    """Key for matching the same title across pages and spellings.

    NFKC-normalised and case-folded, quotes folded, punctuation removed and whitespace
    collapsed.  Apostrophes and periods are deleted ("Türkiye’s" -> "türkiyes", "U.S." -> "us")
    while other punctuation becomes a space ("Asia-Caucasus" -> "asia caucasus").  Accents are
    kept on purpose: "ü" and "u" are different letters in the region's names.
    """
    text = unicodedata.normalize("NFKC", title).translate(_QUOTE_FOLD)
    text = unicodedata.normalize("NFKC", text.casefold())
    out: list[str] = []
    for ch in text:
        if ch in "'.":
            continue
        out.append(" " if unicodedata.category(ch).startswith("P") else ch)
    return " ".join("".join(out).split())
