"""Every fault of the matrix (docs/reliability.md), crawled for real: outcome as expected,
no item lost, nothing requested off the configured hosts, stored text clean, JSONL valid."""

from __future__ import annotations

import re

import pytest

from caci_spider.testworld.localsite.fault_matrix import (
    NIGHTLY_SCENARIOS,
    SCENARIOS,
    WRITE_SCENARIOS,
    first_night,
    free_port,
    run_nightly_scenario,
    run_scenario,
    run_write_scenario,
)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_fault(scenario, tmp_path) -> None:
    outcome = run_scenario(scenario, tmp_path)
    assert outcome.lost == [], f"items lost: {outcome.lost}"
    assert outcome.offsite_requests == 0
    assert outcome.text_problems == []
    assert outcome.jsonl_valid
    assert outcome.stored == scenario.stored, outcome.observed()
    if scenario.reject is None:
        assert outcome.rejects == [], outcome.observed()
    else:
        assert any(scenario.reject in reason for reason in outcome.rejects), outcome.observed()
    assert outcome.target_body_ok, "the target's stored text is not what it should be"
    assert outcome.as_expected


@pytest.fixture(scope="module")
def first_crawl(tmp_path_factory):
    """One first night for every nightly scenario: (its files, the port its site used)."""
    template = tmp_path_factory.mktemp("first-night")
    port = free_port()
    first_night(template, port)
    return template, port


@pytest.mark.parametrize("scenario", NIGHTLY_SCENARIOS, ids=lambda s: s.name)
def test_nightly(scenario, first_crawl, tmp_path) -> None:
    template, port = first_crawl
    outcome = run_nightly_scenario(scenario, template, port, tmp_path / "night")
    assert outcome.exit_status == scenario.exit_status, outcome.message
    assert scenario.message in outcome.message
    if scenario.exit_status == 0:
        assert outcome.message == ""
    assert outcome.rows_kept or not scenario.rows_kept
    assert outcome.as_expected


@pytest.mark.parametrize("scenario", WRITE_SCENARIOS, ids=lambda s: s.name)
def test_an_export_that_cannot_be_written(scenario, first_crawl, tmp_path) -> None:
    template, port = first_crawl
    outcome = run_write_scenario(scenario, template, port, tmp_path / "night")
    assert (outcome.exit_status, outcome.self_check) == (1, "failed"), outcome.message
    assert scenario.message in outcome.message
    # A full disk fails every export of the run: field_reports.jsonl and the citation files.
    assert re.search(r"could not write (the export|\d+ exports:) <dir>/", outcome.message)
    assert "field_reports.jsonl (" in outcome.message
    assert (outcome.rows_lost, outcome.files_lost) == (0, 0)
    kept = "the previous file" if scenario.disk_full else "the directory, untouched"
    assert outcome.export == kept
    assert outcome.as_expected
