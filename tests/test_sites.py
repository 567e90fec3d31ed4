"""A database belongs to the sites it was built from (caci_spider.sites)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from caci_spider.sites import SiteMismatch, check_sites, recorded_sites, site_key
from caci_spider.storage.common import SITES_TABLE


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("https://www.cacianalyst.org", "cacianalyst.org"),
        ("http://cacianalyst.org/", "cacianalyst.org"),
        ("https://CACIANALYST.ORG.", "cacianalyst.org"),
        ("https://www.cacianalyst.org:443", "cacianalyst.org"),
        ("http://127.0.0.1:8088", "127.0.0.1:8088"),
        ("http://127.0.0.1:80", "127.0.0.1"),
    ],
)
def test_site_key(url: str, key: str) -> None:
    assert site_key(url) == key


def database(path: Path, sites: dict[str, str] | None = None, first_url: str = "") -> Path:
    connection = sqlite3.connect(path)
    with connection:
        if sites is not None:
            connection.execute(f"CREATE TABLE {SITES_TABLE} (setting, base_url, recorded_at)")
            connection.executemany(
                f"INSERT INTO {SITES_TABLE} VALUES (?, ?, '2026-01-01T00:00:00Z')", sites.items()
            )
        if first_url:
            connection.execute("CREATE TABLE publications (id INTEGER PRIMARY KEY, url TEXT)")
            connection.executemany(
                "INSERT INTO publications VALUES (?, ?)",
                [(9000, "https://elsewhere.example/item/9000-a.html"), (7315, first_url)],
            )
    connection.close()
    return path


def test_recorded_sites_from_the_sites_table(tmp_path: Path) -> None:
    path = database(
        tmp_path / "caci.db",
        {"CACI_BASE_URL": "http://127.0.0.1:8088", "SILKROAD_BASE_URL": "http://127.0.0.1:8089"},
        first_url="https://www.cacianalyst.org/publications/field-reports/item/7315-a.html",
    )
    with sqlite3.connect(path) as connection:
        assert recorded_sites(connection) == {
            "CACI_BASE_URL": "http://127.0.0.1:8088",  # the table wins over the rows
            "SILKROAD_BASE_URL": "http://127.0.0.1:8089",
        }


def test_a_database_older_than_the_sites_table_is_read_off_its_lowest_id(tmp_path: Path) -> None:
    path = database(
        tmp_path / "caci.db",
        first_url="https://cacianalyst.org./publications/field-reports/item/7315-a.html",
    )
    with sqlite3.connect(path) as connection:
        assert recorded_sites(connection) == {"CACI_BASE_URL": "https://cacianalyst.org."}


def test_an_empty_or_new_database_belongs_to_nobody(tmp_path: Path) -> None:
    check_sites(tmp_path / "missing.db", {"CACI_BASE_URL": "http://127.0.0.1:1"})
    (tmp_path / "empty.db").touch()
    check_sites(tmp_path / "empty.db", {"CACI_BASE_URL": "http://127.0.0.1:1"})
    with sqlite3.connect(database(tmp_path / "tables.db", {})) as connection:
        assert recorded_sites(connection) == {}
    assert not (tmp_path / "missing.db").exists()  # checking never creates the file


def test_another_site_is_refused_with_both_urls_and_the_way_out(tmp_path: Path) -> None:
    path = database(tmp_path / "caci.db", {"CACI_BASE_URL": "https://www.cacianalyst.org"})
    with pytest.raises(SiteMismatch) as mismatch:
        check_sites(path, {"CACI_BASE_URL": "http://127.0.0.1:8088"})
    assert str(mismatch.value) == (
        f"{path} holds the data of https://www.cacianalyst.org (CACI_BASE_URL), not of "
        "http://127.0.0.1:8088: crawl https://www.cacianalyst.org into it, or give this site its "
        "own database with -s CACI_DB_PATH=… (and -s CACI_EXPORT_DIR=…, -s HTTPCACHE_DIR=…)"
    )


def test_another_port_of_a_loopback_host_is_another_site(tmp_path: Path) -> None:
    path = database(tmp_path / "caci.db", {"SILKROAD_BASE_URL": "http://127.0.0.1:8088"})
    check_sites(path, {"SILKROAD_BASE_URL": "http://127.0.0.1:8088/"})
    with pytest.raises(SiteMismatch, match="SILKROAD_BASE_URL"):
        check_sites(path, {"SILKROAD_BASE_URL": "http://127.0.0.1:8089"})
