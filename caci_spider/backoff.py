"""When a rejected page is tried again.

A page that fails for good (404/410, a page without a body or date, one that cannot be read)
would otherwise be fetched and rejected again every night. It is tried again after 1, 2, 4 …
days (at most ``CACI_REJECT_BACKOFF_MAX_DAYS``, 30 by default), counting its attempts. A failure
of the moment (5xx, 408/429, a timeout or a dropped connection, a cut-off page) is tried again
by the next run. ``-a mode=full`` tries every rejected page again.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from caci_spider import settings as default_settings

# The default of -s CACI_REJECT_BACKOFF_MAX_DAYS, from its one home.
DEFAULT_MAX_DAYS = default_settings.CACI_REJECT_BACKOFF_MAX_DAYS
_TRANSIENT_STATUSES = frozenset({408, 429})
# Reject reasons (see the spiders and pipelines) that name a failure of the moment.
_TRANSIENT_REASONS = ("fetch failed", "truncated page", "empty page")


def is_transient(reason: str, status: int | None) -> bool:
    if status is not None and (status >= 500 or status in _TRANSIENT_STATUSES):
        return True
    return reason.startswith(_TRANSIENT_REASONS)


def next_attempt_at(
    fetched_at: str, attempts: int, transient: bool, max_days: int = DEFAULT_MAX_DAYS
) -> str:
    """ISO time from which the page is fetched again (``fetched_at`` itself: the next run)."""
    if transient:
        return fetched_at
    when = datetime.fromisoformat(fetched_at.replace("Z", "+00:00")).astimezone(UTC)
    days = min(2 ** max(attempts - 1, 0), max_days)
    return (when + timedelta(days=days)).isoformat(timespec="seconds").replace("+00:00", "Z")
