"""What the API modules share: paging parameters, list envelopes, small responses."""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

from attrs import frozen
from litestar.params import Parameter

T = TypeVar("T")

Limit = Annotated[int, Parameter(ge=1, le=500, description="How many items (at most 500).")]
Offset = Annotated[int, Parameter(ge=0, le=10_000_000, description="How many items to skip.")]


@frozen
class Page(Generic[T]):
    """One page of a list: the items, and where it stands in the whole."""

    items: list[T]
    total: int
    limit: int
    offset: int


@frozen
class Count:
    """How many items an action changed."""

    count: int


@frozen
class OperationStarted:
    """A long operation was started; follow it at ``/api/operations/{id}``."""

    id: str
    kind: str
    url: str
    events_url: str


def started(op: Any, root_path: str = "") -> OperationStarted:
    base = f"{root_path}/api/operations/{op.id}"
    return OperationStarted(op.id, op.kind, base, f"{base}/events")
