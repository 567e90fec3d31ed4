"""``k2-stock``: K2's default template (``components/com_k2/templates/default``): the item
view and the category listing."""

from __future__ import annotations

import hashlib

import lxml.html

from caci_spider.testworld.localsite.layouts.content import (
    _Article,
    _Entry,
    _entry_date,
    _item_id,
    _read_article,
    _read_entry,
    _section,
    _user_link,
)
from caci_spider.testworld.localsite.layouts.context import (
    ACCOUNT,
    ACCOUNT_DESCRIPTION,
    Element,
    PageContext,
)
from caci_spider.testworld.localsite.layouts.tree import (
    _all,
    _classes,
    _detach,
    _drop,
    _esc,
    _first,
    _fragment,
    _move_content,
    _pour,
    _replace,
    _text,
)


def _k2_stock_item(root: Element, context: PageContext) -> None:
    article = _read_article(root)
    if article is None:
        return
    old = article.container
    name, category_href = article.category_link(context)
    user = _esc(_user_link(category_href))
    item_id = _item_id(context.path)
    print_href, email_href = _toolbar_hrefs(article, context)
    latest, related = _author_latest(context), _related_items(article, context)
    navigation = _item_navigation(context)
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
        _fill_legacy_head(view, article, name, category_href)
    else:
        _replace(view, "date", _take(article.date))
        _replace(view, "title", _take(article.title))
        _replace(view, "text", _take(article.intro), _take(article.full))
        _replace(view, "category", _take(article.category))
    _replace(view, "image", _take(article.image))
    _replace(view, "footer", _content_footer(article))
    _replace(view, "tags", _take(article.tags))
    _replace(view, "extras", *map(_take, article.extras))
    _swap_in(old, view, item_id)


def _toolbar_hrefs(article: _Article, context: PageContext) -> tuple[str | None, str | None]:
    """The page's own Print and E-mail links, else the ones K2 would make for its path."""
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
    return print_href, email_href


def _author_latest(context: PageContext) -> str:
    """K2's "Latest from <account>": the section's first five other items."""
    if not context.others:
        return ""
    rows = "".join(
        f'<li class="{"odd" if i % 2 else "even"}">'
        f'<a href="{_esc(o.href)}">{_esc(o.title)}</a></li>'
        for i, o in enumerate(context.others[:5])
    )
    return (
        f'<div class="itemAuthorLatest"><h3>Latest from {ACCOUNT}</h3><ul>{rows}</ul>'
        '<div class="clr"></div></div>'
    )


def _related_items(article: _Article, context: PageContext) -> str:
    """K2's "Related items", only for a tagged item (K2 relates by tag): the last three others."""
    if not context.others or article.tags is None:
        return ""
    rows = "".join(
        f'<li class="{"odd" if i % 2 else "even"}">'
        f'<a class="itemRelTitle" href="{_esc(o.href)}">{_esc(o.title)}</a></li>'
        for i, o in enumerate(reversed(context.others[-3:]))
    )
    return (
        f'<div class="itemRelated"><h3>Related items</h3><ul>{rows}'
        '<li class="clr"></li></ul><div class="clr"></div></div>'
    )


def _item_navigation(context: PageContext) -> str:
    """K2's "More in this category:" with the previous and next items, where there are any."""
    if not (context.previous or context.next):
        return ""
    links = ""
    if context.previous:
        p = context.previous
        links += f' <a class="itemPrevious" href="{_esc(p.href)}">« {_esc(p.title)}</a>'
    if context.next:
        n = context.next
        links += f' <a class="itemNext" href="{_esc(n.href)}">{_esc(n.title)} »</a>'
    return (
        '<div class="itemNavigation">'
        f'<span class="itemNavigationTitle">More in this category:</span>{links}</div>'
    )


def _fill_legacy_head(view: Element, article: _Article, name: str, category_href: str) -> None:
    """A legacy (non-K2) page's date, title, full text and category, rebuilt in K2's classes."""
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


def _content_footer(article: _Article) -> Element | None:
    """``itemContentFooter`` with hits and last modified, when the page has either."""
    if article.hits is None and article.modified is None:
        return None
    footer = _fragment(
        '<div class="itemContentFooter"><span data-slot="hits"></span>'
        '<span data-slot="modified"></span><div class="clr"></div></div>'
    )
    _replace(footer, "hits", _take(article.hits))
    _replace(footer, "modified", _take(article.modified))
    return footer


def _swap_in(old: Element, view: Element, item_id: str) -> None:
    """Put ``view`` where the old container was, after K2's ``startOfPageId`` anchor."""
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
