"""The site profiles (caci_spider.sources) and what the rest of the code derives from them."""

from __future__ import annotations

from datetime import date

import pytest
from scrapy.spiderloader import SpiderLoader
from scrapy.utils.project import get_project_settings

from caci_spider import settings, sources
from caci_spider.dates import (
    DATED_SUFFIX,
    is_dated_line,
    parse_dated_line,
    parse_issue_date,
    parse_issue_designation,
)
from caci_spider.pages.k2 import BODY_END, body_end
from caci_spider.quality import SECTION_NAMES, SITE_NAMES
from caci_spider.sources import CACIANALYST, SILKROADSTUDIES, TURKEYANALYST, SiteProfile
from caci_spider.testworld.localsite import _LISTINGS
from caci_spider.testworld.localsite.layouts import SECTIONS
from caci_spider.urls import SITE_HOSTS, STAFF_CATEGORY, host_key


def spider_classes() -> dict[str, type]:
    loader = SpiderLoader.from_settings(get_project_settings())
    return {name: loader.load(name) for name in loader.list()}


def aggregate_spiders() -> set[str]:
    """Spiders that crawl several sections (``publications``): no section of their own."""
    return {name for name, spider in spider_classes().items() if spider.aggregate_export}  # type: ignore[attr-defined]


def test_every_spider_has_exactly_one_section() -> None:
    spiders = [section.spider for _, section in sources.sections()]
    assert len(spiders) == len(set(spiders))
    assert sorted(spiders) == sorted(set(spider_classes()) - aggregate_spiders())
    assert aggregate_spiders() == {"publications"}


@pytest.mark.parametrize("name", sorted(set(spider_classes()) - aggregate_spiders()))
def test_a_spider_reads_its_attributes_from_its_section(name: str) -> None:
    spider = spider_classes()[name]
    profile, section = sources.section_of(name)
    assert spider.category == section.category  # type: ignore[attr-defined]
    assert spider.export_name == section.export_name  # type: ignore[attr-defined]
    assert spider.coverage_minimums == dict(section.coverage_minimums)  # type: ignore[attr-defined]
    assert spider.base_url_setting == profile.base_url_setting  # type: ignore[attr-defined]
    assert spider.crawled_sections == ((profile, section),)  # type: ignore[attr-defined]
    assert spider.aggregate_export is None  # type: ignore[attr-defined]


def test_publications_crawls_every_publications_section_of_both_sites() -> None:
    spider = spider_classes()["publications"]
    pairs = [(p.key, s.spider) for p, s in spider.crawled_sections]  # type: ignore[attr-defined]
    assert pairs == [
        ("cacianalyst", "field_reports"),
        ("cacianalyst", "analytical_articles"),
        ("cacianalyst", "feature_articles"),
        ("cacianalyst", "news_digest"),
        ("silkroadstudies", "silk_road_papers"),
        ("silkroadstudies", "srs_news"),
        ("silkroadstudies", "srs_events"),
        ("turkeyanalyst", "turkey_analyst"),
    ]
    assert spider.aggregate_export == "publications.jsonl"  # type: ignore[attr-defined]
    assert spider.site_settings == (  # type: ignore[attr-defined]
        "CACI_BASE_URL", "SILKROAD_BASE_URL", "TURKEY_ANALYST_BASE_URL",
    )  # fmt: skip


def test_the_spiders_attributes_are_as_before() -> None:
    spiders = spider_classes()
    field, staff = spiders["field_reports"], spiders["staff_publications"]
    assert (field.category, field.export_name, field.base_url_setting) == (  # type: ignore[attr-defined]
        "field-reports",
        "field_reports.jsonl",
        "CACI_BASE_URL",
    )
    assert field.coverage_minimums == {  # type: ignore[attr-defined]
        "title": 0.95,
        "body": 0.95,
        "published": 0.95,
        "authors": 0.90,
    }
    assert (staff.category, staff.export_name, staff.base_url_setting) == (  # type: ignore[attr-defined]
        "joint-center-publications",
        "staff_publications.jsonl",
        "SILKROAD_BASE_URL",
    )
    assert staff.site_settings == ("CACI_BASE_URL", "SILKROAD_BASE_URL")  # type: ignore[attr-defined]
    assert staff.coverage_minimums == {"title": 0.90}  # type: ignore[attr-defined]
    assert STAFF_CATEGORY == "joint-center-publications"


