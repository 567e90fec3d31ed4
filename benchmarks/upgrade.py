"""How long the first night after an upgrade takes (docs/upgrading.md): ``python -m
benchmarks.upgrade [N]``.

A generated site of N field reports (``benchmarks.sitegen``) is crawled by the previous release
(``tests.release.PREVIOUS_RELEASE``, from git history), then today's nightly runs twice with the
next release's page rules (the test-only rule of ``tests/test_upgrades.py``: every stored row is
re-derived from the page archive, those with an apostrophe in their title change). Prints the
wall time of each night and the run lines, and those of a ``-a mode=reparse`` run after them for
comparison (the same reading of the archive, asked for by hand).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from benchmarks.sitegen import BenchSite, Generator, write_site
from caci_spider.testworld.localsite import serve
from tests.release import PREVIOUS_RELEASE, REPO_ROOT, nightly, unpack_release
from tests.test_upgrades import NEXT_RULES


def main(n_items: int = 1000) -> int:
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        tree = write_site(work / "fixtures", n_items, Generator())
        previous = unpack_release(PREVIOUS_RELEASE, work / "previous")
        (work / "next-rules").mkdir()
        (work / "next-rules" / "sitecustomize.py").write_text(NEXT_RULES, "utf-8")
        out = work / "out"
        reparse = ("-a", "mode=reparse")
        with serve(BenchSite(tree)) as (base_url, site):
            nights = [("previous release, first crawl", previous, None, ())]
            nights += [(f"today, night {n}", REPO_ROOT, work / "next-rules", ()) for n in (1, 2)]
            # For comparison: every row rebuilt from the archive, by hand.
            nights += [("today, -a mode=reparse", REPO_ROOT, work / "next-rules", reparse)]
            for number, (label, release, extra, arguments) in enumerate(nights):
                logs = work / f"logs-{number}"
                began = time.monotonic()
                result = nightly(
                    release, out, base_url, site.base_urls, "--spider", "field_reports",
                    *arguments, extra_path=extra, logs=logs,
                )  # fmt: skip
                took = time.monotonic() - began
                lines = [
                    line.split("] INFO: ", 1)[-1]
                    for log in logs.glob("*.log")
                    for line in log.read_text("utf-8").splitlines()
                    if "] INFO: Run " in line
                ]
                print(f"{label}: exit {result.returncode}, {took:.1f} s; {' '.join(lines)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*(int(a) for a in sys.argv[1:2])))
