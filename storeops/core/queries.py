"""Small query helpers shared by selectors."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from django.db.models import Model, Q, QuerySet

from storeops.core.errors import NotFound

M = TypeVar("M", bound=Model)


def get_or_not_found(qs: QuerySet[M], message: Any, **filters: Any) -> M:
    """The one row matching ``filters``, or :class:`NotFound` with ``message`` (404 in the API
    and console)."""
    row = qs.filter(**filters).first()
    if row is None:
        raise NotFound(message)
    return row


def batches(qs: QuerySet[M], *, size: int, key: Sequence[str] = ("pk",)) -> Iterator[list[M]]:
    """Every row of ``qs`` in lists of at most ``size``, in ``key`` order (keyset pagination:
    each batch starts after the last row of the one before, so memory stays at one batch and
    rows the caller changes or removes meanwhile never make a batch skip or repeat a row).

    ``key``: fields that are never null, the last one unique (``pk``). A sweep that must not stop
    at a fixed count walks its queryset through this instead of slicing it."""
    if size < 1:
        raise ValueError("batch size must be at least 1")
    qs = qs.order_by(*key)
    after: tuple[Any, ...] | None = None
    while True:
        rows = list((qs if after is None else qs.filter(_after(key, after)))[:size])
        if rows:
            yield rows
        if len(rows) < size:
            return
        after = tuple(getattr(rows[-1], field) for field in key)


def _after(key: Sequence[str], values: Sequence[Any]) -> Q:
    """Rows after ``values`` in ``key`` order: (a > x) or (a = x and b > y) or …"""
    q = Q(**{f"{key[0]}__gt": values[0]})
    for i in range(1, len(key)):
        q |= Q(**dict(zip(key[:i], values[:i], strict=True)), **{f"{key[i]}__gt": values[i]})
    return q


def each(qs: QuerySet[M], *, size: int, key: Sequence[str] = ("pk",)) -> Iterator[M]:
    """Every row of ``qs``, read ``size`` at a time: :func:`batches`, row by row."""
    for batch in batches(qs, size=size, key=key):
        yield from batch
