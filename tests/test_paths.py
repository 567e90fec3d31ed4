"""Relative paths are taken from the project root, whatever the working directory
(caci_spider.paths)."""

from __future__ import annotations

from pathlib import Path

import pytest
from scrapy.settings import Settings

from caci_spider import paths
from caci_spider.paths import (
    NoDataDir,
    archive_dir,
    database_path,
    export_dir,
    project_path,
    project_root,
)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project directory (with its scrapy.cfg); the working directory is deep inside it."""
    root = tmp_path / "project"
    (root / "docs" / "deep").mkdir(parents=True)
    (root / "scrapy.cfg").write_text("[settings]\ndefault = caci_spider.settings\n")
    monkeypatch.chdir(root / "docs" / "deep")
    return root.resolve()


def test_the_root_is_where_scrapy_cfg_is(project: Path) -> None:
    assert project_root() == project


def test_without_scrapy_cfg_the_packages_checkout_is_the_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CACI_DATA_DIR", raising=False)
    assert project_root() == Path(paths.__file__).resolve().parents[1]


def test_the_data_dir_wins(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CACI_DATA_DIR", str(tmp_path / "from-env"))
    assert project_root() == tmp_path / "from-env"
    settings = Settings({"CACI_DB_PATH": "exports/caci.db", "CACI_DATA_DIR": str(tmp_path / "d")})
    assert database_path(settings) == tmp_path / "d" / "exports" / "caci.db"
    monkeypatch.delenv("CACI_DATA_DIR")
    assert project_root() == project


def test_an_egg_without_a_data_dir_has_no_place_for_relative_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As in a Scrapyd egg: no scrapy.cfg, no checkout around the package, no CACI_DATA_DIR."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CACI_DATA_DIR", raising=False)
    monkeypatch.setattr(paths, "package_checkout", lambda: None)
    with pytest.raises(NoDataDir, match="exports/caci.db is a relative path.*CACI_DATA_DIR"):
        database_path(Settings({"CACI_DB_PATH": "exports/caci.db"}))
    assert database_path(Settings({"CACI_DB_PATH": str(tmp_path / "a.db")})) == tmp_path / "a.db"


def test_project_path(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert project_path("exports/caci.db") == project / "exports" / "caci.db"
    assert project_path(Path("exports")) == project / "exports"
    assert project_path(tmp_path / "elsewhere.db") == tmp_path / "elsewhere.db"
    assert project_path("~/caci.db") == tmp_path / "home" / "caci.db"


def test_the_crawl_files_follow_their_settings(project: Path, tmp_path: Path) -> None:
    settings = Settings(
        {
            "CACI_DB_PATH": "exports/local/caci.db",
            "CACI_EXPORT_DIR": "exports/local",
            "HTTPCACHE_DIR": str(tmp_path / "archive"),
        }
    )
    assert database_path(settings) == project / "exports" / "local" / "caci.db"
    assert export_dir(settings) == project / "exports" / "local"
    assert archive_dir(settings) == tmp_path / "archive"
    assert not (project / "exports").exists()  # resolving a path creates nothing


def test_a_relative_archive_lives_in_the_project(project: Path) -> None:
    archive = archive_dir(Settings({"HTTPCACHE_DIR": "exports/local/httpcache"}))
    assert archive.is_absolute() and archive.is_relative_to(project)
    assert archive.name == "httpcache"
