"""A night with the sites down, and the night after, as a user runs them: the real
``python -m caci_spider.nightly`` and ``scrapy crawl`` against the local K2 site, stopped and
started again on the same ports.

* A host that does not answer is given up after its first request: a few requests, one ERROR
  line naming the host and its base-URL setting (the nightly prints it first), no WARNING
  line per page, ``0 read`` and no ``unchanged`` rows the run never read.
* Rejects describe today's site: a page that reads fine again resolves its reject (kept, with
  ``resolved_at``), a page that fails otherwise has one current reject, the latest reason.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import sqlite_utils

from caci_spider.testworld.localsite import LocalK2Site, serve
from caci_spider.testworld.localsite.crawl import crawl_command
from caci_spider.testworld.localsite.faults import Fault
from tests.conftest import FIXTURES, REPO_ROOT

FIXED, REFAILING = 12990, 12993  # field reports: 500 on the first night; then fine, then 404
QUIET = ["-s", "DOWNLOAD_DELAY=0", "-s", "CACI_COVERAGE_MIN_ITEMS=1000000"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def crawl(spider: str, base_url: str, urls: dict[str, str], out: Path, *args: str) -> str:
    command = crawl_command(spider, base_url, out, urls) + ["-s", "RETRY_TIMES=1", *QUIET, *args]
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    result = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-4000:]
    return result.stderr


def current_rejects(db: sqlite_utils.Database, item_id: int) -> list[tuple[str, str | None]]:
    return [
        (row["reason"], row["resolved_at"])
        for row in db.query(
            "SELECT reason, resolved_at FROM rejects WHERE url LIKE ? ORDER BY fetched_at",
            [f"%/item/{item_id}-%"],
        )
    ]


def test_a_night_with_the_sites_down_and_the_night_after(tmp_path: Path) -> None:
    out = tmp_path / "data"
    main, turkey = free_port(), free_port()
    ports = {"turkeyanalyst": turkey}
    site = LocalK2Site(FIXTURES)
    site.faults[FIXED] = Fault("status", status=500)
    site.faults[REFAILING] = Fault("status", status=500)
    with serve(site, port=main, ports=ports) as (base_url, site):
        urls = dict(site.base_urls)
        crawl("publications", base_url, urls, out)
        crawl("staff_publications", base_url, urls, out)
    db = sqlite_utils.Database(out / "caci.db")
    assert current_rejects(db, FIXED) == [("HTTP 500", None)]
    rejects_before = db["rejects"].count

    # The sites are down: nothing listens on either port. The nightly, with Scrapy's own retries.
    command = crawl_command("publications", base_url, out, urls)
    settings = [*command[command.index("crawl") + 2 :], *QUIET]
    logs = tmp_path / "logs"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    nightly = subprocess.run(
        [sys.executable, "-m", "caci_spider.nightly", "--log-dir", str(logs), *settings],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert nightly.returncode == 1, nightly.stderr
    printed = nightly.stderr.splitlines()
    assert printed[0].startswith("caci_spider.nightly: publications failed (exit 1)")
    # The cause comes first: the host, its base-URL setting and what happened.
    assert f"127.0.0.1:{main} did not answer (DownloadConnectionRefusedError" in printed[1]
    assert f"CACI_BASE_URL ({urls['cacianalyst']})" in printed[1]
    publications_log = next(logs.glob("publications-*.log")).read_text("utf-8")
    staff_log = next(logs.glob("staff_publications-*.log")).read_text("utf-8")
    # One ERROR line per host, nothing per page; robots.txt and its retries are all it asked.
    errors = re.findall(r"\] ERROR: (.*)", publications_log)
    assert len(errors) == 2 and all("did not answer" in line for line in errors), errors
    assert f"TURKEY_ANALYST_BASE_URL ({urls['turkeyanalyst']})" in errors[1]
    assert " WARNING: " not in publications_log
    runs = {row["spider"]: row for row in db.query("SELECT * FROM crawl_runs ORDER BY id")}
    assert runs["publications"]["requests"] <= 2 * 4  # robots.txt of each host, 3 retries
    assert runs["staff_publications"]["requests"] <= 4
    # Nothing was read live: 0 read, and no unchanged rows.
    nothing_read = r": 0 read, 0 new, 0 updated, 0 unchanged, 0 checked, \d+ not read, "
    assert re.search(r"Run \d+ of publications" + nothing_read, publications_log)
    assert re.search(r"Run \d+ of staff_publications" + nothing_read, staff_log)
    assert runs["staff_publications"]["items_unchanged"] == 0
    problems = json.loads(runs["publications"]["problems"])
    assert sorted(p.split(" did not answer")[0] for p in problems) == sorted(
        [f"127.0.0.1:{main}", f"127.0.0.1:{turkey}"]
    )
    # A host that did not answer is no page's fault: no reject recorded.
    assert db["rejects"].count == rejects_before

    # The night after: the sites are back; one page reads fine again, the other fails otherwise.
    site = LocalK2Site(FIXTURES)
    site.faults[REFAILING] = Fault("status", status=404)
    with serve(site, port=main, ports=ports) as (base_url, site):
        crawl("publications", base_url, urls, out, "-a", "mode=full")
    assert db["publications"].count_where("site = 'cacianalyst' AND id = ?", [FIXED]) == 1
    (resolved,) = current_rejects(db, FIXED)
    assert resolved[0] == "HTTP 500" and resolved[1] is not None  # kept as history
    refailing = current_rejects(db, REFAILING)
    assert [reason for reason, when in refailing if when is None] == ["HTTP 404"]
    assert [reason for reason, when in refailing if when is not None] == ["HTTP 500"]
