"""API plumbing shared by every app's router: error bodies and pagination.

Authentication and the per-route permission check live in :mod:`storeops.accounts.access`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Annotated, Any, Generic, TypeVar

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from ninja import Schema
from pydantic import AfterValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from storeops.core.errors import ValidationError

T = TypeVar("T")

MAX_PAGE_SIZE = 200


def _without_timezone(value: dt.time) -> dt.time:
    if value.tzinfo is not None:
        # message by type in config.api (the caller's language)
        raise PydanticCustomError("time_with_timezone", "a time of day without a UTC offset")
    return value


# A time of day in the store's own zone (``10:00``). pydantic also takes ``10:00+08:00``: such a
# time cannot be stored (TimeField) nor compared with the store's naive times, so it is a 422.
# Its schema is a pattern, not ``format: time`` (RFC 3339's full-time, which has an offset).
LocalTime = Annotated[
    dt.time,
    AfterValidator(_without_timezone),
    WithJsonSchema(
        {"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d+)?)?$", "examples": ["20:00"]}
    ),
]


def _from_2000(value: dt.date) -> dt.date:
    if value < EARLIEST_DAY:
        raise PydanticCustomError("date_before_2000", "a day from 2000-01-01 on")
    return value


# A day that starts or ends a report period. No shop has data before 2000, and before 1901 the
# local zone is a mean solar time whose offset has seconds (Asia/Shanghai +08:05:43): a period
# echoed as datetimes would not be RFC 3339 (a 500, or a date-time clients cannot parse).
EARLIEST_DAY = dt.date(2000, 1, 1)
ReportDay = Annotated[dt.date, AfterValidator(_from_2000)]


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
    """One page of ``qs``. ``page`` counts from 1; ``page_size`` is 1–200. Anything else is a
    422 naming the parameter (it used to be lowered or raised silently, so a client asking
    for 1,000 rows a page got 200 and skipped the rest when it paged by its own size)."""
    errors: dict[str, str] = {}
    if page < 1:
        errors["page"] = _("须为不小于 1 的整数")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        errors["page_size"] = _("须为 1–%(max)s 的整数") % {"max": MAX_PAGE_SIZE}
    if errors:
        raise ValidationError(_("分页参数有误"), fields=errors)
    total = qs.count()
    start = (page - 1) * page_size
    # past the end: no query (an offset beyond the database's integer range would fail)
    items = list(qs[start : start + page_size]) if start < total else []
    return {"items": items, "total": total, "page": page, "page_size": page_size}


def check_choices(**filters: tuple[str | None, Iterable[str]]) -> None:
    """A 422 naming every list filter whose value is not one of its choices; an empty value is
    no filter. ``check_choices(status=(status, ("open", "closed")))``. Without it a typo
    (``status=shiped``) answered an empty list that looked like "no such rows"."""
    errors: dict[str, str] = {}
    for name, (value, choices) in filters.items():
        allowed = [str(c) for c in choices]
        if value and value not in allowed:
            errors[name] = _("未知的值“%(value)s”，可选：%(choices)s") % {
                "value": value,
                "choices": ", ".join(allowed),
            }
    if errors:
        raise ValidationError(_("筛选条件有误"), fields=errors)
