"""How two observations of one staff publication meet: one function, one table.

Used wherever observations meet: a listing entry and the item page it links (in the spider,
listing first), and a stored ``staff_publications`` row and a new observation (in the store,
stored row first). For every field:

* a known value is never replaced by null;
* :data:`PRECEDENCE` says how two known values meet: united (``sources``, ``roles``), the later
  (``fetched_at``), or the one with the greater key (the more precise compatible date, the
  longer summary, the page's own address), the first on a tie, so that a stored row does not
  flip between runs;
* every other field is ranked: the higher :class:`~caci_spider.items.SourceRank` wins
  (listing and item pages outrank the sidebar), the first on a tie.

The rank of the result is the higher of the two; the store keeps it with the row.

An item page fills what its listing entry lacks (it ranks below the listing), and that holds for
date, summary and roles too, where two rows of the contract would otherwise clash: between the
sidebar and the listing "the more precise date and the longer summary win", but between a
listing entry and its item page the listing's venue line dates the publication ("from the
listing's venue line, else the item page's venue line, else its K2 date line") and its teaser is
the summary (fixture item 13313: ``expected.json`` keeps the listing's teaser, shorter than the
item's body).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from caci_spider.dates import date_precision, dates_compatible
from caci_spider.items import SourceRank, StaffPublication, is_empty

__all__ = ["PRECEDENCE", "merge_observations"]

Key = Callable[[StaffPublication, Any, Any], tuple[int, ...]]
Rule = Callable[[StaffPublication, Any, StaffPublication, Any], Any]


def _by_key(key: Key) -> Rule:
    """The value whose key is greater; the first one's on a tie."""

    def pick(first: StaffPublication, a: Any, second: StaffPublication, b: Any) -> Any:
        return b if key(second, b, a) > key(first, a, b) else a

    return pick


def _item_page_fills_gaps(rule: Rule) -> Rule:
    """``rule``, except that an item page's value never replaces its listing entry's."""

    def pick(first: StaffPublication, a: Any, second: StaffPublication, b: Any) -> Any:
        if SourceRank.ITEM in (first.rank, second.rank) and first.rank != second.rank:
            return b if first.rank == SourceRank.ITEM else a
        return rule(first, a, second, b)

    return pick


def _united(_first: StaffPublication, a: Any, _second: StaffPublication, b: Any) -> Any:
    return sorted(set(a) | set(b)) if isinstance(a, list) else {**a, **b}


def _date_key(observation: StaffPublication, value: str, other: str) -> tuple[int, ...]:
    """The more precise of two compatible dates; else the higher rank."""
    precision = date_precision(value) if dates_compatible(value, other) else 0
    return precision, observation.rank


def _summary_key(_observation: StaffPublication, value: str, _other: str) -> tuple[int, ...]:
    return (len(value),)


def _url_key(observation: StaffPublication, value: str, _other: str) -> tuple[int, ...]:
    """The page's own address (an item page read) beats a link to it; then the higher rank."""
    return int(value in observation.sources), observation.rank


def _ranked(observation: StaffPublication, _value: Any, _other: Any) -> tuple[int, ...]:
    return (observation.rank,)


PRECEDENCE: dict[str, Rule] = {
    "id": lambda _first, a, _second, _b: a,
    "rank": lambda _first, a, _second, b: max(a, b),
    "fetched_at": lambda _first, _a, _second, b: b,  # the latest observation's
    "sources": _united,
    "documents": _united,
    "url": _by_key(_url_key),
    "roles": _item_page_fills_gaps(_united),
    "date": _item_page_fills_gaps(_by_key(_date_key)),
    "summary": _item_page_fills_gaps(_by_key(_summary_key)),
}
_RANKED = _by_key(_ranked)


def merge_observations(
    first: StaffPublication | None, second: StaffPublication
) -> StaffPublication:
    """One observation from two of the same publication; ``first`` is the stored row or the
    listing entry, ``second`` the new observation or the item page."""
    if first is None:
        return second
    merged: dict[str, Any] = {}
    for field in dataclasses.fields(StaffPublication):
        a, b = getattr(first, field.name), getattr(second, field.name)
        if is_empty(b):
            merged[field.name] = a
        elif is_empty(a):
            merged[field.name] = b
        else:
            merged[field.name] = PRECEDENCE.get(field.name, _RANKED)(first, a, second, b)
    return StaffPublication(**merged)
