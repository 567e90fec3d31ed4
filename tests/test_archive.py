"""The page archive's storage: one SQLite file per spider, one row per request."""

from __future__ import annotations

import sqlite3
import zlib
from pathlib import Path

import pytest
import scrapy
from scrapy.exceptions import CloseSpider
from scrapy.http import HtmlResponse, Request, Response
from scrapy.utils.test import get_crawler

from caci_spider.archive import SqliteArchiveStorage

PAGE = b"<html><head><title>t</title></head><body><p>caf\xc3\xa9</p></body></html>"


class ArchivedSpider(scrapy.Spider):
    name = "archived"


def open_storage(tmp_path: Path, **settings: object) -> tuple[SqliteArchiveStorage, scrapy.Spider]:
    crawler = get_crawler(ArchivedSpider, {"HTTPCACHE_DIR": str(tmp_path / "archive"), **settings})
    spider = crawler._create_spider()
    storage = SqliteArchiveStorage(crawler.settings)
    storage.open_spider(spider)
    return storage, spider


def page_response(url: str, body: bytes = PAGE) -> Response:
    headers = {"Content-Type": "text/html; charset=utf-8", "ETag": '"v1"'}
    return HtmlResponse(url, status=200, headers=headers, body=body)


def test_a_stored_page_comes_back_whole(tmp_path: Path) -> None:
    storage, spider = open_storage(tmp_path)
    request = Request("http://127.0.0.1/item/1-a.html")
    storage.store_response(spider, request, page_response(request.url))
    again = Request("http://127.0.0.1/item/1-a.html")
    cached = storage.retrieve_response(spider, again)
    assert isinstance(cached, HtmlResponse)
    assert (cached.status, cached.url, cached.body) == (200, request.url, PAGE)
    assert cached.headers[b"ETag"] == b'"v1"'
    assert cached.text.endswith("<p>café</p></body></html>")
    assert again.meta["cache_timestamp"] > 0


@pytest.mark.parametrize("level", [1, 6, 9])
def test_a_page_archived_at_any_compression_level_comes_back(tmp_path: Path, level: int) -> None:
    """Archives written before the level changed (zlib's default 6) still read."""
    storage, spider = open_storage(tmp_path)
    request = Request("http://127.0.0.1/item/1-a.html")
    storage.store_response(spider, request, page_response(request.url))
    assert storage.connection is not None
    storage.connection.execute("UPDATE pages SET body = ?", (zlib.compress(PAGE, level),))
    cached = storage.retrieve_response(spider, request)
    assert cached is not None and cached.body == PAGE


def test_an_unknown_page_is_not_in_the_archive(tmp_path: Path) -> None:
    storage, spider = open_storage(tmp_path)
    assert storage.retrieve_response(spider, Request("http://127.0.0.1/nowhere")) is None


def test_a_refetched_page_replaces_its_row(tmp_path: Path) -> None:
    storage, spider = open_storage(tmp_path)
    request = Request("http://127.0.0.1/item/1-a.html")
    storage.store_response(spider, request, page_response(request.url))
    storage.store_response(spider, request, page_response(request.url, PAGE.replace(b"t<", b"u<")))
    cached = storage.retrieve_response(spider, request)
    assert cached is not None and b"<title>u</title>" in cached.body
    rows = sqlite3.connect(storage.path_for(spider.name)).execute("SELECT count(*) FROM pages")
    assert rows.fetchone() == (1,)


def test_every_page_is_committed_as_it_is_stored(tmp_path: Path) -> None:
    """A crawl killed before ``close_spider`` keeps every page it archived."""
    storage, spider = open_storage(tmp_path)
    for n in range(3):
        url = f"http://127.0.0.1/item/{n}-a.html"
        storage.store_response(spider, Request(url), page_response(url))
    reader = sqlite3.connect(storage.path_for(spider.name))
    assert reader.execute("SELECT count(*) FROM pages").fetchone() == (3,)


def test_the_archive_outlives_the_crawl(tmp_path: Path) -> None:
    storage, spider = open_storage(tmp_path)
    request = Request("http://127.0.0.1/item/1-a.html")
    storage.store_response(spider, request, page_response(request.url))
    storage.close_spider(spider)
    reopened, spider = open_storage(tmp_path)
    cached = reopened.retrieve_response(spider, request)
    assert cached is not None and cached.body == PAGE


