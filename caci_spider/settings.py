"""Crawl policy. Every setting can be overridden on the command line with ``-s NAME=value``."""

import os

from scrapy.settings.default_settings import EXTENSIONS_BASE as _SCRAPY_EXTENSIONS

from caci_spider import sources as _sources  # lower-case: not a setting

BOT_NAME = "caci_spider"
SPIDER_MODULES = ["caci_spider.spiders"]
NEWSPIDER_MODULE = "caci_spider.spiders"

# --- where to crawl and where results go ---------------------------------------------------
# The sites' default base URLs are declared with their profiles (caci_spider.sources).
CACI_BASE_URL = _sources.CACIANALYST.default_base_url  # https://www.cacianalyst.org
SILKROAD_BASE_URL = _sources.SILKROADSTUDIES.default_base_url  # https://www.silkroadstudies.org
TURKEY_ANALYST_BASE_URL = _sources.TURKEYANALYST.default_base_url  # https://www.turkeyanalyst.org
# Relative paths (CACI_DB_PATH, CACI_EXPORT_DIR, HTTPCACHE_DIR) are taken from CACI_DATA_DIR
# (an absolute directory; the environment variable of that name when the setting is not given),
# else from the project root (the checkout's scrapy.cfg). A deployed egg (Scrapyd) has no
# checkout: give it CACI_DATA_DIR or absolute paths (caci_spider.paths).
CACI_DATA_DIR = os.environ.get("CACI_DATA_DIR", "")
# "local" (or "local:PORT") crawls the local K2 site (caci_spider.testworld.localsite) into
# exports/local/ at full speed: every base URL, path and pace in one word (caci_spider.sitechoice);
# the environment variable of that name when the setting is not given.
CACI_SITE = os.environ.get("CACI_SITE", "") or "live"
CACI_DB_PATH = "exports/caci.db"
CACI_EXPORT_DIR = "exports"

# --- politeness towards a small institute's server ------------------------------------------
# Names the project and says where to reach whoever runs it. Replace the placeholder contact
# (-s USER_AGENT="caci_spider/0.1 (+https://your.site/contact)"): a crawl of a live site logs a
# warning while it is still there.
USER_AGENT = "caci_spider/0.1 (+https://example.org/caci_spider-operator-contact)"
ROBOTSTXT_OBEY = True
# Few requests in flight: a ban or a stop then leaves little already queued for the site.
CONCURRENT_REQUESTS = 2
CONCURRENT_REQUESTS_PER_DOMAIN = 1
# Scrapy starts this many asyncio tasks for the output of every response; our callbacks yield at
# most a handful of requests and items and the pipelines are synchronous, so Scrapy's 100 only
# costs CPU (about 1 ms a page on the 2-core benchmark machine).
CONCURRENT_ITEMS = 8
DOWNLOAD_DELAY = 1.0
DOWNLOAD_DELAY_JITTER = 0.5  # ±50 % around DOWNLOAD_DELAY
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 60
DOWNLOAD_MAXSIZE = 16 * 1024 * 1024
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024

# Transient failures (5xx, timeouts, dropped connections) are retried; what still fails is
# recorded in the rejects table by the spider's errback.
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]

# Scrapy's retries plus Retry-After and ban detection (caci_spider.middlewares).
CACI_RETRY_AFTER_MAX = 600
CACI_BAN_THRESHOLD = 8
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "caci_spider.middlewares.PoliteRetryMiddleware": 550,
    # The page archive: Scrapy's HTTP cache middleware, with a failed connection covered by the
    # archived copy only once retries are spent (caci_spider.archive).
    "scrapy.downloadermiddlewares.httpcache.HttpCacheMiddleware": None,
    "caci_spider.archive.ArchiveMiddleware": 900,
    # Between the page archive (900) and the network: what the site itself answered.
    "caci_spider.middlewares.LiveStatusMiddleware": 920,
    # Nearer the network still: a host that never answered is given up after its first
    # request's retries, before the page archive can cover each failure with its copy.
    "caci_spider.middlewares.UnansweringHostMiddleware": 930,
    # Below the page archive (900), so that the stats count what went over the network:
    # real 304s, and no requests at all in mode=reparse.
    "scrapy.downloadermiddlewares.stats.DownloaderStats": 950,
}

# --- the page archive (caci_spider.archive): every good page kept for mode=reparse ---------
HTTPCACHE_ENABLED = True
HTTPCACHE_POLICY = "caci_spider.archive.ArchivePolicy"
HTTPCACHE_STORAGE = "caci_spider.archive.SqliteArchiveStorage"
HTTPCACHE_DIR = ".scrapy/httpcache"  # relative paths are taken from the project root
HTTPCACHE_EXPIRATION_SECS = 0
CACI_OFFLINE = False

