"""The politeness policy the crawler ships with (issue: settings for the live site)."""

from scrapy.utils.project import get_project_settings


def test_polite_defaults() -> None:
    settings = get_project_settings()
    assert settings.getbool("ROBOTSTXT_OBEY")
    assert settings.getbool("AUTOTHROTTLE_ENABLED")
    assert settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN") == 1
    assert 0.5 <= settings.getfloat("DOWNLOAD_DELAY") <= 2
    assert settings["USER_AGENT"].startswith("caci_spider/") and "+http" in settings["USER_AGENT"]
    assert settings.getbool("RETRY_ENABLED") and settings.getint("RETRY_TIMES") >= 2
    assert {500, 502, 503, 504, 429} <= {int(c) for c in settings.getlist("RETRY_HTTP_CODES")}
    assert settings.getint("DOWNLOAD_TIMEOUT") > 0 and settings.getint("DOWNLOAD_MAXSIZE") > 0


def test_output_locations_and_base_urls() -> None:
    settings = get_project_settings()
    assert settings["CACI_BASE_URL"] == "https://www.cacianalyst.org"
    assert settings["SILKROAD_BASE_URL"] == "https://www.silkroadstudies.org"
    assert settings["CACI_DB_PATH"] == "exports/caci.db"
    assert settings["CACI_EXPORT_DIR"] == "exports"


def test_every_scrapy_extension_but_the_two_consoles_is_kept() -> None:
    """The consoles (off anyway) are left out of EXTENSIONS_BASE so that a crawl does not import
    them; every other extension Scrapy ships, now or in a later release, stays."""
    from scrapy.settings.default_settings import EXTENSIONS_BASE as scrapy_extensions

    ours = get_project_settings().getdict("EXTENSIONS_BASE")
    left_out = set(scrapy_extensions) - set(ours)
    assert {path.rsplit(".", 1)[-1] for path in left_out} == {"TelnetConsole", "RemoteControl"}
    assert all(ours[path] == order for path, order in scrapy_extensions.items() if path in ours)
