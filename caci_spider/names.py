"""Person names, wherever the site prints them: one home for every name rule.

* Field-report bylines of every era (docs/site-notes.md, "Bylines and dates, era by era"):
  legacy imports put bios and affiliations inside the byline (``By Marat Yermukanov is a
  correspondent for …``, ``By By Gulnara Ismailova, a freelance journalist based in Baku``,
  ``By Sergei Vorsin, Youth Ecological Center``); later items print the bare name line, with
  or without ``By``.
* The author lines of the staff listing (``Svante Cornell, Brenda Shaffer, and Jonathan
  Schanzer``, ``Svante E. Cornell, ed.``) and the leading names of a sidebar entry
  (``Svante E. Cornell and S. Frederick Starr, Stepping up to …``).

The rules, each written once: ``By`` and honorifics are dropped; a list is split on commas,
"and" and "&"; "ed."/"eds." make the names before it editors; "Jr." joins the name before it;
and :func:`looks_like_name` tells a person's name from an organisation, a place or a title.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field

from caci_spider.dates import ISSUE_PARENTHETICAL
from caci_spider.text import normalise_text

__all__ = [
    "BYLINE_START",
    "NOT_NAME_WORDS",
    "QUOTE_CLOSERS",
    "NameList",
    "byline_authors",
    "looks_like_name",
    "looks_like_name_line",
    "parse_authors",
    "take_leading_authors",
]

BYLINE_START = re.compile(r"^\s*by\s+\S", re.IGNORECASE)
_BY = re.compile(r"^\s*(?:by(?:\s+|$))+", re.IGNORECASE)
_HONORIFICS = re.compile(
    r"^(?:(?:dr|prof|professor|mr|mrs|ms|amb|ambassador|hon|sir)\.?\s+)+", re.IGNORECASE
)
_ROLE = re.compile(r"^\(?(?:eds?|editors?)\.?\)?$", re.IGNORECASE)
_GLUED_ROLE = re.compile(r"\s*\((?:eds?|editors?)\.?\)$", re.IGNORECASE)
_ET_AL = re.compile(r"\s+et\.? al\.?$")
_SUFFIXES = frozenset({"Jr.", "Jr", "Sr.", "Sr", "II", "III", "IV"})
_AND_SPLIT = re.compile(r"\s+(?:and|&)\s+", re.IGNORECASE)
_LEADING_AND = re.compile(r"^(?:and|&)\s+")
_MAX_NAME_TOKENS = 6

# Lower-case particles inside a name ("Thomas de Waal", "Ludwig van Beethoven").
_PARTICLES = frozenset(
    "al bin da das de del della den der di dos du el ibn la le ten ter ul van von y zu".split()
)
# Words that are not part of a person's name, compared case-folded without periods: a segment
# holding one is an organisation ("Youth Ecological Center"), a job ("Senior Fellow") or a title
# ("Why Central Asia Matters"), and ends a list of names. One table, two rows, because the two
# places names are read in differ: in a byline nothing but names and a bio can stand, so title
# words are first names there ("Will Jones", "Georgia Smith") or a middle initial ("John A
# Smith"); a sidebar entry's names are followed by its title, which must not pass for names.
NOT_NAME_WORDS: dict[str, frozenset[str]] = {
    "anywhere": frozenset(
        """academy agency analyst association bank center centre college committee council
        department foundation fund group institute institution journal ministry network news
        newspaper office party press program programme project review school service society
        studies times union university
        ambassador chairman correspondent director editor fellow head journalist lecturer
        president professor researcher scholar senior""".split()
    ),
    "before a title": frozenset(
        """a an and are as at be by can for from how in into is it its new no not of on or our
        should the their to toward towards was were what when where which who why will with
        without after against amid before between beyond over through under
        afghanistan armenia asia asian azerbaijan baku beijing caspian caucasus central china
        chinese eurasia eurasian europe european georgia georgian iran iranian kabul kazakhstan
        kyrgyzstan middle moscow russia russian tajikistan tbilisi turkey turkish turkmenistan
        türkiye ukraine uzbekistan america american global world western eastern sea
        analysis challenge challenges connection cooperation corridor crisis democracy
        diplomacy economy elections energy future geopolitics integration paper peace policy
        politics reform region regional relations report return rise road security silk
        strategy trade transit war u.s u.k e.u u.n""".split()
    ),
}
# "J.", "J.-P.", and the two-letter initials of transliterated names: "Kh.", "Zh.", "Yu.".
_INITIAL = re.compile(r"^(?:[^\W\d_](?:(?=[a-zа-я])[^\W\d_])?\.-?)+$")
_NAME_WORD = re.compile(r"^(?:[dDlL]['’])?[^\W\d_]+(?:['’-][^\W\d_]+)*$")


# -- one name ---------------------------------------------------------------------------------


def _is_name_word(token: str) -> bool:
    """A capitalised word such as "Starr", "Swantström", "O'Neil" or "Al-Rasheed".

    All-capital words of two or more letters are acronyms ("CEPA", "NATO", "DC"), not names.
    """
    if not _NAME_WORD.match(token):
        return False
    core = re.sub(r"^[dDlL]['’]", "", token)
    letters = [ch for ch in core if ch.isalpha()]
    return core[0].isupper() and not (len(letters) >= 2 and all(ch.isupper() for ch in letters))


def _is_not_name_word(token: str, *, before_title: bool) -> bool:
    key = token.casefold().strip(".")
    if _INITIAL.match(token) and "." not in key:
        return False  # "A." is an initial; "A" is a word, and "U.S." a place
    rows = ("anywhere", "before a title") if before_title else ("anywhere",)
    return any(key in NOT_NAME_WORDS[row] for row in rows)


def looks_like_name(text: str, *, before_title: bool = False) -> bool:
    """Whether ``text`` reads as one person's name.

    A name has 2–6 tokens; each is a capitalised word, an initial ("S.", "J.-P."), a suffix
    ("Jr.") or a lower-case particle ("de"); at least two are not particles, the last is a word or
    a suffix, and none is a word of :data:`NOT_NAME_WORDS` (its "before a title" row too when
    ``before_title``: the names of a sidebar entry, which its title follows).
    """
    tokens = text.split()
    if not 2 <= len(tokens) <= _MAX_NAME_TOKENS or not (
        _is_name_word(tokens[-1]) or tokens[-1] in _SUFFIXES
    ):
        return False
    substantive = 0
    for token in tokens:
        if _is_not_name_word(token, before_title=before_title):
            return False
        if token in _PARTICLES:
            continue
        if not (_INITIAL.match(token) or _is_name_word(token) or token in _SUFFIXES):
            return False
        substantive += 1
    return substantive >= 2


def strip_by(text: str) -> str:
    """``By By Andrei Emelin`` → ``Andrei Emelin``."""
    return _BY.sub("", text, count=1)


def _clean_name(text: str) -> str:
    """Drop "By", a leading "and", honorifics, "et al." and stray punctuation around a name."""
    name = _LEADING_AND.sub("", strip_by(" ".join(text.split())))
    name = _ET_AL.sub("", _HONORIFICS.sub("", name)).strip(" ,;:")
    # A final period ends the line, unless it belongs to an initial ("John Q.").
    if name.endswith(".") and not _INITIAL.match(name.rsplit(" ", 1)[-1]):
        name = name[:-1].rstrip()
    return name


# -- a list of names --------------------------------------------------------------------------


@dataclass
class NameList:
    """Names in order, each once, and the roles ("editor") that "ed."/"eds." give them."""

    names: list[str] = field(default_factory=list)
    roles: dict[str, str] = field(default_factory=dict)

    def add(self, names: list[str], *, editors: bool = False) -> None:
        self.names.extend(name for name in dict.fromkeys(names) if name not in self.names)
        if editors:
            self.mark_editors()

    def mark_editors(self) -> None:
        """Every name listed so far is an editor ("ed." and "eds." follow the names)."""
        for name in self.names:
            self.roles.setdefault(name, "editor")

    def join_suffix(self, segment: str) -> bool:
        """``John Smith, Jr.``: the suffix joins the last name (when there is one)."""
        if segment not in _SUFFIXES or not self.names:
            return False
        self.names[-1] = f"{self.names[-1]} {segment}"
        return True


def _segment_names(
    segment: str, *, strict: bool, before_title: bool = False
) -> tuple[list[str] | None, bool]:
    """The names of one comma segment ("A and B", "A & B", "and C", "A (ed.)"), and whether
    it marks them editors; with ``strict``, ``None`` unless every part looks like a name."""
    editors = bool(_GLUED_ROLE.search(segment))
    whole = _clean_name(_GLUED_ROLE.sub("", segment))
    parts = [_clean_name(part) for part in _AND_SPLIT.split(whole)]
    names = [part for part in parts if part]
    if strict and not (
        names and all(looks_like_name(name, before_title=before_title) for name in names)
    ):
        return None, editors
    return names, editors


def parse_authors(text: str) -> tuple[list[str], dict[str, str]]:
    """Names and roles of a line the caller knows to be an authors line.

    "Svante Cornell, Brenda Shaffer, and Jonathan Schanzer", "S. Frederick Starr & Michael
    Doran", "By S. Frederick Starr, S. Enders Wimbush", "Svante E. Cornell, ed.": names are not
    checked against :func:`looks_like_name`.
    """
    found = NameList()
    for segment in strip_by(normalise_text(text)).split(","):
        segment = segment.strip()
        if _ROLE.match(segment):
            found.mark_editors()
        elif segment and not found.join_suffix(segment):
            names, editors = _segment_names(segment, strict=False)
            found.add(names or [], editors=editors)
    return found.names, found.roles


# -- bylines ----------------------------------------------------------------------------------

# "… is a correspondent for …", "… was …": a bio follows the name.
_BIO_VERB = re.compile(r"\s+(?:is|was|are|were|serves)\s+.*$", re.IGNORECASE | re.DOTALL)
# "By Richard Weitz of the Hudson Institute": an affiliation after "of"/"from"/"at".
_BIO_PREPOSITION = re.compile(r"\s+(?:of|from|at)\s+(?:the\s+)?[A-Z].*$", re.DOTALL)
_PARENTHETICAL = re.compile(r"\([^)]*\)")


def byline_authors(byline: str | None) -> list[str]:
    """Person names of a byline, in order; ``By empty`` and unnamed bylines give ``[]``.

    The issue parenthetical, any other parenthetical and a bio are cut off; the first comma or
    semicolon segment that is not names ("a freelance journalist", "Kazakhstan") ends the list.
    """
    if not byline:
        return []
    text = _PARENTHETICAL.sub("", ISSUE_PARENTHETICAL.sub("", byline))
    text = _BIO_PREPOSITION.sub("", _BIO_VERB.sub("", strip_by(text)))
    found = NameList()
    for segment in re.split(r"[,;]", text.strip().rstrip(".,;:")):
        segment = segment.strip()
        if not segment or found.join_suffix(segment):
            continue
        names, _editors = _segment_names(segment, strict=True)
        if names is None:
            break  # an affiliation or bio ends the list
        found.add(names)
    return found.names


def looks_like_name_line(text: str) -> bool:
    """True for a bare name line such as ``Michael Hikari Cecire and Laura Linderman``."""
    if len(text) > 120:
        return False
    return bool(byline_authors(text)) and len(text.split()) <= 14 and not text.endswith(".")


# -- the names that open a sidebar entry ------------------------------------------------------

# Opening quote -> the characters accepted as its closer (sites mix straight and curly quotes).
QUOTE_CLOSERS: dict[str, str] = {'"': '"”', "“": '”"', "„": '“”"', "«": "»", "”": '”"'}


def _leading_segments(text: str) -> Iterator[tuple[str, str | None]]:
    """``(segment, what follows it)`` for each segment that may still be names.

    A segment ends at a comma (dropped) or before an opening quote (kept: it starts the
    title); a segment that opens with a quote is the title and ends the walk. The last segment,
    which no comma or quote ends, comes with ``None``.
    """
    rest = text
    while rest and rest[0] not in QUOTE_CLOSERS:
        comma = rest.find(",")
        quote = min((i for i in (rest.find(q) for q in QUOTE_CLOSERS) if i > 0), default=-1)
        if comma == -1 and quote == -1:
            yield rest.strip(), None
            return
        if quote != -1 and (comma == -1 or quote < comma):
            segment, rest = rest[:quote], rest[quote:]
        else:
            segment, rest = rest[:comma], rest[comma + 1 :]
        rest = rest.strip()
        yield segment.strip(), rest


def _continues_list(segment: str, after: str) -> bool:
    """Whether a segment after the first author is another author, not the title.

    Name lists are "A and B", Oxford lists "A, B, and C", or names with initials
    ("S. Frederick Starr, S. Enders Wimbush"); a bare two-word segment such as
    "Lost Enlightenment" after one author is the title.
    """
    return (
        bool(_LEADING_AND.match(segment))
        or bool(re.search(r"\b[A-Z]\.", segment))
        or bool(_LEADING_AND.match(after.lstrip()))
    )


def _more_names(found: NameList, segment: str, after: str) -> tuple[list[str], bool] | None:
    """The names a segment adds to the authors found so far (and whether they are editors),
    or ``None`` where the list ends: at a segment that is not names, one with no title after
    it, or a bare segment after the first author that is the title ("Lost Enlightenment")."""
    names, editors = _segment_names(segment, strict=True, before_title=True)
    if names is None or not after.strip(" ,;"):
        return None
    if found.names and not _continues_list(segment, after):
        return None
    return names, editors


def take_leading_authors(text: str) -> tuple[list[str], dict[str, str], str]:
    """The names that open an entry body, their roles, and the rest of the body.

    The author list is the run of leading segments that each consist of names. It ends at the
    first segment that is not names, or at "ed."/"eds." (which makes the names editors). The
    last segment is never taken as names: an entry always needs a title after its authors.
    "By" opens a byline only if names follow; otherwise it belongs to the title.
    """
    found = NameList()
    rest = strip_by(text).lstrip()
    for segment, after in _leading_segments(rest):
        if _ROLE.match(segment):
            if found.names:
                found.mark_editors()
                rest = after or ""
            break
        if after is None:
            break
        if found.join_suffix(segment):
            rest = after
            continue
        taken = _more_names(found, segment, after)
        if taken is None:
            break
        found.add(taken[0], editors=taken[1])
        rest = after
        if taken[1]:
            break
    if not found.names:
        return [], {}, text
    return found.names, found.roles, rest


# -- one person, many spellings ---------------------------------------------------------------
#
# The same person is printed differently across the sites: "Svante Cornell" in a field report,
# "Svante E. Cornell" on the staff listing, "Marcela Londono" where the diacritic was lost. Two
# spellings are one author only where that is safe:
#
# 1. they fold to the same words: case, diacritics and periods aside ("Marcela Londoño" =
#    "Marcela Londono", "SVANTE CORNELL" = "Svante Cornell", "Roger N McDermott" = "Roger N.
#    McDermott");
# 2. the given name and the family name (with its particles and suffix: "de Waal", "Smith Jr.")
#    fold alike, and the middle names of one are a less specific form of the other's: none at
#    all ("Svante Cornell" ≤ "Svante E. Cornell"), or initials of the other's names ("Svante E.
#    Cornell" ≤ "Svante Erik Cornell");
# 3. a less specific spelling joins a more specific one only when it is the only most specific
#    spelling it could stand for: with "Svante E. Cornell" and "Svante X. Cornell" both known,
#    "Svante Cornell" is ambiguous and stays its own author; two different middle names or
#    initials ("Svante E. Cornell", "Svante X. Cornell") are never one author, nor are a given
#    name and its initial ("S. Cornell", "Svante Cornell").


def fold(text: str) -> str:
    """Case, diacritics and periods folded: "Londoño" → "londono", "E." → "e"."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return bare.casefold().replace(".", "").replace("’", "'")