def test_keys_settings_and_categories_are_unique() -> None:
    keys = [p.key for p in sources.PROFILES]
    assert keys == ["cacianalyst", "silkroadstudies", "turkeyanalyst"]
    assert len({p.base_url_setting for p in sources.PROFILES}) == len(keys)
    assert set(sources.BY_KEY) == set(keys)
    slugs = [(p.key, s.category) for p, s in sources.sections()]
    assert len(slugs) == len(set(slugs))
    exports = [s.export_name for _, s in sources.sections()]
    assert len(exports) == len(set(exports))


@pytest.mark.parametrize("profile", sources.PROFILES, ids=lambda p: p.key)
def test_a_profiles_hosts_include_its_default_base_urls_host(profile: sources.SiteProfile) -> None:
    assert sources.host_of(profile.default_base_url) in profile.hosts
    # the host form urls.host_key gives, for every variant of the host
    for host in profile.hosts:
        for variant in (host, f"www.{host}", f"{host}.", f"WWW.{host.upper()}."):
            assert host_key(variant) == host


@pytest.mark.parametrize("profile", sources.PROFILES, ids=lambda p: p.key)
def test_every_section_name_is_among_its_sites_names(profile: sources.SiteProfile) -> None:
    for section in profile.sections:
        assert section.name in profile.section_names


def test_settings_read_the_default_base_urls_from_the_profiles() -> None:
    assert settings.CACI_BASE_URL == "https://www.cacianalyst.org"
    assert settings.SILKROAD_BASE_URL == "https://www.silkroadstudies.org"
    for profile in sources.crawled_profiles():
        assert getattr(settings, profile.base_url_setting) == profile.default_base_url
    assert settings.TURKEY_ANALYST_BASE_URL == "https://www.turkeyanalyst.org"


def test_site_hosts_are_the_crawled_profiles_hosts() -> None:
    assert frozenset({"cacianalyst.org", "silkroadstudies.org", "turkeyanalyst.org"}) == SITE_HOSTS


def test_quality_names_are_every_crawled_sites() -> None:
    assert SITE_NAMES == (
        "Central Asia-Caucasus Analyst",
        "The Central Asia-Caucasus Analyst",
        "CACI Analyst",
        "The CACI Analyst",
        "cacianalyst.org",
        "www.cacianalyst.org",
        "Central Asia-Caucasus Institute",
        "Central Asia-Caucasus Institute & Silk Road Studies Program",
        "Central Asia-Caucasus Institute and Silk Road Studies Program",
        "Central Asia-Caucasus Institute & Silk Road Studies Program Joint Center",
        "Silk Road Studies",
        "Silk Road Studies Program",
        "silkroadstudies.org",
        "www.silkroadstudies.org",
        "Turkey Analyst",
        "The Turkey Analyst",
        "turkeyanalyst.org",
        "www.turkeyanalyst.org",
    )
    assert SECTION_NAMES == (
        "Home",
        "Publications",
        "Field Reports",
        "Analytical Articles",
        "News Digest",
        "Feature Articles",
        "Staff Publications",
        "Joint Center Publications",
        "Silkroad Papers and Monographs",
        "Silk Road Papers and Monographs",
        "News",
        "Forums & Events",
        "Articles",
    )


def test_local_site_names_its_categories_from_the_profiles() -> None:
    declared = {section.category: section.name for _, section in sources.sections()}
    assert declared == SECTIONS
    assert declared["turkey-analyst-articles"] == "Articles"
    listings = {s.category: (f"{s.path}.html", s.name) for _, s in sources.sections()}
    assert listings == _LISTINGS


