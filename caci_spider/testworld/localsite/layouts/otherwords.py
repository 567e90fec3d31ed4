"""``other-words``: the site's own markup with its toolbar in other words and a share line."""

from __future__ import annotations

from caci_spider.testworld.localsite.layouts.context import Element
from caci_spider.testworld.localsite.layouts.tree import _first, _fragment

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
