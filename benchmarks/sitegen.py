"""A generated K2 site of N field reports, built from the fixture item pages.

Every generated item is one fixture page (round-robin over the 19 item fixtures that yield a
row; the broken page ``9877``, a reject by design, is left out) with:

* a new K2 id (``ID_BASE + n``) and alias, replaced everywhere in the page (toolbar links too);
* a new title: `` (n)`` appended in ``h2.itemTitle``, ``<title>``, ``og:title`` and the ``h1``
  of the non-stock page (an empty ``itemTitle`` stays empty, as in 7315);
* a different body: the body paragraphs after the byline window (the first three ``<p>`` of the
  body container, which hold the byline, the dated line and the repeated lead) are permuted,
  and three paragraphs of 3–5 sentences drawn from the fixture bodies are inserted after the
  last body paragraph (before a ``Read N times`` line).

Everything is drawn from ``random.Random(f"{seed}:{n}")``, so item ``n`` is the same page at
every N: the N = 1,000 site is the first 1,000 items of the N = 10,000 site. Byline, dates,
hits and tags are the template's, so every generated page must extract to a valid row with the
template's authors and dates (:func:`check_generated` checks one page per template).
"""

from __future__ import annotations

import json
import math
import random
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from lxml import etree, html

from caci_spider.pages.k2 import body_end
from caci_spider.quality import MAX_EDGE_LINE
from caci_spider.sources import CACIANALYST
from caci_spider.testworld.localsite import (
    BROKEN_SERVER_ITEM_ID,
    MISSING_ITEM_ID,
    LocalK2Site,
)
from caci_spider.text import ends_like_a_sentence

# The field reports' end-of-body lines (the templates are Analyst pages).
BODY_END = body_end(CACIANALYST.boilerplate)

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = REPO_ROOT / "fixtures"
ITEM_FIXTURES = FIXTURES / "field_reports" / "items"
ID_BASE = 100_000
# Joomla's pagination shows at most this many page links around the current page.
PAGINATION_WINDOW = 10
_SENTENCE_END = re.compile(r"(?<=[.!?”\"])\s+(?=[A-Z“\"])")
_BODY_CONTAINERS = (
    "//div[contains(concat(' ', normalize-space(@class), ' '), ' itemFullText ')]",
    "//div[contains(concat(' ', normalize-space(@class), ' '), ' itemIntroText ')]",
    "//div[contains(concat(' ', normalize-space(@class), ' '), ' content ')]",
)
_TITLE_XPATHS = (
    "//h2[contains(concat(' ', normalize-space(@class), ' '), ' itemTitle ')]",
    "//head/title",
    "//div[contains(concat(' ', normalize-space(@class), ' '), ' article ')]/h1",
)
_PROTECTED = 3  # leading <p> of the body container left in place: byline, dated line, lead


@dataclass(frozen=True)
class Template:
    id: int
    alias: str
    page: bytes
    expected: dict


def load_templates(directory: Path = ITEM_FIXTURES) -> list[Template]:
    """The item fixtures that yield a stored row (their JSON has a ``body``)."""
    templates = []
    for path in sorted(directory.glob("*.html")):
        match = re.match(r"^(\d+)-(.+)\.html$", path.name)
        expected = json.loads(path.with_suffix(".json").read_text("utf-8"))
        if match and expected.get("body"):
            templates.append(Template(int(match[1]), match[2], path.read_bytes(), expected))
    return templates


def sentence_pool(templates: list[Template]) -> list[str]:
    """Every sentence of every expected body, each once, in a stable order."""
    pool: dict[str, None] = {}
    for template in templates:
        for paragraph in template.expected["body"].split("\n\n"):
            for sentence in _SENTENCE_END.split(paragraph):
                sentence = sentence.strip()
                if len(sentence) > 40 and not BODY_END.match(sentence):
                    pool[sentence] = None
    return list(pool)


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:80] or "item"


@dataclass(frozen=True)
class GeneratedItem:
    id: int
    alias: str
    title: str
    template_id: int
    page: bytes
    listing: dict  # title, byline, body (first paragraph): what the local site's listing shows


class Generator:
    def __init__(self, seed: int = 2026, templates: list[Template] | None = None) -> None:
        self.seed = seed
        self.templates = templates or load_templates()
        self.pool = sentence_pool(self.templates)

    def item(self, n: int, id_base: int = ID_BASE) -> GeneratedItem:
        """Generated item number ``n`` (1-based)."""
        rng = random.Random(f"{self.seed}:{n}")
        template = self.templates[(n - 1) % len(self.templates)]
        new_id = id_base + n
        title = f"{template.expected['title']} ({n})"
        alias = slug(title)
        page = template.page.replace(
            f"{template.id}-{template.alias}".encode(), f"{new_id}-{alias}".encode()
        ).replace(f"startOfPageId{template.id}".encode(), f"startOfPageId{new_id}".encode())
        root = html.document_fromstring(page, parser=html.HTMLParser(encoding="utf-8"))
        _retitle(root, n)
        _rewrite_body(root, rng, self.pool, f" ({n})")
        doctype = root.getroottree().docinfo.doctype or "<!DOCTYPE html>"
        out = html.tostring(root, encoding="utf-8", doctype=doctype)
        listing = {
            "title": title,
            "byline": template.expected.get("byline"),
            "body": template.expected["body"].split("\n\n")[0],
        }
        return GeneratedItem(new_id, alias, title, template.id, out, listing)


