"""The four item pipelines (caci_spider.pipelines), each stage on its own, with a crawler from
the project's settings and a temporary database; no engine."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from scrapy.exceptions import DropItem

from caci_spider.items import (
    NormalisedReport,
    Publication,
    PublicationPage,
    Reject,
    StaffPublication,
)
from caci_spider.pipelines import (
    DeduplicatePipeline,
    NormalisePipeline,
    StorePipeline,
    ValidatePipeline,
)
from caci_spider.sources import CACIANALYST, TURKEYANALYST
from caci_spider.spiders.generated import FieldReportsSpider
from caci_spider.spiders.staff_publications import StaffPublicationsSpider
from caci_spider.store import DatabaseStore, store_of
from tests.unit_crawler import CACI, SILKROAD, build_spider

FETCHED = "2026-11-27T17:49:47Z"
BYLINE = "By Fariz Ismailzade (2/11/2004 issue of the CACI Analyst)"


def item_url(item_id: int) -> str:
    return f"{CACI}/publications/field-reports/item/{item_id}-a.html"


def page(item_id: int = 8145, **fields: Any) -> PublicationPage:
    values: dict[str, Any] = {
        "section": "Field Reports",
        "title": "IS AZERBAIJAN  TURNING TOWARDS RUSSIA?",
        "date_line": "Wednesday, 11 February 2004",
        "byline": BYLINE,
        "paragraphs": [
            "During his visit, Aliyev met.",
            "During his visit, Aliyev met. More.",
            "End.",
        ],
        "hits": 4672,
    }
    values.update(fields)
    return PublicationPage(item_id, item_url(item_id), FETCHED, **values)


class Stages:
    """The pipelines of one spider's crawl, and its store with the run started."""

    def __init__(
        self,
        tmp_path: Path,
        spidercls: type[FieldReportsSpider | StaffPublicationsSpider] = FieldReportsSpider,
    ) -> None:
        self.spider: FieldReportsSpider | StaffPublicationsSpider = build_spider(
            spidercls, tmp_path
        )
        self.crawler = self.spider.crawler
        self.store: DatabaseStore = store_of(self.crawler)
        self.store.spider_opened(self.spider)
        # As Scrapy builds them (from_crawler), typed as what they are.
        self.normalise = NormalisePipeline(self.crawler)
        self.validate = ValidatePipeline(self.crawler)
        self.deduplicate = DeduplicatePipeline(self.crawler)
        self.stored = StorePipeline(self.crawler)

    def through(self, item: Any) -> Any:
        for stage in (self.normalise, self.validate, self.deduplicate, self.stored):
            item = stage.process_item(item)
        return item

    def stat(self, name: str) -> Any:
        return self.crawler.stats.get_value(name)

    def rejects(self) -> list[dict[str, Any]]:
        return list(self.store.database.rows("rejects", order_by="url"))


@pytest.fixture
def stages(tmp_path: Path) -> Stages:
    return Stages(tmp_path)


def test_normalise_cleans_the_page_and_counts_coverage(stages: Stages) -> None:
    normalised = stages.normalise.process_item(page(hits=None))
    assert isinstance(normalised, NormalisedReport) and normalised.page.hits is None
    report = normalised.report
    assert (report.title, report.authors, report.published, report.issue_date) == (
        "IS AZERBAIJAN TURNING TOWARDS RUSSIA?",
        ["Fariz Ismailzade"],
        "2004-02-11",
        "2004-02-11",
    )
    assert (report.word_count, report.content_hash) == (0, "")  # derived after de-duplication
    assert {
        name: stages.stat(f"caci/coverage/{name}")
        for name in ("items", "title", "authors", "published", "issue_date", "body", "hits")
    } == {
        "items": 1,
        "title": 1,
        "authors": 1,
        "published": 1,
        "issue_date": 1,
        "body": 1,
        "hits": None,
    }


def test_normalise_passes_other_items_on(stages: Stages) -> None:
    reject = Reject("field_reports", item_url(7999), "HTTP 404", FETCHED, status=404)
    assert stages.normalise.process_item(reject) is reject
    assert stages.stat("caci/coverage/items") is None


def test_validate_turns_a_normalised_page_into_its_report(stages: Stages) -> None:
    report = stages.validate.process_item(stages.normalise.process_item(page()))
    assert isinstance(report, Publication) and report.id == 8145


