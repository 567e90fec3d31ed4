"""Section rules: what differs between the sections' item pages, one small unit per rule.

Every section is read by the same page objects (:mod:`caci_spider.pages.item`); a section's
entry in :mod:`caci_spider.sources` names the rules its pages also need (``Section.rules``), and
:func:`rules_for` picks them from an item's site key and the category of its URL. The rules
(docs/site-notes.md, "Sections"):

* ``author-bio`` (analytical articles): a paragraph ``AUTHOR'S BIO: …`` is the author's bio,
  without its label, and not body text; so is the paragraph after a label standing alone, and
  the end of the article's last paragraph after the label in capitals following a sentence
  (:func:`split_author_bio`);
* ``pdf-link`` (feature articles): the link to the publication's PDF ("Read <title> (PDF)",
  "Click here to download PDF", "Click Here to Download", also with only some of the words
  linked, and at the end of a text paragraph) gives ``pdf_url`` (absolute, and safe as every
  URL the spider stores), and its words are not body text (:func:`find_pdf_link`);
* ``paper`` (the Silk Road Papers and Monographs of silkroadstudies.org): the lines the page
  prints before the summary (institute, type label → ``kind``, printed month →
  ``issue_date``), its download and "Buy on Amazon" lines, the ``Executive Summary`` heading
  and a book's chapter list are not body text; the download link gives ``pdf_url`` and the
  chapter links a book's chapter PDFs; a cover image's alt text glued to a paragraph is
  dropped (:func:`read_paper`);
* ``section-labels`` (analytical articles): the labels ``BACKGROUND:``, ``IMPLICATIONS:``,
  ``CONCLUSIONS:`` stay at the start of their paragraphs as published, and an image's alt text
  glued before one (``karachagBACKGROUND:``, the alt of an image on the same page) is dropped
  (:func:`unglue_image_alts`).

What differs between sites (the publication name in dated lines and issue designations, the
site names a ``<title>`` ends with, the footer blurbs) is the site's profile, read where each
of those rules lives (:mod:`caci_spider.dates`, :mod:`caci_spider.quality`,
:mod:`caci_spider.pages.k2`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from copy import deepcopy
from dataclasses import dataclass
from itertools import islice
from urllib.parse import urljoin, urlsplit

from lxml import etree
from w3lib.url import safe_url_string

from caci_spider.dates import parse_partial_date
from caci_spider.pages.blocks import BLOCK_TAGS, element_text
from caci_spider.sources import (
    RULE_AUTHOR_BIO,
    RULE_PAPER,
    RULE_PDF_LINK,
    RULE_SECTION_LABELS,
    SiteProfile,
    profile_of,
)
from caci_spider.text import collapse_whitespace
from caci_spider.urls import ItemRef, is_same_site, item_path_match

# "AUTHOR'S BIO: …" (legacy text may still carry PHP's escaped apostrophe: AUTHOR\'S), and the
# co-authors' and bare forms: "AUTHORS' BIOS:", "AUTHOR BIO:".
_BIO_LABEL = r"authors?(?:\\?['’`]s|s\\?['’`]|s)?\s+bio(?:s|graphy|graphies)?"
AUTHOR_BIO = re.compile(rf"^\s*{_BIO_LABEL}\s*:\s*(?P<bio>.*)$", re.I | re.S)
# The label inside the article's last paragraph, after a sentence ("… in 2004. AUTHOR'S BIO:
# Jane Roe is …"): only in capitals, as the site prints its labels, so that prose mentioning an
# author's bio never cuts a paragraph.
INLINE_AUTHOR_BIO = re.compile(
    r"(?<=[.!?\"”’)\]])\s+AUTHORS?(?:\\?['’`]S|S\\?['’`]|S)?\s+BIO(?:S|GRAPHY|GRAPHIES)?\s*:"
    r"\s*(?P<bio>\S.*)$",
    re.S,
)
# The words of a PDF link, as the whole text of its link: "Read <title> (PDF)", "Click here to
# download PDF", "Click Here to Download", "Download the PDF".
PDF_LINK_TEXT = re.compile(
    r"^(?:read\s+\S.*\(\s*pdf\s*\)|click\s+here\s+to\s+download(?:\s+(?:the\s+)?pdf)?"
    r"|download\s+(?:the\s+)?(?:full\s+)?(?:text\s+)?(?:\(\s*)?pdf\)?)\s*\.?$",
    re.IGNORECASE,
)
# A link whose target is a PDF file may read "Read <title>" without "(PDF)" (sample page 007).
_READ_TITLE = re.compile(r"^read\s+\S", re.IGNORECASE)
# The labels of the older analytical articles' paragraphs.
SECTION_LABEL = re.compile(
    r"(?:BACKGROUND|IMPLICATIONS|CONCLUSIONS?|BACKROUND|AUTHORS?(?:\\?['’]S|S\\?['’]|S)?\s+BIOS?)\s*:"
)


@dataclass(frozen=True)
class SectionRules:
    """The rules one section's item pages are read with (see the module's docstring)."""

    author_bio: bool = False
    pdf_link: bool = False
    section_labels: bool = False
    paper: bool = False

    @classmethod
    def named(cls, names: Iterable[str]) -> SectionRules:
        names = frozenset(names)
        return cls(
            author_bio=RULE_AUTHOR_BIO in names,
            pdf_link=RULE_PDF_LINK in names,
            section_labels=RULE_SECTION_LABELS in names,
            paper=RULE_PAPER in names,
        )


NO_RULES = SectionRules()


def rules_for(ref: ItemRef, profile: SiteProfile | None = None) -> SectionRules:
    """The rules of the section an item is in: the section of its site's profile (``profile``,
    else the declared profile of ``ref.site``) whose item path its URL is (none for a section
    the profile does not declare)."""
    profile = profile if profile is not None else profile_of(ref.site)
    path = urlsplit(ref.url).path
    section = next((s for s in profile.sections if item_path_match(path, s.path)), None)
    return SectionRules.named(section.rules) if section is not None else NO_RULES


# -- author-bio ----------------------------------------------------------------------------------


def split_author_bio(paragraphs: list[str]) -> tuple[list[str], str | None]:
    """``(body, bio)``: the author's bio out of the body, without its label. The bio is the last
    ``AUTHOR'S BIO:`` paragraph's text or, when the label stands alone in its paragraph, the
    paragraph after it (both leave the body); else the end of the article's last paragraph
    after the label in capitals following a sentence (:data:`INLINE_AUTHOR_BIO`), the text
    before the label staying in the body."""
    for index in range(len(paragraphs) - 1, -1, -1):
        match = AUTHOR_BIO.match(paragraphs[index])
        if match:
            bio = match["bio"].strip()
            if not bio and index + 1 < len(paragraphs):
                return paragraphs[:index] + paragraphs[index + 2 :], paragraphs[index + 1]
            return paragraphs[:index] + paragraphs[index + 1 :], bio or None
    inline = INLINE_AUTHOR_BIO.search(paragraphs[-1]) if paragraphs else None
    if inline:
        return [*paragraphs[:-1], paragraphs[-1][: inline.start()].rstrip()], inline["bio"].strip()
    return paragraphs, None


# -- pdf-link ------------------------------------------------------------------------------------


def is_pdf_link(text: str, href: str) -> bool:
    """A link to the publication's PDF: its words say so, or it reads "Read <title>" and its
    target is a ``.pdf`` file."""
    text = collapse_whitespace(text)
    if not text or not href.strip():
        return False
    if PDF_LINK_TEXT.match(text):
        return True
    return bool(_READ_TITLE.match(text)) and urlsplit(href.strip()).path.lower().endswith(".pdf")


def find_pdf_link(
    root: etree._Element, paragraphs: list[str], page_url: str
) -> tuple[list[str], str | None]:
    """``(body, pdf_url)``: the publication's own PDF link among the links of the page that
    are PDF links in a paragraph of the article (a sidebar's links never are): the last one on
    the site's own hosts (the download link follows the abstract; a PDF the abstract cites
    elsewhere is text), else the last one. Its URL is made absolute and safe
    (``safe_url_string``, as :mod:`caci_spider.urls` makes every URL), and the body loses the
    link's words: its paragraph when they are all of it ("Read <title> (PDF)", "Click <a>here</a>
    to download PDF"), else the end of the paragraph they form (:func:`pdf_link_words`)."""
    texts = {collapse_whitespace(p): index for index, p in enumerate(paragraphs)}
    blocks: dict[etree._Element, str] = {}  # each block's text, read once for all its links
    found: tuple[bool, list[str], str] | None = None  # (on the site, body, url) of the best
    for link in root.iter("a"):
        href = (link.get("href") or "").strip()
        block = _block_of(link)
        if not href or block is None:
            continue
        if block not in blocks:
            blocks[block] = element_text(block)
        paragraph = blocks[block]
        if paragraph not in texts or not _PDF_HINT.search(f"{paragraph} {href}"):
            continue
        kept = pdf_link_words(block, link, href, paragraph)
        if kept is None:
            continue
        index = texts[paragraph]
        body = [*paragraphs[:index], *([kept] if kept else []), *paragraphs[index + 1 :]]
        url = safe_url_string(urljoin(page_url, href))
        on_site = is_same_site(url, page_url)
        if found is None or on_site or not found[0]:
            found = (on_site, body, url)
    return (found[1], found[2]) if found is not None else (paragraphs, None)


