"""Templates ("layouts") the local K2 site can serve every page through.

The fixtures are written in the site's customised K2 markup. A layout re-renders a page as
another template would render the same content, so that a real crawl can be run through each
template and its rows compared with the fixtures' expected JSON. Only the wrapper markup
changes: the article's own HTML (intro text, full text, listing teasers, sidebar modules) is
moved over node by node, never re-typed, so its text arrives exactly as the fixture has it.
Pages the layout does not recognise (an override without K2 markup) keep their content.

``render(layout, page, context)`` is the whole API; :data:`LAYOUTS` names the layouts, one module
each (``k2stock``, ``joomla`` with ``cassiopeia``, ``otherwords``, ``unreadable``; ``stripped`` and
``renamed`` in ``tree``) over what a page holds (``content``), its dates (``dates``) and the
shared tree helpers (``tree``):

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

import lxml.html
from lxml import etree

from caci_spider.pages.blocks import parse_html
from caci_spider.testworld.localsite.layouts.context import (
    ACCOUNT,
    ACCOUNT_DESCRIPTION,
    ACCOUNT_ID,
    COMBINE,
    DEFAULT_LAYOUT,
    LAYOUTS,
    PAGE_KINDS,
    SECTIONS,
    Link,
    PageContext,
    check_layout,
)
from caci_spider.testworld.localsite.layouts.dates import MONTHS, iso_datetime, k2_date_line
from caci_spider.testworld.localsite.layouts.joomla import _joomla
from caci_spider.testworld.localsite.layouts.k2stock import _k2_stock_item, _k2_stock_listing
from caci_spider.testworld.localsite.layouts.otherwords import _other_words
from caci_spider.testworld.localsite.layouts.tree import _rename, renamed_token
from caci_spider.testworld.localsite.layouts.unreadable import _unreadable, unreadable_data

__all__ = [
    "ACCOUNT",
    "ACCOUNT_DESCRIPTION",
    "ACCOUNT_ID",
    "COMBINE",
    "DEFAULT_LAYOUT",
    "LAYOUTS",
    "MONTHS",
    "PAGE_KINDS",
    "SECTIONS",
    "Link",
    "PageContext",
    "check_layout",
    "iso_datetime",
    "k2_date_line",
    "render",
    "renamed_token",
    "unreadable_data",
]


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
