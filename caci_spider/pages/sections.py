"""Section rules: what differs between the sections' item pages, one small unit per rule.

Every section is read by the same page objects (:mod:`caci_spider.pages.item`); a section's
entry in :mod:`caci_spider.sources` names the rules its pages also need (``Section.rules``), and
:func:`rules_for` picks them from an item's site key and the category of its URL. The rules
(docs/site-notes.md, "Sections"):

* ``author-bio`` (analytical articles): a paragraph ``AUTHOR'S BIO: …`` is the author's bio,
  without its label, and not body text (:func:`split_author_bio`);
* ``pdf-link`` (feature articles): the link to the publication's PDF ("Read <title> (PDF)",
  "Click here to download PDF", "Click Here to Download") gives ``pdf_url``, and its text is
  not body text (:func:`find_pdf_link`);
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
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from lxml import etree

from caci_spider.pages.blocks import element_text
from caci_spider.sources import (
    RULE_AUTHOR_BIO,
    RULE_PDF_LINK,
    RULE_SECTION_LABELS,
    section_by_category,
)
from caci_spider.text import collapse_whitespace
from caci_spider.urls import ItemRef

_CATEGORY = re.compile(r"/publications/(?P<category>[\w-]+)/item/\d+")

# "AUTHOR'S BIO: …" (legacy text may still carry PHP's escaped apostrophe: AUTHOR\'S).
AUTHOR_BIO = re.compile(r"^\s*author\\?['’`]?s\s+bio(?:graphy)?\s*:\s*(?P<bio>.*)$", re.I | re.S)
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
    r"(?:BACKGROUND|IMPLICATIONS|CONCLUSIONS?|BACKROUND|AUTHOR\\?['’]?S\s+BIO)\s*:"
)


@dataclass(frozen=True)
class SectionRules:
    """The rules one section's item pages are read with (see the module's docstring)."""

    author_bio: bool = False
    pdf_link: bool = False
    section_labels: bool = False

    @classmethod
    def named(cls, names: Iterable[str]) -> SectionRules:
        names = frozenset(names)
        return cls(
            author_bio=RULE_AUTHOR_BIO in names,
            pdf_link=RULE_PDF_LINK in names,
            section_labels=RULE_SECTION_LABELS in names,
        )


NO_RULES = SectionRules()


def rules_for(ref: ItemRef) -> SectionRules:
    """The rules of the section an item is in: its site's section whose category its URL holds
    (none for a section or site sources.py does not declare)."""
    match = _CATEGORY.search(urlsplit(ref.url).path)
    section = section_by_category(ref.site, match["category"]) if match else None
    return SectionRules.named(section.rules) if section is not None else NO_RULES


# -- author-bio ----------------------------------------------------------------------------------


def split_author_bio(paragraphs: list[str]) -> tuple[list[str], str | None]:
    """``(body, bio)``: the last ``AUTHOR'S BIO:`` paragraph, label removed, out of the body."""
    for index in range(len(paragraphs) - 1, -1, -1):
        match = AUTHOR_BIO.match(paragraphs[index])
        if match:
            bio = match["bio"].strip() or None
            return paragraphs[:index] + paragraphs[index + 1 :], bio
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
    """``(body, pdf_url)``: the first link of the page that is a PDF link and stands as a
    paragraph of its own in the article (a sidebar's links never do), its URL made absolute,
    and the body without that paragraph."""
    texts = {collapse_whitespace(p): index for index, p in enumerate(paragraphs)}
    for link in root.iter("a"):
        href = link.get("href") or ""
        text = element_text(link)
        if text in texts and is_pdf_link(text, href):
            index = texts[text]
            return paragraphs[:index] + paragraphs[index + 1 :], urljoin(page_url, href.strip())
    return paragraphs, None


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
