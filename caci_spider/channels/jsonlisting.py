"""The JSON listing channel: a due walk of a section's listing read as K2's JSON listing.

A walk of the whole listing (a first crawl, ``-a mode=full``, a walk due after
``CACI_LISTING_WALK_DAYS``) costs one request per 4 entries and one per item on the HTML route.
K2 answers the same category as JSON, up to 100 items a request with their full text
(:mod:`caci_spider.jsonlistings`). This channel tries it and proves it on every run:

1. probe ``<category>.json?limit=N``, then ``<category>.html?format=json&limit=N``;
2. learn the paging from ``page=1`` (K2 2.10+: offset ``page*limit``, a new page; 2.6–2.9:
   ``page`` counts from 1, the first page again), take the page size from the first answer, and
   stop at an empty, short or no-new-ids page (at most ``CACI_JSON_MAX_PAGES``);
3. fetch ``CACI_JSON_CROSS_CHECKS`` of the items as item pages: their date lines give the site's
   UTC offset (JSON dates are UTC), and their rows must equal the rows built from JSON;
4. store every item through the item page object and the pipelines, as the HTML route does.

Anything refused on the way walks the HTML listing as before, with the reason in the
section's ``json`` entry of ``crawl_runs.sources`` and one INFO line; a cross-check that differs
systematically (or dates that agree on no UTC offset) also fails the run, and nothing of the
JSON is stored.
Nightly feed-first runs never come here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import scrapy
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from caci_spider.channels import Channel
from caci_spider.channels.documents import Documents
from caci_spider.dates import parse_k2_date
from caci_spider.failures import failed_request, failure_reason
from caci_spider.items import PublicationPage, utc_now
from caci_spider.jsonlistings import (
    NULL_DATE,
    JsonItem,
    JsonRefused,
    format_offset,
    item_page_of,
    learn_offset,
    local_time_of,
    offset_bounds,
    parse_page,
)
from caci_spider.middlewares import archive_fallback
from caci_spider.pages.item import item_page
from caci_spider.records import collapse_body, normalise_publication
from caci_spider.storage import CONTRACT_KEYS, PUBLICATIONS

if TYPE_CHECKING:
    from caci_spider.targets import Target

# The two URL forms K2 answers JSON at (Joomla maps a ``.json`` suffix to ``format=json``);
# ``path`` is the section's listing path (``/publications/field-reports``,
# ``/silkroadstudies-news``).
JSON_FORMS = (
    "{base}{path}.json?limit={limit}",
    "{base}{path}.html?format=json&limit={limit}",
)
PAGING_OFFSET = "page=P is offset P*limit (K2 2.10+)"
PAGING_FROM_ONE = "page counts from 1 (K2 2.6-2.9)"
# Compared between the JSON row and the item page's row of a cross-checked item (hits: below).
_IGNORED = frozenset({"fetched_at", "hits"})


@dataclass
class JsonWalk:
    """One section's JSON walk in this run."""

    reason: str  # why the listing is walked at all
    form: int = 0
    refusals: list[str] = field(default_factory=list)
    first_ids: list[int] = field(default_factory=list)
    items: dict[int, JsonItem] = field(default_factory=dict)
    page_size: int = 0
    paging: str = ""
    urls: list[str] = field(default_factory=list)
    checks: dict[int, PublicationPage | None] = field(default_factory=dict)
    pending: int = 0


def row_of(page: PublicationPage) -> dict[str, Any]:
    """The contract row the pipelines build from ``page`` (without validation)."""
    return collapse_body(normalise_publication(page)).as_row()


def differing_fields(json_row: dict[str, Any], html_row: dict[str, Any]) -> list[str]:
    """Fields of a JSON-built row that differ from its item page's row. Hits may only have
    grown (the page is read after the listing), and count only where the page prints them."""
    names = [
        key
        for key in CONTRACT_KEYS
        if key not in _IGNORED and json_row.get(key) != html_row.get(key)
    ]
    json_hits, html_hits = json_row.get("hits"), html_row.get("hits")
    if html_hits is not None and (json_hits is None or html_hits < json_hits):
        names.append("hits")
    return names


