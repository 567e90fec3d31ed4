"""What a good row cannot contain, and how two readings of one row compare: pure functions.

A template change can degrade extraction without emptying a field: a body that begins with the
toolbar ("Print", "E-mail") or runs on into "More in this category", a title that is the site's
name, an author that is a site account ("Written by admin"). Coverage cannot see that (the fields
are not empty); these rules can. They read rows (``dict``) or items (dataclasses) alike, by key:

* field reports: ``title``, ``authors``, ``byline``, ``body``;
* staff publications: ``title``, ``authors``, ``summary``.

:func:`problems` lists what is wrong with a row (each :class:`QualityProblem` names the field and
the offending value); the pipelines reject such an item instead of storing it
(:class:`~caci_spider.pipelines.ValidatePipeline`). Only **whole paragraphs** are page chrome,
matched case-insensitively, so a sentence that mentions printing or e-mail is never flagged.

:func:`differences` compares a stored row with a fresh reading of its page (the canaries,
:mod:`caci_spider.spiders.base`): exact values, bodies by word-level similarity
(:func:`word_similarity`). :func:`vanished_fields` names the fields a refetch lost.

The page-chrome forms here overlap the lines extraction cuts the article at
(``pages/k2.py``: ``HEAD_CHROME``, ``BODY_END``) on purpose: those say where an article starts
and ends on a page; these judge a stored paragraph whatever route produced it (K2's classes keep
whatever the body block holds), so a line the extraction lets through is still caught here.

Every site-specific name lives here, in :data:`SITE_NAMES`, :data:`SECTION_NAMES` (both read
from the site profiles, :mod:`caci_spider.sources`) and :data:`SITE_ACCOUNTS` (with
:data:`PLACEHOLDER_TITLES`, what a script-rendered page shows before its script runs).
"""

from __future__ import annotations

import difflib
import functools
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from caci_spider import sources
from caci_spider.dates import dates_compatible, is_date_line, is_dated_line, parse_k2_date
from caci_spider.items import is_empty
from caci_spider.names import looks_like_name
from caci_spider.text import PARAGRAPH_SEPARATOR, ends_like_a_sentence, title_key

# -- the names of the sites, their sections and their accounts ----------------------------------

# The names the crawled sites print in their chrome (page titles, headers, footers), declared
# with their profiles (caci_spider.sources). A title equal to one of them came from the page
# chrome, not the article.
SITE_NAMES: tuple[str, ...] = sources.site_names()
# Menu entries and section (K2 category) names: as a title, a sign that the title came from the
# page chrome (a breadcrumb, the category heading) as well. The sites' own from their profiles.
SECTION_NAMES: tuple[str, ...] = ("Home", "Publications", *sources.section_names())
# What a page shows in place of its title before a script fills it in, or when it has none.
PLACEHOLDER_TITLES: tuple[str, ...] = ("Loading", "Loading…", "Please wait", "Untitled")
# Joomla accounts that show up as the "author" of an item when the template prints K2's author
# block ("Written by admin") instead of the article's byline.
SITE_ACCOUNTS: tuple[str, ...] = (
    "admin",
    "administrator",
    "Super User",
    "superuser",
    "webmaster",
    "editor",
    "manager",
    "publisher",
    *SITE_NAMES,
)

# -- page chrome: whole paragraphs that are never article text ----------------------------------

