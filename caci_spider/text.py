"""Text normalisation rules shared by every page type.

Each rule is a small pure function so that it can be unit-tested on the real examples in
SITE.md; :func:`normalise_text` applies them in the order that is safe for legacy imports.
"""

from __future__ import annotations

import re
import unicodedata

import ftfy
from ftfy.badness import is_bad

# PHP addslashes residue from the legacy imports: Georgia\'s, \"procedural\".
_PHP_ESCAPE = re.compile(r"\\+(['\"])")

# A closing curly quote whose third UTF-8 byte (0x9D, undefined in windows-1252) was lost and
# replaced by a no-break space turns into U+2020 (DAGGER) glued to the next word:
# ``“new ideology†in`` (page 009), ``“mug’s game.†`` (065). ftfy cannot undo this lossy case.
_LOST_CLOSING_QUOTE = re.compile("\u2020(?=[\\w\\s]|$)")

# C0/C1 controls except tab and newline, lone surrogates and BOM/zero-width characters never
# belong in stored text.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufeff\u200b]")
_MAX_PASSES = 4


def undo_php_escapes(text: str) -> str:
    r"""``Georgia\'s`` → ``Georgia's``; ``\"procedural\"`` → ``"procedural"``."""
    return _PHP_ESCAPE.sub(r"\1", text)


def repair_mojibake(text: str) -> str:
    """Undo UTF-8 read as windows-1252 (``Georgiaâ€™s`` → ``Georgia’s``).

    ``ftfy.fix_encoding`` only repairs encoding; unlike ``fix_text``'s defaults it leaves curly
    quotes and dashes as published.
    """
    if text.isascii():
        return text
    # ftfy.fix_encoding returns text unchanged when is_bad finds no mojibake pattern; asking
    # is_bad first gives the same result without ftfy's per-call set-up (most paragraphs).
    fixed = ftfy.fix_encoding(text) if is_bad(text) else text
    if "\u2020" in fixed and "\u201c" in fixed:
        fixed = _repair_lost_closing_quotes(fixed)
    return fixed


def _repair_lost_closing_quotes(text: str) -> str:
    """Replace a dagger that closes an open “…” quote with ” (plus the space it swallowed)."""
    out: list[str] = []
    open_quote = False
    for i, char in enumerate(text):
        if char == "\u201c":
            open_quote = True
        elif char == "\u201d":
            open_quote = False
        elif char == "\u2020" and open_quote and _LOST_CLOSING_QUOTE.match(text, i):
            open_quote = False
            following = text[i + 1 : i + 2]
            out.append("\u201d " if following.isalnum() else "\u201d")
            continue
        out.append(char)
    return "".join(out)


def strip_controls(text: str) -> str:
    """Drop control characters, lone surrogates and zero-width marks."""
    return _CONTROL.sub("", text)


def collapse_whitespace(text: str) -> str:
    """Collapse every run of whitespace (``&nbsp;`` included) to one space and trim."""
    # str.split() splits on exactly what re's \s matches (str.isspace, NBSP included).
    return " ".join(text.split())


def normalise_text(text: str | None) -> str:
    """Apply every text rule: escapes, mojibake, controls, NFC, whitespace.

    Idempotent: normalising a normalised string returns it unchanged.
    """
    if not text:
        return ""
    # Repairs can uncover more to repair (ftfy fixes "\x80" to "€", which makes a neighbouring
    # "â€™" decodable): run the rules to a fixed point so that normalising twice is a no-op.
    for _ in range(_MAX_PASSES):
        cleaned = strip_controls(repair_mojibake(undo_php_escapes(text)))
        cleaned = collapse_whitespace(unicodedata.normalize("NFC", cleaned))
        if cleaned == text:
            break
        text = cleaned
    return text


def normalise_paragraphs(paragraphs: list[str]) -> list[str]:
    """Normalise each paragraph and drop the ones left empty (``<p>&nbsp;</p>``)."""
    return [p for p in (normalise_text(p) for p in paragraphs) if p]


def collapse_repeated_paragraphs(paragraphs: list[str]) -> list[str]:
    """In-text de-duplication, applied until nothing changes.

    * a paragraph equal to, or a leading prefix of, the one right after it is dropped (K2 renders
      the intro, then the full text that starts with the intro again);
    * a later exact repeat of an earlier paragraph is dropped.

    An intro of heading + lead repeated as heading + longer lead thus collapses to the heading
    once and the longer lead.
    """
    current = list(paragraphs)
    while True:
        seen: set[str] = set()
        result: list[str] = []
        for index, paragraph in enumerate(current):
            following = current[index + 1] if index + 1 < len(current) else None
            if following is not None and _is_leading_part(paragraph, following):
                continue
            if paragraph in seen:
                continue
            seen.add(paragraph)
            result.append(paragraph)
        if result == current:
            return result
        current = result


def _is_leading_part(paragraph: str, following: str) -> bool:
    """True when ``following`` equals ``paragraph`` or continues it after a space
    (``Georgia`` is not repeated by ``Georgia's government fell.``)."""
    if not following.startswith(paragraph):
        return False
    if len(following) == len(paragraph):
        return True
    return following[len(paragraph)].isspace()


def word_count(text: str) -> int:
    """Whitespace-separated tokens."""
    return len(text.split())
