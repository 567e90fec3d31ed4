"""Shared crawl logic for K2 category listings: walk every listing page, fetch each item once.

Spiders built on :class:`K2CategorySpider` only say which category to walk and how to read an
item page; extraction lives in :mod:`caci_spider.pages`, storage in the pipelines, what the run
learns in its ledger (:mod:`caci_spider.ledger`). Everything else a run fetches (the feed, the
canaries, linked documents, the extraction upgrade, the JSON listing) is a channel the spider is
composed of (:mod:`caci_spider.channels`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any, ClassVar, Self

import scrapy
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from caci_spider.channels import Channel, ChannelT, route_of
from caci_spider.channels.canaries import Canaries
from caci_spider.channels.documents import Documents
from caci_spider.channels.feedfirst import FeedFirst
from caci_spider.channels.jsonlisting import JsonListing
from caci_spider.channels.upgrade import Upgrade
from caci_spider.failures import (
    failed_request,
    first_listing_failure,
    http_status,
    left_unread,
    page_problem,
    reject_of,
    status_text,
)
from caci_spider.items import Reject, utc_now
from caci_spider.ledger import RunLedger
from caci_spider.middlewares import archive_fallback
from caci_spider.pages.listing import K2ListingPage
from caci_spider.sources import Section, SiteProfile, sister_spiders
from caci_spider.spiders.modes import MODES, WALKS, apply_mode, check_arguments
from caci_spider.storage import PUBLICATIONS
from caci_spider.store import DatabaseStore, ledger_of, store_of
from caci_spider.targets import Target, site_of, site_settings_of, targets_of
from caci_spider.urls import ItemRef, listing_url


class K2CategorySpider(scrapy.Spider):
    """Walks ``/publications/<category>.html?start=0,4,8,…`` of each section it crawls and
    follows every item link.

    A spider crawls one or more **targets** (:class:`Target`): ``crawled_sections`` names the
    (site, section) pairs (one for a section spider, every section of both sites for
    ``publications``), each read at its site's base URL. Known ids, the feed-first decision, the
    listing walk, canaries and coverage are per target; every request carries its target's key.

    Listing order is not chronological and offsets shift between crawls, so every run visits
    every listing page. Pagination links are followed where the page has them; otherwise the
    next offset is this one plus the number of entries found. A page with no entries ends the
    walk. The K2 id is an item's identity within its site: it is requested once per run whatever
    link form (host variant, print view, query string) pointed to it.
    """

    # The (site, section) pairs this spider crawls, in order (caci_spider.sources).
    crawled_sections: ClassVar[tuple[tuple[SiteProfile, Section], ...]] = ()
    # ``publications.jsonl``-like file of every stored publication, written at close besides
    # each crawled section's export (the ``publications`` spider's); None: none.
    aggregate_export: ClassVar[str | None] = None
    # The first target's category and base-URL setting (single-section spiders name them).
    category: str = ""
    base_url_setting = "CACI_BASE_URL"
    base_url: str  # the first target's base URL, in from_crawler
    targets: list[Target]  # in from_crawler
    allowed_domains: list[str]
    # Every base-URL setting the spider crawls: the database belongs to these sites (default:
    # the settings of the crawled sections' sites).
    site_settings: tuple[str, ...] = ("CACI_BASE_URL",)
    # The ``-a`` arguments the spider takes, with their values (checked before a run starts).
    arguments: dict[str, tuple[str, ...]] = {"mode": MODES, "walk": WALKS}
    # Feed-first incremental runs (caci_spider.sitefeed): the section's K2 feed says which ids
    # are new, and the listing is walked only when the feed cannot say (see initial_requests).
    # A section whose rows take more than the item page gives keeps walking its listing, and says
    # why in ``listing_only_reason`` (recorded in crawl_runs.sources).
    feed_first: bool = False
    listing_only_reason = "this section does not read its feed"
    export_table: str = ""
    coverage_fields: tuple[str, ...] = ()
    coverage_minimums: dict[str, float] = {}
    # Fields a canary (a stored item fetched again) must still yield when its row has them.
    canary_fields: tuple[str, ...] = ()
    # Fields a canary's page must give as its row has them (compared where both have them), and
    # how (field → one of caci_spider.quality.COMPARISONS: "exact", "key", "keys", "date", "words").
    canary_compared: dict[str, str] = {}
    # What the spider is composed of besides its walk (caci_spider.channels), by name.
    channel_types: ClassVar[tuple[type[Channel], ...]] = (
        FeedFirst,
        JsonListing,
        Canaries,
        Documents,
        Upgrade,
    )

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        pairs = cls.__dict__.get("crawled_sections")
        if pairs and "site_settings" not in cls.__dict__:
            cls.site_settings = site_settings_of(pairs)

    def __init__(
        self, *args: Any, mode: str = "incremental", walk: str = "auto", **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        check_arguments(mode, walk)
        self.mode = mode
        self.walk = walk
        self.known: set[Any] = set()
        self.listing_signatures: set[tuple[Any, ...]] = set()
        self.channels = {channel.name: channel(self) for channel in self.channel_types}

    @classmethod
    def policy_of(cls, section: Section) -> type[K2CategorySpider]:
        """The spider class whose feed, coverage and canary policy applies to ``section``: this
        one (a section spider; ``publications`` maps each section to its section spider)."""
        return cls

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        # Offsite rule: every crawled site's host (caci_spider.targets).
        spider.targets, spider.allowed_domains = targets_of(
            cls.name, cls.crawled_sections, cls.policy_of, settings, cls.base_url_setting
        )
        spider.base_url = (
            spider.targets[0].base_url
            if spider.targets
            else settings[cls.base_url_setting].rstrip("/")
        )
        for channel in spider.channels.values():
            channel.connect(crawler)
        apply_mode(settings, spider.mode)  # reparse: the page archive only
        return spider

    # -- channels -------------------------------------------------------------------------------
    def channel(self, kind: type[ChannelT]) -> ChannelT:
        """The spider's channel of ``kind`` (one of ``channel_types``)."""
        channel = self.channels[kind.name]
        assert isinstance(channel, kind)
        return channel

    def channel_answered(self, response: Response, **kwargs: Any) -> Any:
        """The callback of every channel's request: its answer, to the channel's method."""
        name, answered, _ = route_of(response.meta)
        return getattr(self.channels[name], answered)(response, **kwargs)

    def channel_failed(self, failure: Failure) -> Any:
        """The errback of every channel's request: its failure, to the channel's method."""
        name, _, failed = route_of(failed_request(failure).meta)
        return getattr(self.channels[name], failed)(failure)

    # -- targets --------------------------------------------------------------------------------
    def target(self, key: str | None = None) -> Target:
        """The target of ``key`` (a request's ``cb_kwargs["target"]``); ``None``: the first."""
        if key is None:
            return self.targets[0]
        for target in self.targets:
            if target.key == key:
                return target
        raise KeyError(key)

    def fallback_of(self, response: Response) -> str:
        """Why ``response`` came from the page archive instead of the site (``""``: it did
        not); such a page is remembered as not read live."""
        fallback = archive_fallback(response.meta)
        urls = {response.url} | ({response.request.url} if response.request is not None else set())
        self.ledger.note_page(urls, fallback, response.status)
        return fallback

    @property
    def ledger(self) -> RunLedger:
        """What this run learns (:mod:`caci_spider.ledger`), kept by the store extension."""
        return ledger_of(self.crawler)

    @property
    def store(self) -> DatabaseStore:
        return store_of(self.crawler)

    def site_of(self, url: str) -> str | None:
        """The key of the crawled site of publications ``url`` is on (its configured base
        URL's host, or one of the profile's hosts), if any; ``None`` for a spider of another
        table (staff publications' pages have no site in ``rejects``)."""
        return site_of(url, self.targets) if self.export_table == PUBLICATIONS else None

    def known_items(self) -> set[Any]:
        """What an incremental run need not fetch again (``(site, id)`` or URLs, per spider)."""
        return set()

    def backed_off_urls(self) -> set[str]:
        """Rejected pages whose next attempt is not due yet (:mod:`caci_spider.backoff`)."""
        return self.store.database.backed_off_urls((self.name, *self.sister_spiders), utc_now())

    @property
    def sister_spiders(self) -> tuple[str, ...]:
        """The other spiders crawling this spider's publications sections (a section spider and
        ``publications``): their rejects' backoff and listing walks count for this one too."""
        if self.export_table != PUBLICATIONS:
            return ()
        return sister_spiders(self.name, tuple(section for _, section in self.crawled_sections))

    def needs_fetch(self, key: Any) -> bool:
        return self.mode != "incremental" or key not in self.known

    async def start(self) -> AsyncIterator[scrapy.Request]:
        if self.mode == "incremental":
            self.known = self.known_items()
        for channel in self.channels.values():
            channel.begin()
        # Nothing is judged (canaries read their rows below) before every row is re-derived.
        async for request in self.channel(Upgrade).first_requests():
            yield request
        for request in [*self.initial_requests(), *self.channel(Canaries).canary_requests()]:
            yield request

    def initial_requests(self) -> list[scrapy.Request]:
        """Where the crawl begins: each target's feed, or its first listing page (spiders add
        their own sources)."""
        feed = self.channel(FeedFirst)
        return [request for target in self.targets for request in feed.target_requests(target)]

    def walk_requests(self, reason: str, target: Target) -> list[scrapy.Request]:
        """The first requests of a due walk of ``target``'s listing (``reason``: why it is
        walked): the first channel with another way to read the whole listing
        (:mod:`caci_spider.channels.jsonlisting`), else the listing's first page."""
        for channel in self.channels.values():
            requests = channel.walk_requests(reason, target)
            if requests is not None:
                return requests
        self.ledger.sources[target.key].use_listing(reason)
        return [self.listing_request(0, target.key)]

    def listing_request(self, start: int, key: str | None = None) -> scrapy.Request:
        target = self.target(key)
        url = listing_url(target.base_url, target.category_path, start)
        if start == 0:
            self.ledger.listing_walks[target.key].first_url = url
        return scrapy.Request(
            url,
            callback=self.parse_listing,
            errback=self.fetch_failed,
            cb_kwargs={"start": start, "target": target.key},
        )

    def parse_listing(
        self, response: Response, start: int, target: str | None = None
    ) -> Iterator[Any]:
        section = self.target(target)
        walk = self.ledger.listing_walks[section.key]
        if start == 0:
            walk.first_status = response.status
        if not isinstance(response, TextResponse):
            if start == 0:
                walk.first_failure = "is not a text page"
            yield self.reject(response.url, "listing is not a text page", status=response.status)
            return
        listing = K2ListingPage(response.text, response.url, section.base_url, section.section.path)
        self.crawler.stats.inc_value("caci/listing_pages")
        keys, outputs = self.follow_entries(response, listing, section.key)
        entry_count = len(keys)
        fallback = self.fallback_of(response)
        if fallback:
            # The archived copy still guides the walk, but says nothing about the site today.
            self.logger.warning("Listing page %s %s", response.url, fallback)
            if start == 0:
                walk.first_failure = fallback
        else:
            walk.pages += 1
            walk.keys.update(keys)
            if start == 0:
                walk.first_entries = entry_count
        if not entry_count:
            log = self.logger.warning if start == 0 else self.logger.info
            log("Listing ends at start=%d (%s): no entries", start, response.url)
            return
        yield from outputs
        starts = listing.page_starts()
        signature = (section.key, *(entry.id for entry in listing.entries()))
        if not starts and signature not in self.listing_signatures:
            # No pagination block: step by what this page held. A site that ignores ?start
            # serves the same entries again, and that ends the walk instead of looping it.
            starts = [start + entry_count]
        self.listing_signatures.add(signature)
        for next_start in starts:
            if next_start != start:
                yield self.listing_request(next_start, section.key)

    @staticmethod
    def item_key(ref: ItemRef) -> tuple[str, int]:
        """An item's identity: a K2 id is unique only within its site."""
        return (ref.site, ref.id)

    def follow_entries(
        self, response: TextResponse, listing: K2ListingPage, key: str | None = None
    ) -> tuple[list[str], list[Any]]:
        """(a key per entry on the page, requests and items to yield for them)."""
        target = self.target(key)
        entries = listing.entries()
        requests = []
        for entry in entries:
            ref = ItemRef(entry.id, entry.url, target.site)
            if self.item_key(ref) in self.ledger.requested_keys or not self.needs_fetch(
                self.item_key(ref)
            ):
                continue
            self.ledger.requested_keys.add(self.item_key(ref))
            requests.append(self.item_request(ref, entry.title, target.key))
        return [str(entry.id) for entry in entries], requests

    def item_request(
        self, ref: ItemRef, listing_title: str | None, key: str | None = None, **extra: Any
    ) -> scrapy.Request:
        target = self.target(key)
        self.ledger.unanswered[self.item_key(ref)] = ref.url
        for tally in self.ledger.fetch_tallies(target.key):
            tally.requested += 1
        return scrapy.Request(
            ref.url,
            callback=self.parse_item,
            errback=self.fetch_failed,
            cb_kwargs={"ref": ref, "listing_title": listing_title, "target": target.key, **extra},
            # Not dont_filter: that would also let a redirect leave the configured hosts.
        )

    def parse_item(
        self, response: Response, ref: ItemRef, target: str | None = None, **context: Any
    ) -> Iterator[Any]:
        section = self.target(target)
        self.ledger.unanswered.pop(self.item_key(ref), None)
        fallback = self.fallback_of(response)
        for tally in self.ledger.fetch_tallies(section.key):
            if fallback:
                tally.failed(fallback)
                tally.not_read += 1
            else:
                tally.read += 1
        yield from self.read_item(response, ref, section, **context)

    def read_item(
        self, response: Response, ref: ItemRef, section: Target, **context: Any
    ) -> Iterator[Any]:
        """An item page (fetched, or an archived copy) read into items, or a reject."""
        problem = page_problem(response)
        if problem:
            yield self.reject(ref.url, problem, status=response.status)
            return
        # After a redirect to the canonical alias, keep the URL the server settled on.
        final = section.ref(response.url, response.url)
        if final is not None and final.id == ref.id:
            ref = final
        assert isinstance(response, TextResponse)
        yield from self.extract_item(response, ref, **context)

    def extract_item(
        self,
        response: TextResponse,
        ref: ItemRef,
        listing_title: str | None = None,
        **context: Any,
    ) -> Iterator[Any]:
        """Items (or rejects) read from one item page; ``context`` comes from the listing."""
        raise NotImplementedError

    def reextract(self, response: TextResponse, row: dict[str, Any]) -> dict[str, Any]:
        """The fields a stored row's page yields now, through the record-building a crawl runs
        (normalised, body collapsed): comparable, value for value, with the stored row."""
        raise NotImplementedError

    def fetch_failed(self, failure: Failure) -> Iterator[Reject]:
        """A page that answered 4xx/5xx, or still failed after retries, becomes a reject."""
        request = failed_request(failure)
        kwargs = request.cb_kwargs
        if kwargs.get("start") == 0 and request.callback == self.parse_listing:
            walk = self.ledger.listing_walks[self.target(kwargs.get("target")).key]
            walk.first_failure = first_listing_failure(failure)
        if kwargs.get("ref") is not None:
            self.ledger.unanswered.pop(self.item_key(kwargs["ref"]), None)
            for tally in self.ledger.fetch_tallies(kwargs.get("target")):
                tally.failed(status_text(failure))
                tally.not_read += left_unread(failure)
        kind, reason, raw = reject_of(failure)
        if kind == "ignored":
            self.logger.info("Not fetched: %s (%s)", request.url, failure.getErrorMessage())
        if kind != "reject":
            self.crawler.stats.inc_value(f"caci/{kind}")
            return
        yield self.reject(request.url, reason, raw=raw, status=http_status(failure))

    def reject(
        self, url: str, reason: str, raw: str | None = None, status: int | None = None
    ) -> Reject:
        return Reject(self.name, url, reason, utc_now(), raw, status, self.site_of(url))