@pytest.mark.parametrize(
    ("fields", "reason", "raw"),
    [
        ({"title": "  "}, "missing title", "  "),
        ({"paragraphs": ["\xa0", ""]}, "missing body", None),
        ({"date_line": "some day in 2004"}, "unparseable published date", "some day in 2004"),
    ],
)
def test_validate_rejects_what_cannot_be_stored(
    stages: Stages, fields: dict[str, Any], reason: str, raw: str | None
) -> None:
    normalised = stages.normalise.process_item(page(**fields))
    with pytest.raises(DropItem) as dropped:
        stages.validate.process_item(normalised)
    assert dropped.value.log_level == "DEBUG"
    (row,) = stages.rejects()
    assert (row["url"], row["reason"], row["raw"], row["fetched_at"]) == (
        item_url(8145),
        reason,
        raw,
        FETCHED,
    )
    assert stages.stat(f"caci/rejected/{reason}") == 1


def test_validate_records_a_spider_reject(stages: Stages) -> None:
    reject = Reject("field_reports", item_url(7999), "HTTP 404", FETCHED, status=404)
    with pytest.raises(DropItem, match="rejected .*7999-a.html: HTTP 404"):
        stages.validate.process_item(reject)
    (row,) = stages.rejects()
    assert (row["url"], row["status"], row["attempts"]) == (item_url(7999), 404, 1)


def test_validate_refuses_an_item_nobody_stores(stages: Stages) -> None:
    with pytest.raises(DropItem, match="unexpected item type dict") as dropped:
        stages.validate.process_item({"title": "x"})
    assert dropped.value.log_level == "ERROR"


def test_deduplicate_collapses_the_body_and_derives_its_fields(stages: Stages) -> None:
    report = stages.deduplicate.process_item(
        stages.validate.process_item(stages.normalise.process_item(page()))
    )
    body = "During his visit, Aliyev met. More.\n\nEnd."
    assert report.body == body  # the lead repeated as the next paragraph's prefix is gone
    assert report.word_count == 7
    assert report.content_hash == hashlib.sha256(body.encode()).hexdigest()


def test_a_higher_id_with_the_same_body_is_recorded_as_a_duplicate(stages: Stages) -> None:
    stages.through(page(8145))
    with pytest.raises(DropItem, match="item 12871 duplicates item 8145"):
        stages.through(page(12871, hits=412))
    (duplicate,) = stages.store.database.rows("duplicates")
    assert (duplicate["id"], duplicate["duplicate_of"], duplicate["run_id"]) == (
        12871,
        8145,
        stages.store.run_id,
    )
    assert [row["id"] for row in stages.store.database.rows("publications")] == [8145]


def test_store_writes_the_row_once_and_counts_what_the_run_did(stages: Stages) -> None:
    first = stages.through(page())
    again = stages.through(page())
    assert first.id == again.id == 8145
    (row,) = stages.store.database.rows("publications")
    assert (row["title"], row["authors"], row["hits"]) == (
        "IS AZERBAIJAN TURNING TOWARDS RUSSIA?",
        ["Fariz Ismailzade"],
        4672,
    )
    assert stages.store.database.run_counts(stages.store.run_id) == {
        "new": 1,
        "updated": 0,
        "unchanged": 0,
        "duplicate": 0,
    }


def test_a_truncated_refetch_keeps_the_stored_row(stages: Stages) -> None:
    stages.through(page())
    cut = page(paragraphs=["During his visit, Aliyev met. More."])
    with pytest.raises(DropItem):
        stages.through(cut)
    assert stages.rejects()[0]["reason"] == "refetch is a truncated copy: stored row kept"
    (row,) = stages.store.database.rows("publications")
    assert row["body"].endswith("End.")


def test_a_refused_write_is_counted_and_the_item_dropped(
    stages: Stages, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = stages.deduplicate.process_item(
        stages.validate.process_item(stages.normalise.process_item(page()))
    )

    def locked(*args: Any) -> str:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(stages.store.database, "store_report", locked)
    with pytest.raises(DropItem, match="not stored: database is locked"):
        stages.stored.process_item(report)
    assert stages.store.write_errors == [f"{item_url(8145)}: database is locked"]
    assert stages.stat("caci/store_errors") == 1


def test_close_exports_the_table(stages: Stages) -> None:
    stages.through(page(8145))
    stages.through(page(7315, paragraphs=["Another body."]))
    stages.stored.close_spider()
    path = Path(stages.crawler.settings["CACI_EXPORT_DIR"]) / "field_reports.jsonl"
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines()]
    assert [row["id"] for row in rows] == [7315, 8145]
    assert stages.stat("caci/exported") == 2


