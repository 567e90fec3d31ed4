"""A spider's targets: the (site, section) pairs it crawls, each at its site's base URL."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from scrapy.settings import BaseSettings

from caci_spider.sources import Section, SiteProfile
from caci_spider.urls import ItemRef, domain_of, host_key, item_ref


class SectionPolicy(Protocol):
    """What a section's spider class says about crawling it (the class attributes of
    :class:`caci_spider.spiders.base.K2CategorySpider`)."""

    feed_first: bool
    listing_only_reason: str
    coverage_fields: tuple[str, ...]
    canary_fields: tuple[str, ...]
    canary_compared: dict[str, str]


def on_hosts(url: str, domains: list[str]) -> bool:
    """Whether ``url``'s host is one of ``domains`` or below one (any port), as Scrapy's
    offsite rule reads ``allowed_domains``."""
    host = (urlsplit(url).hostname or "").rstrip(".")
    return any(host == domain or host.endswith(f".{domain}") for domain in domains)


def site_settings_of(pairs: tuple[tuple[SiteProfile, Section], ...]) -> tuple[str, ...]:
    """The base-URL settings of the sites ``pairs`` are on, in order, once each."""
    return tuple(dict.fromkeys(profile.base_url_setting for profile, _ in pairs))


@dataclass(frozen=True)
class Target:
    """One section a spider crawls: its site, its section, the base URL the run reads it at
    (from the profile's ``base_url_setting``) and the spider class whose policy applies to it
    (feed first or not, coverage and canary fields). A request carries only its target's
    ``key`` (``cb_kwargs["target"]``: a string survives a ``JOBDIR``), the spider looks the
    target up with :meth:`K2CategorySpider.target`."""

    profile: SiteProfile
    section: Section
    base_url: str
    policy: type[SectionPolicy]

    @property
    def key(self) -> str:
        """The section's K2 category: the key of ``crawl_runs.sources`` and ``.sections`` and
        of ``listing_walks`` (categories of the crawled sections are distinct)."""
        return self.section.category

    @property
    def site(self) -> str:
        return self.profile.key

    @property
    def category(self) -> str:
        return self.section.category

    @property
    def category_path(self) -> str:
        return f"{self.section.path.lstrip('/')}.html"

    def ref(self, href: str, page_url: str) -> ItemRef | None:
        """The canonical item of this section ``href`` points to, on this site."""
        return item_ref(href, page_url, self.base_url, self.section.path, site=self.site)

    def owns(self, url: str) -> bool:
        """Whether ``url`` is one of this section's pages (listing, feed or item) on the base
        URL's host (any host variant)."""
        parts = urlsplit(url)
        if host_key(parts.netloc) != host_key(urlsplit(self.base_url).netloc):
            return False
        prefix = self.section.path
        return parts.path.startswith((f"{prefix}/", f"{prefix}.")) or parts.path == prefix


def targets_of(
    name: str,
    pairs: tuple[tuple[SiteProfile, Section], ...],
    policy_of: Callable[[Section], type[SectionPolicy]],
    settings: BaseSettings,
    base_url_setting: str,
) -> tuple[list[Target], list[str]]:
    """The targets of spider ``name`` (its ``crawled_sections``), each at its site's configured
    base URL, and the offsite rule's domains: every crawled site's host (or the host of
    ``base_url_setting``, without targets)."""
    targets = [
        Target(
            profile,
            section,
            settings[profile.base_url_setting].rstrip("/"),
            policy_of(section),
        )
        for profile, section in pairs
    ]
    keys = [target.key for target in targets]
    if len(keys) != len(set(keys)):
        raise ValueError(f"{name}: two crawled sections share a K2 category ({keys})")
    # Politeness is per host: Scrapy's download slots are per host name, so DOWNLOAD_DELAY,
    # CONCURRENT_REQUESTS_PER_DOMAIN and AUTOTHROTTLE apply to each site apart, and robots.txt
    # is read per host.
    domains = {domain_of(target.base_url) for target in targets} or {
        domain_of(settings[base_url_setting].rstrip("/"))
    }
    return targets, sorted(domains)


def site_of(url: str, targets: list[Target]) -> str | None:
    """The key of the crawled site ``url`` is on (its configured base URL's host, or one of the
    profile's hosts), if any."""
    key = host_key(urlsplit(url).netloc)
    for target in targets:
        if key == host_key(urlsplit(target.base_url).netloc) or key in target.profile.hosts:
            return target.site
    return None
