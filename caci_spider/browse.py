"""Browse a crawl of the local site in Datasette, or photograph it for docs/datasette.png.

``python -m caci_spider.browse --screenshot docs/datasette.png`` crawls the local K2 sites (the
demo's crawls: ``publications`` and ``staff_publications``) into a temporary directory, serves
the database with the project's Datasette files (``datasette/metadata.json`` and
``datasette/datasette.json``, generated from the contract), and takes the picture with a
headless Chromium (``chromium --headless --screenshot``). ``--serve`` keeps Datasette running
on the crawl instead, until Ctrl-C.

Needs the ``browse`` extra (``pip install -e '.[browse]'``) and, for the picture, a ``chromium``
(or ``chromium-browser``, ``google-chrome``) on the PATH.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from caci_spider import exitcodes
from caci_spider.contract import DATABASE
from caci_spider.testworld.demo import crawl_spiders
from caci_spider.testworld.localsite import LocalK2Site, serve
from caci_spider.testworld.localsite.crawl import crawl_command

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DATASETTE_DIR = PROJECT_ROOT / "datasette"
DEFAULT_PAGE = f"/{DATABASE}/publications?_facet_size=5"
BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def datasette_command(db: Path, port: int) -> list[str]:
    """``datasette serve`` on ``db`` with the project's metadata and configuration."""
    return [
        sys.executable, "-m", "datasette", "serve", str(db),
        "-m", str(DATASETTE_DIR / "metadata.json"),
        "-c", str(DATASETTE_DIR / "datasette.json"),
        "--host", "127.0.0.1", "--port", str(port),
    ]  # fmt: skip


def crawl_local_site(out: Path) -> Path:
    """The demo's crawls of the local sites into ``out``; the database's path."""
    with serve(LocalK2Site()) as (base_url, site):
        for spider in crawl_spiders():
            command = crawl_command(spider, base_url, out, site.base_urls)
            command += ["-s", "LOG_LEVEL=ERROR"]
            # The local site's deliberate faults fail the self-check of a crawl: its rows stand.
            subprocess.run(command, cwd=PROJECT_ROOT, check=False, capture_output=True)
    return out / f"{DATABASE}.db"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.2)


def screenshot(browser: str, url: str, path: Path, size: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="caci-chromium-") as profile:
        subprocess.run(
            [
                browser, "--headless", "--no-sandbox", "--disable-gpu",
                "--hide-scrollbars", f"--user-data-dir={profile}",
                f"--window-size={size}", f"--screenshot={path.resolve()}", url,
            ],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m caci_spider.browse", description=__doc__)
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--screenshot", type=Path, metavar="PNG", help="write a screenshot")
    action.add_argument("--serve", action="store_true", help="serve the crawl until Ctrl-C")
    parser.add_argument("--page", default=DEFAULT_PAGE, help=f"path to show ({DEFAULT_PAGE})")
    parser.add_argument("--size", default="1280,1400", help="browser window, pixels (1280,1400)")
    args = parser.parse_args(argv)
    browser = next((found for b in BROWSERS if (found := shutil.which(b))), None)
    if args.screenshot and browser is None:
        print("no chromium on the PATH (apt-get install chromium)", file=sys.stderr)
        return exitcodes.USAGE
    with tempfile.TemporaryDirectory(prefix="caci-browse-") as out:
        db = crawl_local_site(Path(out))
        if not db.exists():
            print("the crawl of the local site stored nothing", file=sys.stderr)
            return exitcodes.CRAWL_FAILED
        port = free_port()
        with subprocess.Popen(datasette_command(db, port), cwd=PROJECT_ROOT) as datasette:
            try:
                url = f"http://127.0.0.1:{port}"
                wait_for(url + "/-/versions.json")
                if args.serve:
                    print(f"Datasette on {url}/{DATABASE} (Ctrl-C stops it)", flush=True)
                    datasette.wait()
                else:
                    assert browser is not None
                    screenshot(browser, url + args.page, args.screenshot, args.size)
                    print(f"wrote {args.screenshot}")
            except KeyboardInterrupt:
                pass
            finally:
                datasette.terminate()
    return exitcodes.OK


if __name__ == "__main__":
    sys.exit(main())
