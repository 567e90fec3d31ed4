"""Text rules shared by every page type: the one normaliser and what it builds on.

Each rule is a small pure function so that it can be unit-tested on the real examples of
docs/site-notes.md; :func:`normalise_text` applies them in the order that is safe for legacy
imports.
Also here: paragraph de-duplication, leaked image labels (alt text and file names), the
"Featured" badge of K2 titles, and the key that matches one title across spellings.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from functools import partial

import ftfy
import ftfy.bad_codecs  # noqa: F401  (registers "sloppy-windows-1252")
from ftfy.badness import is_bad

# PHP addslashes residue from the legacy imports: Georgia\'s, \"procedural\".
_PHP_ESCAPE = re.compile(r"\\+(['\"])")

# A closing curly quote whose third UTF-8 byte (0x9D, undefined in windows-1252) was lost and
# replaced by a no-break space turns into U+2020 (DAGGER) glued to the next word:
# ``“new ideology†in``, ``“mug’s game.†`` (sample pages 009 and 065 of docs/site-notes.md).
# ftfy cannot undo this lossy case.
_LOST_CLOSING_QUOTE = re.compile("\u2020(?=[\\w\\s]|$)")

# C0/C1 controls except tab and newline, lone surrogates, BOM and the zero-width space never
# belong in stored text. The zero-width (non-)joiners stay: in Persian and other scripts they
# are part of the spelling. A regex, not str.translate: translating with a dict is slow on long
# paragraphs.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufeff\u200b]")
_MAX_PASSES = 4


def undo_php_escapes(text: str) -> str:
    r"""``Georgia\'s`` → ``Georgia's``; ``\"procedural\"`` → ``"procedural"``."""
    # Most texts hold no backslash: a substring test is far cheaper than the regex's scan.
    return _PHP_ESCAPE.sub(r"\1", text) if "\\" in text else text


# -- mojibake: UTF-8 read as windows-1252 or Latin-1 --------------------------------------------
#
# ftfy repairs a text only when the text as a whole looks wrong: a paragraph whose only non-ASCII
# word is "ErdoÄŸan" (ğ, UTF-8 bytes C4 9F read as windows-1252) looks like a capital Ä and a
# Ÿ to it, and stays. What ftfy lacks is the evidence a reader of these sites has: the letters
# their names are written with, and the rest of the page. A two-character sequence is mended
# here when its two characters are the two UTF-8 bytes of one letter:
# * a letter of the region's languages (REGIONAL_LETTERS) on its own evidence, when the
#   sequence cannot be genuine text: its second character is a letter (Ÿ, ž, Š: "ÄŸ", "Åž"),
#   or it stands inside a word of the same script ("BakÄ±", "Ã–calan");
# * any Latin or Cyrillic letter (DOCUMENT_LETTERS), inside a word of the same script, when
#   another text of the same page showed mojibake (see :func:`shows_mojibake`).
# A letter with a punctuation mark after it and no word around it (“Ñ”, ‘Ð’) is genuine. Genuine
# text taken for mojibake needs a capital Ä or Ñ right before ž (read as Ğ, ў): Turkmen written
# in Latin letters could hold the first, in English text about the region a rare case accepted.

# Each byte 0x80-0xFF as it reads when UTF-8 is decoded as windows-1252 (a byte windows-1252
# leaves undefined reads as the C1 control of that number, as in browsers and ftfy's "sloppy"
# codec) or as Latin-1 (every byte as the C1 control or Latin-1 character of its number).
_BYTE_OF: dict[str, int] = {
    **{chr(byte): byte for byte in range(0x80, 0x100)},
    **{bytes([byte]).decode("sloppy-windows-1252"): byte for byte in range(0x80, 0x100)},
}
_CONTINUATIONS = "".join(sorted(c for c, byte in _BYTE_OF.items() if 0x80 <= byte <= 0xBF))
_CONTINUATION_CLASS = "[" + "".join(re.escape(c) for c in _CONTINUATIONS) + "]"
# The lead byte of a two-byte UTF-8 character (C2-DF: Â-ß in both readings), then a continuation.
_TWO_BYTE_SEQUENCE = re.compile("[\u00c2-\u00df]" + _CONTINUATION_CLASS)
# Any UTF-8 lead byte (two- or three-byte) before a continuation: the cheap test for a text
# that may show mojibake at all.
_MOJIBAKE_HINT = re.compile("[\u00c2-\u00ef]" + _CONTINUATION_CLASS)

