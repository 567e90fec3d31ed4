"""A small fixture set with every crawled section of every site, for the local site's tests.

Each section other than the field reports gets a few item pages copied from field-report
fixtures under ids and aliases of their own (their text does not matter here: the local site
serves files, it does not read them), with oracle JSON; the Turkey Analyst's include id 12997,
which the Analyst's field reports have too, with another page.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from caci_spider import sources
from caci_spider.localsite import DEFAULT_FIXTURES

SAME_ID = 12997  # a field report's id the Turkey Analyst fixture set uses too
# spider → the ids of its items in this fixture set.
SECTION_IDS = {
    "analytical_articles": (16001, 16002, 16003, 16004, 16005, 16006),
    "feature_articles": (13901, 13902),
    "news_digest": (3001, 3002, 3003, 3004, 3005),
    "turkey_analyst": (SAME_ID, 201, 202, 203, 204),
}


def build(root: Path) -> Path:
    """``root/fixtures``: the real field-report and staff fixtures plus the sections above."""
    fixtures = root / "fixtures"
    fixtures.mkdir(parents=True)
    for name in ("field_reports", "staff_publications"):
        (fixtures / name).symlink_to(DEFAULT_FIXTURES / name)
    shutil.copy(DEFAULT_FIXTURES / "site_chrome.html", fixtures / "site_chrome.html")
    sources_pages = sorted((DEFAULT_FIXTURES / "field_reports" / "items").glob("*.html"))
    for spider, ids in SECTION_IDS.items():
        _profile, section = sources.section_of(spider)
        items = fixtures / spider / "items"
        items.mkdir(parents=True)
        for n, item_id in enumerate(ids):
            source = sources_pages[n]
            alias = f"{section.category}-item-{n}"
            page = source.read_text("utf-8").replace(
                "Published in Field Reports", f"Published in {section.name}"
            )
            page = page.replace("</body>", f"<!-- {spider} {item_id} --></body>")
            (items / f"{item_id}-{alias}.html").write_text(page, "utf-8")
            oracle = {
                "id": item_id,
                "title": f"{section.name} item {n}",
                "authors": ["A. Writer"],
                "body": f"First paragraph of {spider} {item_id}.\n\nSecond.",
            }
            (items / f"{item_id}-{alias}.json").write_text(json.dumps(oracle), "utf-8")
    return fixtures
