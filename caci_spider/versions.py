"""The versions a release stamps on what it writes, so that the next release knows what it reads.

Each is a small integer, raised by one in the commit that changes what it versions; never
lowered, never reused. ``docs/upgrading.md`` says what each one makes a new release do.
"""

from __future__ import annotations

# The page rules: how an item page becomes a ``publications`` row (``caci_spider.pages``,
# ``caci_spider.records``, ``caci_spider.names``, ``caci_spider.dates``, ``caci_spider.text``).
#
# Raise it in any commit after which an archived page that is already in a database would give
# another row (another title, author list, date, body, …): a fixed selector, a better name or
# date parser, a new field. Do not raise it for a change that gives every stored page the same
# row (a refactoring, a faster parser, a rule for pages no stored row came from).
#
# Every ``publications`` row records the version that made it (``extraction_version``; null: a
# release before versions were recorded). On the first run of a release with a higher version,
# each older row is read again from its archived page, before any canary judges it
# (:mod:`caci_spider.channels.upgrade`); a row that changes keeps
# its previous values in ``publication_versions`` with the reason ``extraction upgrade``.
EXTRACTION_VERSION = 1

# The database schema (``caci_spider.contract``): raise it whenever a table, column, index or
# view is added, removed or changed. A database records the schema of the newest release that
# wrote it (SQLite's ``PRAGMA user_version``); a release whose schema is older refuses it before
# touching it (:class:`caci_spider.storage.NewerDatabase`). 0: a database written before schema
# versions were recorded.
#
# ``user_version`` rather than a row of the ``sites`` table: it sits in the file's header, so it
# is read with one statement before any table is looked at (or exists), by a read-only
# connection, and is written in the migration's own transaction (the file says which schema it
# holds exactly when it holds it); it is no data, so Datasette, the exports and the sites claim
# never see it.
SCHEMA_VERSION = 2

# Scrapy's resume state (``JOBDIR``: the request queue and ``spider.state``): raise it whenever
# what a stopped run leaves there would be read otherwise by this release (a renamed or
# reshaped ``spider.state`` key, another request ``cb_kwargs``, another callback). A JOBDIR of
# another version is started afresh (:func:`caci_spider.jobdir.prepare_jobdir`).
JOBDIR_VERSION = 2
