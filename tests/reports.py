"""One contract row for tests that store rows without crawling: every key of the contract with
a plausible value, overridden by keyword."""

from __future__ import annotations

from typing import Any

from caci_spider.items import Publication
from caci_spider.records import collapse_body

CACI = "https://www.cacianalyst.org"


def field_report(
    item_id: int, body: str = "A body.\n\nSecond paragraph.", **fields: Any
) -> Publication:
    """A field report of the Analyst with ``body``; ``word_count`` and ``content_hash`` derived
    from it unless given."""
    values: dict[str, Any] = dict(
        id=item_id,
        site="cacianalyst",
        url=f"{CACI}/publications/field-reports/item/{item_id}-x.html",
        section="Field Reports",
        kind=None,
        title=f"TITLE {item_id}",
        authors=["Fariz Ismailzade"],
        published="2004-02-11",
        issue_date="2004-02-11",
        issue=None,
        byline="By Fariz Ismailzade (2/11/2004 issue of the CACI Analyst)",
        body=body,
        author_bio=None,
        pdf_url=None,
        hits=10,
        modified=None,
        tags=[],
        word_count=0,
        content_hash="",
        fetched_at="2026-01-01T00:00:00Z",
    )
    derived = {k: fields.pop(k) for k in ("word_count", "content_hash") if k in fields}
    values.update(fields)
    report = collapse_body(Publication(**values))
    for key, value in derived.items():
        setattr(report, key, value)
    return report
