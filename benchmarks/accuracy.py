"""Body accuracy and speed on the fixture pages: our extraction against trafilatura.

The comparison is asked for by default; ``python -m benchmarks.run`` stops at once, with one
line, when trafilatura cannot be imported (:class:`TrafilaturaMissing`), and leaves it out only
when told to (``--skip-trafilatura``).
"""

from __future__ import annotations

import difflib
from collections import Counter
from typing import Any

from benchmarks.measure import time_call
from benchmarks.sitegen import ITEM_FIXTURES, load_templates
from caci_spider.pages.item import K2ItemPage
from caci_spider.records import build_publication
from caci_spider.urls import ItemRef

TRAFILATURA_OPTIONS = {
    "include_comments": False,
    "include_tables": False,
    "favor_precision": True,
}


class TrafilaturaMissing(Exception):
    """The trafilatura comparison was asked for and cannot run; ``str(self)`` is one line."""


def words(text: str | None) -> list[str]:
    return (text or "").split()


def similarity(candidate: str | None, expected: str) -> float:
    """``difflib.SequenceMatcher`` ratio over the whitespace-separated words."""
    return difflib.SequenceMatcher(None, words(candidate), words(expected), autojunk=False).ratio()


def token_f1(candidate: str | None, expected: str) -> float:
    got, want = Counter(words(candidate)), Counter(words(expected))
    overlap = sum((got & want).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / sum(got.values()), overlap / sum(want.values())
    return 2 * precision * recall / (precision + recall)


def trafilatura_module() -> Any:
    """trafilatura, imported, or :class:`TrafilaturaMissing` saying how to install it.

    Any exception counts: an installed trafilatura that cannot be imported (under lxml ≥ 6
    without ``lxml_html_clean``, an ImportError) is as unusable as a missing one.
    """
    try:
        import trafilatura
    except Exception as error:
        detail = " ".join(str(error).split())
        raise TrafilaturaMissing(
            f"the trafilatura comparison cannot run: import trafilatura failed "
            f"({type(error).__name__}: {detail}); run pip install -e '.[bench]' "
            f"(or pass --skip-trafilatura to leave the comparison out)"
        ) from error
    return trafilatura


def bench_accuracy(repeats: int, trafilatura: Any | None) -> dict[str, Any]:
    """Every item fixture with an expected ``body``: ours, and trafilatura's unless ``None``."""
    rows = []
    for template in load_templates(ITEM_FIXTURES):
        text = template.page.decode("utf-8")
        expected = template.expected["body"]
        ref = ItemRef(
            template.id, template.expected["url"], template.expected.get("site") or "cacianalyst"
        )

        def ours(text: str = text, ref: ItemRef = ref) -> str | None:
            report, _reason, _raw = build_publication(
                K2ItemPage(text, ref, "2026-01-01T00:00:00Z").extract()
            )
            return report.body if report else None

        ours_ms, ours_body = time_call(ours, repeats)
        row = {
            "id": template.id,
            "ours_similarity": similarity(ours_body, expected),
            "ours_f1": token_f1(ours_body, expected),
            "ours_ms": ours_ms,
        }
        if trafilatura is not None:

            def theirs(text: str = text) -> str | None:
                return trafilatura.extract(text, **TRAFILATURA_OPTIONS)

            traf_ms, traf_body = time_call(theirs, repeats)
            row.update(
                traf_similarity=similarity(traf_body, expected),
                traf_f1=token_f1(traf_body, expected),
                traf_ms=traf_ms,
            )
        rows.append(row)
    return {
        "trafilatura": getattr(trafilatura, "__version__", None) if trafilatura else None,
        "rows": rows,
    }