@dataclass(frozen=True)
class NameParts:
    """A person's name folded into given name, middle names and family name."""

    given: str
    middle: tuple[str, ...]
    family: str

    @property
    def key(self) -> tuple[str, str]:
        """Spellings with another key are never one person."""
        return self.given, self.family

    @classmethod
    def of(cls, name: str) -> NameParts:
        tokens = [fold(token) for token in name.split() if fold(token)]
        if not tokens:
            return cls("", (), "")
        suffix: list[str] = []
        if len(tokens) > 2 and tokens[-1] in {fold(s) for s in _SUFFIXES}:
            suffix = [tokens.pop()]
        if len(tokens) == 1:
            return cls(tokens[0], (), " ".join(suffix))
        # The family name begins at its first particle ("thomas de waal"), else is the last word.
        start = next(
            (i for i in range(1, len(tokens) - 1) if tokens[i] in _PARTICLES), len(tokens) - 1
        )
        return cls(tokens[0], tuple(tokens[1:start]), " ".join(tokens[start:] + suffix))


def _less_specific(short: tuple[str, ...], full: tuple[str, ...]) -> bool:
    """Middle names ``short`` say less than ``full`` and nothing against them."""
    if not short:
        return True
    return len(short) == len(full) and all(
        s == f or (len(s) == 1 and f.startswith(s)) for s, f in zip(short, full, strict=True)
    )


