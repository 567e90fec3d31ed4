"""``python -m caci_spider.testworld.localsite [--port 8088]``: the fixtures as a local K2 site.

It serves the Analyst (and the institute's staff listing) on ``--port`` and the Turkey Analyst
on the next port up (``--port 0``: free ports), in one process, and prints the ``scrapy crawl``
commands that crawl them (``publications`` and ``staff_publications``, or each section spider
until the project has a ``publications`` spider), each carrying every site's base URL
(``CACI_BASE_URL``, ``SILKROAD_BASE_URL``, ``TURKEY_ANALYST_BASE_URL``). They write to a
directory of their own, ``exports/local/`` (``exports/local-<port>/`` for a port other than
8088): its database, exports and page archive, never the production ``exports/caci.db`` and
``.scrapy/httpcache``, and without the politeness delay. A database keeps the site it was built
from, so each port gets its own directory, and re-running the commands against the default port
crawls the same site again (an incremental run).

``--layout NAME`` serves every page through another template (``k2-stock``, ``stripped``,
``renamed``, ``joomla``, ``unreadable``; see :mod:`caci_spider.testworld.localsite.layouts`), so
that a crawl of the same content through each can be compared with the fixtures' expected rows.
``--pdfs`` makes the staff item pages link the test PDFs
(:mod:`caci_spider.testworld.localsite.pdfs`).

``--crawl SPIDER`` (repeatable) runs those crawls against the site it serves, then stops: a
local night in one command (``--crawl publications --crawl staff_publications``). It exits with
the first failed crawl's status, else 0.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import TextIO
from urllib.parse import urlsplit

from caci_spider import exitcodes, sitechoice, sources
from caci_spider.testworld.demo import (
    DB_NAME,
    PROJECT_ROOT,
    crawl_spiders,
    print_faults,
    shell_command,
    shown,
    wrapped,
)
from caci_spider.testworld.localsite import DEFAULT_FIXTURES, LocalK2Site, other_ports, serve
from caci_spider.testworld.localsite.crawl import crawl_command
from caci_spider.testworld.localsite.layouts import DEFAULT_LAYOUT, LAYOUTS, check_layout

DEFAULT_PORT = sitechoice.DEFAULT_LOCAL_PORT
DATASETTE = ("metadata.json", "datasette.json")  # generated from the data contract


def _layout(name: str) -> str:
    try:
        return check_layout(name)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def output_dir(base_url: str) -> Path:
    """Where the printed crawls write: ``exports/local`` (``exports/local-<port>``)."""
    return PROJECT_ROOT / sitechoice.local_dir(urlsplit(base_url).port or DEFAULT_PORT)


def site_command(
    spider: str, base_url: str, base_urls: dict[str, str] | None = None
) -> list[str] | None:
    """``scrapy crawl <spider> -s CACI_SITE=local[:port]`` when that one word names the hosts
    serving the local site (the sister sites on the next ports up), else None."""
    port = urlsplit(base_url).port or DEFAULT_PORT
    served = {
        profile.base_url_setting: (base_urls or {}).get(profile.key, base_url)
        for profile in sources.PROFILES
    }
    if served != sitechoice.local_base_urls(port, urlsplit(base_url).hostname or "127.0.0.1"):
        return None
    if urlsplit(base_url).hostname != "127.0.0.1":
        return None
    value = "local" if port == DEFAULT_PORT else f"local:{port}"
    return ["scrapy", "crawl", spider, "-s", f"{sitechoice.SETTING}={value}"]


def hint_commands(base_url: str, base_urls: dict[str, str] | None = None) -> list[list[str]]:
    """``scrapy crawl …`` for the demo's crawls against ``base_url`` (and every site's host in
    ``base_urls``, ``site.base_urls``), as a user types them.

    Paths are relative to the project root when the working directory is the root (where
    ``scrapy crawl`` runs), else absolute; the page archive is always absolute, as a relative
    ``HTTPCACHE_DIR`` would live under ``.scrapy/``.
    """
    out = output_dir(base_url)
    if Path.cwd().resolve() == PROJECT_ROOT:
        out = out.relative_to(PROJECT_ROOT)
    return [
        site_command(spider, base_url, base_urls)
        or shell_command(crawl_command(spider, base_url, out, base_urls))
        for spider in crawl_spiders()
    ]


def print_hint(base_url: str, site: LocalK2Site, file: TextIO | None = None) -> None:
    out = output_dir(base_url)
    print(f"Local K2 site at {base_url}", file=file)
    for profile in sources.crawled_profiles():
        url = site.base_urls.get(profile.key, base_url)
        for section in profile.sections:
            content = site.section(section.category)
            count = len(content.items) if content else len(site.staff_items)
            print(
                f"  {profile.key:16} {url:24} {section.name:22} {count:3d} item pages",
                file=file,
            )
    print(
        f"\nCrawl them from {PROJECT_ROOT} with the venv activated. This writes to "
        f"{shown(out)}/,\nnot to the production database, and skips the politeness delay:",
        file=file,
    )
    for command in hint_commands(base_url, site.base_urls):
        print(f"  {wrapped(command, indent='      ')}", file=file)
    print(
        f"Then: sqlite-utils tables {shlex.quote(shown(out / DB_NAME))} --counts\n",
        file=file,
    )
    print_faults(site, file=file)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m caci_spider.testworld.localsite", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"the Analyst's port (default: {DEFAULT_PORT}); the Turkey Analyst answers on the "
        "next one up (both free ones with --port 0)",
    )
    parser.add_argument("--fixtures", type=Path, default=DEFAULT_FIXTURES)
    parser.add_argument(
        "--layout",
        default=DEFAULT_LAYOUT,
        type=_layout,
        metavar="NAME",
        help=f"template every page is served through: {', '.join(LAYOUTS)}, or several "
        f"joined by '+' such as k2-stock+stripped (default: {DEFAULT_LAYOUT}, the fixtures as "
        "they are)",
    )
    parser.add_argument(
        "--crawl",
        action="append",
        metavar="SPIDER",
        help="run scrapy crawl SPIDER against the site (repeatable, in the order given), "
        "then stop; exit with the first failed crawl's status",
    )
    parser.add_argument(
        "--pdfs",
        action="store_true",
        help="the staff item pages link the test PDFs (/images/pdf/: good ones and every bad "
        "case, and one off-site PDF) as download links",
    )
    return parser


def crawl(spiders: list[str], base_url: str, site: LocalK2Site) -> int:
    """Run each spider against the served site from the project root; the first failed
    crawl's exit status, else 0. Ends with where the data is and how to open it."""
    out = output_dir(base_url)
    status = exitcodes.OK
    for spider in spiders:
        command = site_command(spider, base_url, site.base_urls) or shell_command(
            crawl_command(spider, base_url, out, site.base_urls)
        )
        print(f"$ {wrapped(command)}", flush=True)
        # The venv's own scrapy: the one that imports this checkout.
        returncode = subprocess.call([sys.executable, "-m", *command], cwd=PROJECT_ROOT)
        if returncode != exitcodes.OK and status == exitcodes.OK:
            status = returncode
    db = shlex.quote(shown(out / DB_NAME))
    print(f"\nThe data: {db} (and the .jsonl exports in {shlex.quote(shown(out))}/). Open it with:")
    print(f"  sqlite-utils tables {db} --counts")
    config = {name: shlex.quote(shown(PROJECT_ROOT / "datasette" / name)) for name in DATASETTE}
    print(f"  datasette {db} -m {config['metadata.json']} -c {config['datasette.json']}")
    return status


def main() -> int:
    args = build_parser().parse_args()
    with ExitStack() as stack:
        try:
            base_url, site = stack.enter_context(
                serve(
                    LocalK2Site(args.fixtures, layout=args.layout),
                    args.host,
                    args.port,
                    other_ports(args.port),
                )
            )
        except OSError as error:
            ports = [args.port, *other_ports(args.port).values()]
            print(
                f"caci_spider.testworld.localsite: cannot serve on {args.host} port "
                f"{' and '.join(map(str, ports))} ({error.strerror}): choose another --port",
                file=sys.stderr,
            )
            raise SystemExit(2) from None
        site.pdfs = args.pdfs
        if args.crawl:
            return crawl(args.crawl, base_url, site)
        print_hint(base_url, site)
        if site.pdfs:
            print("The staff item pages link the test PDFs (/images/pdf/).")
        if site.layout != DEFAULT_LAYOUT:
            print(f"Every page is served through the {site.layout!r} layout.")
        print("\nServing until Ctrl-C.", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return exitcodes.OK


if __name__ == "__main__":
    sys.exit(main())
