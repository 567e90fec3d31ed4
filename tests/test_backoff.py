"""When a rejected page is tried again (caci_spider.backoff)."""

from __future__ import annotations

import pytest

from caci_spider.backoff import DEFAULT_MAX_DAYS, is_transient, next_attempt_at


@pytest.mark.parametrize(
    ("reason", "status", "transient"),
    [
        ("HTTP 500", 500, True),
        ("HTTP 503", 503, True),
        ("HTTP 408", 408, True),
        ("HTTP 429", 429, True),
        ("HTTP 404", 404, False),
        ("HTTP 410", 410, False),
        ("HTTP 403", 403, False),
        ("fetch failed: TimeoutError", None, True),
        ("truncated page: no closing </html>", 200, True),
        ("empty page", 200, True),
        ("missing body", None, False),
        ("unparseable published date", None, False),
        ("not fetched: max redirections reached", None, False),
        # only the start of the reason names the kind of failure
        ("missing body after fetch failed", None, False),
    ],
)
def test_is_transient(reason: str, status: int | None, transient: bool) -> None:
    assert is_transient(reason, status) is transient


def test_a_transient_failure_is_tried_by_the_next_run() -> None:
    assert next_attempt_at("2026-11-27T17:49:47Z", 5, transient=True) == "2026-11-27T17:49:47Z"


@pytest.mark.parametrize(
    ("attempts", "expected"),
    [
        (0, "2026-11-28T17:49:47Z"),
        (1, "2026-11-28T17:49:47Z"),
        (2, "2026-11-29T17:49:47Z"),
        (3, "2026-12-01T17:49:47Z"),
        (5, "2026-12-13T17:49:47Z"),
        (6, "2026-12-27T17:49:47Z"),  # 32 days capped at 30
        (60, "2026-12-27T17:49:47Z"),
    ],
)
def test_a_lasting_failure_waits_twice_as_long_each_time(attempts: int, expected: str) -> None:
    assert next_attempt_at("2026-11-27T17:49:47Z", attempts, transient=False) == expected
    assert DEFAULT_MAX_DAYS == 30


def test_the_longest_wait_is_a_setting() -> None:
    assert next_attempt_at("2026-11-27T17:49:47Z", 4, False, max_days=3) == "2026-11-30T17:49:47Z"


def test_an_offset_time_is_given_back_in_utc() -> None:
    assert next_attempt_at("2026-11-27T19:49:47+02:00", 1, False) == "2026-11-28T17:49:47Z"
