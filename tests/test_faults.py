"""Every fault of the matrix (docs/reliability.md), crawled for real: outcome as expected,
no item lost, nothing requested off the configured hosts, stored text clean, JSONL valid."""

from __future__ import annotations

import pytest

from caci_spider.localsite.fault_matrix import SCENARIOS, run_scenario


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
