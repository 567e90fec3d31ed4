"""Shared test fixtures: the fixture pages on disk and the local K2 site over HTTP."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from caci_spider.testworld.fixtures import FIXTURES_ROOT, fixture_pages, good_fixtures
from caci_spider.testworld.localsite import LocalK2Site, serve
from caci_spider.testworld.localsite.crawl import crawl_command

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = FIXTURES_ROOT
ITEM_FIXTURES = [page.html for page in fixture_pages("item")]
# The field reports a crawl of the local site stores (the fixtures with an oracle, but the ones
# broken on purpose and the re-import): counted from fixtures/, so a new fixture breaks no test.
GOOD_FIELD_REPORTS = len(good_fixtures("field_reports"))


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: one worker more than the machine has cores. Most tests are real crawls in
    subprocesses that wait on a local site served by their worker, so workers at one per core
    leave the cores idle a sixth of the time (2 cores: 5:03 with 2 workers, 4:31 with 3)."""
    return (os.cpu_count() or 1) + 1


def expected_for(page: Path) -> dict:
    return json.loads(page.with_suffix(".json").read_text("utf-8"))


@pytest.fixture(scope="session")
def local_site() -> Iterator[tuple[str, LocalK2Site]]:
    """The local K2 site serving ``fixtures/`` on a free loopback port."""
    with serve(LocalK2Site(FIXTURES)) as (base_url, site):
        yield base_url, site


def run_crawl(
    spider: str,
    base_url: str,
    out: Path,
    *arguments: str,
    expect_exit: int = 0,
    judge_coverage: bool = False,
) -> subprocess.CompletedProcess:
    """The real ``scrapy crawl`` against the local site; checks its exit status.

    The fixture site holds one broken page in twenty, right at the 95 % body-coverage minimum:
    a run that skips or loses one good page would fail its self-check. Only the tests about the
    self-check judge coverage (``judge_coverage=True``).
    """
    coverage = [] if judge_coverage else ["-s", "CACI_COVERAGE_MIN_ITEMS=1000000"]
    command = crawl_command(spider, base_url, out) + ["-s", "RETRY_TIMES=1", *coverage, *arguments]
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    result = subprocess.run(
        command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == expect_exit, result.stderr[-4000:]
    return result