def test_a_refused_staff_paper_link_fails_the_run_and_the_exports_are_still_written(
    stages: Stages, monkeypatch: pytest.MonkeyPatch
) -> None:
    stages.through(page(8145))

    def full(*args: Any) -> int:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(stages.store.database, "link_staff_papers", full)
    stages.stored.close_spider()
    assert stages.store.write_errors == ["the staff_papers links: database or disk is full"]
    path = Path(stages.crawler.settings["CACI_EXPORT_DIR"]) / "field_reports.jsonl"
    assert [json.loads(line)["id"] for line in path.read_text("utf-8").splitlines()] == [8145]


def staff(title: str | None, **fields: Any) -> StaffPublication:
    listing = f"{SILKROAD}/publications/joint-center-publications.html?start=0"
    return StaffPublication(
        title=title, sources=[listing], fetched_at=FETCHED, raw="raw text", **fields
    )


def test_a_staff_publication_is_normalised_validated_and_stored(tmp_path: Path) -> None:
    stages = Stages(tmp_path, StaffPublicationsSpider)
    stored = stages.through(
        staff(
            " After  Afghanistan,\xa0Central Asia Still Matters ",
            authors=[" S. Frederick Starr", " "],
        )
    )
    assert stored.title == "After Afghanistan, Central Asia Still Matters"
    assert stored.authors == ["S. Frederick Starr"]
    (row,) = stages.store.database.rows("staff_publications")
    assert (row["id"], row["title"]) == (stored.id, stored.title) and len(row["id"]) == 12
    assert stages.stat("caci/coverage/items") == 1 and stages.stat("caci/coverage/title") == 1


def test_a_staff_entry_without_a_title_is_rejected_with_its_text(tmp_path: Path) -> None:
    stages = Stages(tmp_path, StaffPublicationsSpider)
    with pytest.raises(DropItem):
        stages.through(staff(None))
    (row,) = stages.rejects()
    assert (row["reason"], row["raw"], row["url"]) == (
        "entry without a title",
        "raw text",
        f"{SILKROAD}/publications/joint-center-publications.html?start=0",
    )
    assert list(stages.store.database.rows("staff_publications")) == []


# -- quality: what a good row cannot contain (caci_spider.quality) -------------------------------
def test_an_item_with_page_chrome_is_rejected_and_counted_for_the_self_check(
    stages: Stages,
) -> None:
    chrome = page(paragraphs=["Print", "E-mail", "During his visit, Aliyev met.", "End."])
    with pytest.raises(DropItem):
        stages.through(chrome)
    (row,) = stages.rejects()
    assert (row["url"], row["reason"]) == (
        item_url(8145),
        'quality: body holds page chrome "Print"',
    )
    assert row["raw"] == 'body holds page chrome "Print"; body holds page chrome "E-mail"'
    assert list(stages.store.database.rows("publications")) == []
    assert stages.spider.ledger.quality_rejects.counts == {"body": 1}
    assert stages.stat("caci/quality/body") == 1


def test_a_worse_refetch_never_replaces_a_stored_row(stages: Stages) -> None:
    stages.through(page())
    (before,) = stages.store.database.rows("publications")
    with pytest.raises(DropItem):
        stages.through(page(title="The Central Asia-Caucasus Analyst", byline="Written by admin"))
    assert list(stages.store.database.rows("publications")) == [before]
    assert stages.spider.ledger.quality_rejects.counts == {"title": 1, "byline": 1}


def test_a_staff_entry_with_a_site_name_as_title_is_rejected(tmp_path: Path) -> None:
    stages = Stages(tmp_path, StaffPublicationsSpider)
    item = f"{SILKROAD}/publications/joint-center-publications/item/13313-a.html"
    observation = staff("Staff Publications", url=item)
    observation.sources.append(item)
    with pytest.raises(DropItem):
        stages.through(observation)
    (row,) = stages.rejects()
    assert (row["url"], row["reason"]) == (
        item,
        'quality: title is a site or section name "Staff Publications"',
    )


def test_a_refetch_that_lost_watched_fields_keeps_them_and_is_counted(stages: Stages) -> None:
    stages.through(page(tags=["Azerbaijan"]))
    stages.through(page(byline="By Fariz Ismailzade", tags=[]))  # no issue date, no tags
    (row,) = stages.store.database.rows("publications")
    assert (row["issue_date"], row["tags"]) == ("2004-02-11", ["Azerbaijan"])
    refetched = stages.spider.ledger.refetched_fields
    assert (refetched.had, refetched.lost) == (
        {"issue_date": 1, "tags": 1},
        {"issue_date": 1, "tags": 1},
    )
    assert refetched.first_lost["tags"] == item_url(8145)
    stages.through(page(7315, paragraphs=["Another body."]))  # new: not a refetch
    assert refetched.had == {"issue_date": 1, "tags": 1}


