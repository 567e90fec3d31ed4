"""What a fixture page holds, read from the site's K2 markup: the article of an item page and
the entries of a listing page, ready to be poured into another template."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from caci_spider import urls
from caci_spider.testworld.localsite.layouts.context import (
    ACCOUNT,
    ACCOUNT_ID,
    SECTIONS,
    Element,
    PageContext,
)
from caci_spider.testworld.localsite.layouts.tree import (
    _by_id,
    _classes,
    _drop,
    _first,
    _is_element,
    _text,
)


def _section(path: str) -> tuple[str, str]:
    """(name, listing path) of the category a page path belongs to."""
    match = re.match(r"^/(?:publications/)?(?P<slug>[\w-]+?)(?:/item/|\.html)", path)
    if match is None:
        return "Field Reports", "/publications/field-reports.html"
    slug = match["slug"]
    name = SECTIONS.get(slug) or slug.replace("-", " ").title()
    return name, f"{urls.category_path(slug)}.html"


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


def _main_area(root: Element) -> Element:
    main = _by_id(root, "main")
    if main is not None:
        return main
    body = root.find(".//body")
    return body if body is not None else root