def _number_subheadings(root: etree._Element, suffix: str) -> None:
    """Number the subheadings of the item's text, like its title: every item made from one
    template would otherwise share them, and the self-check reads a short line shared by the
    bodies of several items as page chrome (real articles do not share one)."""
    for xpath in _BODY_CONTAINERS:
        for container in root.xpath(xpath):
            for paragraph in container.iter("p"):
                text = paragraph.text_content().strip()
                bold = [e for e in paragraph if e.tag in ("strong", "b")]
                is_subheading = len(bold) == 1 and bold[0].text_content().strip() == text
                if is_subheading and len(text) <= MAX_EDGE_LINE and not ends_like_a_sentence(text):
                    span = etree.SubElement(bold[0], "span")
                    span.text = suffix


def _retitle(root: etree._Element, n: int) -> None:
    suffix = f" ({n})"
    for xpath in _TITLE_XPATHS:
        for element in root.xpath(xpath):
            text = element.text or ""
            if text.strip():
                stripped = text.rstrip()
                element.text = stripped + suffix + text[len(stripped) :]
    for meta in root.xpath("//meta[@property='og:title']"):
        if (meta.get("content") or "").strip():
            meta.set("content", meta.get("content").strip() + suffix)


def _rewrite_body(root: etree._Element, rng: random.Random, pool: list[str], suffix: str) -> None:
    container = None
    for xpath in _BODY_CONTAINERS:
        found = root.xpath(xpath)
        if found:
            container = found[0]
            break
    if container is None:
        raise ValueError("no body container in template")
    paragraphs = [child for child in container if child.tag == "p"]
    body = [p for p in paragraphs if not BODY_END.match(p.text_content().strip())]
    _number_subheadings(root, suffix)
    movable = body[_PROTECTED:]
    if len(movable) > 1:
        # Permute the movable paragraphs in place: same slots, new order.
        order = list(movable)
        rng.shuffle(order)
        slots = [(p.getparent(), p.getparent().index(p)) for p in movable]
        tails = [p.tail for p in movable]
        for p in movable:
            p.getparent().remove(p)
        for (parent, index), p, tail in sorted(
            zip(slots, order, tails, strict=True), key=lambda s: s[0][1]
        ):
            p.tail = tail
            parent.insert(index, p)
    anchor = body[-1] if body else None
    position = container.index(anchor) + 1 if anchor is not None else len(container)
    for offset in range(3):
        sentences = rng.sample(pool, rng.randint(3, 5))
        new = etree.Element("p")
        new.text = " ".join(sentences)
        new.tail = "\n"
        container.insert(position + offset, new)


def write_site(
    target: Path, n_items: int, generator: Generator | None = None, id_base: int = ID_BASE
) -> Path:
    """A fixtures tree for :class:`BenchSite` at ``target``: N generated items (page + listing
    JSON) and the site chrome. Returns ``target``."""
    generator = generator or Generator()
    items_dir = target / "field_reports" / "items"
    items_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(FIXTURES / "site_chrome.html", target / "site_chrome.html")
    for n in range(1, n_items + 1):
        write_item(items_dir, generator.item(n, id_base))
    return target


def write_item(directory: Path, item: GeneratedItem) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{item.id}-{item.alias}.html"
    path.write_bytes(item.page)
    path.with_suffix(".json").write_text(json.dumps(item.listing, ensure_ascii=False), "utf-8")
    return path


class BenchSite(LocalK2Site):
    """:class:`LocalK2Site` over a generated tree, with two changes for benchmarking:

    * without the stale link (404) and the always-500 item the test site inserts, so that every
      listed item is a stored row and no retries are timed;
    * with Joomla's windowed pagination (at most ``PAGINATION_WINDOW`` page links, plus
      Start/Prev/Next/End) instead of a link to every page: the test site's full list would make
      a listing page of N = 10,000 items carry 2,500 links, which no real K2 site renders.
    """

    def __init__(self, fixtures: Path, page_size: int = 4, with_errors: bool = False) -> None:
        super().__init__(fixtures, page_size)
        if not with_errors:
            errors = (MISSING_ITEM_ID, BROKEN_SERVER_ITEM_ID)
            self.order = [i for i in self.order if i not in errors]
            self.failing = {}
        self.pagination_window = PAGINATION_WINDOW

    def listing_pages(self) -> int:
        return math.ceil(len(self.order) / self.page_size)


def check_generated(generator: Generator) -> list[str]:
    """Problems with generated pages: one page per template must extract to a valid row with
    the template's authors, dates and byline, its own title and a body unlike the template's."""
    from caci_spider.pages.item import K2ItemPage
    from caci_spider.records import build_publication
    from caci_spider.urls import ItemRef

    problems = []
    for n in range(1, len(generator.templates) + 1):
        item = generator.item(n)
        expected = generator.templates[(n - 1) % len(generator.templates)].expected
        url = f"http://127.0.0.1/publications/field-reports/item/{item.id}-{item.alias}.html"
        page = K2ItemPage(
            item.page.decode("utf-8"), ItemRef(item.id, url, CACIANALYST.key), "t"
        ).extract()
        report, reason, _raw = build_publication(page)
        if report is None:
            problems.append(f"item {n} (template {item.template_id}): rejected, {reason}")
            continue
        for key in ("authors", "published", "issue_date", "byline", "hits", "tags"):
            if getattr(report, key) != expected.get(key):
                problems.append(
                    f"item {n} (template {item.template_id}): {key} {getattr(report, key)!r}"
                    f" != {expected.get(key)!r}"
                )
        if report.title != item.title:
            problems.append(f"item {n} (template {item.template_id}): title {report.title!r}")
        if report.body == expected["body"] or len(report.body) <= len(expected["body"]):
            problems.append(f"item {n} (template {item.template_id}): body not varied")
    return problems