# Toolbar and sharing buttons, alone or in a row ("Print | E-mail", "Print / Email").
_TOOL = (
    r"(?:print(?:\s+this\s+(?:page|article))?|e-?mail(?:\s+this(?:\s+page|\s+article)?)?"
    r"|tweet|share(?:\s+this(?:\s+page|\s+article)?)?|like|facebook|twitter|linkedin|pdf"
    r"|(?:(?:de|in)crease\s+|reset\s+)?font\s+size|back\s+to\s+top)"
)
_PREV_NEXT = r"(?:prev(?:ious)?|next)(?:\s+(?:article|item|page|post))?"
# A tail that is a label's value, not a sentence: short, and not ending like one.
_TAIL = r"[^\n]{1,80}(?<![.!?])"
_DATED_TAIL = r"(?=[^\n]*\d)" + _TAIL  # a label's value that holds a date
# Each alternative matches a whole paragraph (after its decoration is stripped).
CHROME_FORMS: tuple[str, ...] = (
    rf"{_TOOL}(?:\s*[|/•·,]?\s*{_TOOL})*",  # toolbar and sharing buttons, "back to top"
    r"read\s+[\d.,]+\s+times?",  # K2's hit counter
    r"hits\s*:?\s*[\d.,]+",  # Joomla's
    r"read\s+more(?:\s*:.{1,200})?",  # "Read more…", "Read More", "Read more: <title>"
    r"last\s+modified(?:\s+on)?\s*:?\s*" + _DATED_TAIL,  # "Last modified on <date>"
    r"last\s+updated\s*:?\s*" + _DATED_TAIL,  # Joomla's "Last Updated: <date>"
    r"published\s+in\s+[^\d.!?,;:\n]{1,40}",  # "Published in <section>"
    r"published\s*:\s*" + _DATED_TAIL,  # Joomla's "Published: <date>"
    r"(?:parent\s+)?category\s*:\s*" + _TAIL,  # Joomla's "Category: <section>"
    r"tagged\s+under(?:\s*:?\s*[^.!?\n]{1,200})?",  # K2's tag block
    r"(?:written|created|posted)\s+by\s*:?\s*" + _TAIL,  # K2's and Joomla's author block
    r"details",  # Joomla's info block heading
    r"more\s+in\s+this\s+category(?:\s*:.{0,300})?",  # K2's category items
    r"related\s+items(?:\s+\(by\s+tag\))?(?:\s*:.{0,300})?",  # K2's related items
    r"latest\s+from\s+" + _TAIL,  # K2's "Latest from <author>"
    rf"{_PREV_NEXT}(?:\s*[|/•·]?\s*{_PREV_NEXT})?",  # item navigation
    r"visit\s+also|staff\s+publications|newsletter(?:\s+sign[\s-]*up)?",  # sidebar modules
    r"sign\s+up\s+for\s+upcoming\s+events",
    # What a page rendered by script shows without it: a notice, a spinner's text.
    r"(?:please\s+|you\s+(?:need|have)\s+to\s+)?enable\s+javascript\b.{0,100}",
    r"javascript\s+is\s+(?:disabled|required|not\s+enabled)\b.{0,100}",
    r"loading|please\s+wait",
)
CHROME_PARAGRAPH = re.compile("|".join(f"(?:{form})" for form in CHROME_FORMS), re.I | re.S)
# Page chrome is short: a longer paragraph is article text, whatever it begins with.
_MAX_CHROME_LENGTH = 320
# Decoration around chrome lines: arrows, bullets, pipes, a trailing colon or ellipsis.
_DECORATION = " \t«»‹›<>|•·→←↑^▲:…"


def is_page_chrome(paragraph: str) -> bool:
    """True when the whole paragraph is page chrome (a toolbar line, a hit counter, …)."""
    if len(paragraph) > _MAX_CHROME_LENGTH:
        return False
    text = " ".join(paragraph.split()).strip(_DECORATION)
    while text.endswith("..."):
        text = text[:-3].rstrip(_DECORATION)
    if not text or CHROME_PARAGRAPH.fullmatch(text) is None:
        return False
    # Labels whose value must read as one: an author block names a person or an account
    # ("Written by the victors" is a subheading), a publication label a date.
    author = _AUTHOR_LABEL.match(text)
    if author:
        name = author["name"].strip(" .,;:")
        return is_site_account(name) or looks_like_name(name)
    published = _PUBLISHED_LABEL.match(text)
    if published:
        return parse_k2_date(published["date"]) is not None or is_dated_line(published["date"])
    return True


