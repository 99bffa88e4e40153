"""Small query helpers shared by selectors."""

from __future__ import annotations

from typing import Any, TypeVar

from django.db.models import Model, QuerySet

from storeops.core.errors import NotFound

M = TypeVar("M", bound=Model)


def get_or_not_found(qs: QuerySet[M], message: Any, **filters: Any) -> M:
    """The one row matching ``filters``, or :class:`NotFound` with ``message`` (404 in the API
    and console)."""
    row = qs.filter(**filters).first()
    if row is None:
        raise NotFound(message)
    return row