@pytest.mark.parametrize(("age", "found"), [(10, True), (7200, False)])
def test_expiration_follows_the_scrapy_setting(tmp_path: Path, age: int, found: bool) -> None:
    storage, spider = open_storage(tmp_path, HTTPCACHE_EXPIRATION_SECS=3600)
    request = Request("http://127.0.0.1/item/1-a.html")
    storage.store_response(spider, request, page_response(request.url))
    assert storage.connection is not None
    storage.connection.execute("UPDATE pages SET stored_at = stored_at - ?", (age,))
    assert (storage.retrieve_response(spider, request) is not None) is found


def test_a_damaged_row_is_a_missing_page_not_an_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    storage, spider = open_storage(tmp_path)
    request = Request("http://127.0.0.1/item/1-a.html")
    storage.store_response(spider, request, page_response(request.url))
    assert storage.connection is not None
    storage.connection.execute("UPDATE pages SET body = ?", (b"not zlib",))
    assert storage.retrieve_response(spider, request) is None
    assert "unreadable" in caplog.text and request.url in caplog.text


def test_a_page_without_content_type_comes_back_as_html(tmp_path: Path) -> None:
    """The response class is sniffed from the body too, as the downloader does."""
    storage, spider = open_storage(tmp_path)
    url = "http://127.0.0.1/publications/field-reports.html?start=4"
    request = Request(url)
    storage.store_response(spider, request, HtmlResponse(url, status=200, body=PAGE))
    cached = storage.retrieve_response(spider, request)
    assert isinstance(cached, HtmlResponse)