# Words any PDF link's paragraph or target holds (a cheap test before reading a link closely).
_PDF_HINT = re.compile(r"pdf|download", re.IGNORECASE)
# Where a sentence ends in a paragraph: the words of a PDF link start after the last one.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”’)\]]*\s+")


def pdf_link_words(
    block: etree._Element, link: etree._Element, href: str, paragraph: str | None = None
) -> str | None:
    """What stays of the paragraph ``block`` (its text ``paragraph``, read if not given) once
    the PDF link ``link`` (to ``href``) is taken out ("" for nothing), or ``None`` when the link
    is no PDF link. The link's words are its sentence: the link with the words before it since
    the last sentence end and every word after it to the paragraph's end. They are a PDF link
    when they are the whole paragraph and say so, or its last sentence and spell a PDF link's
    words (:data:`PDF_LINK_TEXT`) with the link's own words saying so or its target a ``.pdf``
    file: prose that merely mentions a PDF ("the report (PDF) was published in May") never is."""
    text = element_text(link)
    paragraph = element_text(block) if paragraph is None else paragraph
    through = _text_through(block, link)
    if not text or not through.endswith(text) or not paragraph.startswith(through):
        return None
    before = through[: len(through) - len(text)]
    lead = _SENTENCE_END.split(before)[-1]
    kept = before[: len(before) - len(lead)].strip()
    words = collapse_whitespace(f"{lead} {paragraph[len(before) :]}")
    if not kept and words == text:
        return "" if is_pdf_link(text, href) else None
    target_is_pdf = urlsplit(href).path.lower().endswith(".pdf")
    if PDF_LINK_TEXT.match(words) and (PDF_LINK_TEXT.match(text) or target_is_pdf):
        return kept
    return None


