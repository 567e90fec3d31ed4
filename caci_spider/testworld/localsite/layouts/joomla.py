"""``joomla``: Joomla 4/5 core ``com_content`` markup (article, category blog, featured) for
the content of a K2 page; Cassiopeia's shell around it (:mod:`.cassiopeia`)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from caci_spider.testworld.localsite.layouts.cassiopeia import _cassiopeia, _read_chrome
from caci_spider.testworld.localsite.layouts.content import (
    _drop_featured_badge,
    _Entry,
    _entry_date,
    _main_area,
    _read_article,
    _read_entry,
    _section,
)
from caci_spider.testworld.localsite.layouts.context import ACCOUNT, Element, PageContext
from caci_spider.testworld.localsite.layouts.dates import _joomla_date, iso_datetime
from caci_spider.testworld.localsite.layouts.tree import (
    _all,
    _classes,
    _detach,
    _drop,
    _drop_k2_names,
    _esc,
    _first,
    _fragment,
    _is_element,
    _pour,
    _replace,
    _text,
)


def _joomla(root: Element, context: PageContext) -> Element:
    chrome = _read_chrome(root)
    if context.kind == "item":
        component, view = _joomla_article(root, context), "article"
    elif context.kind == "listing":
        component, view = _joomla_blog(root, context), "category"
    else:
        component, view = _joomla_featured(root), "featured"
    return _cassiopeia(chrome, component, view)


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
        return _joomla_blog_fallback(root)
    name, _href = _section(context.path)
    title, description = _blog_category(container, name)
    entries = [_read_entry(view) for view in _all(container, "catItemView")]
    pagination = _first(container, "k2Pagination")
    known = {"itemListCategoriesBlock", "itemListCategory", "itemList", "k2Pagination", "clr"}
    known |= {"componentheading", "k2FeedIcon"}
    extras = [c for c in container if _is_element(c) and not set(_classes(c)) & known]
    blog = _fragment(f"""
<div class="com-content-category-blog blog" itemscope itemtype="https://schema.org/Blog">
<h1>{_esc(title)}</h1>
{'<div class="category-desc clearfix"><span data-slot="description"></span></div>' if description is not None else ""}
{_blog_listing(len(entries))}
<span data-slot="extras"></span>
{_joomla_pagination(pagination)}
</div>""")  # noqa: E501
    if description is not None:
        _pour(blog, "description", description)
    for i, entry in enumerate(entries):
        _replace(blog, f"entry-{i}", _joomla_blog_item(entry, context))
    _replace(blog, "extras", *_moved_extras(extras))
    return blog


def _joomla_blog_fallback(root: Element) -> Element:
    """A listing page without K2's ``itemListView``: its main area inside a bare blog div."""
    fallback = _fragment(
        '<div class="com-content-category-blog blog"><span data-slot="body"></span></div>'
    )
    _pour(fallback, "body", _main_area(root))
    _drop_k2_names(fallback)
    return fallback


def _blog_category(container: Element, name: str) -> tuple[str, Element | None]:
    """The blog's title (K2's category heading, else the section name) and its description,
    the category block without heading and clearers, or ``None`` when nothing is left."""
    category = _first(container, "itemListCategory")
    heading = category.find("h2") if category is not None else None
    title = _text(heading) if heading is not None else name
    if category is None:
        return title, None
    if heading is not None:
        _drop(heading)
    for child in list(category):
        if "clr" in _classes(child):
            _drop(child)
    if len(category) or (category.text or "").strip():
        return title, category
    return title, None


def _blog_listing(count: int) -> str:
    """The leading items' slots, or Joomla's "no articles" notice for an empty category."""
    if not count:
        return (
            '<div class="alert alert-info"><span class="icon-info-circle" aria-hidden="true">'
            '</span><span class="visually-hidden">Info</span> There are no articles in this '
            "category. If subcategories display on this page, they may have articles.</div>"
        )
    items = "".join(f'<span data-slot="entry-{i}"></span>' for i in range(count))
    return f'<div class="com-content-category-blog__items blog-items items-leading ">{items}</div>'


def _moved_extras(extras: Iterable[Element]) -> list[Element]:
    """Detach K2 blocks Joomla has no place for, stripped of K2's class names, to re-insert."""
    moved = [_detach(e) for e in extras]
    for extra in moved:
        _drop_k2_names(extra)
    return moved


