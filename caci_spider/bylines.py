"""Bylines of every era → person names.

Legacy imports put bios and affiliations inside the byline (``By Marat Yermukanov is a
correspondent for …``, ``By By Gulnara Ismailova, a freelance journalist based in Baku``,
``By Sergei Vorsin, Youth Ecological Center``); later items print the bare name line, with or
without ``By``. Only person names survive, in order.
"""

from __future__ import annotations

import re

from caci_spider.dates import ISSUE_PARENTHETICAL

_BY_PREFIX = re.compile(r"^\s*(?:by\s+)+", re.IGNORECASE)
BYLINE_START = re.compile(r"^\s*by\s+\S", re.IGNORECASE)
# "… is a correspondent for …", "… was …": a bio follows the name.
_BIO_VERB = re.compile(r"\s+(?:is|was|are|were|serves)\s+.*$", re.IGNORECASE | re.DOTALL)
# "By Richard Weitz of the Hudson Institute": an affiliation after "of"/"from"/"at".
_BIO_PREPOSITION = re.compile(r"\s+(?:of|from|at)\s+(?:the\s+)?[A-Z].*$", re.DOTALL)
_HONORIFIC = re.compile(
    r"^(?:dr|prof|professor|mr|mrs|ms|amb|ambassador|hon|sir)\.?\s+", re.IGNORECASE
)
_NAME_SPLIT = re.compile(r"\s*(?:,\s*)?(?:\band\b|&)\s*", re.IGNORECASE)
_INITIAL = re.compile(r"^(?:[A-Z]\.)+-?(?:[A-Z]\.)*$")
_PARTICLES = frozenset("""al bin ibn da de del della der di du el la le ul van von y zu""".split())
# Words that make a capitalised segment an organisation or place, not a person.
_AFFILIATION_WORDS = frozenset(
    """academy agency analyst association bank center centre college committee council
    department foundation fund group institute institution journal ministry network news
    newspaper office party press program programme project review school service society
    studies times union university
    ambassador chairman correspondent director editor fellow head journalist lecturer
    president professor researcher scholar senior""".split()
)
_MAX_NAME_TOKENS = 6


def strip_by(byline: str) -> str:
    """``By By Andrei Emelin`` → ``Andrei Emelin``."""
    return _BY_PREFIX.sub("", byline, count=1)


def parse_authors(byline: str | None) -> list[str]:
    """Person names of a byline, in order; ``By empty`` and unnamed bylines give ``[]``."""
    if not byline:
        return []
    text = ISSUE_PARENTHETICAL.sub("", byline)
    text = re.sub(r"\([^)]*\)", "", text)  # any other parenthetical is not a name
    text = strip_by(text)
    text = _BIO_VERB.sub("", text)
    text = _BIO_PREPOSITION.sub("", text).strip().rstrip(".,;:")
    names: list[str] = []
    for segment in re.split(r"[,;]", text):
        segment = segment.strip()
        if not segment:
            continue
        candidates = [part for part in _NAME_SPLIT.split(segment) if part.strip()]
        cleaned = [_clean_name(part) for part in candidates]
        if not cleaned or not all(_looks_like_name(name) for name in cleaned):
            break  # an affiliation or bio ends the list
        names.extend(cleaned)
    return names


def looks_like_name_line(text: str) -> bool:
    """True for a bare name line such as ``Michael Hikari Cecire and Laura Linderman``."""
    if len(text) > 120:
        return False
    return bool(parse_authors(text)) and len(text.split()) <= 14 and not text.endswith(".")


def _clean_name(name: str) -> str:
    name = name.strip().strip(".,;:").strip()
    while True:
        stripped = _HONORIFIC.sub("", name)
        if stripped == name:
            return " ".join(name.split())
        name = stripped


def _looks_like_name(name: str) -> bool:
    tokens = name.split()
    if not 2 <= len(tokens) <= _MAX_NAME_TOKENS or name.lower() == "empty":
        return False
    capitalised = 0
    for token in tokens:
        bare = token.strip("’'\"-")
        if not bare:
            return False
        if bare.lower().strip(".") in _AFFILIATION_WORDS:
            return False
        if bare.lower() in _PARTICLES:
            continue
        if len(bare) >= 2 and bare.isupper() and "." not in bare:
            return False  # "DC", "USA", "OSCE": places and organisations, not names
        if _INITIAL.match(bare) or bare[0].isupper():
            capitalised += 1
            continue
        return False
    return capitalised >= 2
