"""Which sites a crawl reads: ``CACI_SITE=live`` (the default) or ``CACI_SITE=local``.

``-s CACI_SITE=local`` (or the environment variable ``CACI_SITE``) points a crawl at the local K2
site of ``python -m caci_spider.testworld.localsite`` in one word, instead of eight settings:

* every site's base URL: the Analyst and the institute's staff listing on 127.0.0.1:8088, the
  Turkey Analyst on the next port up (``local:9000``: 9000 and 9001);
* files of its own, ``exports/local/`` (``exports/local-<port>/`` for another port): the
  database, the exports and the page archive. Loopback rows in the production
  ``exports/caci.db`` would make later runs of the live site skip those ids (see
  :mod:`caci_spider.sites`), so a local crawl never writes there;
* no politeness delay and no AutoThrottle: the server is on this machine.

A setting given with ``-s`` on the command line still wins over the one ``CACI_SITE`` implies.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from scrapy.settings import BaseSettings

from caci_spider import sources

SETTING = "CACI_SITE"  # also read from the environment variable of that name
LIVE = "live"
LOCAL = "local"
DEFAULT_LOCAL_PORT = 8088
# Below the command line's priority (40): an explicit -s still wins; above the project's (20).
PRIORITY = 35


class BadSite(ValueError):
    """A ``CACI_SITE`` value that is neither ``live`` nor ``local[:PORT]``."""


def local_port(value: str) -> int | None:
    """The local site's main port that ``value`` names, or None for the live sites."""
    text = str(value).strip()
    if text in ("", LIVE):
        return None
    name, _, port = text.partition(":")
    if name != LOCAL:
        raise BadSite(
            "expected live, local or local:PORT (the local site's port, 8088 unless given)"
        )
    if not port:
        return DEFAULT_LOCAL_PORT
    if not port.isdigit() or not 0 < int(port) < 65535:
        raise BadSite("expected local:PORT with a port from 1 to 65534")
    return int(port)


def local_dir(port: int) -> Path:
    """The local site's files, relative to the project root: ``exports/local`` for the default
    port, ``exports/local-<port>`` for another (a database keeps the one site it was built from,
    and another port is another site)."""
    return Path("exports") / ("local" if port == DEFAULT_LOCAL_PORT else f"local-{port}")


def local_base_urls(port: int, host: str = "127.0.0.1") -> dict[str, str]:
    """Every site's base-URL setting → its local address: the sites of the main host on
    ``port``, each sister site (the Turkey Analyst) on the next port up, as the local site
    serves them (:func:`caci_spider.testworld.localsite.other_ports`)."""
    from caci_spider.testworld.localsite import MAIN_HOST, host_of_profile, hosts

    offsets = {key: n for n, key in enumerate((k for k in hosts() if k != MAIN_HOST), start=1)}
    return {
        profile.base_url_setting: f"http://{host}:{port + offsets.get(host_of_profile(profile), 0)}"
        for profile in sources.PROFILES
    }


def local_settings(port: int, out: Path | None = None) -> dict[str, str]:
    """The settings ``CACI_SITE=local:<port>`` stands for; files under ``out`` (default
    :func:`local_dir`)."""
    out = out if out is not None else local_dir(port)
    return {
        **local_base_urls(port),
        "CACI_DB_PATH": str(out / "caci.db"),
        "CACI_EXPORT_DIR": str(out),
        "HTTPCACHE_DIR": str(out / "httpcache"),
        "DOWNLOAD_DELAY": "0",
        "AUTOTHROTTLE_ENABLED": "False",
    }


def chosen(settings: BaseSettings, environ: Mapping[str, str] | None = None) -> str:
    """``CACI_SITE`` from the settings, else from the environment."""
    value = settings.get(SETTING)
    if not value:
        value = (os.environ if environ is None else environ).get(SETTING, "")
    return str(value or LIVE)


def apply(settings: BaseSettings) -> int | None:
    """Give ``settings`` what ``CACI_SITE`` implies (nothing for the live sites); the local
    port, or None. Raises :class:`BadSite`."""
    port = local_port(chosen(settings))
    if port is None:
        return None
    for name, value in local_settings(port).items():
        settings.set(name, value, priority=PRIORITY)
    return port
