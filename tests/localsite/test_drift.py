"""Template drift, crawled for real (caci_spider.testworld.localsite.drift): every fixture through
each layout gives its oracle's rows and exit 0, or, where the extraction cannot read the layout, a
failed self-check without a wrong row; the next night's canary catches the change."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from caci_spider.testworld.localsite.drift import (
    DRIFT_CASES,
    DriftCase,
    run_first_crawl,
    run_next_night,
)
from caci_spider.testworld.localsite.fault_matrix import first_night, free_port


@pytest.fixture(scope="module")
def night_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, int]]:
    template = tmp_path_factory.mktemp("first-night")
    port = free_port()
    first_night(template, port)
    yield template, port


@pytest.mark.parametrize("case", DRIFT_CASES, ids=[case.layout for case in DRIFT_CASES])
def test_each_layout_gives_exact_rows_or_fails_loudly(
    case: DriftCase, night_template: tuple[Path, int], tmp_path: Path
) -> None:
    outcome = run_first_crawl(case, tmp_path / "first")
    template, port = night_template
    run_next_night(outcome, template, port, tmp_path / "night")
    assert not outcome.wrong, outcome.wrong
    assert not (case.readable and outcome.missing), outcome.missing
    if case.readable:
        assert (outcome.exit_status, outcome.staff_exit_status) == (0, 0)
        assert outcome.self_check == "ok"
        assert (outcome.rows, outcome.staff_rows) == (
            outcome.expected_rows,
            outcome.expected_staff_rows,
        )
        assert outcome.night_exit_status == 0, outcome.night_message
    else:
        assert outcome.exit_status == 1 and outcome.self_check != "ok"
        assert outcome.night_exit_status == 1
        assert "canary" in outcome.night_message
    assert outcome.night_rows_kept
    assert outcome.as_expected