# Page chrome leaks where the article meets the template: before its first paragraphs and after
# its last ones. A paragraph in the middle that reads like a label ("Details", "Share",
# "Facebook" in a list of blocked networks) is text.
EDGE_PARAGRAPHS = 3


def chrome_paragraphs(text: str | None) -> list[str]:
    """The paragraphs of ``text`` (joined by a blank line, as stored) that are page chrome,
    among its first and last :data:`EDGE_PARAGRAPHS`."""
    return [p for p in edge_paragraphs(text) if is_page_chrome(p)]


def edge_paragraphs(text: str | None) -> list[str]:
    """The first and last :data:`EDGE_PARAGRAPHS` paragraphs of ``text`` (all of a short one)."""
    if not text:
        return []
    paragraphs = text.split(PARAGRAPH_SEPARATOR)
    edge = EDGE_PARAGRAPHS
    return paragraphs if len(paragraphs) <= 2 * edge else paragraphs[:edge] + paragraphs[-edge:]


# A short paragraph at the edge of several items' bodies is the template's, whatever it says: a
# toolbar or share line under a name no form above knows ("Send to a friend", "Bookmark and
# Share"). Articles share no paragraph this short with each other at their edges.
MAX_EDGE_LINE = 120


def edge_lines(text: str | None) -> list[str]:
    """The short paragraphs (at most :data:`MAX_EDGE_LINE` characters) among the first and last
    :data:`EDGE_PARAGRAPHS` of ``text`` that do not end like a sentence or a label, each once:
    what the repeated-paragraph check compares across items
    (:class:`caci_spider.selfcheck.RepeatedParagraphs`). A closing line that is a sentence ("The
    views expressed are the author's own.") is the site's style, not a template's button; a
    date line ("10 April": a news digest's items) is a date, repeated by the calendar."""
    return list(
        dict.fromkeys(
            p
            for p in edge_paragraphs(text)
            if p.strip()
            and len(p) <= MAX_EDGE_LINE
            and not ends_like_a_sentence(p)
            and not is_date_line(p)
        )
    )


_TITLE_PARTS = re.compile(r"\s+[-|–—:]\s+")
_SITE_TITLE_KEYS = frozenset(title_key(name) for name in (*SITE_NAMES, *SECTION_NAMES))
_PLACEHOLDER_KEYS = frozenset(title_key(name) for name in PLACEHOLDER_TITLES)
_ACCOUNT_KEYS = frozenset(title_key(name) for name in SITE_ACCOUNTS)
_AUTHOR_LABEL = re.compile(r"^(?:written|created|posted)\s+by\s*:?\s*(?P<name>.+)$", re.I)
_PUBLISHED_LABEL = re.compile(r"^published\s*:\s*(?P<date>.+)$", re.I)
_BYLINE_NAME = re.compile(r"^(?:(?:written|posted|created)\s+by|by)\s*:?\s*(?P<name>.+)$", re.I)


@functools.cache
def _title_keys(site_names: tuple[str, ...], section_names: tuple[str, ...]) -> frozenset[str]:
    generic = ("Home", "Publications")
    return frozenset(title_key(name) for name in (*site_names, *generic, *section_names))


def is_site_title(title: str | None, profile: sources.SiteProfile | None = None) -> bool:
    """A title that is a site's or a section's name ("CACI Analyst", "Field Reports"), also
    when the page joins several of them ("Field Reports - CACI Analyst"): the names of
    ``profile`` (a page of that site), else of every crawled site (a stored row)."""
    if not title or not title.strip():
        return False
    keys = (
        _SITE_TITLE_KEYS
        if profile is None
        else _title_keys(profile.site_names, profile.section_names)
    )
    parts = _TITLE_PARTS.split(title.strip())
    return all(title_key(part) in keys for part in parts)


def is_placeholder_title(title: str | None) -> bool:
    """A title a page shows before its script fills it in ("Loading…"), or when it has none."""
    return bool(title) and title_key(title or "") in _PLACEHOLDER_KEYS


