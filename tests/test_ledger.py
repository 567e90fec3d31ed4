"""The run ledger (caci_spider.ledger): kept in spider.state in one place, owned by the store."""

from __future__ import annotations

from pathlib import Path

from caci_spider.items import Reject
from caci_spider.ledger import RESUMED, ItemFetches, ListingWalk, RunLedger
from caci_spider.spiders.publications import PublicationsSpider
from caci_spider.store import ledger_of, store_of
from tests.unit_crawler import build_spider


def test_a_resumed_run_takes_back_what_the_stopped_one_left_in_its_state() -> None:
    stopped = ListingWalk(first_url="https://example.org/x.html", pages=3)
    state = {"listing_walks": {"field-reports": stopped}, "requested_keys": {("a", 1)}}
    ledger = RunLedger()
    ledger.keep_in(state)
    assert ledger.listing_walks["field-reports"] is stopped
    assert ledger.requested_keys == {("a", 1)}
    # The rest is put there, shared: what the run notes is saved with the state.
    assert set(state) == set(RESUMED)
    ledger.item_fetches.requested += 1
    assert isinstance(state["item_fetches"], ItemFetches) and state["item_fetches"].requested == 1


def test_the_store_opens_the_ledger_with_the_spiders_plan_and_counts_rejects_per_section(
    tmp_path: Path,
) -> None:
    spider = build_spider(PublicationsSpider, tmp_path)
    spider.state = {}  # as Scrapy's SpiderState leaves it with a JOBDIR
    store = store_of(spider.crawler)
    store.spider_opened(spider)
    ledger = ledger_of(spider.crawler)
    assert ledger is store.ledger and ledger.plan.name == "publications"
    assert [t.key for t in ledger.plan.targets] == [t.key for t in spider.targets]
    assert spider.state["listing_walks"] is ledger.listing_walks
    url = f"{spider.target('news-digest').base_url}/publications/news-digest/item/5-x.html"
    store.record_reject(Reject("publications", url, "HTTP 500", "2024-01-01T00:00:00Z"))
    assert ledger.rejects_by_target == {"news-digest": 1}
