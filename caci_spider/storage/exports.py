"""JSON Lines exports, written atomically: a file is the previous complete one or the new
complete one, never a part."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any

from caci_spider import contract
from caci_spider.items import CONTRACT_KEYS
from caci_spider.storage.common import EXPORTS, PUBLICATIONS, StorageBase, decode


def write_atomic(path: str | os.PathLike[str], write: Callable[[IO[str]], int]) -> int:
    """Write a text file via a temporary file and a rename; ``write`` fills the open file and
    returns what it counted (rows), which this returns.

    Readers see either the previous complete file or the new complete file, never a part.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed below, then renamed)
        "w", encoding="utf-8", dir=target.parent, prefix=f".{target.name}.", delete=False
    )
    try:
        with handle:
            count = write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp creates 0600; an export is for sharing: the usual mode under the umask.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(handle.name, 0o666 & ~umask)
        os.replace(handle.name, target)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    return count


def write_jsonl_atomic(path: str | os.PathLike[str], rows: Iterable[dict[str, Any]]) -> int:
    """Write rows as JSON Lines atomically (:func:`write_atomic`); returns the row count."""

    def write(handle: IO[str]) -> int:
        count = 0
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
        return count

    return write_atomic(path, write)


def export_table(database: StorageBase, table: str, path: str | os.PathLike[str]) -> int:
    """Every stored row of ``table``, ordered by its key (publications: site, then id; a staff
    row's id; a document's url), keys in its contract's order."""
    if table == PUBLICATIONS:
        return export_publications(database, path)
    keys = EXPORTS[table]
    order = ", ".join(contract.table(table).pk)
    rows = ({key: row.get(key) for key in keys} for row in database.rows(table, order))
    return write_jsonl_atomic(path, rows)


def export_publications(
    database: StorageBase,
    path: str | os.PathLike[str],
    site: str | None = None,
    category: str | None = None,
) -> int:
    """Publications as JSON Lines, written atomically (:func:`write_jsonl_atomic`), keys in the
    contract's order; returns the row count.

    A section's export (``site`` and ``category`` given) holds exactly the rows of that site
    in that K2 category (``publications.category``), ordered by id; the aggregate (neither
    given) every row, ordered by site, then id.
    """
    where: list[str] = []
    params: list[Any] = []
    if site is not None:
        where.append("site = ?")
        params.append(site)
    if category is not None:
        where.append("category = ?")
        params.append(category)
    order = "id" if site is not None else "site, id"
    sql = f"SELECT * FROM [{PUBLICATIONS}]"
    if where:
        sql += " WHERE " + " AND ".join(where)
    cursor = database.db.execute(f"{sql} ORDER BY {order}", params)
    names = [d[0] for d in cursor.description]
    rows = (
        {key: decoded.get(key) for key in CONTRACT_KEYS}
        for decoded in (decode(dict(zip(names, row, strict=True))) for row in cursor)
    )
    return write_jsonl_atomic(path, rows)
