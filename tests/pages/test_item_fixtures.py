"""Per-field extraction over every item fixture: page object → normalise → collapse.

Each ``fixtures/field_reports/items/<id>-<alias>.html`` has its expected output beside it.
"""

from __future__ import annotations

import pytest

from caci_spider.items import CONTRACT_KEYS
from caci_spider.pages.item import K2ItemPage
from caci_spider.records import build_field_report
from caci_spider.urls import item_ref
from tests.conftest import ITEM_FIXTURES, expected_for

BASE = "https://www.cacianalyst.org"
FIELDS = [k for k in CONTRACT_KEYS if k not in ("word_count", "content_hash", "fetched_at")]
GOOD = [p for p in ITEM_FIXTURES if "reject" not in expected_for(p)]
REJECTED = [p for p in ITEM_FIXTURES if "reject" in expected_for(p)]


def extract(page_path):
    ref = item_ref(
        f"/publications/field-reports/item/{page_path.stem}.html", BASE + "/", BASE, "field-reports"
    )
    page = K2ItemPage(page_path.read_bytes(), ref, "2026-01-01T00:00:00Z").extract()
    return build_field_report(page)


def test_fixture_set_is_complete() -> None:
    assert len(GOOD) >= 15 and REJECTED


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("page_path", GOOD, ids=lambda p: p.stem.split("-")[0])
def test_field(page_path, field) -> None:
    report, reason, _raw = extract(page_path)
    assert report is not None, reason
    assert getattr(report, field) == expected_for(page_path)[field]


@pytest.mark.parametrize("page_path", GOOD, ids=lambda p: p.stem.split("-")[0])
def test_derived_fields(page_path) -> None:
    import hashlib

    report, _reason, _raw = extract(page_path)
    assert report.word_count == len(report.body.split())
    assert report.content_hash == hashlib.sha256(report.body.encode()).hexdigest()


@pytest.mark.parametrize("page_path", REJECTED, ids=lambda p: p.stem.split("-")[0])
def test_rejected_fixture_gives_its_reason(page_path) -> None:
    report, reason, _raw = extract(page_path)
    assert report is None
    assert expected_for(page_path)["reject"] in reason


SEED = next(p for p in ITEM_FIXTURES if p.name.startswith("8145-"))


def test_seed_acceptance() -> None:
    report, _reason, _raw = extract(SEED)
    assert report.title == "IS AZERBAIJAN TURNING TOWARDS RUSSIA?"
    assert report.authors == ["Fariz Ismailzade"]
    assert report.published == report.issue_date == "2004-02-11"
    assert report.hits == 4672
    assert report.body.count("During his three-day visit") == 1
    assert "Aliyev's" in report.body and '"Moscow declaration"' in report.body
    assert "\\" not in report.body
    for chrome in ("Read 4672 times", "Visit also", "Staff Publications", "Newsletter"):
        assert chrome not in report.body