ANALYST_BLURB = "The Central Asia-Caucasus Analyst is a biweekly publication of the Joint Center"
INSTITUTE_BLURB = "Central Asia-Caucasus Institute & Silk Road Studies Program, a joint center"


@pytest.mark.parametrize(
    ("profile", "line"),
    [
        (CACIANALYST, ANALYST_BLURB),
        (CACIANALYST, "the central  asia-caucasus analyst is a BIWEEKLY"),
        (SILKROADSTUDIES, INSTITUTE_BLURB),
        (SILKROADSTUDIES, INSTITUTE_BLURB.replace("&", "and")),
        (CACIANALYST, "Newsletter"),
        (TURKEYANALYST, "newsletter"),
        (TURKEYANALYST, "Latest Articles"),
    ],
)  # fmt: skip
def test_the_footer_markers_from_a_profile_end_its_body(profile: SiteProfile, line: str) -> None:
    assert body_end(profile.boilerplate).match(line)


@pytest.mark.parametrize(
    ("profile", "line"),
    [
        (TURKEYANALYST, ANALYST_BLURB),
        (CACIANALYST, INSTITUTE_BLURB),
        (SILKROADSTUDIES, "Newsletter"),
        (CACIANALYST, "Latest Articles"),
    ],
)  # fmt: skip
def test_another_sites_footer_markers_do_not_end_a_body(profile: SiteProfile, line: str) -> None:
    assert not body_end(profile.boilerplate).match(line)
    assert not BODY_END.match(line)  # K2's own end lines name no site


@pytest.mark.parametrize(
    "line",
    [
        "The Central Asia-Caucasus Analyst reported a biweekly figure",
        "Newsletter subscriptions rose",
        "Central Asia-Caucasus Institute & Silk Road Studies Program and partners",
    ],
)
def test_prose_near_the_footer_markers_does_not_end_a_body(line: str) -> None:
    for profile in sources.PROFILES:
        assert not body_end(profile.boilerplate).match(line)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("November 16th, 2015, The CACI Analyst", date(2015, 11, 16)),
        ("January 28, 2021, the CACI Analyst", date(2021, 1, 28)),
        ("March 28, 2022", date(2022, 3, 28)),
        ("November 3rd, 2015, The Turkey Analyst", date(2015, 11, 3)),
        ("December 14, 2016", date(2016, 12, 14)),
    ],
)
def test_dated_lines_of_every_publication_name(line: str, expected: date) -> None:
    assert is_dated_line(line)
    assert parse_dated_line(line, None) == expected
    assert DATED_SUFFIX.search(f"By Halil Karaveli {line}")


def test_a_name_no_profile_uses_is_not_a_dated_line() -> None:
    assert not is_dated_line("November 3rd, 2015, The Eurasia Analyst")


def test_the_publication_names_pattern() -> None:
    assert sources.publication_names() == ("CACI Analyst", "Turkey Analyst")
    assert sources.publication_names_pattern() == r"(?:caci\s+analyst|turkey\s+analyst)"


@pytest.mark.parametrize(
    ("byline", "expected"),
    [
        ("By Gareth Jenkins (vol. 2, no. 3 of the Turkey Analyst)", "vol. 2, no. 3"),
        ("by Halil M. Karaveli (vol. 6, no. 2 of the Turkey Analyst)", "vol. 6, no. 2"),
        (
            "By M. K. Kaya and Halil M. Karaveli (vol. 6,  no. 2 of the Turkey Analyst)",
            "vol. 6, no. 2",
        ),
        ("By Jane Doe (2/11/2004 issue of the CACI Analyst)", None),
        ("By Jane Doe", None),
    ],
)
def test_an_issue_designation_is_recognised(byline: str, expected: str | None) -> None:
    assert parse_issue_designation(byline) == expected
    if expected is not None:
        assert parse_issue_date(byline, None) is None  # not a date: issue_date stays null