def cross_check(
    walk: JsonWalk, checked: dict[int, PublicationPage]
) -> tuple[timedelta | None, str]:
    """(the site's UTC offset, ``""``) when the cross-checked item pages agree with their JSON
    entries; else (``None`` or the offset, why they do not)."""
    bounds = []
    for item_id, page in checked.items():
        day = parse_k2_date(page.date_line)
        created = walk.items[item_id].created
        if day is not None and created != NULL_DATE:
            bounds.append(offset_bounds(created, day, local_time_of(page.date_line)))
    offset = learn_offset(bounds) if bounds else timedelta(0)
    if offset is None:
        return None, (
            f"the JSON listing's created dates and the item pages' date lines agree on no "
            f"UTC offset ({len(bounds)} items compared)"
        )
    differing: dict[str, list[int]] = {}
    for item_id, page in checked.items():
        json_page = item_page_of(walk.items[item_id], offset, utc_now())
        for name in differing_fields(row_of(json_page), row_of(page)):
            differing.setdefault(name, []).append(item_id)
    systematic = {name: ids for name, ids in differing.items() if len(ids) * 2 > len(checked)}
    if not systematic:
        return offset, ""
    return offset, "JSON rows differ from their item pages in " + ", ".join(
        f"{name} (items {', '.join(map(str, ids))})" for name, ids in sorted(systematic.items())
    )