# -- (site, id) through the pipelines, and the exports of a spider's sections --------------------
def turkey_page(item_id: int, **fields: Any) -> PublicationPage:
    item = page(item_id, section="Articles", **fields)
    item.url = (
        f"https://www.turkeyanalyst.org/publications/turkey-analyst-articles/item/{item_id}-t.html"
    )
    item.site = "turkeyanalyst"
    return item


def test_the_same_id_and_body_on_two_sites_pass_as_two_publications(stages: Stages) -> None:
    stages.through(page(12997))
    stored = stages.through(turkey_page(12997))
    assert isinstance(stored, Publication) and stored.site == "turkeyanalyst"
    database = stages.store.database
    assert sorted((r["site"], r["id"]) for r in database.rows("publications")) == [
        ("cacianalyst", 12997), ("turkeyanalyst", 12997),
    ]  # fmt: skip
    assert database.count("duplicates") == 0
    # A higher id of one site with that body is that site's duplicate only.
    with pytest.raises(DropItem, match="duplicates item 12997"):
        stages.through(turkey_page(13005))
    assert [(r["site"], r["id"], r["duplicate_of"]) for r in database.rows("duplicates")] == [
        ("turkeyanalyst", 13005, 12997)
    ]


def test_a_rejected_publication_page_keeps_its_site(stages: Stages) -> None:
    with pytest.raises(DropItem):
        stages.through(turkey_page(4, paragraphs=[]))
    (reject,) = stages.rejects()
    assert (reject["site"], reject["reason"]) == ("turkeyanalyst", "missing body")


def test_a_publications_pdf_url_is_linked_to_its_row(stages: Stages) -> None:
    pdf = "https://www.cacianalyst.org/resources/pdf/feature.pdf"
    stages.through(page(13100, pdf_url=pdf))
    (link,) = stages.store.database.rows("document_links", order_by="item_id")
    assert (link["document_url"], link["item_table"], link["site"], link["item_id"]) == (
        pdf, "publications", "cacianalyst", "13100",
    )  # fmt: skip


class SectionsSpider(FieldReportsSpider):
    """A spider of two sections of two sites and the aggregate (as ``publications`` is)."""

    name = "two_sections"
    aggregate_export = "publications.jsonl"
    crawled_sections = (
        (CACIANALYST, CACIANALYST.sections[0]),
        (TURKEYANALYST, TURKEYANALYST.sections[0]),
    )


def exported_keys(stages: Stages, name: str) -> list[tuple[str, int]]:
    path = Path(stages.crawler.settings["CACI_EXPORT_DIR"]) / name
    return [(r["site"], r["id"]) for r in map(json.loads, path.read_text("utf-8").splitlines())]


def test_close_writes_each_crawled_sections_export_and_the_aggregate(tmp_path: Path) -> None:
    stages = Stages(tmp_path, SectionsSpider)
    stages.through(page(8145))
    stages.through(turkey_page(8145, paragraphs=["A Turkish body."]))
    stages.through(turkey_page(3, paragraphs=["Another Turkish body."]))
    analytical = page(9000, paragraphs=["An analytical article."])
    analytical.url = analytical.url.replace("field-reports", "analytical-articles")
    stages.through(analytical)
    stages.stored.close_spider()
    assert exported_keys(stages, "field_reports.jsonl") == [("cacianalyst", 8145)]
    assert exported_keys(stages, "turkey_analyst.jsonl") == [
        ("turkeyanalyst", 3), ("turkeyanalyst", 8145),
    ]  # fmt: skip
    assert exported_keys(stages, "publications.jsonl") == [
        ("cacianalyst", 8145), ("cacianalyst", 9000), ("turkeyanalyst", 3),
        ("turkeyanalyst", 8145),
    ]  # fmt: skip
    assert not (
        Path(stages.crawler.settings["CACI_EXPORT_DIR"]) / "analytical_articles.jsonl"
    ).exists()
    assert stages.stat("caci/exported") == 3
    assert stages.stat("caci/exported/turkey_analyst") == 2


def test_a_section_spider_exports_only_its_own_rows(stages: Stages) -> None:
    stages.through(page(8145))
    stages.through(turkey_page(7000, paragraphs=["A Turkish body."]))
    stages.stored.close_spider()
    assert exported_keys(stages, "field_reports.jsonl") == [("cacianalyst", 8145)]
    assert not (Path(stages.crawler.settings["CACI_EXPORT_DIR"]) / "publications.jsonl").exists()
