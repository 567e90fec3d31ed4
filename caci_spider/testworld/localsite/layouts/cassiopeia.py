"""Joomla's Cassiopeia template around a ``joomla`` page: the page shell, its menu and the
sidebar and footer modules as module cards."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import lxml.html

from caci_spider.testworld.localsite.layouts.context import Element
from caci_spider.testworld.localsite.layouts.tree import (
    _by_id,
    _classes,
    _detach,
    _drop,
    _esc,
    _is_element,
    _pour,
    _replace,
    _text,
    _wrap,
)


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
