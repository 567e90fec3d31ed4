"""A spider's publications are its sites' and sections': the (site, section) pairs it crawls, the
site of its rejects, the rows its canaries are drawn from (caci_spider.spiders.base)."""

from __future__ import annotations

from pathlib import Path

from caci_spider.channels.canaries import Canaries
from caci_spider.sources import CACIANALYST, SILKROADSTUDIES
from caci_spider.spiders.generated import FieldReportsSpider
from caci_spider.spiders.staff_publications import StaffPublicationsSpider
from caci_spider.store import store_of
from tests.reports import field_report
from tests.unit_crawler import CACI, build_spider

TURKEY = "https://www.turkeyanalyst.org"


def test_a_section_spider_crawls_its_own_site_and_section(tmp_path: Path) -> None:
    spider = build_spider(FieldReportsSpider, tmp_path)
    assert spider.crawled_sections == ((CACIANALYST, CACIANALYST.sections[0]),)
    assert spider.aggregate_export is None
    staff = build_spider(StaffPublicationsSpider, tmp_path)
    assert staff.crawled_sections == ((SILKROADSTUDIES, SILKROADSTUDIES.sections[0]),)


def test_a_reject_names_the_site_of_a_publications_page(tmp_path: Path) -> None:
    spider = build_spider(FieldReportsSpider, tmp_path)
    item = f"{CACI}/publications/field-reports/item/7999-a.html"
    assert spider.reject(item, "HTTP 404", status=404).site == "cacianalyst"
    bare = "https://cacianalyst.org./publications/field-reports/item/7999-a.html"
    assert spider.reject(bare, "HTTP 404").site == "cacianalyst"
    # Not a site the spider crawls, and no staff page: no site.
    assert spider.reject(f"{TURKEY}/publications/x.html", "HTTP 404").site is None
    staff = build_spider(StaffPublicationsSpider, tmp_path)
    assert staff.reject("https://www.silkroadstudies.org/x.html", "HTTP 404").site is None


def test_canaries_are_drawn_from_the_spiders_own_sections(tmp_path: Path) -> None:
    spider = build_spider(FieldReportsSpider, tmp_path, {"CACI_CANARY_ITEMS": 5})
    store_of(spider.crawler).spider_opened(spider)
    database = spider.store.database
    database.store_report(field_report(20, "Field report."), "field_reports")
    analytical = field_report(10, "Analytical article.")
    analytical.url = analytical.url.replace("field-reports", "analytical-articles")
    database.store_report(analytical, "analytical_articles")
    other = field_report(5, "Turkey.", site="turkeyanalyst")
    other.url = f"{TURKEY}/publications/field-reports/item/5-x.html"
    database.store_report(other, "turkey_analyst")
    assert [
        (r["site"], r["id"]) for r in spider.channel(Canaries).canary_candidates(spider.target(), 5)
    ] == [("cacianalyst", 20)]