# --- runs: recorded in crawl_runs, self-checked; `scrapy crawl` exits 1 on failure ---------
EXTENSIONS = {
    # Owns the database, its lock and the run (caci_spider.store); the others find it.
    "caci_spider.store.DatabaseStore": 100,
    "caci_spider.extensions.JobDirMarks": 110,
    "caci_spider.extensions.ContactWarning": 120,
    "caci_spider.extensions.CrawlRunRecorder": 500,
    # -O/-o/FEEDS get the rows the run stored, not every item the pipelines passed on.
    "scrapy.extensions.feedexport.FeedExporter": None,
    "caci_spider.feeds.StoredRowsFeedExporter": 0,
}
# Scrapy's own extensions but the two consoles, which are off here (TELNETCONSOLE_ENABLED,
# REMOTE_CONTROL_ENABLED below): Scrapy imports every class its extension settings name, even
# one set to None, and the remote control's module alone imports aiohttp's web server, about
# 0.15 s of CPU at the start of every crawl (the test suite starts some 300 crawls).
EXTENSIONS_BASE = {
    path: order
    for path, order in _SCRAPY_EXTENSIONS.items()
    if path.rsplit(".", 1)[-1] not in ("TelnetConsole", "RemoteControl")
}
# Field coverage is judged only when a run extracted at least this many items (smaller runs
# are judged by the listing checks and the canaries).
CACI_COVERAGE_MIN_ITEMS = 10
# Stored items fetched again (unconditionally) by every incremental run, rotating through the
# stored rows, to see that item pages still yield the fields their rows have.
CACI_CANARY_ITEMS = 1
# A canary's body must read like its stored row's: word-level similarity (difflib's ratio over the
# two word lists) at least this. A corrected typo stays above 0.99; a body that lost half its text
# falls to about 0.67. Title, authors and published date must be equal (caci_spider.quality).
CACI_CANARY_MIN_SIMILARITY = 0.9
# Stored items extracted again (mode=full, mode=reparse) whose rows have issue_date or tags and
# whose new extraction lacks them keep the stored values; when they are at least this share of
# the refetched items whose rows have the field, the item pages changed and the run fails.
CACI_VANISHED_MAX_SHARE = 0.2
# The same short paragraph at the start or end of this many items' bodies is page chrome the
# extraction does not know (a toolbar under new words): the run fails (0: never judged).
CACI_REPEATED_PARAGRAPH_ITEMS = 3
# Incremental runs read each section's K2 feed first (the newest 10 items) and fetch only its
# unknown ids; the whole listing is walked again when the section's last complete walk is this
# many days old, so that items that never reach the top of the feed (back-dated, moved between
# sections) are found within that time. 0: walk the listing every run.
CACI_LISTING_WALK_DAYS = 7
# A feed larger than this is refused unread (10 items of intro text are a few KiB) and the run
# walks the listing instead.
CACI_FEED_MAXSIZE = 1024 * 1024
# K2's JSON category listings (caci_spider.channels.jsonlisting, docs/json-listings.md): a due
# walk of a section's listing (first crawl, mode=full, CACI_LISTING_WALK_DAYS) reads the section
# as JSON, CACI_JSON_PAGE_SIZE items a request, when the site answers it and the answer passes
# every check; CACI_JSON_CROSS_CHECKS of its items are fetched as item pages and compared.
# Anything else walks the HTML listing. False: always the HTML listing.
CACI_JSON_LISTINGS = True
CACI_JSON_PAGE_SIZE = 100
# A JSON page larger than this is refused unread (100 items of full text are a few MiB at most).
CACI_JSON_MAXSIZE = 16 * 1024 * 1024
# A section of more than this many JSON pages is walked as HTML (a site that pages forever).
CACI_JSON_MAX_PAGES = 200
CACI_JSON_CROSS_CHECKS = 3
# Linked PDFs (caci_spider.documents): one larger than this is not downloaded (a reject), and
# its text extraction runs in a worker process killed after CACI_PDF_TIMEOUT seconds.
CACI_PDF_MAXSIZE = 50 * 1024 * 1024
CACI_PDF_TIMEOUT = 60.0
# A walk that finds fewer listing entries than this share of the last passing run's fails.
CACI_LISTING_MIN_SHARE = 0.8
# A run refused by the database lock exits 75 (skipped), unless the lock has been held this long:
# then the holder hangs, and the refused run exits 1 so that the scheduler reports it.
CACI_LOCK_STALE_HOURS = 20
# Longest wait before a permanently failing page (404/410, no body, unreadable) is tried again.
CACI_REJECT_BACKOFF_MAX_DAYS = 30
COMMANDS_MODULE = "caci_spider.commands"

# --- item pipelines: normalise → validate → de-duplicate → store ----------------------------
ITEM_PIPELINES = {
    "caci_spider.pipelines.NormalisePipeline": 100,
    "caci_spider.pipelines.ValidatePipeline": 200,
    "caci_spider.pipelines.DeduplicatePipeline": 300,
    "caci_spider.pipelines.StorePipeline": 400,
}

COOKIES_ENABLED = False
# Scrapy re-reads the source of generator callbacks on every response to warn about return
# values (its cache misses on bound methods): about 1 ms a page for a check we do not need.
WARN_ON_GENERATOR_RETURN_VALUE = False
TELNETCONSOLE_ENABLED = False
# Scheduled runs need no remote-control port listening on the host.
REMOTE_CONTROL_ENABLED = False
LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"