def test_a_page_that_cannot_be_archived_is_counted_not_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(SqliteArchiveStorage, "BUSY_TIMEOUT_S", 0.05)
    storage, spider = open_storage(tmp_path)
    blocker = sqlite3.connect(storage.path_for(spider.name), isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # another process holding the file
    url = "http://127.0.0.1/item/1-a.html"
    storage.store_response(spider, Request(url), page_response(url))
    blocker.execute("ROLLBACK")
    assert spider.crawler.stats.get_value("caci/archive/store_errors") == 1
    assert "Could not archive" in caplog.text and url in caplog.text


def test_a_read_only_archive_stops_the_crawl_at_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage, spider = open_storage(tmp_path)
    storage.close_spider(spider)
    real_connect = sqlite3.connect

    def read_only(path: object, **kwargs: object) -> sqlite3.Connection:
        return real_connect(f"file:{path}?mode=ro", uri=True, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(sqlite3, "connect", read_only)  # root ignores chmod; SQLite does not
    with pytest.raises(CloseSpider) as closed:
        open_storage(tmp_path)
    assert closed.value.reason == "archive_unavailable"


def test_a_pages_table_of_another_shape_stops_the_crawl(tmp_path: Path) -> None:
    path = tmp_path / "archive" / "archived.sqlite"
    path.parent.mkdir()
    sqlite3.connect(path).execute("CREATE TABLE pages (id INTEGER, note TEXT)")
    with pytest.raises(CloseSpider) as closed:
        open_storage(tmp_path)
    assert closed.value.reason == "archive_unavailable"
    assert path.exists()  # someone else's file is left as it is


@pytest.mark.parametrize("existing", [False, True])
def test_reparse_needs_an_archive_with_pages(tmp_path: Path, existing: bool) -> None:
    if existing:
        storage, spider = open_storage(tmp_path)  # an archive with no page in it
        storage.close_spider(spider)
    with pytest.raises(CloseSpider) as closed:
        open_storage(tmp_path, CACI_OFFLINE=True)
    assert closed.value.reason == "archive_unavailable"
    assert (tmp_path / "archive" / "archived.sqlite").exists() is existing


def test_malformed_pages_found_while_crawling_set_the_file_aside(tmp_path: Path) -> None:
    storage, spider = open_storage(tmp_path)
    for n in range(200):
        url = f"http://127.0.0.1/item/{n}-a.html"
        storage.store_response(spider, Request(url), page_response(url, PAGE * 20))
    storage.close_spider(spider)
    path = storage.path_for(spider.name)
    data = bytearray(path.read_bytes())
    data[4096:] = bytes(len(data) - 4096)  # keep the header page, zero every other page
    path.write_bytes(bytes(data))

    storage, spider = open_storage(tmp_path)
    request = Request("http://127.0.0.1/item/7-a.html")
    assert storage.retrieve_response(spider, request) is None
    assert [p.name for p in path.parent.glob("archived.sqlite.damaged-*")]
    assert spider.crawler.stats.get_value("caci/archive/damaged_files") == 1
    storage.store_response(spider, request, page_response(request.url))
    cached = storage.retrieve_response(spider, request)
    assert cached is not None and cached.body == PAGE


class FieldReportsLike(scrapy.Spider):
    """A section spider of publications (its section's spider is itself)."""

    name = "field_reports"
    export_table = "publications"

    @property
    def crawled_sections(self):
        from caci_spider.sources import CACIANALYST

        return ((CACIANALYST, CACIANALYST.sections[0]),)


class AllSectionsLike(FieldReportsLike):
    name = "publications"

    @property
    def crawled_sections(self):
        from caci_spider.sources import sections

        return tuple(pair for pair in sections() if pair[0].key != "silkroadstudies")


def storage_of(
    tmp_path: Path, spidercls: type[scrapy.Spider], **settings: object
) -> tuple[SqliteArchiveStorage, scrapy.Spider]:
    crawler = get_crawler(spidercls, {"HTTPCACHE_DIR": str(tmp_path / "archive"), **settings})
    spider = crawler._create_spider()
    storage = SqliteArchiveStorage(crawler.settings)
    storage.open_spider(spider)
    return storage, spider


@pytest.mark.parametrize(
    ("fetched_by", "reparsed_by"),
    [(FieldReportsLike, AllSectionsLike), (AllSectionsLike, FieldReportsLike)],
)
def test_a_reparse_reads_the_pages_a_spider_of_the_same_sections_archived(
    tmp_path: Path, fetched_by: type[scrapy.Spider], reparsed_by: type[scrapy.Spider]
) -> None:
    url = "https://www.cacianalyst.org/publications/field-reports/item/1-a.html"
    storage, spider = storage_of(tmp_path, fetched_by)
    storage.store_response(spider, Request(url), page_response(url))
    storage.close_spider(spider)
    # Online, a spider's own file only; offline, its sisters' too (read-only, nothing written).
    online, spider = storage_of(tmp_path, reparsed_by)
    assert online.retrieve_response(spider, Request(url)) is None
    online.close_spider(spider)
    (tmp_path / "archive" / f"{reparsed_by.name}.sqlite").unlink()
    offline, spider = storage_of(tmp_path, reparsed_by, CACI_OFFLINE=True)
    cached = offline.retrieve_response(spider, Request(url))
    assert cached is not None and cached.body == PAGE
    offline.close_spider(spider)
    assert not (tmp_path / "archive" / f"{reparsed_by.name}.sqlite").exists()


@pytest.mark.parametrize("newer_in", ["own", "sister"])
def test_a_reparse_reads_the_newest_copy_of_every_archive(tmp_path: Path, newer_in: str) -> None:
    """publications fetched a page, field_reports fetched it again later (or the other way
    round): a reparse of either reads the later copy, never rolls a row back to the older."""
    url = "https://www.cacianalyst.org/publications/field-reports/item/1-a.html"
    first, second = (
        (AllSectionsLike, FieldReportsLike)
        if newer_in == "own"
        else (FieldReportsLike, AllSectionsLike)
    )
    for spidercls, body in ((first, b"<p>older</p>"), (second, b"<p>newer</p>")):
        storage, spider = storage_of(tmp_path, spidercls)
        storage.store_response(spider, Request(url), page_response(url, body))
        storage.close_spider(spider)
    offline, spider = storage_of(tmp_path, FieldReportsLike, CACI_OFFLINE=True)
    cached = offline.retrieve_response(spider, Request(url))
    assert cached is not None and cached.body == b"<p>newer</p>"
    offline.close_spider(spider)


def test_a_staff_spider_reads_no_sister_archive() -> None:
    from caci_spider.archive import sister_archives

    assert sister_archives(ArchivedSpider()) == []
    assert sister_archives(FieldReportsLike()) == ["publications"]
    assert sister_archives(AllSectionsLike()) == [
        "field_reports", "analytical_articles", "feature_articles", "news_digest",
        "turkey_analyst",
    ]  # fmt: skip