_POSSESSIVE = re.compile(r"['’]s\b")

# Typographic characters that ftfy's mojibake patterns (``ftfy.badness.BADNESS_RE``) never
# flag unless some other non-ASCII character stands beside them: NBSP, soft hyphen, curly
# quotes, dashes, the ellipsis, bullet, guillemets, ©, ®, ™, middle dot. A text whose only
# non-ASCII characters are these (most paragraphs of an English page) is left as it is by
# ftfy and by the letter repairs (their sequences start with Â-ï, their dagger is none of
# these), so it skips them: ``is_bad`` alone costs a full scan of a long regex per paragraph.
# tests/test_properties.py checks the claim against the installed ftfy.
TYPOGRAPHY = (
    "\u00a0\u00ad\u2018\u2019\u201a\u201c\u201d\u201e\u2013\u2014\u2015\u2026\u2022"
    "\u00ab\u00bb\u00a9\u00ae\u2122\u00b7"
)
_BEYOND_TYPOGRAPHY = re.compile(f"[^\\x00-\\x7f{TYPOGRAPHY}]")

_CYRILLIC_RUSSIAN = "".join(chr(c) for c in range(0x0410, 0x0450)) + "Ёё"
REGIONAL_LETTERS = frozenset(
    "çÇğĞıİöÖşŞüÜâÂîÎûÛ"  # Turkish
    "əƏ"  # Azerbaijani (with the Turkish letters)
    "äÄňŇýÝžŽ"  # Turkmen
    "ñÑūŪ"  # Kazakh in Latin letters
    "áÁǵǴńŃóÓúÚ"  # Karakalpak
    "\u02bb"  # ʻ of Uzbek oʻ and gʻ
    "әӘғҒқҚңҢөӨұҰүҮһҺіІ"  # Kazakh, Kyrgyz (Cyrillic)
    "ўЎҳҲӣӢӯӮҷҶҝҜҹҸјЈ" + _CYRILLIC_RUSSIAN  # Uzbek, Tajik, Azerbaijani (Cyrillic)
)
# Latin-1 and Latin Extended-A (European names: Ålesund, Čapek, Wałęsa) and Cyrillic. Not
# Latin Extended-B: its letters (ǒ, ǔ) are what genuine capitals before a quote read as
# ("GÜÇ”" would become "GÜǔ").
DOCUMENT_LETTERS = REGIONAL_LETTERS | frozenset(
    c
    for c in map(chr, [*range(0xC0, 0x180), *range(0x0400, 0x0500)])
    if unicodedata.category(c).startswith("L")
)


def _script(letter: str) -> str:
    """``LATIN``, ``CYRILLIC``, or ``""`` for a letter of neither (ʻ goes with both)."""
    script = unicodedata.name(letter, "").split(" ", 1)[0]
    return script if script in ("LATIN", "CYRILLIC") else ""


def _repair_letter_sequences(text: str, letters: frozenset[str]) -> str:
    """Mend each two-character sequence that is one letter of ``letters`` read byte by byte."""
    decoded: dict[int, str] = {}
    for match in _TWO_BYTE_SEQUENCE.finditer(text):
        # A lead byte C2-DF and a continuation byte always make one valid UTF-8 character.
        letter = bytes(_BYTE_OF[c] for c in match.group()).decode("utf-8")
        if letter in letters:
            decoded[match.start()] = letter
    if not decoded:
        return text

    def neighbour(index: int, before: bool) -> str:
        """The character beside a sequence, read as its letter when it is a sequence too."""
        at = index - 2 if before else index + 2
        if at in decoded:
            return decoded[at]
        position = index - 1 if before else index + 2
        return text[position] if 0 <= position < len(text) else ""

    out: list[str] = []
    last = 0
    for start, letter in decoded.items():
        second, script = text[start + 1], _script(letter)
        words = [
            c
            for c in (neighbour(start, True), neighbour(start, False))
            if c.isalpha() and (not script or _script(c) in (script, ""))
        ]
        # A letter as the second character ("ÄŸ", "Åž", "Ðš"): never an accented capital and a
        # letter of genuine text. A possessive ("Å’s", the village) is.
        if not second.isalpha() and (not words or _POSSESSIVE.match(text, start + 1)):
            continue
        out.append(text[last:start])
        out.append(letter)
        last = start + 2
    out.append(text[last:])
    return "".join(out)


