"""Page-object fields, declared once.

A page object marks each of its fields with :func:`field`: a method without arguments that
returns the field's raw value. :func:`fields_of` lists a class's fields in declaration order
(base classes first; a subclass that overrides a field keeps its place) and :func:`extract`
reads them all into a dict, so that a page object's output, the fixture harness
(``tests/pages/conftest.py``) and the draft tool (``python -m caci_spider.testworld.draft``) follow
the same declaration.

web-poet has a ``@field`` of its own, but on ``ItemPage`` classes with injected inputs and an
async ``to_item``; these page objects are plain classes built from a document and its URL.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar, overload

__all__ = ["Field", "extract", "field", "fields_of"]

_MARK = "__page_field_key__"
_FIELDS: dict[type, tuple[Field, ...]] = {}
Method = TypeVar("Method", bound=Callable[..., Any])


class Field(NamedTuple):
    name: str  # the method
    key: str  # the key of its value in :func:`extract`'s dict (the method's name unless given)


@overload
def field(method: Method, /) -> Method: ...


@overload
def field(*, key: str) -> Callable[[Method], Method]: ...


def field(method: Any = None, /, *, key: str | None = None) -> Any:
    """Mark a page-object method as a field: ``@field``, or ``@field(key="items")``."""

    def mark(function: Method) -> Method:
        setattr(function, _MARK, key or function.__name__)
        return function

    return mark if method is None else mark(method)


def fields_of(page_class: type) -> tuple[Field, ...]:
    """The fields of ``page_class``, in declaration order; ``()`` for a class that has none."""
    known = _FIELDS.get(page_class)
    if known is None:
        found: dict[str, Field] = {}
        for klass in reversed(page_class.__mro__):
            for name, value in vars(klass).items():
                key = getattr(value, _MARK, None)
                if isinstance(key, str):  # an override keeps the first declaration's place
                    found[name] = Field(name, key)
        known = _FIELDS[page_class] = tuple(found.values())
    return known


def extract(page: object) -> dict[str, Any]:
    """Every field of ``page`` by key; a list of page objects becomes a list of their dicts."""
    return {key: _plain(getattr(page, name)()) for name, key in fields_of(type(page))}


def _plain(value: Any) -> Any:
    if isinstance(value, list) and value and fields_of(type(value[0])):
        return [extract(item) for item in value]
    return value
