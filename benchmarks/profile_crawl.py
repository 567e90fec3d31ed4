"""Run a command line of Scrapy under cProfile with a CPU clock:
``python -m benchmarks.profile_crawl OUT.prof crawl field_reports -s ...``.

``python -m cProfile`` times with the wall clock, so on a shared machine a function's time
includes the time the process waited for a core or the disk; this one uses
``time.process_time``, which is what :mod:`benchmarks.cpu` reports.
"""

from __future__ import annotations

import cProfile
import sys
import time


def main() -> None:
    out, *arguments = sys.argv[1:]
    sys.argv = ["scrapy", *arguments]
    from scrapy.cmdline import execute

    profile = cProfile.Profile(time.process_time)
    try:
        profile.runcall(execute)
    except SystemExit:
        pass
    finally:
        profile.dump_stats(out)


if __name__ == "__main__":
    main()
