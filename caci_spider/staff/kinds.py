"""The type labels of staff publications ("Silk Road Paper", "Analysis", "Book", …)."""

from __future__ import annotations

import re

# The closed list of type labels, each mapped to its canonical spelling.  In a sidebar line a
# label is matched case-sensitively and as a whole word at the very start, longest first, so
# "Silk Road Paper" wins over a shorter label and "Book Chapter" over "Book"; case-sensitivity
# keeps a title such as "analysis of ..." (or an unlabelled entry opening with a capitalised
# word that is not in this list) from losing its first word.  Seen on the site: "Silk Road
# Paper", "Analysis", "Book"; the rest are the usual think-tank publication types, added so that
# a new entry of a common type is still recognised.
KIND_LABELS: dict[str, str] = {
    "Silk Road Paper": "Silk Road Paper",
    "Silk Road Monograph": "Silk Road Monograph",
    "Policy Paper": "Policy Paper",
    "Policy Brief": "Policy Brief",
    "Issue Brief": "Issue Brief",
    "Research Paper": "Research Paper",
    "Working Paper": "Working Paper",
    "Journal Article": "Journal Article",
    "Book Chapter": "Book Chapter",
    "Book": "Book",
    "Monograph": "Monograph",
    "Analysis": "Analysis",
    "Article": "Article",
    "Commentary": "Commentary",
    "Op-ed": "Op-ed",
    "Op-Ed": "Op-ed",
    "Interview": "Interview",
    "Report": "Report",
    "Testimony": "Testimony",
}
_LONGEST_FIRST = sorted(KIND_LABELS, key=len, reverse=True)
_LEADING_LABEL = re.compile("^(?P<label>" + "|".join(map(re.escape, _LONGEST_FIRST)) + r")(?=\s|$)")
_BY_CASEFOLD = {name.casefold(): label for name, label in KIND_LABELS.items()}


def kind_named(text: str) -> str | None:
    """The label that ``text`` as a whole names, in any case ("SILK ROAD PAPER"), else None."""
    return _BY_CASEFOLD.get(text.casefold())


def take_leading_label(text: str) -> tuple[str | None, str]:
    """``(label, rest)`` for a text that opens with a type label, else ``(None, text)``.

    A label glued to the next word (``AnalysisLaura Linderman, …``: a bold label, no space after
    it) counts when that word is capitalised.
    """
    for label in _LONGEST_FIRST:
        rest = text[len(label) :]
        if text.startswith(label) and rest[:1].isupper():
            text = f"{label} {rest}"
            break
    match = _LEADING_LABEL.match(text)
    if match is None:
        return None, text
    return KIND_LABELS[match["label"]], text[match.end() :].lstrip()
