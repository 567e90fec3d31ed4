"""Adding a K2 section of a known layout is "add a ``Section``, add fixtures": no other code.

The test declares one ``Section`` in a TEST profile (a :class:`SiteProfile` built here, not in
``caci_spider/sources.py``), serves fixture HTML of a known layout (the field reports') under
the new category's path from a minimal server, and runs one real crawl of the spider that
:func:`caci_spider.spiders.generated.section_spider` derives from the Section alone. Every item
page of the fixture listing is stored as its hand-checked oracle (``<id>-<alias>.json``) says,
under the test site's key and URLs, and the section's export holds them.

The crawl runs in a subprocess (``python -m tests.test_adding_a_section``), as ``scrapy crawl``
would: Scrapy's reactor is the process's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import MappingProxyType
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlite_utils

from caci_spider.sources import Section, SiteProfile

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = REPO_ROOT / "fixtures"
# The fixtures whose layout the new section has: the field reports' pages, whose links name
# their own category (rewritten to the new one as the server serves them).
LAYOUT = FIXTURES / "field_reports"
LAYOUT_CATEGORY = "field-reports"

# --- the whole declaration of the new section ---------------------------------------------
TEST_SECTION = Section(
    category="test-reports",
    spider="test_reports",
    name="Field Reports",  # the name its item pages print ("Published in Field Reports")
    export_name="test_reports.jsonl",
    coverage_minimums=MappingProxyType({"title": 0.95, "body": 0.95, "published": 0.95}),
)
TEST_PROFILE = SiteProfile(
    key="testsite",
    base_url_setting="TEST_SITE_BASE_URL",
    default_base_url="http://127.0.0.1:9",
    hosts=("testsite.invalid",),
    publication_name=None,
    site_names=("Test Site",),
    sections=(TEST_SECTION,),
)
# --------------------------------------------------------------------------------------------


def fixture_listing(start: int) -> Path:
    """The listing fixture served at ``?start=``: the first page, then an empty one (the end)."""
    return LAYOUT / "listings" / ("page-first.html" if start == 0 else "page-empty.html")


def listed_ids() -> list[int]:
    """The ids of the first listing page's entries of its own category (its oracle)."""
    expected = json.loads(fixture_listing(0).with_suffix(".json").read_text("utf-8"))
    return [entry["id"] for entry in expected["items"]]


class FixtureHandler(BaseHTTPRequestHandler):
    """``/publications/<category>.html?start=N`` and its items from the layout's fixtures, with
    the layout's category renamed to the new one; anything else (feed, JSON listing, robots.txt)
    404."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        parts = urlsplit(self.path)
        path = Path(TEST_SECTION.path)
        page: Path | None = None
        if parts.path == f"{path}.html" and "format" not in parse_qs(parts.query):
            start = int(parse_qs(parts.query).get("start", ["0"])[0])
            page = fixture_listing(start)
        elif parts.path.startswith(f"{path}/item/"):
            name = parts.path.rsplit("/", 1)[-1]
            candidate = LAYOUT / "items" / name
            page = candidate if candidate.is_file() else None
        if page is None:
            self.send_error(404)
            return
        text = page.read_text("utf-8").replace(
            f"/publications/{LAYOUT_CATEGORY}", TEST_SECTION.path
        )
        body = text.encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture(scope="module")
def test_site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FixtureHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def crawl(base_url: str, out: Path) -> None:
    """The new section's spider, derived from the Section alone, crawled with the project's
    settings (as ``scrapy crawl`` would run it) against ``base_url``, into ``out``."""
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.project import get_project_settings

    from caci_spider.spiders.generated import section_spider

    settings = get_project_settings()
    settings.setdict(
        {
            TEST_PROFILE.base_url_setting: base_url,
            "CACI_DB_PATH": str(out / "caci.db"),
            "CACI_EXPORT_DIR": str(out),
            "HTTPCACHE_DIR": str(out / "httpcache"),
            "DOWNLOAD_DELAY": 0,
            "AUTOTHROTTLE_ENABLED": False,
            "RETRY_TIMES": 0,
            "LOG_LEVEL": "INFO",
        },
        priority="cmdline",
    )
    process = CrawlerProcess(settings)
    process.crawl(section_spider(TEST_PROFILE, TEST_SECTION, module=__name__))
    process.start()


def oracle(item_id: int, base_url: str) -> dict:
    """The fixture's hand-checked row, on the test site."""
    (page,) = (LAYOUT / "items").glob(f"{item_id}-*.json")
    expected = json.loads(page.read_text("utf-8"))
    path = urlsplit(expected["url"]).path.replace(f"/publications/{LAYOUT_CATEGORY}", "")
    return {**expected, "site": TEST_PROFILE.key, "url": base_url + TEST_SECTION.path + path}


def test_a_new_section_is_a_section_and_fixtures(test_site: str, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "tests.test_adding_a_section", test_site, str(tmp_path)],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-4000:]
    db = sqlite_utils.Database(tmp_path / "caci.db")
    stored = {row["id"]: row for row in db["publications"].rows_where("site = ?", ["testsite"])}
    wanted = [
        oracle(item_id, test_site)
        for item_id in listed_ids()
        if "duplicate_of" not in oracle(item_id, test_site)
    ]
    assert sorted(stored) == sorted(row["id"] for row in wanted)
    for expected in wanted:
        row = stored[expected["id"]]
        for name in ("site", "url", "section", "title", "published", "issue_date", "body"):
            assert row[name] == expected[name], (expected["id"], name)
        assert json.loads(row["authors"]) == expected["authors"], expected["id"]
    exported = [
        json.loads(line)["id"]
        for line in (tmp_path / TEST_SECTION.export_name).read_text("utf-8").splitlines()
    ]
    assert sorted(exported) == sorted(stored)
    run = next(iter(db.query("SELECT * FROM crawl_runs ORDER BY id DESC LIMIT 1")))
    assert run["spider"] == TEST_SECTION.spider
    assert (run["self_check"], json.loads(run["problems"])) == ("ok", [])
    assert run["items_new"] == len(wanted)
    assert json.loads(run["sections"])[TEST_SECTION.category]["site"] == TEST_PROFILE.key


if __name__ == "__main__":
    crawl(sys.argv[1], Path(sys.argv[2]))
