"""Typed converters for the fields of frozen attrs classes.

``converter=tuple`` would type a field's input as ``Iterable[_T_co]`` for mypy; these
keep the element type, so a caller may pass a list or a set and the checker follows.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def as_tuple(value: Iterable[Any]) -> tuple[Any, ...]:
    """Any iterable as a tuple (a list given to a frozen class must not stay mutable)."""
    return tuple(value)


def as_frozenset(value: Iterable[Any]) -> frozenset[Any]:
    """Any iterable as a frozenset."""
    return frozenset(value)
