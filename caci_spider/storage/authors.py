"""``authors``, ``author_aliases`` and the author links of both publication tables.

Which spellings are one person is the caller's decision (:class:`~caci_spider.storage.rules
.StorageRules`: ``name_key``, ``group_spellings``, ``fullest``); this module keeps the tables
in line with it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from caci_spider.storage.common import PUBLICATIONS, STAFF, StorageBase, marks

# One statement links every known spelling of a list to its author, at its position.
_LINK_KNOWN_AUTHORS = (
    "INSERT INTO publication_authors (publication_id, site, position, author_id)"
    " SELECT ?, ?, CAST(j.key AS INTEGER), a.author_id FROM json_each(?) j"
    " JOIN author_aliases a ON a.alias = j.value ORDER BY j.key"
)


class AuthorsMixin(StorageBase):
    def author_id(self, name: str) -> int:
        """The author a printed name belongs to (one person, many spellings: the rules'
        ``group_spellings``); a new spelling may merge authors or, where it makes an earlier
        merge ambiguous, part them: links follow their printed names."""
        found = self.db.execute(
            "SELECT author_id FROM author_aliases WHERE alias = ?", [name]
        ).fetchone()
        if found is None:
            self.regroup(self.rules.name_key(name), name)
            found = self.db.execute(
                "SELECT author_id FROM author_aliases WHERE alias = ?", [name]
            ).fetchone()
        return int(found[0])

    def link_authors(
        self, site: str, publication_id: int, names: list[str], linked: bool = True
    ) -> None:
        """A publication's author links, in byline order. ``linked``: the row may have links
        already (a stored row), which go first. Known spellings are linked in one statement;
        a list with a new spelling is linked name by name (:meth:`author_id` regroups)."""
        if linked:
            self.db.execute(
                "DELETE FROM publication_authors WHERE site = ? AND publication_id = ?",
                [site, publication_id],
            )
        if not names:
            return
        cursor = self.db.execute(
            _LINK_KNOWN_AUTHORS,
            [publication_id, site, json.dumps(names, ensure_ascii=False)],
        )
        if cursor.rowcount == len(names):
            return
        # A spelling not seen before: start again, one name at a time.
        self.db.execute(
            "DELETE FROM publication_authors WHERE site = ? AND publication_id = ?",
            [site, publication_id],
        )
        for position, name in enumerate(names):
            self.db.execute(
                "INSERT INTO publication_authors (publication_id, site, position, author_id)"
                " VALUES (?, ?, ?, ?)",
                [publication_id, site, position, self.author_id(name)],
            )

    def link_staff_authors(
        self, staff_row_id: str, names: Iterable[str], roles: dict[str, str]
    ) -> None:
        self.db.execute(
            "DELETE FROM staff_publication_authors WHERE staff_publication_id = ?",
            [staff_row_id],
        )
        for position, name in enumerate(names):
            self.db.execute(
                "INSERT INTO staff_publication_authors"
                " (staff_publication_id, position, author_id, role) VALUES (?, ?, ?, ?)",
                [staff_row_id, position, self.author_id(name), roles.get(name, "author")],
            )

    def regroup(self, key: tuple[str, str], new: str | None = None) -> None:
        """Group every known spelling with this given + family name (and ``new``) into
        authors again: each group keeps the lowest author id among its spellings', is named by
        its fullest spelling, and the links of the changed authors follow their printed
        names."""
        name_key = self.rules.name_key
        known = {
            alias: author_id
            for alias, author_id in self.db.execute(
                "SELECT alias, author_id FROM author_aliases"
            ).fetchall()
            if name_key(alias) == key
        }
        names = sorted(known) + ([new] if new is not None and new not in known else [])
        before = set(known.values())
        # Names are unique: park the affected authors' names while they are reassigned.
        self.db.execute(
            f"UPDATE authors SET name = char(0) || id WHERE id IN ({marks(before)})",
            list(before),
        )
        claimed = self._claim_groups(known, names)
        if before:
            self._relink(before)
        orphans = before - set(claimed)
        if orphans:
            self.db.execute(f"DELETE FROM authors WHERE id IN ({marks(orphans)})", list(orphans))

    def _claim_groups(self, known: dict[str, int], names: list[str]) -> list[int]:
        """Each group of ``names`` (the rules' ``group_spellings``) gets an author: the lowest
        id of its known spellings not claimed yet, else a new one. Returns the claimed ids."""
        claimed: list[int] = []
        for group in self.rules.group_spellings(names):
            ids = sorted({known[n] for n in group if n in known} - set(claimed))
            if ids:
                author = ids[0]
            else:
                cursor = self.db.execute("INSERT INTO authors (name) VALUES (?)", ["\0" + group[0]])
                author = int(cursor.lastrowid or 0)
            claimed.append(author)
            self.db.execute(
                "UPDATE authors SET name = ? WHERE id = ?", [self.rules.fullest(group), author]
            )
            for alias in group:
                self.db.execute(
                    "INSERT INTO author_aliases (alias, author_id) VALUES (?, ?)"
                    " ON CONFLICT (alias) DO UPDATE SET author_id = excluded.author_id",
                    [alias, author],
                )
        return claimed

    def _relink(self, moved_ids: set[int]) -> None:
        """A link names its author through the spelling printed at its position."""
        moved = list(moved_ids)
        for link, owner, owner_table, same_site in (
            ("publication_authors", "publication_id", PUBLICATIONS, True),
            ("staff_publication_authors", "staff_publication_id", STAFF, False),
        ):
            site = f" AND o.site = {link}.site" if same_site else ""
            self.db.execute(
                f"UPDATE {link} SET author_id = coalesce((SELECT a.author_id FROM"
                f" author_aliases a, {owner_table} o WHERE o.id = {link}.{owner}{site}"
                f" AND a.alias = json_extract(o.authors, '$[' || {link}.position || ']')),"
                f" author_id) WHERE author_id IN ({marks(moved)})",
                moved,
            )