def same_person(a: str, b: str) -> bool:
    """Whether two spellings can be one person (rules 1 and 2, without the ambiguity rule)."""
    one, other = NameParts.of(a), NameParts.of(b)
    if one.key != other.key or not one.given:
        return False
    return _less_specific(one.middle, other.middle) or _less_specific(other.middle, one.middle)


def fullest(names: list[str]) -> str:
    """The spelling an author is known by: the most words, then the longest, then the one with
    diacritics and capitals as printed ("Marcela Londoño" over "Marcela Londono", "Svante E.
    Cornell" over "SVANTE E. CORNELL")."""

    def weight(name: str) -> tuple[int, int, int, int, str]:
        non_ascii = sum(1 for ch in name if ord(ch) > 127)
        mixed_case = int(name != name.upper() and name != name.lower())
        return (len(name.split()), len(name), non_ascii, mixed_case, name)

    return max(names, key=weight)


_Form = tuple[str, tuple[str, ...], str]


def group_spellings(names: list[str]) -> list[list[str]]:
    """The spellings of ``names`` grouped into persons (rules 1–3), each group sorted, the
    groups in the order of their first spelling. The result does not depend on the order of
    ``names``."""
    distinct = sorted(dict.fromkeys(names))
    forms: dict[_Form, list[str]] = {}
    for name in distinct:
        parts = NameParts.of(name)
        forms.setdefault((parts.given, parts.middle, parts.family), []).append(name)

    def below(form: _Form, other: _Form) -> bool:
        return form != other and form[0::2] == other[0::2] and _less_specific(form[1], other[1])

    # The most specific spellings (no other says more); a less specific one joins the only one
    # above it, and stays apart when it could stand for two.
    tops = [form for form in forms if form[0] and not any(below(form, o) for o in forms)]
    owner: dict[_Form, _Form] = {}
    for form in forms:
        above = [top for top in tops if below(form, top)]
        owner[form] = above[0] if len(above) == 1 else form
    groups: dict[_Form, list[str]] = {}
    for form, spellings in forms.items():
        groups.setdefault(owner[form], []).extend(spellings)
    first = {name: index for index, name in enumerate(names)}
    ordered = [sorted(group) for group in groups.values()]
    return sorted(ordered, key=lambda group: min(first[name] for name in group))
