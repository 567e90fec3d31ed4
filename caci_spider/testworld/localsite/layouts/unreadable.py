"""``unreadable``: item pages carrying their text only in a JSON blob for a script."""

from __future__ import annotations

import json

import lxml.html

from caci_spider.pages.blocks import parse_html
from caci_spider.testworld.localsite.layouts.content import _item_id, _main_area, _read_article
from caci_spider.testworld.localsite.layouts.context import (
    Element,
    PageContext,
)
from caci_spider.testworld.localsite.layouts.tree import (
    _drop,
    _fragment,
    _inner_html,
    _text,
)

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
