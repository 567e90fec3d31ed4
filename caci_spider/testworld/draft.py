"""``python -m caci_spider.testworld.draft <fixture.html> [--kind KIND] [--url URL]``.

Writes ``<fixture>.draft.json``: what the code gives for a new fixture page today, in its
oracle's shape, as a starting point for writing the oracle by hand. It is never the oracle: its
``"_draft"`` key says so (the fixture harness fails on a page whose oracle still has it), and
the tool refuses to run where ``<fixture>.json`` exists. Check every value against the page,
fix what is wrong, delete the ``"_draft"`` key, then rename the file to ``<fixture>.json``
(fixtures/README.md, "How to add a fixture").
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from caci_spider.testworld.fixtures import KINDS, FixturePage, kind_of

DRAFT_KEY = "_draft"
EXIT_USAGE = 2


def draft(page: FixturePage, url: str | None = None) -> dict[str, Any]:
    """The page's oracle-shaped values under a ``"_draft"`` warning: inputs, then fields."""
    url = url or page.url
    values = page.read(url)
    kind = page.kind
    name = page.html.with_suffix(".json").name
    warning = (
        f"Written by python -m caci_spider.testworld.draft from the code's output: NOT an oracle. "
        f"Check every value by hand against the page, fix it, delete this key and rename the "
        f"file to {name}."
    )
    inputs = {"url": url} if "url" in kind.inputs else {}
    if "reject" in values:
        return {DRAFT_KEY: warning, **values}
    return {DRAFT_KEY: warning, **inputs, **{key: values[key] for key in kind.compared()}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m caci_spider.testworld.draft",
        description="Write a draft expected JSON (<fixture>.draft.json) for a new fixture page, "
        "to be checked by hand and renamed to <fixture>.json.",
    )
    parser.add_argument("fixture", type=Path, help="the fixture page (.html)")
    parser.add_argument(
        "--kind", choices=sorted(KINDS), help="the page type (default: from its directory)"
    )
    parser.add_argument(
        "--url",
        help="the URL the page is read as (default: from its file name; a listing needs it)",
    )
    args = parser.parse_args(argv)
    html: Path = args.fixture
    kind = KINDS[args.kind] if args.kind else kind_of(html)
    if kind is None:
        parser.error(f"{html}: not in a fixture directory; give --kind")
    if html.suffix != ".html" or not html.is_file():
        parser.error(f"{html}: not an .html file")
    page = FixturePage(kind, html)
    if page.oracle_path.exists():
        print(
            f"{page.oracle_path} exists: the draft tool never writes or replaces an oracle",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        values = draft(page, args.url)
    except ValueError as error:
        parser.error(f"{error}; give --url")
    page.draft_path.write_text(json.dumps(values, indent=2, ensure_ascii=False) + "\n", "utf-8")
    print(
        f"Wrote {page.draft_path}: a DRAFT from the code's output. Check every value by hand, "
        f'delete its "{DRAFT_KEY}" key and rename it to {page.oracle_path.name}.'
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
