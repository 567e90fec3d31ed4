"""``scrapy crawl``'s own part (caci_spider.commands.crawl): the exit status after a run, and a
refusal before one, with a stand-in for Scrapy's crawler process (no crawl is started)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

import pytest
from scrapy.crawler import Crawler
from scrapy.settings import Settings
from scrapy.spiderloader import SpiderLoader

from caci_spider import exitcodes
from caci_spider.commands.crawl import Command, crawl_failed
from caci_spider.spiders.generated import FieldReportsSpider
from tests.unit_crawler import component_crawler, unit_settings


@pytest.mark.parametrize(
    ("stats", "failed"),
    [
        ({"finish_reason": "finished", "caci/self_check": "ok"}, False),
        ({"finish_reason": "finished"}, True),  # no verdict: the recorder did not get to one
        ({"finish_reason": "closespider_timeout", "caci/self_check": "ok"}, False),
        ({"finish_reason": "finished", "caci/self_check": "failed"}, True),
        ({"finish_reason": "shutdown", "caci/self_check": "ok"}, True),
        ({"finish_reason": "banned"}, True),
        ({"finish_reason": "archive_unavailable"}, True),
        ({}, True),  # the engine never closed the spider
    ],
)
def test_crawl_failed(stats: dict[str, Any], failed: bool) -> None:
    assert crawl_failed(stats) is failed


class StandInProcess:
    """Scrapy's crawler process as far as the command uses it; ``crawl`` only records."""

    bootstrap_failed = False

    def __init__(self, settings: Settings, crawler: Crawler | None = None) -> None:
        self.spider_loader = SpiderLoader.from_settings(settings)
        self.crawler = crawler
        self.crawled: list[tuple[Crawler, dict[str, str]]] = []

    def create_crawler(self, spidercls: Any) -> Crawler:
        assert self.crawler is not None
        return self.crawler

    def crawl(self, crawler: Crawler, **spargs: str) -> None:
        self.crawled.append((crawler, spargs))

    def start(self) -> None:
        pass


def command(settings: Settings, process: StandInProcess) -> Command:
    crawl = Command()
    crawl.settings = settings
    crawl.crawler_process = process  # type: ignore[assignment]
    return crawl


def options(**spargs: str) -> argparse.Namespace:
    return argparse.Namespace(spargs=spargs)


def test_a_refused_run_never_starts_and_exits_with_its_status(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(unit_settings(tmp_path))
    process = StandInProcess(settings)
    crawl = command(settings, process)
    crawl.run(["field_reports"], options(mod="full"))
    assert crawl.exitcode == exitcodes.USAGE and process.crawled == []
    (record,) = [r for r in caplog.records if r.name == "caci_spider"]
    assert record.levelno == logging.ERROR
    assert record.getMessage().startswith("unknown spider argument -a mod=full")


def test_an_unknown_spider_names_the_spiders(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(unit_settings(tmp_path))
    process = StandInProcess(settings)
    crawl = command(settings, process)
    crawl.run(["field_report"], options())
    assert crawl.exitcode == exitcodes.USAGE and process.crawled == []
    (message,) = [r.getMessage() for r in caplog.records if r.name == "caci_spider"]
    assert "field_report" in message and "field_reports, news_digest, publications" in message


def test_a_skipped_run_is_a_warning_on_the_terminal_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(unit_settings(tmp_path, LOG_FILE=str(tmp_path / "crawl.log")))
    crawl = command(settings, StandInProcess(settings))
    crawl.refuse("another crawl holds caci.db.lock: skipping this run", exitcodes.SKIPPED)
    assert crawl.exitcode == exitcodes.SKIPPED
    assert capsys.readouterr().err == (
        "WARNING: another crawl holds caci.db.lock: skipping this run\n"
    )
    assert [r.levelno for r in caplog.records if r.name == "caci_spider"] == [logging.WARNING]


def test_without_a_log_file_the_log_line_is_all(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(unit_settings(tmp_path))
    command(settings, StandInProcess(settings)).refuse("bad setting", exitcodes.USAGE)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    ("self_check", "exit_code"), [("ok", exitcodes.OK), ("failed", exitcodes.CRAWL_FAILED)]
)
def test_the_exit_status_follows_the_run(tmp_path: Path, self_check: str, exit_code: int) -> None:
    settings = Settings(unit_settings(tmp_path))
    crawler = component_crawler(tmp_path, FieldReportsSpider)
    crawler.stats.set_value("finish_reason", "finished")
    crawler.stats.set_value("caci/self_check", self_check)
    process = StandInProcess(settings, crawler)
    crawl = command(settings, process)
    crawl.run(["field_reports"], options(mode="full"))
    assert process.crawled == [(crawler, {"mode": "full"})]
    assert crawl.crawler is crawler and crawl.exitcode == exit_code
    assert not crawl.lock.closed  # preflight's lock, held for the whole run
