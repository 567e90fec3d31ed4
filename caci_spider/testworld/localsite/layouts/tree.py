"""lxml helpers the layouts share: finding K2 elements by class, moving content, slots, and
the ``stripped`` and ``renamed`` layouts' attribute rewrites."""

from __future__ import annotations

import hashlib
import html
import re

import lxml.html
from lxml import etree

from caci_spider.testworld.localsite.layouts.context import Element

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
