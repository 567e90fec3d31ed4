"""Adding a K2 section of a known layout is "add a ``Section``, add fixtures": no other code.

The test declares one ``Section`` in a TEST profile (a :class:`SiteProfile` built here, not in
``caci_spider/sources.py``), once under the default menu parent (``/publications/<category>``)
and once at the top of its site (``parent=""``: ``/<category>``, as silkroadstudies.org's
news). For each it serves fixture HTML of a known layout (the field reports') under the new
section's path from a minimal server, and runs one real crawl of the spider that
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

from caci_spider.sources import DEFAULT_PARENT, Section, SiteProfile

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = REPO_ROOT / "fixtures"
# The fixtures whose layout the new section has: the field reports' pages, whose links name
# their own category (rewritten to the new one as the server serves them).
LAYOUT = FIXTURES / "field_reports"
LAYOUT_CATEGORY = "field-reports"

# The menu parents the new section is declared under: the default (``/publications/``) and
# none (a top-level category).
PARENTS = (DEFAULT_PARENT, "")


# --- the whole declaration of the new section ---------------------------------------------
def new_section(parent: str) -> Section:
    return Section(
        category="test-reports",
        spider="test_reports",
        name="Field Reports",  # the name its item pages print ("Published in Field Reports")
        export_name="test_reports.jsonl",
        coverage_minimums=MappingProxyType({"title": 0.95, "body": 0.95, "published": 0.95}),
        parent=parent,
    )


def new_profile(section: Section) -> SiteProfile:
    return SiteProfile(
        key="testsite",
        base_url_setting="TEST_SITE_BASE_URL",
        default_base_url="http://127.0.0.1:9",
        hosts=("testsite.invalid",),
        publication_name=None,
        site_names=("Test Site",),
        sections=(section,),
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
    """``<section path>.html?start=N`` and its items from the layout's fixtures, with the
    layout's section path renamed to the new one's; anything else (feed, JSON listing,
    robots.txt) 404."""

    section_path: str  # the served section's (a subclass per parent)

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        parts = urlsplit(self.path)
        path = Path(self.section_path)
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
            f"/publications/{LAYOUT_CATEGORY}", self.section_path
        )
        body = text.encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture(scope="module", params=PARENTS, ids=("default-parent", "top-level"))
def parent(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def test_site(parent: str) -> Iterator[str]:
    handler = type("Handler", (FixtureHandler,), {"section_path": new_section(parent).path})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def crawl(base_url: str, out: Path, parent: str) -> None:
    """The new section's spider (under ``parent``), derived from the Section alone, crawled with
    the project's settings (as ``scrapy crawl`` would run it) against ``base_url``, into
    ``out``."""
    section = new_section(parent)
    profile = new_profile(section)
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.project import get_project_settings

    from caci_spider.spiders.generated import section_spider

    settings = get_project_settings()
    settings.setdict(
        {
            profile.base_url_setting: base_url,
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
    process.crawl(section_spider(profile, section, module=__name__))
    process.start()


def oracle(item_id: int, base_url: str, section: Section) -> dict:
    """The fixture's hand-checked row, on the test site, in ``section``."""
    (page,) = (LAYOUT / "items").glob(f"{item_id}-*.json")
    expected = json.loads(page.read_text("utf-8"))
    path = urlsplit(expected["url"]).path.replace(f"/publications/{LAYOUT_CATEGORY}", "")
    site = new_profile(section).key
    return {**expected, "site": site, "url": base_url + section.path + path}


def test_a_new_section_is_a_section_and_fixtures(
    parent: str, test_site: str, tmp_path: Path
) -> None:
    section = new_section(parent)
    profile = new_profile(section)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "tests.test_adding_a_section", test_site, str(tmp_path), parent],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-4000:]
    db = sqlite_utils.Database(tmp_path / "caci.db")
    stored = {row["id"]: row for row in db["publications"].rows_where("site = ?", [profile.key])}
    wanted = [
        oracle(item_id, test_site, section)
        for item_id in listed_ids()
        if "duplicate_of" not in oracle(item_id, test_site, section)
    ]
    assert sorted(stored) == sorted(row["id"] for row in wanted)
    for expected in wanted:
        row = stored[expected["id"]]
        for name in ("site", "url", "section", "title", "published", "issue_date", "body"):
            assert row[name] == expected[name], (expected["id"], name)
        assert json.loads(row["authors"]) == expected["authors"], expected["id"]
    exported = [
        json.loads(line)["id"]
        for line in (tmp_path / section.export_name).read_text("utf-8").splitlines()
    ]
    assert sorted(exported) == sorted(stored)
    run = next(iter(db.query("SELECT * FROM crawl_runs ORDER BY id DESC LIMIT 1")))
    assert run["spider"] == section.spider
    assert (run["self_check"], json.loads(run["problems"])) == ("ok", [])
    assert run["items_new"] == len(wanted)
    assert json.loads(run["sections"])[section.category]["site"] == profile.key


if __name__ == "__main__":
    crawl(sys.argv[1], Path(sys.argv[2]), sys.argv[3])
