"""A database of the release before the institute's sections (tests/data/
caci-before-issue-28.db.gz: ``scrapy crawl publications`` of the local site by that release,
f61f9fe, the one before versioned databases too) is migrated in place by the first crawl of a
new section, which exits 0: its rows are as they were (``kind`` and ``extraction_version``
null), the new sections' rows beside them."""

from __future__ import annotations

import gzip
import shutil
import sqlite3
from pathlib import Path

from caci_spider import sources
from caci_spider.contract import schema_drift
from tests.conftest import REPO_ROOT
from tests.test_publications_end_to_end import crawl, fixture_keys

RELEASE = REPO_ROOT / "tests" / "data" / "caci-before-issue-28.db.gz"


def rows(path: Path) -> dict[tuple[str, int], dict]:
    with sqlite3.connect(path) as connection:
        connection.row_factory = sqlite3.Row
        return {
            (row["site"], row["id"]): dict(row)
            for row in connection.execute("SELECT * FROM publications")
        }


def test_the_release_database_migrates_and_crawls_the_new_sections(local_site, tmp_path) -> None:
    base_url, site = local_site
    path = tmp_path / "caci.db"
    with gzip.open(RELEASE) as packed, path.open("wb") as unpacked:
        shutil.copyfileobj(packed, unpacked)
    # The release crawled this local site on other ports: its sites table names this run's.
    with sqlite3.connect(path) as connection:
        connection.execute(
            "UPDATE sites SET base_url = ? WHERE setting = 'SILKROAD_BASE_URL'", (base_url,)
        )
    connection.close()
    before = rows(path)
    with sqlite3.connect(path) as connection:
        columns = [row[1] for row in connection.execute("PRAGMA table_info(publications)")]
    assert before and "kind" not in columns  # the release's schema
    assert {key for key, _row in before.items()} and {s for s, _i in before} == {
        "cacianalyst", "turkeyanalyst",
    }  # fmt: skip
    crawl("silk_road_papers", site, base_url, tmp_path)
    crawl("srs_news", site, base_url, tmp_path)
    after = rows(path)
    for key, row in before.items():
        # Not re-derived: a crawl of the new sections upgrades only the rows of its sections.
        # The migration's one new value: the category of the row's own section, from its URL.
        category = row["url"].split("/item/")[0].rsplit("/", 1)[1]
        assert category in {s.category for _p, s in sources.sections()}
        expected = {**row, "kind": None, "extraction_version": None, "category": category}
        assert after[key] == expected, key
    new = sorted(key for key in after if key not in before)
    assert new == sorted(fixture_keys("silk_road_papers") + fixture_keys("srs_news"))
    with sqlite3.connect(path) as connection:
        assert schema_drift(connection) == []
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        kinds = connection.execute(
            "SELECT DISTINCT kind FROM publications WHERE kind IS NOT NULL ORDER BY kind"
        ).fetchall()
    assert kinds == [("Book",), ("Silk Road Paper",)]
