"""The domain decisions storage needs but does not make (issue 23): which spellings are one
author, when two staff observations are one publication and how they merge, what a title's
key is. The caller decides them (:data:`caci_spider.records.STORAGE_RULES` puts the project's
text rules behind this interface) and storage applies what it is given, so that no module of
:mod:`caci_spider.storage` imports a text rule module."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from caci_spider.items import StaffPublication


class StorageRules(Protocol):
    def name_key(self, name: str) -> tuple[str, str]:
        """The given + family name key grouping the spellings that may be one person."""
        ...

    def group_spellings(self, names: Sequence[str]) -> list[list[str]]:
        """Spellings sharing one key, grouped into persons."""
        ...

    def fullest(self, group: Sequence[str]) -> str:
        """The spelling that names a group of spellings."""
        ...

    def staff_id(self, title: str, date: str | None = None) -> str:
        """A staff publication's stable id: its title key (plus the date of a namesake)."""
        ...

    def dates_compatible(self, a: str | None, b: str | None) -> bool:
        """Two dates (or partial dates) that may be one publication's."""
        ...

    def merge_staff(
        self, stored: StaffPublication | None, observation: StaffPublication
    ) -> StaffPublication:
        """A staff row and a new observation of it, merged by source precedence."""
        ...

    def is_staff_listing_or_item(self, url: str) -> bool:
        """A URL of the staff listing or one of its item pages."""
        ...

    def paragraphs(self, body: str) -> list[str]:
        """A stored body's paragraphs."""
        ...