def repair_mojibake(text: str, mojibake_seen: bool = False) -> str:
    """Undo UTF-8 read as windows-1252 (``Georgiaâ€™s`` → ``Georgia’s``).

    ``ftfy.fix_encoding`` only repairs encoding; unlike ``fix_text``'s defaults it leaves curly
    quotes and dashes as published. What it leaves of single letters is mended with the letters
    of the region's languages as evidence, and with any letter when ``mojibake_seen`` (another
    text of the same page showed mojibake).
    """
    if text.isascii() or not _BEYOND_TYPOGRAPHY.search(text):
        return text
    # ftfy.fix_encoding returns text unchanged when is_bad finds no mojibake pattern; asking
    # is_bad first gives the same result without ftfy's per-call set-up (most paragraphs).
    fixed = ftfy.fix_encoding(text) if is_bad(text) else text
    if _TWO_BYTE_SEQUENCE.search(fixed):
        fixed = _repair_letter_sequences(
            fixed, DOCUMENT_LETTERS if mojibake_seen else REGIONAL_LETTERS
        )
    if "\u2020" in fixed and "\u201c" in fixed:
        fixed = _repair_lost_closing_quotes(fixed)
    return fixed


def shows_mojibake(texts: Iterable[str | None]) -> bool:
    """Whether any of one document's texts shows mojibake that is mended on its own evidence."""
    return any(
        text
        and not text.isascii()
        and _MOJIBAKE_HINT.search(text)
        and repair_mojibake(text) != text
        for text in texts
    )


def document_normaliser(texts: Iterable[str | None]) -> Callable[[str | None], str]:
    """:func:`normalise_text` for the texts of one document (a page: its title, byline, body
    paragraphs, tags, bio), with the whole document as evidence of mojibake."""
    return partial(normalise_text, mojibake_seen=shows_mojibake(texts))


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
    """Drop control characters, lone surrogates, the BOM and zero-width spaces."""
    return _CONTROL.sub("", text)


def collapse_whitespace(text: str) -> str:
    """Collapse every run of whitespace (``&nbsp;`` included) to one space and trim."""
    # str.split() splits on exactly what re's \s matches (str.isspace, NBSP included).
    return " ".join(text.split())


def normalise_text(text: str | None, mojibake_seen: bool = False) -> str:
    """Apply every text rule: escapes, mojibake, controls, NFC, whitespace.

    ``mojibake_seen``: another text of the same document showed mojibake
    (:func:`document_normaliser`). Idempotent: normalising a normalised string returns it
    unchanged.
    """
    if not text:
        return ""
    # Repairs can uncover more to repair (ftfy fixes "\x80" to "€", which makes a neighbouring
    # "â€™" decodable): run the rules to a fixed point so that normalising twice is a no-op.
    for _ in range(_MAX_PASSES):
        cleaned = strip_controls(repair_mojibake(undo_php_escapes(text), mojibake_seen))
        cleaned = collapse_whitespace(unicodedata.normalize("NFC", cleaned))
        if cleaned == text:
            break
        text = cleaned
    return text


# How paragraphs are joined in every stored text (bodies, summaries).
PARAGRAPH_SEPARATOR = "\n\n"


def normalise_paragraphs(
    paragraphs: list[str], normalise: Callable[[str | None], str] = normalise_text
) -> list[str]:
    """Normalise each paragraph (with ``normalise``: a :func:`document_normaliser`) and drop the
    ones left empty (``<p>&nbsp;</p>``)."""
    return [p for p in (normalise(p) for p in paragraphs) if p]


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


# How a sentence or a label ends: a line ending so is text, never a bare toolbar or share line.
_SENTENCE_END = re.compile(r"[.!?:;…)\]\"”]\s*$")


def ends_like_a_sentence(line: str) -> bool:
    return _SENTENCE_END.search(line) is not None


def word_count(text: str) -> int:
    """Whitespace-separated tokens."""
    return len(text.split())


# -- the "Featured" badge -----------------------------------------------------------------------

FEATURED_BADGE = re.compile(r"\s+featured\s*$", re.IGNORECASE)


def strip_featured_badge(title: str) -> str:
    """``What the Extension … Central Asia Featured`` → ``What the Extension … Central Asia``."""
    stripped = FEATURED_BADGE.sub("", title)
    return stripped or title


# -- image labels: alt text and file names that leak into extracted text -----------------------