class JsonListing(Channel):
    """The JSON channel of :mod:`this module <caci_spider.channels.jsonlisting>`, for spiders of
    ``publications`` rows."""

    name = "json"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.json_walks: dict[str, JsonWalk] = {}

    def json_enabled(self) -> bool:
        return self.spider.export_table == PUBLICATIONS and self.settings.getbool(
            "CACI_JSON_LISTINGS"
        )

    def walk_requests(self, reason: str, target: Target) -> list[scrapy.Request] | None:
        """The first request of a due walk read as JSON (``None``: the HTML walk)."""
        if not self.json_enabled():
            return None
        source = self.ledger.sources[target.key]
        source.source, source.reason = "json", reason
        self.json_walks[target.key] = JsonWalk(reason)
        return [self.json_request(target, 0, 0)]

    # -- the JSON pages ------------------------------------------------------------------------
    def json_request(self, target: Target, form: int, page: int) -> scrapy.Request:
        settings = self.settings
        url = JSON_FORMS[form].format(
            base=target.base_url,
            path=target.section.path,
            limit=settings.getint("CACI_JSON_PAGE_SIZE"),
        )
        if page:
            url += f"&page={page}"
        self.json_walks[target.key].urls.append(url)
        return self.request(
            url,
            "parse_json_page",
            "json_failed",
            cb_kwargs={"target": target.key, "form": form, "page": page},
            meta={"download_maxsize": settings.getint("CACI_JSON_MAXSIZE"), "download_warnsize": 0},
            priority=2,
        )

    def parse_json_page(
        self, response: Response, target: str, form: int, page: int
    ) -> Iterator[Any]:
        section = self.spider.target(target)
        walk = self.json_walks[section.key]
        self.inc("caci/json/pages")
        fallback = archive_fallback(response.meta)
        if fallback:
            yield from self.json_refused(
                section, form, page, f"served from the archive: {fallback}"
            )
            return
        try:
            items = parse_page(
                response.body,
                response.url,
                section.base_url,
                section.section.path,
                section.site,
                self.settings.getint("CACI_JSON_MAXSIZE"),
            )
        except JsonRefused as refused:
            yield from self.json_refused(section, form, page, str(refused))
            return
        ids = [item.ref.id for item in items]
        if len(set(ids)) != len(ids):
            yield from self.json_refused(section, form, page, "a JSON page lists an id twice")
            return
        if page == 0:
            if not items:
                yield from self.json_refused(section, form, page, "the first JSON page is empty")
                return
            walk.form, walk.first_ids, walk.page_size = form, ids, len(items)
            walk.items.update((item.ref.id, item) for item in items)
            yield self.json_request(section, form, 1)
            return
        if page == 1:
            # Which K2 paging: page=1 is the first page again (2.6-2.9) or the next (2.10+).
            if ids == walk.first_ids:
                walk.paging = PAGING_FROM_ONE
                yield self.json_request(section, form, 2)
                return
            if set(ids) & set(walk.first_ids):
                yield from self.json_refused(
                    section, form, page, "page=1 repeats part of the first page: paging unknown"
                )
                return
            walk.paging = PAGING_OFFSET
        new = [item for item in items if item.ref.id not in walk.items]
        walk.items.update((item.ref.id, item) for item in new)
        if not items or not new or len(items) < walk.page_size:
            yield from self.start_cross_checks(section)
            return
        if page + 1 >= self.settings.getint("CACI_JSON_MAX_PAGES"):
            yield from self.json_refused(
                section, form, page, f"more than CACI_JSON_MAX_PAGES JSON pages ({page + 1})"
            )
            return
        yield self.json_request(section, form, page + 1)

    def json_failed(self, failure: Failure) -> Iterator[Any]:
        request = failed_request(failure)
        kwargs = request.cb_kwargs
        section = self.spider.target(kwargs["target"])
        message = failure.getErrorMessage()
        reason = (
            "larger than CACI_JSON_MAXSIZE, refused unread"
            if "max size" in message
            else f"answered {failure_reason(failure)}"
        )
        yield from self.json_refused(section, kwargs["form"], kwargs["page"], reason)

    def json_refused(self, target: Target, form: int, page: int, reason: str) -> Iterator[Any]:
        """The JSON answer cannot be used: the next URL form, else the HTML walk."""
        walk = self.json_walks[target.key]
        walk.refusals.append(f"{walk.urls[-1] if walk.urls else ''}: {reason}")
        if page == 0 and form + 1 < len(JSON_FORMS):
            yield self.json_request(target, form + 1, 0)
            return
        yield from self.json_to_listing(target, "; ".join(walk.refusals))

    def json_to_listing(self, target: Target, why: str) -> Iterator[scrapy.Request]:
        walk = self.json_walks[target.key]
        self.inc("caci/json/not_used")
        self.logger.info(
            "JSON listing of %s not used (%s); walking the HTML listing", target.category, why
        )
        self.ledger.sources[target.key].use_listing(walk.reason)
        self.ledger.sources[target.key].json = f"not used: {why}"
        yield self.spider.listing_request(0, target.key)

    # -- cross-checks: a few items read as item pages too -------------------------------------
    def start_cross_checks(self, target: Target) -> Iterator[scrapy.Request]:
        walk = self.json_walks[target.key]
        listed = list(walk.items.values())
        count = max(1, self.settings.getint("CACI_JSON_CROSS_CHECKS"))
        # Spread over the listing: its first, middle and last items, then the rest in order.
        spread = [0, len(listed) // 2, len(listed) - 1, *range(len(listed))]
        chosen = [listed[i] for i in dict.fromkeys(spread)][:count]
        walk.pending = len(chosen)
        for item in chosen:
            key = self.spider.item_key(item.ref)
            # The HTML walk, should it follow, must not ask for this page again.
            self.ledger.requested_keys.add(key)
            self.ledger.unanswered[key] = item.ref.url
            for tally in self.ledger.fetch_tallies(target.key):
                tally.requested += 1
            yield self.request(
                item.ref.url,
                "parse_json_check",
                "json_check_failed",
                cb_kwargs={"ref": item.ref, "target": target.key},
                priority=1,
            )

    def parse_json_check(self, response: Response, ref: Any, target: str) -> Iterator[Any]:
        section = self.spider.target(target)
        self.ledger.unanswered.pop(self.spider.item_key(ref), None)
        fallback = archive_fallback(response.meta)
        page = None
        for tally in self.ledger.fetch_tallies(section.key):
            if fallback:
                tally.failed(fallback.split(";")[0])
            else:
                tally.read += 1
        if isinstance(response, TextResponse) and response.status == 200 and not fallback:
            page = item_page(response.text, ref, utc_now()).extract()
        yield from self.json_check_done(section, ref.id, page)

    def json_check_failed(self, failure: Failure) -> Iterator[Any]:
        request = failed_request(failure)
        yield from self.spider.fetch_failed(failure)
        section = self.spider.target(request.cb_kwargs["target"])
        yield from self.json_check_done(section, request.cb_kwargs["ref"].id, None)

    def json_check_done(
        self, target: Target, item_id: int, page: PublicationPage | None
    ) -> Iterator[Any]:
        walk = self.json_walks[target.key]
        walk.checks[item_id] = page
        walk.pending -= 1
        if walk.pending <= 0:
            yield from self.json_decide(target)

    def json_decide(self, target: Target) -> Iterator[Any]:
        walk = self.json_walks[target.key]
        checked = {item_id: page for item_id, page in walk.checks.items() if page is not None}
        for page in checked.values():
            if not page.title:
                page.title = walk.items[page.id or 0].title  # as the listing's title stands in
        if not checked:
            yield from self.json_to_listing(target, "no cross-check item page could be read")
            return
        offset, problem = cross_check(walk, checked)
        if problem:
            message = f"{target.category}: {problem}; nothing stored from JSON"
            self.logger.error("JSON listing cross-check failed for %s", message)
            self.ledger.source_problems.append(message)
            # The pages read for the check are item pages like any other: stored as such.
            for page in checked.values():
                yield page
            yield from self.json_to_listing(target, f"cross-check failed: {problem}")
            return
        assert offset is not None
        yield from self.json_rows(target, offset, len(checked))

    # -- rows ------------------------------------------------------------------------------------
    def json_rows(self, target: Target, offset: timedelta, checked: int) -> Iterator[Any]:
        walk = self.json_walks[target.key]
        source = self.ledger.sources[target.key]
        pages = len(walk.urls) - (1 if walk.form else 0)
        source.json = (
            f"{len(walk.items)} items in {pages} JSON pages of "
            f"{walk.page_size} ({walk.paging or 'one page'}), {checked} cross-checked, "
            f"site UTC offset {format_offset(offset)}"
        )
        self.logger.info("JSON listing of %s: %s", target.category, source.json)
        listing = self.ledger.listing_walks[target.key]
        listing.first_url = walk.urls[-pages]
        listing.first_status = 200
        listing.first_entries = len(walk.first_ids)
        listing.pages += pages
        listing.keys.update(str(item_id) for item_id in walk.items)
        stats = self.crawler.stats
        stats.inc_value("caci/json/items", len(walk.items))
        for item in walk.items.values():
            key = self.spider.item_key(item.ref)
            if self.spider.mode == "incremental" and not self.spider.needs_fetch(key):
                continue  # stored already: a walk due looks for what the feed missed
            page = item_page_of(item, offset, utc_now())
            if self.spider.mode == "full" and self.unchanged(page):
                stats.inc_value("caci/json/unchanged")
                continue
            yield page
            if page.pdf_url:
                yield from self.spider.channel(Documents).document_requests([page.pdf_url])

    def unchanged(self, page: PublicationPage) -> bool:
        """Whether ``page`` gives its stored row again (hits aside): nothing to write."""
        stored = self.store.database.publication(page.site, page.id or 0)
        if stored is None:
            return False
        row = row_of(page)
        return all(stored.get(key) == row.get(key) for key in CONTRACT_KEYS if key not in _IGNORED)
