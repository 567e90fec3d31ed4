"""Earlier releases of caci_spider, taken from this repository's git history, for the upgrade
tests; and the script that writes a release database of ``tests/data/``.

A release is a commit's tree (``git archive``) unpacked into a directory and run from there with
``PYTHONPATH`` pointing at it, on this environment's dependencies: nothing is installed, nothing
is downloaded. Its ``caci_spider`` comes first on the path, before this checkout's (whose
editable install is found after every path entry).

``python -m tests.release COMMIT tests/data/caci-before-issue-N.db.gz`` crawls the local site
(``publications``, then ``staff_publications``: the nightly's spiders) with the release of
``COMMIT`` and keeps its database, gzipped, as the migration tests read it (every
``tests/data/caci-*.db*`` is opened by today's code in ``tests/test_migration.py``).
"""

from __future__ import annotations

import argparse
import gzip
import io
import os
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Mapping
from pathlib import Path

from caci_spider.testworld.localsite.crawl import base_url_settings

REPO_ROOT = Path(__file__).resolve().parents[1]

# The last release before databases, page rules and resume state were versioned (issue 28): the
# commit this work branched from. The upgrade test runs it; a later change of those versions
# points this at the release before it.
PREVIOUS_RELEASE = "f61f9fe78f2d4bfd68aff9c25f2df0e0a624d14d"


class NoHistory(Exception):
    """The repository's history does not hold the release (a shallow clone, an export)."""


def unpack_release(commit: str, directory: Path) -> Path:
    """The tree of ``commit`` unpacked into ``directory`` (made if missing); returns it."""
    try:
        archive = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "archive", "--format=tar", commit],
            capture_output=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError) as error:
        stderr = getattr(error, "stderr", b"") or b""
        raise NoHistory(
            f"git cannot give the tree of release {commit} from {REPO_ROOT} "
            f"({stderr.decode(errors='replace').strip() or error}): the upgrade tests need the "
            "repository's history: a full clone (git fetch --unshallow), not an export"
        ) from None
    directory.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(directory, filter="data")
    return directory


def release_env(release: Path, extra_path: Path | None = None) -> dict[str, str]:
    """The environment of a process that runs ``release`` (plus ``extra_path`` first, if
    given) on this environment's packages."""
    paths = [str(p) for p in (extra_path, release) if p is not None]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths), "PYTHONDONTWRITEBYTECODE": "1"}


def local_settings(out: Path, base_url: str, base_urls: Mapping[str, str]) -> list[str]:
    """``-s`` settings that point every spider of any release at the local site and ``out``."""
    return [
        *base_url_settings(base_url, base_urls),
        "-s", f"CACI_DB_PATH={out / 'caci.db'}",
        "-s", f"CACI_EXPORT_DIR={out}",
        "-s", f"HTTPCACHE_DIR={out / 'httpcache'}",
        "-s", "DOWNLOAD_DELAY=0",
        "-s", "AUTOTHROTTLE_ENABLED=False",
        # One fixture page in twenty is broken on purpose: coverage is not what is tested here.
        "-s", "CACI_COVERAGE_MIN_ITEMS=1000000",
        "-s", "RETRY_TIMES=1",
    ]  # fmt: skip


def nightly(
    release: Path,
    out: Path,
    base_url: str,
    base_urls: Mapping[str, str],
    *arguments: str,
    extra_path: Path | None = None,
    logs: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """``python -m caci_spider.nightly`` of ``release`` (its spiders, its defaults), from its
    directory, against the local site, logging to ``logs`` (default ``out/logs``)."""
    command = [
        sys.executable, "-m", "caci_spider.nightly", "--log-dir", str(logs or out / "logs"),
        "--jobdir", str(out / "jobs"), *local_settings(out, base_url, base_urls), *arguments,
    ]  # fmt: skip
    return subprocess.run(
        command,
        cwd=release,
        env=release_env(release, extra_path),
        capture_output=True,
        text=True,
        timeout=300,
    )


def write_release_database(commit: str, target: Path) -> None:
    """Crawl the local site with the release of ``commit`` and keep its database at ``target``
    (gzipped when it ends in ``.gz``), vacuumed."""
    from caci_spider.testworld.fixtures import FIXTURES_ROOT
    from caci_spider.testworld.localsite import LocalK2Site, serve

    with tempfile.TemporaryDirectory() as scratch:
        release = unpack_release(commit, Path(scratch, "release"))
        out = Path(scratch, "out")
        with serve(LocalK2Site(FIXTURES_ROOT)) as (base_url, site):
            result = nightly(release, out, base_url, site.base_urls)
        if result.returncode != 0:
            raise SystemExit(f"the release's nightly exited {result.returncode}: {result.stderr}")
        connection = sqlite3.connect(out / "caci.db")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.execute("PRAGMA journal_mode = DELETE")
        connection.execute("VACUUM")
        connection.close()
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.suffix == ".gz":
            with (out / "caci.db").open("rb") as source, gzip.open(target, "wb", 9) as gz:
                shutil.copyfileobj(source, gz)
        else:
            shutil.copy(out / "caci.db", target)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.release", description=__doc__)
    parser.add_argument("commit", help="the release's commit")
    parser.add_argument("target", type=Path, help="tests/data/caci-before-issue-N.db.gz")
    args = parser.parse_args(argv)
    try:
        write_release_database(args.commit, args.target)
    except NoHistory as missing:
        print(f"tests.release: {missing}", file=sys.stderr)
        return 2
    print(f"wrote {args.target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
