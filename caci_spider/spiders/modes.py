"""A spider's ``-a`` arguments: ``mode`` (what a run fetches) and ``walk`` (feed first or not)."""

from __future__ import annotations

from typing import Any

from scrapy.settings import BaseSettings

MODES = ("incremental", "full", "reparse")
# ``-a walk=listing``: walk the listing whatever the feed says (``auto``: feed first when due).
WALKS = ("auto", "listing")
# ``-a mode=reparse``: the page archive is the only source: no network, no politeness delay.
REPARSE_SETTINGS: dict[str, Any] = {
    "CACI_OFFLINE": True,
    "HTTPCACHE_IGNORE_MISSING": True,
    "DOWNLOAD_DELAY": 0,
    "AUTOTHROTTLE_ENABLED": False,
}


def check_arguments(mode: str, walk: str) -> None:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    if walk not in WALKS:
        raise ValueError(f"walk must be one of {', '.join(WALKS)}, not {walk!r}")


def apply_mode(settings: BaseSettings, mode: str) -> None:
    """The settings ``mode`` implies, at the spider's priority."""
    if mode == "reparse":
        for name, value in REPARSE_SETTINGS.items():
            settings.set(name, value, priority="spider")
