"""Templates ("layouts") the local K2 site can serve every page through.

The fixtures are written in the site's customised K2 markup. A layout re-renders a page as
another template would render the same content, so that a real crawl can be run through each
template and its rows compared with the fixtures' expected JSON. Only the wrapper markup
changes: the article's own HTML (intro text, full text, listing teasers, sidebar modules) is
moved over node by node, never re-typed, so its text arrives exactly as the fixture has it.
Pages the layout does not recognise (an override without K2 markup) keep their content.

``render(layout, page, context)`` is the whole API; :data:`LAYOUTS` names the layouts:

``site``
    The fixture as it is (identity).

``k2-stock``
    K2's default template (K2 v2.x, repository ``getk2/k2``):
    ``components/com_k2/templates/default/item.php`` for item pages,
    ``components/com_k2/templates/default/category.php`` and ``category_item.php`` for listing
    pages. Item pages: ``itemHeader`` holds the created date, the title and "Written by" with
    the *account* that created the item (never the article's author); then the toolbar (font
    size, Print, E-mail, a social button); ``itemBody`` holds the image block, intro text, full
    text and the content footer (hits, last modified); then social sharing; then ``itemLinks``
    *after* the body: "Published in" the category, then "Tagged under" and the tags; then the
    author block, "Latest from <account>", "Related items" (only for a tagged item, as K2 relates
    by tag), "More in this category:" with previous / next, and "back to top". The fixture's own
    K2 elements are found by their classes and moved into that order. Listing entries: header
    (created date, title, "Written by"), body (image, intro text), links ("Published in", tags),
    read more. The home page has no K2 item list and keeps its markup.

``stripped``
    Every ``class`` and ``id`` attribute removed from every element, chrome included: a template
    override that uses no K2 class.

``renamed``
    Every ``class`` and ``id`` token replaced by ``t-`` and a short hash of it: a template
    override that renames K2's classes.

``joomla``
    Joomla 4/5 core ``com_content`` markup as rendered by the Cassiopeia template: what the site
    becomes when migrated from K2 to Joomla's articles, keeping its URLs. Repository
    ``joomla/joomla-cms``: ``components/com_content/tmpl/article/default.php`` (article),
    ``layouts/joomla/content/info_block.php`` and ``info_block/{author,category,publish_date,
    modify_date,hits}.php`` (the ``dl.article-info`` block), ``layouts/joomla/content/tags.php``,
    ``layouts/joomla/content/full_image.php`` and ``intro_image.php`` (figures),
    ``plugins/content/pagenavigation/tmpl/default.php`` (previous / next article),
    ``components/com_content/tmpl/category/blog.php`` and ``blog_item.php``,
    ``layouts/joomla/content/blog_style_default_item_title.php`` and ``readmore.php`` (category
    blog), ``layouts/joomla/pagination/list.php`` and ``link.php`` (pagination),
    ``templates/cassiopeia/index.php`` and ``templates/cassiopeia/html/layouts/chromes/card.php``
    (page shell, sidebar module cards). The created date becomes ``<time datetime=…>`` derived
    from the K2 date line; the author line is the account ("Written by: admin"); item links keep
    their K2 URLs; pagination keeps the listing's own ``?start=N`` links. The sidebar and footer
    modules of the page (Visit also, Staff Publications, newsletter, footer blurb) become
    Cassiopeia module cards with the same content. The home page is the (empty) featured blog.

``other-words``
    The site's own markup with its toolbar in other words ("Print article", "Send to a friend")
    and a "Bookmark and Share" line after the text: chrome no pattern of the crawler names.
    Combined with ``stripped`` it tests the text route against unknown chrome.

``unreadable``
    A template the crawler cannot read: item pages carry their text only in a JSON blob inside a
    ``<script>``, rendered by JavaScript; listing and home pages keep their markup, so that the
    listings still link every item. It exists to prove that the self-check fails.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import lxml.html
from lxml import etree

from caci_spider import sources
from caci_spider.pages.blocks import parse_html

LAYOUTS = ("site", "k2-stock", "stripped", "renamed", "joomla", "other-words", "unreadable")
# Layouts are combined with "+", applied left to right: "k2-stock+stripped" is K2's stock item
# view served by an override without classes.
COMBINE = "+"
DEFAULT_LAYOUT = "site"
PAGE_KINDS = ("item", "listing", "home")

# The site account every item was created by: K2's "Written by", Joomla's created_by.
ACCOUNT = "admin"
ACCOUNT_ID = 62
ACCOUNT_DESCRIPTION = "Editorial account of the Central Asia-Caucasus Analyst."

# Category slugs of the site and their names (a page without a category block still has one).
# From the site profiles (caci_spider.sources).
SECTIONS = sources.section_names_by_category()

Element = lxml.html.HtmlElement


def check_layout(name: str) -> str:
    """``name`` if it is a layout or a combination ``a+b``, else ValueError."""
    for part in name.split(COMBINE):
        if part not in LAYOUTS:
            raise ValueError(
                f"unknown layout {part!r}; one of {', '.join(LAYOUTS)}, or several joined by "
                f"{COMBINE!r}"
            )
    return name


@dataclass(frozen=True)
class Link:
    href: str
    title: str


@dataclass(frozen=True)
class PageContext:
    """What a template shows beyond the page itself (K2 and Joomla read it from the database)."""

    kind: str = "item"  # "item", "listing" or "home"
    path: str = "/"  # the page's path: its category, print and back-to-top links
    previous: Link | None = None  # neighbours in the category (item navigation)
    next: Link | None = None
    others: tuple[Link, ...] = ()  # other items of the category ("Latest from", "Related")
    # Listing pages: item path → its K2 created-date line, for entries that do not show one.
    entry_dates: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in PAGE_KINDS:
            raise ValueError(f"unknown page kind {self.kind!r}; one of {', '.join(PAGE_KINDS)}")


def render(layout: str, page: bytes, context: PageContext) -> bytes:
    """``page`` (a fixture page in the site's K2 markup) as ``layout`` renders it."""
    check_layout(layout)
    if COMBINE in layout:
        for part in layout.split(COMBINE):
            page = render(part, page, context)
        return page
    if layout == "site" or not page.strip():
        return page
    if layout == "unreadable" and context.kind != "item":
        return page
    root = parse_html(page)
    match layout:
        case "stripped":
            etree.strip_attributes(root, "class", "id")
        case "renamed":
            _rename(root)
        case "k2-stock":
            if context.kind == "item":
                _k2_stock_item(root, context)
            elif context.kind == "listing":
                _k2_stock_listing(root, context)
        case "joomla":
            root = _joomla(root, context)
        case "unreadable":
            _unreadable(root, context)
        case "other-words":
            if context.kind == "item":
                _other_words(root)
    return lxml.html.tostring(root, encoding="utf-8", doctype="<!DOCTYPE html>")


# What another template's toolbar and share buttons say, in words no pattern of the crawler
# names (the words of AddThis-style buttons and of other Joomla templates).
_OTHER_TOOLBAR_WORDS = {
    "Print": "Print article",
    "Email": "Send to a friend",
    "E-mail": "Send to a friend",
}


def _other_words(root: Element) -> None:
    """The site's own markup, its toolbar in other words, and a share line ("Bookmark and
    Share") between the text and the hits line, as a sharing plugin puts it."""
    for span in root.iter("span"):
        label = (span.text or "").strip()
        if label in _OTHER_TOOLBAR_WORDS and span.getparent() is not None:
            span.text = _OTHER_TOOLBAR_WORDS[label]
    # Not ``a or b``: an lxml element without children is false.
    text = _first(root, "itemFullText")
    if text is None:
        text = _first(root, "itemIntroText")
    if text is not None:
        text.addnext(
            _fragment('<div class="addthis_toolbox"><a href="#">Bookmark and Share</a></div>')
        )


# -- dates ---------------------------------------------------------------------------------------

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


# -- tree helpers --------------------------------------------------------------------------------

_CLASS_XPATHS: dict[str, etree.XPath] = {}


def _all(root: Element, name: str) -> list[Element]:
    """Descendants of ``root`` carrying the class token ``name``, in document order."""
    xpath = _CLASS_XPATHS.get(name)
    if xpath is None:
        xpath = etree.XPath(
            f".//*[contains(concat(' ', normalize-space(@class), ' '), ' {name} ')]"
        )
        _CLASS_XPATHS[name] = xpath
    return xpath(root)


def _first(root: Element | None, name: str) -> Element | None:
    if root is None:
        return None
    found = _all(root, name)
    return found[0] if found else None


def _classes(element: Element | None) -> list[str]:
    return (element.get("class") or "").split() if element is not None else []


def _is_element(node: object) -> bool:
    return isinstance(node, lxml.html.HtmlElement) and isinstance(node.tag, str)


def _by_id(root: Element, name: str) -> Element | None:
    found = root.xpath(f"//*[@id='{name}']")
    return found[0] if found else None


_VISIBLE_TEXT = etree.XPath(".//text()[not(ancestor::script)][not(ancestor::style)]")


def _text(element: Element | None) -> str:
    """Visible text of ``element``, whitespace collapsed (scripts and styles left out)."""
    if element is None:
        return ""
    return " ".join("".join(_VISIBLE_TEXT(element)).split())


def _move_content(source: Element, target: Element) -> None:
    """Append ``source``'s text and children to ``target``."""
    if len(target):
        target[-1].tail = (target[-1].tail or "") + (source.text or "")
    else:
        target.text = (target.text or "") + (source.text or "")
    source.text = None
    for child in list(source):
        target.append(child)


def _fragment(markup: str) -> Element:
    """One element from a template snippet (values must already be escaped)."""
    return lxml.html.fragment_fromstring(markup.strip())


def _esc(value: str) -> str:
    return html.escape(value, quote=True)


def _slot(root: Element, name: str) -> Element:
    found = root.xpath(f".//*[@data-slot='{name}']")
    if not found:
        raise KeyError(name)
    return found[0]


def _replace(root: Element, name: str, *nodes: Element | None) -> None:
    """Put ``nodes`` (moved, with their tails) where the slot ``name`` is; drop the slot."""
    slot = _slot(root, name)
    for node in nodes:
        if node is not None:
            slot.addprevious(node)
    _drop(slot)


def _pour(root: Element, name: str, *sources: Element | None) -> None:
    """Put the content of each source (its text and children) where the slot ``name`` is."""
    slot = _slot(root, name)
    for source in sources:
        if source is None:
            continue
        _text_before(slot, source.text)
        source.text = None
        for child in list(source):
            slot.addprevious(child)
    _drop(slot)


def _text_before(anchor: Element, text: str | None) -> None:
    if not text:
        return
    previous = anchor.getprevious()
    if previous is not None:
        previous.tail = (previous.tail or "") + text
    else:
        parent = anchor.getparent()
        assert parent is not None
        parent.text = (parent.text or "") + text


def _drop(element: Element) -> None:
    """Remove ``element``, keeping its tail text in place."""
    parent = element.getparent()
    if parent is None:
        return
    _text_before(element, element.tail)
    element.tail = None
    parent.remove(element)


def _detach(element: Element) -> Element:
    """``element`` out of its tree (tail kept in place), ready to be moved."""
    _drop(element)
    return element


def _wrap(*nodes: Element) -> Element:
    """A throwaway container holding ``nodes``, to pour them somewhere."""
    holder = lxml.html.Element("div")
    for node in nodes:
        holder.append(node)
    return holder


def _inner_html(element: Element) -> str:
    return html.escape(element.text or "", quote=False) + "".join(
        lxml.html.tostring(child, encoding="unicode") for child in element
    )


# K2's class vocabulary: what a migrated page must not carry over into Joomla markup.
_K2_NAME = re.compile(
    r"^(?:item[A-Z]\w*|catItem\w*|k2\w*|itemList\w*|itemContainer\w*|startOfPageId\d*"
    r"|subCategory\w*|clr|groupLeading|groupPrimary|groupSecondary|groupLinks)$"
)


def _drop_k2_names(root: Element) -> None:
    """Remove K2 class and id names from ``root``'s subtree (carried-over extras)."""
    for node in root.iter():
        if not isinstance(node.tag, str):
            continue
        classes = [c for c in _classes(node) if not _K2_NAME.match(c)]
        if node.get("class") is not None:
            if classes:
                node.set("class", " ".join(classes))
            else:
                del node.attrib["class"]
        if node.get("id") is not None and _K2_NAME.match(node.get("id") or ""):
            del node.attrib["id"]


def _rename(root: Element) -> None:
    for node in root.iter():
        if not isinstance(node.tag, str):
            continue
        value = node.get("class")
        if value is not None:
            node.set("class", " ".join(renamed_token(token) for token in value.split()))
        value = node.get("id")
        if value is not None:
            node.set("id", renamed_token(value))


def renamed_token(token: str) -> str:
    """The meaningless name the ``renamed`` layout gives a class or id."""
    return "t-" + hashlib.sha256(token.encode("utf-8")).hexdigest()[:8]


# -- what a page holds ---------------------------------------------------------------------------


def _section(path: str) -> tuple[str, str]:
    """(name, listing path) of the category a page path belongs to."""
    match = re.match(r"^/(?:publications/)?(?P<slug>[\w-]+?)(?:/item/|\.html)", path)
    if match is None:
        return "Field Reports", "/publications/field-reports.html"
    slug = match["slug"]
    name = SECTIONS.get(slug) or slug.replace("-", " ").title()
    return name, f"{sources.category_path(slug)}.html"


def _item_id(path: str) -> str:
    match = re.search(r"/item/(\d+)", path)
    return match[1] if match else "0"


def _user_link(section_href: str) -> str:
    return section_href.removesuffix(".html") + f"/itemlist/user/{ACCOUNT_ID}-{ACCOUNT}.html"


def _is_featured_badge(node: Element) -> bool:
    return _is_element(node) and (node.tag == "sup" or node.find(".//sup") is not None)


def _drop_featured_badge(title: Element) -> None:
    for child in list(title):
        if _is_featured_badge(child):
            _drop(child)


@dataclass
class _Article:
    """An item page's parts, found by their K2 classes (or the legacy non-K2 markup)."""

    container: Element
    legacy: bool
    date: Element | None = None
    title: Element | None = None
    category: Element | None = None
    image: Element | None = None
    intro: Element | None = None
    full: Element | None = None
    hits: Element | None = None
    modified: Element | None = None
    tags: Element | None = None
    print_link: Element | None = None
    email_link: Element | None = None
    featured: bool = False
    extras: list[Element] = field(default_factory=list)

    def category_link(self, context: PageContext) -> tuple[str, str]:
        """(name, href) of the item's category."""
        name, href = _section(context.path)
        if self.category is not None:
            link = self.category.find(".//a")
            if link is not None:
                return _text(link) or name, link.get("href") or href
            text = re.sub(r"^published\s+in\s+", "", _text(self.category), flags=re.IGNORECASE)
            return text or name, href
        return name, href

    def hit_count(self) -> int | None:
        match = re.search(r"\d[\d,]*", _text(self.hits))
        return int(match[0].replace(",", "")) if match else None

    def tag_links(self) -> list[tuple[str, str]]:
        if self.tags is None:
            return []
        return [(_text(a), a.get("href") or "") for a in self.tags.iterfind(".//li//a")]


# Children of the K2 item view and its body that the layouts know; anything else is carried over.
_ITEM_BLOCKS = frozenset(
    "itemHeader itemToolbar itemBody itemLinks itemRatingBlock itemSocialSharing itemAuthorBlock "
    "itemAuthorLatest itemRelated itemNavigation itemBackToTop itemComments itemVideoBlock "
    "itemImageGallery itemImageBlock itemIntroText itemFullText itemContentFooter "
    "itemExtraFields itemAttachmentsBlock itemCategory itemTagsBlock clr".split()
)


def _read_article(root: Element) -> _Article | None:
    view = _first(root, "itemView")
    if view is not None:
        title = _first(view, "itemTitle")
        article = _Article(
            container=view,
            legacy=False,
            date=_first(view, "itemDateCreated"),
            title=title,
            category=_first(view, "itemCategory"),
            image=_first(view, "itemImageBlock"),
            intro=_first(view, "itemIntroText"),
            full=_first(view, "itemFullText"),
            hits=_first(view, "itemHits"),
            modified=_first(view, "itemDateModified"),
            tags=_first(view, "itemTagsBlock"),
            print_link=_first(view, "itemPrintLink"),
            email_link=_first(view, "itemEmailLink"),
            featured="itemIsFeatured" in _classes(view)
            or (title is not None and any(_is_featured_badge(c) for c in title)),
        )
        body = _first(view, "itemBody")
        for parent in (view, body):
            if parent is None:
                continue
            for child in parent:
                if _is_element(child) and not set(_classes(child)) & _ITEM_BLOCKS:
                    article.extras.append(child)
        return article
    # The one legacy page outside K2: div.article > h1, div.meta, div.category, div.content.
    legacy = _first(root, "article")
    content = _first(legacy, "content")
    if legacy is None or content is None:
        return None
    article = _Article(
        container=legacy,
        legacy=True,
        date=_first(legacy, "meta"),
        title=legacy.find(".//h1"),
        category=_first(legacy, "category"),
        full=content,
    )
    known = {article.date, article.title, article.category, content}
    article.extras = [c for c in legacy if _is_element(c) and c not in known]
    return article


@dataclass
class _Entry:
    """One K2 listing entry (``catItemView``)."""

    view: Element
    date: Element | None
    title: Element | None  # h3.catItemTitle
    image: Element | None
    intro: Element | None
    category: Element | None
    links: Element | None  # catItemLinks
    readmore: Element | None  # catItemReadMore
    extras: list[Element]

    @property
    def title_link(self) -> Element | None:
        return self.title.find(".//a") if self.title is not None else None

    @property
    def href(self) -> str | None:
        for holder in (self.title, self.readmore, self.image):
            link = holder.find(".//a[@href]") if holder is not None else None
            if link is not None:
                return link.get("href")
        return None

    @property
    def featured(self) -> bool:
        return "catItemIsFeatured" in _classes(self.view) or (
            self.title is not None and any(_is_featured_badge(c) for c in self.title)
        )


_ENTRY_BLOCKS = frozenset(
    "catItemHeader catItemBody catItemLinks catItemReadMore catItemDateModified catItemRatingBlock "
    "catItemVideoBlock catItemImageGallery catItemCommentsLink catItemDateCreated catItemTitle "
    "catItemAuthor catItemImageBlock catItemIntroText catItemCategory catItemExtraFields "
    "catItemTagsBlock clr".split()
)


def _read_entry(view: Element) -> _Entry:
    header, body = _first(view, "catItemHeader"), _first(view, "catItemBody")
    extras = [
        child
        for parent in (view, header, body)
        if parent is not None
        for child in parent
        if _is_element(child) and not set(_classes(child)) & _ENTRY_BLOCKS
    ]
    return _Entry(
        view=view,
        date=_first(view, "catItemDateCreated"),
        title=_first(view, "catItemTitle"),
        image=_first(view, "catItemImageBlock"),
        intro=_first(view, "catItemIntroText"),
        category=_first(view, "catItemCategory"),
        links=_first(view, "catItemLinks"),
        readmore=_first(view, "catItemReadMore"),
        extras=extras,
    )


def _entry_date(entry: _Entry, context: PageContext) -> str | None:
    if entry.date is not None:
        return _text(entry.date)
    href = entry.href
    return context.entry_dates.get(urlsplit(href).path) if href else None


# -- k2-stock ------------------------------------------------------------------------------------


def _k2_stock_item(root: Element, context: PageContext) -> None:
    article = _read_article(root)
    if article is None:
        return
    old = article.container
    name, category_href = article.category_link(context)
    user = _esc(_user_link(category_href))
    item_id = _item_id(context.path)
    print_href = (
        article.print_link.get("href")
        if article.print_link is not None
        else f"{context.path}?tmpl=component&print=1"
    )
    email_href = (
        article.email_link.get("href")
        if article.email_link is not None
        else "/component/mailto/?tmpl=component&link="
        + hashlib.sha1(context.path.encode()).hexdigest()
    )
    latest = related = navigation = ""
    if context.others:
        rows = "".join(
            f'<li class="{"odd" if i % 2 else "even"}">'
            f'<a href="{_esc(o.href)}">{_esc(o.title)}</a></li>'
            for i, o in enumerate(context.others[:5])
        )
        latest = (
            f'<div class="itemAuthorLatest"><h3>Latest from {ACCOUNT}</h3><ul>{rows}</ul>'
            '<div class="clr"></div></div>'
        )
        if article.tags is not None:
            rows = "".join(
                f'<li class="{"odd" if i % 2 else "even"}">'
                f'<a class="itemRelTitle" href="{_esc(o.href)}">{_esc(o.title)}</a></li>'
                for i, o in enumerate(reversed(context.others[-3:]))
            )
            related = (
                f'<div class="itemRelated"><h3>Related items</h3><ul>{rows}'
                '<li class="clr"></li></ul><div class="clr"></div></div>'
            )
    if context.previous or context.next:
        links = ""
        if context.previous:
            p = context.previous
            links += f' <a class="itemPrevious" href="{_esc(p.href)}">« {_esc(p.title)}</a>'
        if context.next:
            n = context.next
            links += f' <a class="itemNext" href="{_esc(n.href)}">{_esc(n.title)} »</a>'
        navigation = (
            '<div class="itemNavigation">'
            f'<span class="itemNavigationTitle">More in this category:</span>{links}</div>'
        )
    featured = " itemIsFeatured" if article.featured else ""
    view = _fragment(f"""
<div id="k2Container" class="itemView{featured}">
<div class="itemHeader">
<span data-slot="date"></span>
<span data-slot="title"></span>
<span class="itemAuthor">Written by <a rel="author" href="{user}">{ACCOUNT}</a></span>
</div>
<div class="itemToolbar"><ul>
<li><span class="itemTextResizerTitle">font size</span> <a href="#" id="fontDecrease"><span>decrease font size</span></a> <a href="#" id="fontIncrease"><span>increase font size</span></a></li>
<li><a class="itemPrintLink" rel="nofollow" href="{_esc(print_href or "")}"><span>Print</span></a></li>
<li><a class="itemEmailLink" rel="nofollow" href="{_esc(email_href or "")}"><span>E-mail</span></a></li>
<li><a class="addthis_button" href="https://www.addthis.com/bookmark.php?v=250">Bookmark and Share</a></li>
</ul><div class="clr"></div></div>
<div class="itemBody">
<span data-slot="image"></span>
<span data-slot="text"></span>
<div class="clr"></div>
<span data-slot="footer"></span>
<div class="clr"></div>
</div>
<span data-slot="extras"></span>
<div class="itemSocialSharing">
<div class="itemTwitterButton"><a href="https://twitter.com/share" class="twitter-share-button">Tweet</a></div>
<div class="itemFacebookButton"><div id="fb-root"></div><div class="fb-like" data-width="200" data-layout="button_count" data-action="like" data-show-faces="false" data-share="false"></div></div>
<div class="clr"></div>
</div>
<div class="itemLinks">
<span data-slot="category"></span>
<span data-slot="tags"></span>
<div class="clr"></div>
</div>
<div class="itemAuthorBlock"><div class="itemAuthorDetails"><h3 class="itemAuthorName"><a rel="author" href="{user}">{ACCOUNT}</a></h3><p>{_esc(ACCOUNT_DESCRIPTION)}</p><div class="clr"></div></div><div class="clr"></div></div>
{latest}
{related}
<div class="clr"></div>
{navigation}
<div class="itemBackToTop"><a class="k2Anchor" href="{_esc(context.path)}#startOfPageId{item_id}">back to top</a></div>
<div class="clr"></div>
</div>""")  # noqa: E501 (one template line per K2 block reads like item.php)
    if article.legacy:
        date = _fragment(f'<span class="itemDateCreated">{_esc(_text(article.date))}</span>')
        title = lxml.html.Element("h2", {"class": "itemTitle"})
        if article.title is not None:
            _move_content(article.title, title)
        full = lxml.html.Element("div", {"class": "itemFullText"})
        if article.full is not None:
            _move_content(article.full, full)
        category = _fragment(
            f'<div class="itemCategory"><span>Published in</span> '
            f'<a href="{_esc(category_href)}">{_esc(name)}</a></div>'
        )
        _replace(view, "date", date if article.date is not None else None)
        _replace(view, "title", title if article.title is not None else None)
        _replace(view, "text", full)
        _replace(view, "category", category)
    else:
        _replace(view, "date", _take(article.date))
        _replace(view, "title", _take(article.title))
        _replace(view, "text", _take(article.intro), _take(article.full))
        _replace(view, "category", _take(article.category))
    _replace(view, "image", _take(article.image))
    footer = None
    if article.hits is not None or article.modified is not None:
        footer = _fragment(
            '<div class="itemContentFooter"><span data-slot="hits"></span>'
            '<span data-slot="modified"></span><div class="clr"></div></div>'
        )
        _replace(footer, "hits", _take(article.hits))
        _replace(footer, "modified", _take(article.modified))
    _replace(view, "footer", footer)
    _replace(view, "tags", _take(article.tags))
    _replace(view, "extras", *map(_take, article.extras))
    view.tail = old.tail
    old.tail = None
    start = old.getprevious()
    if start is None or not (start.get("id") or "").startswith("startOfPageId"):
        old.addprevious(lxml.html.Element("span", {"id": f"startOfPageId{item_id}"}))
    parent = old.getparent()
    assert parent is not None
    parent.replace(old, view)


def _take(element: Element | None) -> Element | None:
    return _detach(element) if element is not None else None


def _k2_stock_listing(root: Element, context: PageContext) -> None:
    container = _first(root, "itemListView")
    if container is None:
        return
    category = _first(container, "itemListCategory")
    parent = category.getparent() if category is not None else None
    if (
        category is not None
        and parent is not None
        and "itemListCategoriesBlock" not in _classes(parent)
    ):
        block = lxml.html.Element("div", {"class": "itemListCategoriesBlock"})
        category.addprevious(block)
        block.tail, category.tail = category.tail, None
        block.append(category)
    for view in _all(container, "catItemView"):
        _k2_stock_entry(_read_entry(view), context)


def _k2_stock_entry(entry: _Entry, context: PageContext) -> None:
    old = entry.view
    group = next((c for c in _classes(old) if c.startswith("group")), "groupLeading")
    featured = " catItemIsFeatured" if entry.featured else ""
    name, section_href = _section(context.path)
    date = _entry_date(entry, context)
    user = _esc(_user_link(section_href))
    view = _fragment(f"""
<div class="catItemView {group}{featured}">
<div class="catItemHeader">
<span data-slot="date"></span>
<span data-slot="title"></span>
<span class="catItemAuthor">Written by <a rel="author" href="{user}">{ACCOUNT}</a></span>
</div>
<div class="catItemBody">
<span data-slot="image"></span>
<span data-slot="intro"></span>
<div class="clr"></div>
</div>
<div class="catItemLinks">
<span data-slot="category"></span>
<span data-slot="links"></span>
<div class="clr"></div>
</div>
<div class="clr"></div>
<span data-slot="extras"></span>
<span data-slot="readmore"></span>
<div class="clr"></div>
</div>""")
    if entry.date is not None:
        _replace(view, "date", _take(entry.date))
    elif date:
        _replace(view, "date", _fragment(f'<span class="catItemDateCreated">{_esc(date)}</span>'))
    else:
        _replace(view, "date")
    category = _take(entry.category)
    if category is None:
        category = _fragment(
            f'<div class="catItemCategory"><span>Published in</span> '
            f'<a href="{_esc(section_href)}">{_esc(name)}</a></div>'
        )
    extras = [_take(e) for e in entry.extras]
    _replace(view, "title", _take(entry.title))
    _replace(view, "image", _take(entry.image))
    _replace(view, "intro", _take(entry.intro))
    _replace(view, "category", category)
    if entry.links is not None:
        for child in list(entry.links):
            if "clr" in _classes(child):
                _drop(child)
    _pour(view, "links", entry.links)
    _replace(view, "extras", *extras)
    _replace(view, "readmore", _take(entry.readmore))
    view.tail = old.tail
    old.tail = None
    parent = old.getparent()
    assert parent is not None
    parent.replace(old, view)


# -- joomla --------------------------------------------------------------------------------------


@dataclass
class _Module:
    title: str | None
    content: Element  # its text and children are the module's content


@dataclass
class _Chrome:
    title: str | None = None
    description: str | None = None
    logo: tuple[str, str] | None = None  # (src, alt)
    menu: Element | None = None
    search: bool = False
    sidebar: list[_Module] = field(default_factory=list)
    footer: list[_Module] = field(default_factory=list)


def _read_modules(position: Element | None) -> list[_Module]:
    """The modules of a template position: a title (``h3``) and the module's content."""
    modules: list[_Module] = []
    if position is None:
        return modules
    for child in list(position):
        if not _is_element(child):
            continue
        heading = child.find("h3") if child.tag == "div" else None
        title = None
        if heading is not None:
            title = _text(heading)
            _drop(heading)
        custom = None
        if child.tag == "div":
            custom = next((c for c in child if _is_element(c) and "custom" in _classes(c)), None)
        if custom is not None:
            content = _detach(custom)
        elif heading is not None or "moduletable" in _classes(child):
            content = _detach(child)
        else:  # a bare element is the content itself
            content = _wrap(_detach(child))
        modules.append(_Module(title, content))
    return modules


def _read_chrome(root: Element) -> _Chrome:
    chrome = _Chrome()
    title = root.find(".//head/title")
    chrome.title = title.text_content() if title is not None else None
    description = root.find(".//head/meta[@name='description']")
    chrome.description = description.get("content") if description is not None else None
    header = _by_id(root, "header")
    if header is not None:
        logo = header.find(".//img")
        if logo is not None:
            chrome.logo = (logo.get("src") or "", logo.get("alt") or "")
        menu = header.find(".//ul")
        if menu is not None:
            chrome.menu = _joomla_menu(_detach(menu))
        chrome.search = header.find(".//form") is not None
        _drop(header)
    chrome.sidebar = _read_modules(_by_id(root, "sidebar"))
    chrome.footer = _read_modules(_by_id(root, "footer"))
    return chrome


_MENU_STATE = re.compile(r"^(?:item-\d+|active|current|deeper|parent|default)$")


def _joomla_menu(menu: Element) -> Element:
    """The site's menu as Joomla 4's mod_menu renders it."""
    for node in menu.iter():
        if not isinstance(node.tag, str):
            continue
        if node.tag == "ul":
            top = node is menu
            node.attrib.clear()
            node.set(
                "class", "mod-menu mod-list nav " if top else "mod-menu__sub list-unstyled small"
            )
        elif node.tag == "li":
            state = [c for c in _classes(node) if _MENU_STATE.match(c)]
            node.set("class", " ".join(["nav-item", *state]))
    return menu


def _joomla(root: Element, context: PageContext) -> Element:
    chrome = _read_chrome(root)
    if context.kind == "item":
        component, view = _joomla_article(root, context), "article"
    elif context.kind == "listing":
        component, view = _joomla_blog(root, context), "category"
    else:
        component, view = _joomla_featured(root), "featured"
    return _cassiopeia(chrome, component, view)


def _main_area(root: Element) -> Element:
    main = _by_id(root, "main")
    if main is not None:
        return main
    body = root.find(".//body")
    return body if body is not None else root


def _info_block(
    category: tuple[str, str], date_line: str | None, modified: str | None, hits: int | None
) -> str:
    """``layouts/joomla/content/info_block.php`` with author, category, dates and hits."""
    name, href = category
    parts = [
        '<dl class="article-info text-muted">',
        '<dt class="article-info-term">Details</dt>',
        '<dd class="createdby" itemprop="author" itemscope itemtype="https://schema.org/Person">'
        '<span class="icon-user icon-fw" aria-hidden="true"></span> '
        f'Written by: <span itemprop="name">{ACCOUNT}</span></dd>',
        '<dd class="category-name"><span class="icon-folder-open icon-fw" aria-hidden="true">'
        f'</span> Category: <a href="{_esc(href)}" itemprop="genre">{_esc(name)}</a></dd>',
    ]
    published = iso_datetime(date_line) if date_line else None
    if date_line and published:
        parts.append(
            '<dd class="published"><span class="icon-calendar icon-fw" aria-hidden="true"></span> '
            f'<time datetime="{published}" itemprop="datePublished">'
            f"Published: {_joomla_date(date_line)}</time></dd>"
        )
    changed = iso_datetime(modified) if modified else None
    if modified and changed:
        parts.append(
            '<dd class="modified"><span class="icon-calendar icon-fw" aria-hidden="true"></span> '
            f'<time datetime="{changed}" itemprop="dateModified">'
            f"Last Updated: {_joomla_date(modified)}</time></dd>"
        )
    if hits is not None:
        parts.append(
            '<dd class="hits"><span class="icon-eye-open icon-fw" aria-hidden="true"></span> '
            f'<meta itemprop="interactionCount" content="UserPageVisits:{hits}">Hits: {hits}</dd>'
        )
    parts.append("</dl>")
    return "\n".join(parts)


def _tags_list(tags: Iterable[tuple[str, str]]) -> str:
    """``layouts/joomla/content/tags.php``: one link per tag (the migrated site keeps its URLs)."""
    items = [
        f'<li class="list-inline-item tag-{i + 2} tag-list{i}" itemprop="keywords">'
        f'<a href="{_esc(href or "/component/tags/tag/" + _slug(name))}" '
        f'class="btn btn-sm btn-info">{_esc(name)}</a></li>'
        for i, (name, href) in enumerate(tags)
    ]
    return f'<ul class="tags list-inline">{"".join(items)}</ul>' if items else ""


def _slug(name: str) -> str:
    return re.sub(r"[^\w]+", "-", name.lower()).strip("-")


def _joomla_article(root: Element, context: PageContext) -> Element:
    """``components/com_content/tmpl/article/default.php`` (info block above, tags above)."""
    article = _read_article(root)
    if article is None:
        fallback = _fragment(
            '<div class="com-content-article item-page"><div itemprop="articleBody" '
            'class="com-content-article__body"><span data-slot="body"></span></div></div>'
        )
        _pour(fallback, "body", _main_area(root))
        _drop_k2_names(fallback)
        return fallback
    header = ""
    if article.title is not None:
        header = '<div class="page-header"><h1 itemprop="headline"><span data-slot="title"></span></h1></div>'  # noqa: E501
    modified = None
    if article.modified is not None:
        modified = re.sub(r"^last\s+modified\s+on\s+", "", _text(article.modified), flags=re.I)
    figure = ""
    image = article.image.find(".//img") if article.image is not None else None
    if image is not None:
        caption = " ".join(
            t
            for t in (
                _text(_first(article.image, c)) for c in ("itemImageCaption", "itemImageCredits")
            )
            if t  # noqa: E501
        )
        figcaption = f'<figcaption class="caption">{_esc(caption)}</figcaption>' if caption else ""
        figure = (
            f'<figure class="left item-image"><img src="{_esc(image.get("src") or "")}" '
            f'itemprop="image" alt="{_esc(image.get("alt") or "")}" loading="lazy">'
            f"{figcaption}</figure>"
        )
    info = _info_block(
        article.category_link(context),
        _text(article.date) if article.date is not None else None,
        modified,
        article.hit_count(),
    )
    component = _fragment(f"""
<div class="com-content-article item-page" itemscope itemtype="https://schema.org/Article">
<meta itemprop="inLanguage" content="en-GB">
{header}
{info}
{_tags_list(article.tag_links())}
{figure}
<div itemprop="articleBody" class="com-content-article__body"><span data-slot="intro"></span><span data-slot="full"></span></div>
<span data-slot="extras"></span>
{_page_navigation(context)}
</div>""")  # noqa: E501
    if article.title is not None:
        _drop_featured_badge(article.title)
        _pour(component, "title", article.title)
    _pour(component, "intro", article.intro)
    _pour(component, "full", article.full)
    extras = [_detach(e) for e in article.extras]
    for extra in extras:
        _drop_k2_names(extra)
    _replace(component, "extras", *extras)
    return component


def _page_navigation(context: PageContext) -> str:
    """``plugins/content/pagenavigation/tmpl/default.php``: previous / next article."""
    if not (context.previous or context.next):
        return ""
    links = []
    if context.previous:
        p = context.previous
        links.append(
            f'<a class="btn btn-sm btn-secondary previous" href="{_esc(p.href)}" rel="prev">'
            f'<span class="visually-hidden">Previous article: {_esc(p.title)}</span>'
            '<span class="icon-chevron-left" aria-hidden="true"></span> '
            '<span aria-hidden="true">Prev</span></a>'
        )
    if context.next:
        n = context.next
        links.append(
            f'<a class="btn btn-sm btn-secondary next" href="{_esc(n.href)}" rel="next">'
            f'<span class="visually-hidden">Next article: {_esc(n.title)}</span>'
            '<span aria-hidden="true">Next</span> '
            '<span class="icon-chevron-right" aria-hidden="true"></span></a>'
        )
    return (
        '<nav class="pagenavigation" aria-label="Page Navigation">'
        f'<span class="pagination ms-0">{"".join(links)}</span></nav>'
    )


def _joomla_blog(root: Element, context: PageContext) -> Element:
    """``components/com_content/tmpl/category/blog.php``: every entry a leading blog item."""
    container = _first(root, "itemListView")
    if container is None:
        fallback = _fragment(
            '<div class="com-content-category-blog blog"><span data-slot="body"></span></div>'
        )
        _pour(fallback, "body", _main_area(root))
        _drop_k2_names(fallback)
        return fallback
    name, _href = _section(context.path)
    category = _first(container, "itemListCategory")
    heading = category.find("h2") if category is not None else None
    title = _text(heading) if heading is not None else name
    description = None
    if category is not None:
        if heading is not None:
            _drop(heading)
        for child in list(category):
            if "clr" in _classes(child):
                _drop(child)
        if len(category) or (category.text or "").strip():
            description = category
    entries = [_read_entry(view) for view in _all(container, "catItemView")]
    pagination = _first(container, "k2Pagination")
    known = {"itemListCategoriesBlock", "itemListCategory", "itemList", "k2Pagination", "clr"}
    known |= {"componentheading", "k2FeedIcon"}
    extras = [c for c in container if _is_element(c) and not set(_classes(c)) & known]
    items = "".join(f'<span data-slot="entry-{i}"></span>' for i in range(len(entries)))
    if entries:
        listing = (
            f'<div class="com-content-category-blog__items blog-items items-leading ">{items}</div>'
        )
    else:
        listing = (
            '<div class="alert alert-info"><span class="icon-info-circle" aria-hidden="true">'
            '</span><span class="visually-hidden">Info</span> There are no articles in this '
            "category. If subcategories display on this page, they may have articles.</div>"
        )
    blog = _fragment(f"""
<div class="com-content-category-blog blog" itemscope itemtype="https://schema.org/Blog">
<h1>{_esc(title)}</h1>
{'<div class="category-desc clearfix"><span data-slot="description"></span></div>' if description is not None else ""}
{listing}
<span data-slot="extras"></span>
{_joomla_pagination(pagination)}
</div>""")  # noqa: E501
    if description is not None:
        _pour(blog, "description", description)
    for i, entry in enumerate(entries):
        _replace(blog, f"entry-{i}", _joomla_blog_item(entry, context))
    moved = [_detach(e) for e in extras]
    for extra in moved:
        _drop_k2_names(extra)
    _replace(blog, "extras", *moved)
    return blog


def _joomla_blog_item(entry: _Entry, context: PageContext) -> Element:
    """``blog_item.php`` with ``blog_style_default_item_title.php`` and ``readmore.php``."""
    href = entry.href
    title_link = entry.title_link
    title_text = _text(title_link if title_link is not None else entry.title)
    if entry.title is not None:
        _drop_featured_badge(entry.title)
    header = ""
    if entry.title is not None:
        inner = '<span data-slot="title"></span>'
        if title_link is not None:
            inner = f'<a href="{_esc(title_link.get("href") or "")}" itemprop="url">{inner}</a>'
        header = f'<div class="page-header"><h2 itemprop="name">{inner}</h2></div>'
    figure = ""
    image_link = entry.image.find(".//a") if entry.image is not None else None
    image = entry.image.find(".//img") if entry.image is not None else None
    if image is not None:
        img = (
            f'<img src="{_esc(image.get("src") or "")}" alt="{_esc(image.get("alt") or "")}" '
            'itemprop="thumbnailUrl" loading="lazy">'
        )
        if image_link is not None:
            img = (
                f'<a href="{_esc(image_link.get("href") or "")}" itemprop="url" '
                f'title="{_esc(title_text)}">{img}</a>'
            )
        figure = f'<figure class="left item-image">{img}</figure>'
    category = _section(context.path)
    category_link = entry.category.find(".//a") if entry.category is not None else None
    if category_link is not None:
        category = (_text(category_link), category_link.get("href") or category[1])
    tags = (
        []
        if entry.links is None
        else [(_text(a), a.get("href") or "") for a in entry.links.iterfind(".//li//a")]
    )
    readmore = ""
    more_link = entry.readmore.find(".//a[@href]") if entry.readmore is not None else None
    if more_link is not None:  # the listing's own read-more link, host variants included
        href = more_link.get("href")
    if entry.readmore is not None and href:
        label = f"Read more: {title_text}" if title_text else "Read more …"
        readmore = (
            f'<p class="readmore"><a class="btn btn-secondary" href="{_esc(href)}" '
            f'aria-label="{_esc(label)}"><span class="icon-chevron-right" aria-hidden="true">'
            f"</span> {_esc(label)}</a></p>"
        )
    item = _fragment(f"""
<div class="com-content-category-blog__item blog-item" itemprop="blogPost" itemscope itemtype="https://schema.org/BlogPosting">
{figure}
<div class="item-content">
{header}
{_info_block(category, _entry_date(entry, context), None, None)}
{_tags_list(tags)}
<span data-slot="intro"></span>
<span data-slot="extras"></span>
{readmore}
</div>
</div>""")  # noqa: E501
    if entry.title is not None:
        _pour(item, "title", title_link if title_link is not None else entry.title)
    _pour(item, "intro", entry.intro)
    extras: list[Element] = []
    if entry.links is not None:
        tag_block = _first(entry.links, "catItemTagsBlock")
        if tag_block is not None:
            _drop(tag_block)
        extras += [c for c in entry.links if _is_element(c) and "clr" not in _classes(c)]
    extras += entry.extras
    moved = [_detach(e) for e in extras]
    for extra in moved:
        _drop_k2_names(extra)
    _replace(item, "extras", *moved)
    return item


_PAGE_LABELS = {
    "start": ("icon-angle-double-left", "Go to start page"),
    "prev": ("icon-angle-left", "Go to previous page"),
    "next": ("icon-angle-right", "Go to next page"),
    "end": ("icon-angle-double-right", "Go to end page"),
}


def _joomla_pagination(pagination: Element | None) -> str:
    """``layouts/joomla/pagination/list.php`` + ``link.php`` from the K2 pagination block.

    The listing's own links are kept (``?start=N``, or none for the first page); start /
    previous / next / end are icons with an aria-label, the current page a ``#`` link.
    """
    if pagination is None:
        return ""
    found: dict[str, str | None] = {}
    pages: list[tuple[str, str | None]] = []
    for li in pagination.iterfind(".//li"):
        label = _text(li)
        link = li.find(".//a[@href]")
        href = link.get("href") if link is not None else None
        key = label.lower()
        if key in _PAGE_LABELS:
            found[key] = href
        elif label.isdigit():
            pages.append((label, href))
    if not pages and not found:
        return ""

    def control(key: str) -> str:
        icon, aria = _PAGE_LABELS[key]
        href = found.get(key)
        span = f'<span class="{icon}" aria-hidden="true"></span>'
        if href is None:
            return (
                f'<li class="disabled page-item"><span class="page-link" aria-hidden="true">'
                f"{span}</span></li>"
            )
        return (
            f'<li class="page-item"><a aria-label="{aria}" href="{_esc(href)}" '
            f'class="page-link">{span}</a></li>'
        )

    links = [control("start"), control("prev")]
    for label, href in pages:
        if href is None:
            links.append(
                f'<li class="active page-item"><a aria-current="true" aria-label="Page {label}" '
                f'href="#" class="page-link">{label}</a></li>'
            )
        else:
            links.append(
                f'<li class="page-item"><a aria-label="Go to page {label}" href="{_esc(href)}" '
                f'class="page-link">{label}</a></li>'
            )
    links += [control("next"), control("end")]
    counter = _text(_first(pagination, "k2PaginationCounter"))
    counter_html = (
        f'<p class="com-content-category-blog__counter counter float-md-end pt-3 pe-2">'
        f"{_esc(counter)}</p>"
        if counter
        else ""
    )
    return (
        f'<div class="com-content-category-blog__navigation w-100">{counter_html}'
        '<div class="com-content-category-blog__pagination">'
        '<nav class="pagination__wrapper" aria-label="Pagination">'
        f'<ul class="pagination ms-0 mb-4">{"".join(links)}</ul></nav></div></div>'
    )


def _joomla_featured(root: Element) -> Element:
    """The home page: ``components/com_content/tmpl/featured/default.php`` with no article."""
    featured = _fragment(
        '<div class="blog-featured" itemscope itemtype="https://schema.org/Blog">'
        '<span data-slot="body"></span></div>'
    )
    container = _first(root, "itemListView")
    _pour(featured, "body", container if container is not None else _main_area(root))
    _drop_k2_names(featured)
    return featured


def _cassiopeia(chrome: _Chrome, component: Element, view: str) -> Element:
    """``templates/cassiopeia/index.php``: header, menu, component, sidebar cards, footer."""
    layout = "layout-blog" if view == "category" else "no-layout"
    sidebar = "has-sidebar-right" if chrome.sidebar else ""
    logo = ""
    if chrome.logo:
        src, alt = chrome.logo
        logo = (
            '<div class="grid-child"><div class="navbar-brand"><a class="brand-logo" href="/">'
            f'<img class="logo d-inline-block" src="{_esc(src)}" alt="{_esc(alt)}" '
            'loading="eager" decoding="async"></a></div></div>'
        )
    search = ""
    if chrome.search:
        search = (
            '<div class="container-search"><form class="mod-finder js-finder-searchform '
            'form-search" action="/component/finder/search" method="get" role="search">'
            '<label for="mod-finder-searchword" class="visually-hidden finder">Search</label>'
            '<input type="text" name="q" id="mod-finder-searchword" '
            'class="js-finder-search-query form-control" value="" placeholder="Search …">'
            "</form></div>"
        )
    cards = "".join(
        '<div class="sidebar-right card ">'
        + (f'<h3 class="card-header ">{_esc(m.title)}</h3>' if m.title else "")
        + f'<div class="card-body"><div id="mod-custom{110 + i}" class="mod-custom custom">'
        f'<span data-slot="sidebar-{i}"></span></div></div></div>'
        for i, m in enumerate(chrome.sidebar)
    )
    footer = "".join(
        f'<div id="mod-custom{130 + i}" class="mod-custom custom">'
        + (f"<h3>{_esc(m.title)}</h3>" if m.title else "")
        + f'<span data-slot="footer-{i}"></span></div>'
        for i, m in enumerate(chrome.footer)
    )
    description = (
        f'<meta name="description" content="{_esc(chrome.description)}">'
        if chrome.description
        else ""
    )
    title = f"<title>{_esc(chrome.title)}</title>" if chrome.title is not None else ""
    document = f"""<!DOCTYPE html>
<html lang="en-gb" dir="ltr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
{description}
<meta name="generator" content="Joomla! - Open Source Content Management">
{title}
<link href="/media/templates/site/cassiopeia/css/template.min.css?5c1c7b" rel="stylesheet">
<link href="/media/system/css/joomla-fontawesome.min.css?5c1c7b" rel="lazy-stylesheet">
</head>
<body class="site com_content wrapper-static view-{view} {layout} no-task {sidebar}">
<header class="header container-header full-width">
{logo}
<div class="grid-child container-nav"><span data-slot="menu"></span>{search}</div>
</header>
<div class="site-grid">
<div class="grid-child container-component">
<main><span data-slot="component"></span></main>
</div>
{f'<div class="grid-child container-sidebar-right">{cards}</div>' if cards else ""}
</div>
<footer class="container-footer footer full-width"><div class="grid-child">{footer}</div></footer>
<a href="#top" id="back-top" class="back-to-top-link" aria-label="Back to Top"><span class="icon-arrow-up icon-fw" aria-hidden="true"></span></a>
</body>
</html>"""  # noqa: E501
    page = lxml.html.document_fromstring(document)
    _replace(page, "menu", chrome.menu)
    _replace(page, "component", component)
    for i, module in enumerate(chrome.sidebar):
        _pour(page, f"sidebar-{i}", module.content)
    for i, module in enumerate(chrome.footer):
        _pour(page, f"footer-{i}", module.content)
    return page


# -- unreadable ----------------------------------------------------------------------------------

_APP_SCRIPT = (
    "(function(){var d=JSON.parse(document.getElementById('page-data').textContent);"
    "var a=document.getElementById('app');a.innerHTML='<h1>'+d.title+'</h1>'+d.html;"
    "document.title=d.title;})();"
)


def _unreadable(root: Element, context: PageContext) -> None:
    """The item's text only in a JSON blob that a script renders."""
    article = _read_article(root)
    main = _main_area(root)
    if article is not None:
        content = "".join(
            _inner_html(part) for part in (article.intro, article.full) if part is not None
        )  # noqa: E501
        data = {
            "id": int(_item_id(context.path)),
            "title": _text(article.title),
            "created": _text(article.date),
            "category": article.category_link(context)[0],
            "html": content,
        }
    else:
        data = {"id": int(_item_id(context.path)), "title": "", "html": _inner_html(main)}
    blob = json.dumps(data, ensure_ascii=False).replace("</", "<\\/").replace("<!--", "<\\!--")
    main.text = None
    for child in list(main):
        main.remove(child)
    main.append(
        _fragment(
            '<div id="app" data-page="item"><noscript><p>Please enable JavaScript to read this '
            "page.</p></noscript></div>"
        )
    )
    script = lxml.html.Element("script", {"type": "application/json", "id": "page-data"})
    script.text = blob
    main.append(script)
    loader = lxml.html.Element("script")
    loader.text = _APP_SCRIPT
    main.append(loader)
    head = root.find(".//head")
    if head is not None:  # the server still renders <title>; the teaser goes with the text
        for node in head.iterfind("meta[@name='description']"):
            _drop(node)


def unreadable_data(page: bytes) -> dict[str, object] | None:
    """The JSON blob of an ``unreadable`` item page (what its script would render)."""
    found = parse_html(page).xpath("//script[@id='page-data']")
    if not found:
        return None
    text = found[0].text or ""
    data: dict[str, object] = json.loads(text)
    return data


__all__ = [
    "ACCOUNT",
    "DEFAULT_LAYOUT",
    "LAYOUTS",
    "Link",
    "PageContext",
    "check_layout",
    "iso_datetime",
    "k2_date_line",
    "render",
    "renamed_token",
    "unreadable_data",
]