def _block_of(element: etree._Element) -> etree._Element | None:
    """The nearest block (a paragraph, a cell, a division) holding ``element``."""
    return next(
        (a for a in element.iterancestors() if isinstance(a.tag, str) and a.tag in BLOCK_TAGS),
        None,
    )


def _text_through(block: etree._Element, link: etree._Element) -> str:
    """The text of ``block`` up to the end of ``link``, read as :func:`element_text` reads it
    (on a copy of the block cut after the link)."""
    position = next(index for index, element in enumerate(block.iter()) if element is link)
    copy = deepcopy(block)
    node = next(islice(copy.iter(), position, None))
    node.tail = None
    while node is not copy:
        parent = node.getparent()
        if parent is None:  # never: the copy holds the node
            break
        for sibling in list(node.itersiblings()):
            parent.remove(sibling)
        if parent is not copy:
            parent.tail = None
        node = parent
    return element_text(copy)


# -- section-labels ------------------------------------------------------------------------------


def image_alts(root: etree._Element) -> list[str]:
    """The alt texts of the page's images, longest first (then in alphabetical order)."""
    alts = {collapse_whitespace(img.get("alt") or "") for img in root.iter("img")}
    return sorted((alt for alt in alts if alt), key=lambda alt: (-len(alt), alt))


def unglue_image_alts(paragraphs: list[str], alts: list[str]) -> list[str]:
    """Each paragraph without the alt text of one of the page's images glued before a section
    label (``karachagBACKGROUND: Joining …`` → ``BACKGROUND: Joining …``). Only an alt the page
    itself gives is removed, and only before a label: text that merely starts like one stays."""
    return [_unglue(paragraph, alts) for paragraph in paragraphs]


def _unglue(paragraph: str, alts: list[str]) -> str:
    stripped = paragraph.lstrip()
    for alt in alts:
        if stripped.startswith(alt):
            rest = stripped[len(alt) :].lstrip()
            if SECTION_LABEL.match(rest):
                return rest
    return paragraph


# -- paper ---------------------------------------------------------------------------------------

# The type labels the papers listing prints, as printed (docs/site-notes.md, "Silk Road Papers").
PAPER_KIND = re.compile(
    r"^(?:silk\s+road\s+(?:paper|monograph)|book|monograph|policy\s+(?:paper|brief)"
    r"|research\s+paper|occasional\s+paper|conference\s+report)s?$",
    re.IGNORECASE,
)
# A download line: "Click Here to Download", "Click Here To Download <Title>.", "Click to
# Download PDF file", "Click to Download PDF", "Free, downloadable PDF files are available
# below."; and the external "Buy on Amazon".
DOWNLOAD_LINE = re.compile(
    r"^(?:click\s+(?:here\s+)?to\s+download\b.*|free,?\s+downloadable\s+pdf\s+files?\s+are"
    r"\s+available\s+below\.?|buy\s+(?:it\s+)?on\s+amazon\.?)$",
    re.IGNORECASE,
)