_IMAGE_EXT = r"(?:\.(?:jpe?g|png|gif|webp|tiff?))?"
# "2410Starr-cover", "ChangingGeopolitics-cover2", "2505-Instac-Cover".  The stem is checked
# separately (see _is_filename_stem) so that ordinary words such as "Hard-cover" do not count.
_COVER = re.compile(
    r"(?P<stem>[A-Za-z0-9][A-Za-z0-9_-]*?)[-_][Cc]over\d*" + _IMAGE_EXT + r"(?![a-z])"
)
# macOS screenshot names, with optional "(2)"/"-1" copy suffixes.
_SCREENSHOT = re.compile(
    r"Screen ?[Ss]hot[ _]\d{4}-\d{2}-\d{2}"
    r"(?:[ _]at[ _]\d{1,2}[.:]\d{2}(?:[.:]\d{2})?(?:[ _]?[AaPp]\.?[Mm]\.?)?)?"
    r"(?:-\d+|\s?\(\d+\))?" + _IMAGE_EXT
)
# Stock-photo and camera file names: "shutterstock 1148957687-2", "IMG_1234".
_STOCK = re.compile(r"(?:[Ss]hutterstock|IMG|DSCN?)[ _-]?\d+(?:-\d+)?" + _IMAGE_EXT)
# A bare image file name: "map-of-region.jpg".
_IMAGE_FILE = re.compile(r"\S+\.(?:jpe?g|png|gif|webp|tiff?)", re.IGNORECASE)


def _is_filename_stem(stem: str) -> bool:
    """A cover-image stem looks like a file name: it has a digit or an inner capital letter.

    "2410Starr" and "ChangingGeopolitics" qualify; "Hard" (as in "Hard-cover") does not.
    """
    return any(ch.isdigit() for ch in stem) or any(ch.isupper() for ch in stem[1:])


def _match_image_label(text: str) -> re.Match[str] | None:
    """A match for an image label at the start of ``text`` (not necessarily all of it)."""
    for pattern in (_SCREENSHOT, _STOCK):
        match = pattern.match(text)
        if match:
            return match
    match = _COVER.match(text)
    if match and _is_filename_stem(match.group("stem")):
        return match
    return None


def is_image_label(text: str) -> bool:
    """Whether ``text`` as a whole is leaked image alt/file-name text, not content.

    Such lines stand between sidebar entries and body paragraphs ("Screen Shot 2023-05-08 at
    10.32.15 AM") and must be skipped rather than read as text.
    """
    # Whitespace and invisible characters only: the full normaliser (escapes, mojibake) would
    # not change whether a line is a label, and this runs on every paragraph of every body.
    cleaned = collapse_whitespace(strip_controls(unicodedata.normalize("NFC", text)))
    if not cleaned:
        return False
    if _IMAGE_FILE.fullmatch(cleaned):
        return True
    match = _match_image_label(cleaned)
    return match is not None and match.end() == len(cleaned)


def strip_image_label(text: str) -> str:
    """Remove an image label glued to (or standing before) the start of a text.

    The text extractor drops the ``<img>`` but keeps its alt text, with no space before the
    entry's own text: ``2410Starr-coverSilk Road Paper S. Frederick Starr, …`` becomes
    ``Silk Road Paper S. Frederick Starr, …``.  Text without such a label is returned
    normalised but otherwise unchanged.
    """
    cleaned = normalise_text(text)
    match = _match_image_label(cleaned)
    if match is None:
        return cleaned
    return cleaned[match.end() :].lstrip()


# -- one title, many spellings ------------------------------------------------------------------

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
    return " ".join(text.translate(_TITLE_KEY_CHARS).split())


class _TitleKeyChars(dict[int, int | str | None]):
    """``str.translate`` table of :func:`title_key`'s rule for one character, filled as
    characters are met (the rule depends on the character alone): one C pass per title
    instead of a Python loop asking ``unicodedata`` twice per character."""

    def __missing__(self, code: int) -> int | str | None:
        ch = chr(code)
        # Invisible format characters (soft hyphen, zero-width joiners) never tell titles apart.
        if ch in "'." or unicodedata.category(ch) == "Cf":
            value: int | str | None = None
        elif unicodedata.category(ch).startswith("P"):
            value = " "
        else:
            value = code
        self[code] = value
        return value


_TITLE_KEY_CHARS = _TitleKeyChars()
