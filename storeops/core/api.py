"""API plumbing shared by every app's router: error bodies and pagination.

Authentication and the per-route permission check live in :mod:`storeops.accounts.access`.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from django.db.models import QuerySet
from ninja import Schema

T = TypeVar("T")

MAX_PAGE_SIZE = 200


class ErrorOut(Schema):
    code: str
    message: str
    fields: dict[str, str] = {}


class Page(Schema, Generic[T]):
    items: list[T]
    total: int
    page: int
    page_size: int


def paginate(qs: QuerySet[Any], page: int, page_size: int) -> dict[str, Any]:
    page = max(page, 1)
    page_size = min(max(page_size, 1), MAX_PAGE_SIZE)
    total = qs.count()
    start = (page - 1) * page_size
    return {
        "items": list(qs[start : start + page_size]),
        "total": total,
        "page": page,
        "page_size": page_size,
    }