EXECUTIVE_SUMMARY = re.compile(r"^executive\s+summary:?$", re.IGNORECASE)
CHAPTERS_HEADING = re.compile(r"^individual\s+chapters\s*:?$", re.IGNORECASE)


def is_printed_month(text: str) -> bool:
    """A paper's printed month ("June 2025"): a date of the dates grammar, month precise."""
    parsed = parse_partial_date(text)
    return parsed is not None and len(parsed) == len("2025-06")


@dataclass(frozen=True)
class PaperParts:
    """What :func:`read_paper` makes of a paper's paragraphs."""

    body: list[str]
    kind: str | None  # the type label, as printed
    month: str | None  # the printed month line ("June 2025")
    pdf_url: str | None  # the download link of the paper (or the whole book)
    chapters: tuple[str, ...]  # a book's chapter PDFs, in order


def read_paper(
    root: etree._Element, paragraphs: list[str], page_url: str, site_names: Iterable[str]
) -> PaperParts:
    """The paper's summary without the page's chrome (see the module's docstring).
    ``site_names`` are the names of the paper's site (its profile's): the institute line every
    paper prints under its byline is one of them.

    The lines before the first prose paragraph that are the institute line, a type label or a
    month are read as such (only there: a month in the text stays text); download lines,
    "Executive Summary" and everything from "Individual chapters:" that is a chapter link
    leave the body wherever they stand."""
    institute = {name.casefold() for name in site_names}
    kind = month = None
    body: list[str] = []
    in_head = True
    chapter_titles = {collapse_whitespace(element_text(a)) for a in _chapter_links(root)}
    for paragraph in paragraphs:
        text = collapse_whitespace(paragraph)
        if in_head and text.casefold() in institute:
            continue
        if in_head and kind is None and PAPER_KIND.match(text):
            kind = text
            continue
        if in_head and month is None and is_printed_month(text):
            month = text
            continue
        if DOWNLOAD_LINE.match(text) or EXECUTIVE_SUMMARY.match(text):
            continue
        if CHAPTERS_HEADING.match(text) or text in chapter_titles:
            continue
        in_head = False
        body.append(paragraph)
    body = unglue_cover_alts(body, image_alts(root))
    return PaperParts(body, kind, month, _download_link(root, page_url), _chapters(root, page_url))


def unglue_cover_alts(paragraphs: list[str], alts: list[str]) -> list[str]:
    """Each paragraph without an image's alt text glued before its first word
    (``2505-Instac-CoverThe post-Soviet …`` → ``The post-Soviet …``): only an alt the page
    gives, and only when a capital letter or a quote follows it at once."""
    kept = []
    for paragraph in paragraphs:
        for alt in alts:
            rest = paragraph[len(alt) :] if paragraph.startswith(alt) else ""
            if rest and (rest[0].isupper() or rest[0] in "\"“‘'"):
                paragraph = rest
                break
        kept.append(paragraph)
    return kept


def _download_link(root: etree._Element, page_url: str) -> str | None:
    """The first link whose words are a download line ("Click Here to Download"), absolute
    and safe; a chapter link never is."""
    chapters = set(_chapter_links(root))
    for link in root.iter("a"):
        href = (link.get("href") or "").strip()
        line = _link_line(link) if href and link not in chapters else ""
        if DOWNLOAD_LINE.match(line) and not re.match(r"^buy\b", line, re.IGNORECASE):
            return safe_url_string(urljoin(page_url, href))
    return None


def _link_line(link: etree._Element) -> str:
    """The words of a link's block when the link is all of it, else the link's own words."""
    block = _block_of(link)
    text = collapse_whitespace(element_text(link))
    whole = collapse_whitespace(element_text(block)) if block is not None else text
    return whole if text and whole.startswith(text[:12]) else text


def _chapter_links(root: etree._Element) -> list[etree._Element]:
    """The PDF links after the "Individual chapters:" heading of a book, in order."""
    links: list[etree._Element] = []
    seen_heading = False
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        if element.tag in BLOCK_TAGS and not seen_heading:
            own = collapse_whitespace(element.text or "")
            seen_heading = bool(CHAPTERS_HEADING.match(own)) or bool(
                CHAPTERS_HEADING.match(collapse_whitespace(element_text(element)))
            )
            continue
        href = (element.get("href") or "").strip() if element.tag == "a" else ""
        if seen_heading and href and urlsplit(href).path.lower().endswith(".pdf"):
            links.append(element)
    return links


def _chapters(root: etree._Element, page_url: str) -> tuple[str, ...]:
    links = _chapter_links(root)
    urls = (safe_url_string(urljoin(page_url, (a.get("href") or "").strip())) for a in links)
    return tuple(dict.fromkeys(urls))