def _joomla_blog_item(entry: _Entry, context: PageContext) -> Element:
    """``blog_item.php`` with ``blog_style_default_item_title.php`` and ``readmore.php``."""
    # Read before the featured badge goes: a badge may hold the title's first link.
    href, title_link = entry.href, entry.title_link
    title_text = _text(title_link if title_link is not None else entry.title)
    if entry.title is not None:
        _drop_featured_badge(entry.title)
    item = _fragment(f"""
<div class="com-content-category-blog__item blog-item" itemprop="blogPost" itemscope itemtype="https://schema.org/BlogPosting">
{_blog_item_figure(entry, title_text)}
<div class="item-content">
{_blog_item_header(entry, title_link)}
{_info_block(_blog_item_category(entry, context), _entry_date(entry, context), None, None)}
{_tags_list(_blog_item_tags(entry))}
<span data-slot="intro"></span>
<span data-slot="extras"></span>
{_blog_item_readmore(entry, href, title_text)}
</div>
</div>""")  # noqa: E501
    if entry.title is not None:
        _pour(item, "title", title_link if title_link is not None else entry.title)
    _pour(item, "intro", entry.intro)
    _replace(item, "extras", *_moved_extras(_blog_item_extras(entry)))
    return item


def _blog_item_header(entry: _Entry, title_link: Element | None) -> str:
    """``blog_style_default_item_title.php``: the title slot, linked when K2 linked it."""
    if entry.title is None:
        return ""
    inner = '<span data-slot="title"></span>'
    if title_link is not None:
        inner = f'<a href="{_esc(title_link.get("href") or "")}" itemprop="url">{inner}</a>'
    return f'<div class="page-header"><h2 itemprop="name">{inner}</h2></div>'


def _blog_item_figure(entry: _Entry, title_text: str) -> str:
    """The intro image (``layouts/joomla/content/intro_image.php``), linked when K2 linked it."""
    if entry.image is None:
        return ""
    image_link = entry.image.find(".//a")
    image = entry.image.find(".//img")
    if image is None:
        return ""
    img = (
        f'<img src="{_esc(image.get("src") or "")}" alt="{_esc(image.get("alt") or "")}" '
        'itemprop="thumbnailUrl" loading="lazy">'
    )
    if image_link is not None:
        img = (
            f'<a href="{_esc(image_link.get("href") or "")}" itemprop="url" '
            f'title="{_esc(title_text)}">{img}</a>'
        )
    return f'<figure class="left item-image">{img}</figure>'


def _blog_item_category(entry: _Entry, context: PageContext) -> tuple[str, str]:
    """The entry's own category link, else the page's section (its href as the fallback)."""
    category = _section(context.path)
    category_link = entry.category.find(".//a") if entry.category is not None else None
    if category_link is not None:
        category = (_text(category_link), category_link.get("href") or category[1])
    return category


def _blog_item_tags(entry: _Entry) -> list[tuple[str, str]]:
    if entry.links is None:
        return []
    return [(_text(a), a.get("href") or "") for a in entry.links.iterfind(".//li//a")]


def _blog_item_readmore(entry: _Entry, href: str | None, title_text: str) -> str:
    """``readmore.php``, pointing where the listing's own read-more link points (host
    variants included), else at the entry's href."""
    if entry.readmore is None:
        return ""
    more_link = entry.readmore.find(".//a[@href]")
    if more_link is not None:
        href = more_link.get("href")
    if not href:
        return ""
    label = f"Read more: {title_text}" if title_text else "Read more …"
    return (
        f'<p class="readmore"><a class="btn btn-secondary" href="{_esc(href)}" '
        f'aria-label="{_esc(label)}"><span class="icon-chevron-right" aria-hidden="true">'
        f"</span> {_esc(label)}</a></p>"
    )


def _blog_item_extras(entry: _Entry) -> list[Element]:
    """The entry's link block minus its tags (rendered by ``_tags_list``) and clearers, then
    its other K2 blocks."""
    extras: list[Element] = []
    if entry.links is not None:
        tag_block = _first(entry.links, "catItemTagsBlock")
        if tag_block is not None:
            _drop(tag_block)
        extras += [c for c in entry.links if _is_element(c) and "clr" not in _classes(c)]
    extras += entry.extras
    return extras


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
    if not any(href for _label, href in pages) and not any(found.values()):
        # One page (K2 still prints its block, without links): Joomla's category blog prints
        # no pagination unless there are pages to go to (blog.php: pagesTotal > 1).
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
