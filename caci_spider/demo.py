"""Offline demo: ``python -m caci_spider.demo [--out exports/demo]``.

The demo itself (:mod:`caci_spider.testworld.demo`) crawls the local K2 sites built from the
checkout's fixtures, which an installed wheel or Scrapyd egg does not carry: there this command
exits 2 with one line saying so.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from caci_spider import exitcodes

TEST_WORLD = "caci_spider.testworld"


def main(argv: Sequence[str] | None = None) -> int:
    try:
        from caci_spider.testworld import demo
    except ModuleNotFoundError as error:
        if error.name != TEST_WORLD:
            raise
        print(
            "caci_spider.demo: the demo runs from a checkout of the repository (git clone, then "
            "pip install -e .); this installation leaves out its test world",
            file=sys.stderr,
        )
        return exitcodes.USAGE
    return demo.main(argv)


if __name__ == "__main__":
    sys.exit(main())
