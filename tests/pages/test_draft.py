"""``python -m caci_spider.testworld.draft``: a draft beside a new fixture, never the oracle."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from caci_spider.testworld.draft import DRAFT_KEY, main
from caci_spider.testworld.fixtures import FixturePage, find_fixture, kind_of


def copy_of(page: FixturePage, directory: Path, name: str | None = None) -> Path:
    target = directory / (name or page.html.name)
    shutil.copy(page.html, target)
    return target


def written_draft(html: Path) -> dict:
    draft = json.loads(html.with_suffix(".draft.json").read_text("utf-8"))
    assert draft.pop(DRAFT_KEY).startswith("Written by python -m caci_spider.testworld.draft")
    return draft


@pytest.mark.parametrize(
    ("kind", "prefix"),
    [
        ("item", "8145-"),
        ("analytical-articles-item", "8101-"),
        ("feature-articles-item", "13851-"),
        ("news-digest-item", "11831-"),
        ("turkey-analyst-item", "13005-"),
        ("staff-item", "13338-"),
        ("staff-listing", "start-0."),
    ],
)
def test_a_draft_has_its_oracles_shape(tmp_path: Path, capsys, kind: str, prefix: str) -> None:
    page = find_fixture(kind, prefix)
    html = copy_of(page, tmp_path)
    assert main([str(html), "--kind", kind]) == 0
    assert written_draft(html) == page.expected()
    assert not html.with_suffix(".json").exists()
    assert "check every value by hand" in capsys.readouterr().out.lower()


def test_a_listing_draft_needs_its_url_and_keeps_it(tmp_path: Path) -> None:
    page = find_fixture("listing", "page-first.")
    html = copy_of(page, tmp_path)
    with pytest.raises(SystemExit):
        main([str(html), "--kind", "listing"])
    assert main([str(html), "--kind", "listing", "--url", page.expected()["url"]]) == 0
    assert written_draft(html) == page.expected()


def test_a_rejected_page_drafts_its_reason(tmp_path: Path) -> None:
    page = find_fixture("item", "9877-")
    html = copy_of(page, tmp_path)
    assert main([str(html), "--kind", "item"]) == 0
    assert page.expected()["reject"] in written_draft(html)["reject"]


def test_an_existing_oracle_is_never_touched(tmp_path: Path, capsys) -> None:
    page = find_fixture("item", "12990-")
    html = copy_of(page, tmp_path)
    oracle = html.with_suffix(".json")
    oracle.write_text("{}", "utf-8")
    assert main([str(html), "--kind", "item"]) == 2
    assert oracle.read_text("utf-8") == "{}" and not html.with_suffix(".draft.json").exists()
    assert "never writes or replaces an oracle" in capsys.readouterr().err


def test_the_kind_comes_from_the_fixture_directory(tmp_path: Path) -> None:
    for kind, prefix in [
        ("item", "8145-"),
        ("listing", "page-first."),
        ("turkey-analyst-item", "12997-"),
        ("turkey-analyst-listing", "start-4."),
        ("feature-articles-listing", "start-0."),
        ("staff-listing", "start-0."),
    ]:
        assert kind_of(find_fixture(kind, prefix).html).name == kind
    with pytest.raises(SystemExit):
        main([str(copy_of(find_fixture("item", "8145-"), tmp_path))])  # no --kind outside
