"""Exit statuses of ``scrapy crawl`` (and of ``python -m caci_spider.nightly``).

A scheduler tells a broken site from a broken command line from a night that simply had to wait:

* ``OK`` (0): the run finished and passed its self-check.
* ``CRAWL_FAILED`` (1): the run ended badly: the site could not be read or has changed (failed
  self-check), the run was banned, interrupted or could not use its page archive.
* ``USAGE`` (2): the command or its settings are wrong (unknown ``-a`` argument, bad ``-s``
  value, a database built from another site, a path that cannot be written); nothing was
  fetched. Scrapy's own usage errors exit 2 too.
* ``SKIPPED`` (75, ``EX_TEMPFAIL``): another run holds the database lock; nothing was done and
  the next scheduled run will try again.
"""

OK = 0
CRAWL_FAILED = 1
USAGE = 2
SKIPPED = 75
