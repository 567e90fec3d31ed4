"""``CACI_SITE=local``: one setting for the local site's base URLs, files and pace
(caci_spider.sitechoice), checked before a run like every other setting.

The real crawls with it are in tests/test_readme.py (the README's commands, ``nightly --local``,
``localsite --crawl``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from scrapy.settings import Settings

from caci_spider import exitcodes, nightly, sitechoice
from caci_spider.paths import project_path
from caci_spider.preflight import RunRefused, check_not_production, check_settings
from tests.conftest import REPO_ROOT

SITE_SETTINGS = ("CACI_BASE_URL", "SILKROAD_BASE_URL", "TURKEY_ANALYST_BASE_URL")


def project_settings(**overrides: str) -> Settings:
    """The project's settings with ``overrides`` given on the command line."""
    settings = Settings()
    settings.setmodule("caci_spider.settings", priority="project")
    settings.setdict(overrides, priority="cmdline")
    return settings


def test_local_stands_for_the_local_sites_urls_files_and_pace() -> None:
    settings = project_settings(CACI_SITE="local")
    assert sitechoice.apply(settings) == 8088
    assert settings["CACI_BASE_URL"] == settings["SILKROAD_BASE_URL"] == "http://127.0.0.1:8088"
    assert settings["TURKEY_ANALYST_BASE_URL"] == "http://127.0.0.1:8089"
    local = REPO_ROOT / "exports" / "local"
    assert project_path(settings["CACI_DB_PATH"], settings) == local / "caci.db"
    assert project_path(settings["CACI_EXPORT_DIR"], settings) == local
    assert project_path(settings["HTTPCACHE_DIR"], settings) == local / "httpcache"
    assert settings.getfloat("DOWNLOAD_DELAY") == 0
    assert settings.getbool("AUTOTHROTTLE_ENABLED") is False
    # What it sets passes the check that keeps loopback rows out of the production files.
    check_settings(settings)
    check_not_production(settings, SITE_SETTINGS)


def test_another_port_is_another_site_with_its_own_files() -> None:
    settings = project_settings(CACI_SITE="local:9000")
    assert sitechoice.apply(settings) == 9000
    assert settings["TURKEY_ANALYST_BASE_URL"] == "http://127.0.0.1:9001"
    assert Path(settings["CACI_DB_PATH"]) == Path("exports/local-9000/caci.db")


def test_a_setting_given_on_the_command_line_still_wins(tmp_path: Path) -> None:
    settings = project_settings(CACI_SITE="local", CACI_DB_PATH=str(tmp_path / "trial.db"))
    sitechoice.apply(settings)
    assert settings["CACI_DB_PATH"] == str(tmp_path / "trial.db")
    assert settings["CACI_EXPORT_DIR"] == "exports/local"


def test_the_environment_variable_chooses_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CACI_SITE", "local:9100")
    settings = Settings()  # no CACI_SITE setting at all: a bare egg's or a test's settings
    assert sitechoice.apply(settings) == 9100
    assert settings["CACI_BASE_URL"] == "http://127.0.0.1:9100"


def test_live_changes_nothing() -> None:
    settings = project_settings()
    assert sitechoice.apply(settings) is None
    assert settings["CACI_BASE_URL"] == "https://www.cacianalyst.org"
    assert settings["CACI_DB_PATH"] == "exports/caci.db"


@pytest.mark.parametrize("value", ["remote", "local:http", "local:70000", "local:0", "Local"])
def test_a_bad_value_is_refused_before_the_run(value: str) -> None:
    with pytest.raises(sitechoice.BadSite):
        sitechoice.apply(project_settings(CACI_SITE=value))
    with pytest.raises(RunRefused, match=f"bad setting -s CACI_SITE={value}: expected"):
        check_settings(project_settings(CACI_SITE=value))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--port", "9000"], "--port is the local site's: give it with --local"),
        (["--local", "-s", "CACI_SITE=live"], "set CACI_SITE with --local, not -s"),
        (["--local", "--port", "70000"], "--port 70000: expected a port from 1 to 65534"),
    ],
)
def test_the_nightly_local_switch_refuses_bad_use(argv, message, capsys) -> None:
    assert nightly.main(argv) == exitcodes.USAGE
    assert capsys.readouterr().err == f"caci_spider.nightly: {message}\n"