def is_site_account(name: str | None) -> bool:
    """An author name that is a site account ("admin", "Super User") or a site's name."""
    return bool(name) and title_key(name or "") in _ACCOUNT_KEYS


def byline_account(byline: str | None) -> str | None:
    """The site account a byline names ("Written by admin" → "admin"), else ``None``."""
    if not byline:
        return None
    match = _BYLINE_NAME.match(" ".join(byline.split()))
    name = match["name"].strip(" .,;:") if match else ""
    return name if is_site_account(name) else None


# -- problems of one row ------------------------------------------------------------------------

_SHOWN = 60  # characters of an offending value shown in a message


def shorten(value: Any, limit: int = _SHOWN) -> str:
    """``value`` as one line of at most ``limit`` characters (an ellipsis marks the cut)."""
    text = " ".join(str(value if value is not None else "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# What each kind of problem says of its field's value.
_WHAT = {
    "page chrome": "holds page chrome",
    "site name": "is a site or section name",
    "placeholder": "is a placeholder",
    "site account": "is a site account",
    "byline account": "names a site account",
}


@dataclass(frozen=True)
class QualityProblem:
    """One thing a good row cannot contain: the field, the offending value, its kind (a key of
    ``_WHAT``: "page chrome", "site name", "placeholder", "site account", "byline account")."""

    field: str
    value: str
    kind: str

    @property
    def reason(self) -> str:
        """For a reject: ``quality: body holds page chrome "Print"``."""
        return f"quality: {self}"

    def __str__(self) -> str:
        return f'{self.field} {_WHAT[self.kind]} "{shorten(self.value)}"'


def _get(row: Any, key: str) -> Any:
    return row.get(key) if isinstance(row, Mapping) else getattr(row, key, None)


# The fields whose paragraphs are checked for page chrome (field reports, staff publications).
TEXT_FIELDS = ("body", "summary")


def problems(row: Any) -> list[QualityProblem]:
    """Everything wrong with ``row`` (a stored row or an item), in field order; ``[]``: good."""
    found: list[QualityProblem] = []
    title = _get(row, "title")
    if isinstance(title, str) and is_site_title(title):
        found.append(QualityProblem("title", title, "site name"))
    elif isinstance(title, str) and is_placeholder_title(title):
        found.append(QualityProblem("title", title, "placeholder"))
    for name in _get(row, "authors") or ():
        if is_site_account(name):
            found.append(QualityProblem("authors", name, "site account"))
    account = byline_account(_get(row, "byline"))
    if account is not None:
        found.append(QualityProblem("byline", _get(row, "byline"), "byline account"))
    for key in TEXT_FIELDS:
        text = _get(row, key)
        if isinstance(text, str):
            found.extend(QualityProblem(key, p, "page chrome") for p in chrome_paragraphs(text))
    return found


# -- a refetch that lost fields -----------------------------------------------------------------

# Fields of a field report that a refetch may lose without the row losing them (the store keeps
# the stored value, storage.merge_keeping_known); losing them on many refetches is a sign of a
# template change (the self-check counts them, selfcheck.RefetchedFields).
WATCHED_ON_REFETCH = ("issue_date", "tags")


def vanished_fields(stored: Any, fresh: Any, fields: Iterable[str]) -> list[str]:
    """The ``fields`` that ``stored`` has and ``fresh`` lacks."""
    return [
        name for name in fields if not is_empty(_get(stored, name)) and is_empty(_get(fresh, name))
    ]


# -- two readings of one row --------------------------------------------------------------------


def words(text: str | None) -> list[str]:
    return (text or "").split()


def word_similarity(first: str | None, second: str | None) -> float:
    """How alike two texts are, word by word: ``difflib.SequenceMatcher.ratio`` over their word
    lists (1.0: the same words in the same order). A one-word edit in a 500-word body stays
    above 0.99; a body that lost half its text falls to about 0.67."""
    a, b = words(first), words(second)
    if a == b:
        return 1.0
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return matcher.ratio()


def first_difference(first: str | None, second: str | None, context: int = 12) -> tuple[str, str]:
    """The first stretch of words where two texts part: (``first``'s words there, ``second``'s),
    at most ``context`` words each; ``""`` for words one of them lacks."""
    a, b = words(first), words(second)
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            return " ".join(a[i1 : min(i2, i1 + context)]), " ".join(b[j1 : min(j2, j1 + context)])
    return "", ""


@dataclass(frozen=True)
class FieldDifference:
    """A field a fresh reading gives otherwise than the stored row (values shortened)."""

    field: str
    stored: str
    new: str
    why: str = ""  # what makes it a difference when not the values themselves

    def __str__(self) -> str:
        why = f" ({self.why})" if self.why else ""
        return f'{self.field}{why} "{self.stored}" → "{self.new}"'

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def _show(value: Any) -> str:
    if isinstance(value, list):
        return shorten(", ".join(str(v) for v in value))
    return shorten(value)


# How each compared field is compared: "exact" (after the normalisation the pipeline applies),
# "key" (title_key: case, quotes and punctuation aside), "keys" (a list, item by item, by key),
# "date" (compatible ISO dates: "2024" and "2024-10" agree), "words" (word_similarity).
COMPARISONS = ("exact", "key", "keys", "date", "words")


def differences(
    stored: Mapping[str, Any],
    fresh: Mapping[str, Any],
    compared: Mapping[str, str],
    min_similarity: float,
) -> list[FieldDifference]:
    """The fields of ``compared`` (name → how) that ``fresh`` gives otherwise than ``stored``,
    then every quality problem ``fresh`` has that ``stored`` has not.

    A field is compared only when both have it: a field the fresh reading lacks is a *missing*
    field, which the canary reports on its own.
    """
    found: list[FieldDifference] = []
    for name, how in compared.items():
        if how not in COMPARISONS:
            raise ValueError(f"{name}: unknown comparison {how!r}, not one of {COMPARISONS}")
        old, new = stored.get(name), fresh.get(name)
        if is_empty(old) or is_empty(new):
            continue
        if how == "words":
            similarity = word_similarity(old, new)
            if similarity < min_similarity:
                before, after = first_difference(old, new)
                # Rounded down: a similarity just below the threshold never reads as equal.
                shown = math.floor(similarity * 1000) / 1000
                why = f"word similarity {shown:.3f}, below {min_similarity:g}"
                found.append(FieldDifference(name, _show(before), _show(after), why))
            else:
                # A short paragraph the text gained at its start or end is chrome of a new
                # template far more often than an edit; one line barely moves the similarity.
                had = set(str(old).split(PARAGRAPH_SEPARATOR))
                found.extend(
                    FieldDifference(name, "", _show(line), "a new short paragraph at its edge")
                    for line in edge_lines(str(new))
                    if line not in had and not is_page_chrome(line)  # that is reported below
                )
        elif not _same(old, new, how):
            found.append(FieldDifference(name, _show(old), _show(new)))
    known = {(p.field, p.value) for p in problems(stored)}
    for problem in problems(fresh):
        if (problem.field, problem.value) not in known:
            found.append(
                FieldDifference(
                    problem.field,
                    _show(stored.get(problem.field)),
                    _show(problem.value),
                    problem.kind,
                )
            )
    return found


def _same(old: Any, new: Any, how: str) -> bool:
    if how == "key":
        return title_key(str(old)) == title_key(str(new))
    if how == "keys":
        return _keys(old) == _keys(new)
    if how == "date":
        return dates_compatible(str(old), str(new))
    return bool(old == new)


def _keys(values: Sequence[Any] | Any) -> list[str]:
    items = values if isinstance(values, list | tuple) else [values]
    return [title_key(str(v)) for v in items]
