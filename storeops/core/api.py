"""API plumbing shared by every app's router: error bodies, pagination and fields that take one
of a fixed set of values (:class:`OneOf`).

Authentication and the per-route permission check live in :mod:`storeops.accounts.access`.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Sequence
from typing import Annotated, Any, Generic, TypeVar

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from ninja import Schema
from pydantic import AfterValidator, GetCoreSchemaHandler, GetJsonSchemaHandler, WithJsonSchema
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

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


class OneOf:
    """A text field (body, query or path) that takes one of a fixed set of values, in
    ``Annotated``: ``kind: Annotated[str, OneOf(CaseKind)]``. The values come from their one
    source (a model's ``TextChoices``, an enum, or a service's constant): the OpenAPI schema
    lists them as an ``enum``, and any other value is a 422 naming the field
    ("只能是 a / b / c", ``config.api``) before the route runs. The route receives a plain str.

    ``blank=True``: ``""`` is accepted too (a list filter's "no filter", or a field whose empty
    value means its default); it is listed last in the ``enum``.
    ``checked=False``: the schema lists the values but pydantic does not check them, because
    the service reports them itself in a form the route documents (the behaviour event batch
    names every bad field of every event as ``events[<n>].<field>``)."""

    def __init__(self, choices: Iterable[Any], *, blank: bool = False, checked: bool = True) -> None:
        values = [c.value if isinstance(c, enum.Enum) else c for c in choices]
        if blank and "" not in values:
            values.append("")
        self.values: tuple[str, ...] = tuple(str(v) for v in values)
        self.checked = checked

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        if not self.checked:
            return handler(source)
        return core_schema.literal_schema(list(self.values))

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        if not self.checked:
            json_schema = handler.resolve_ref_schema(json_schema)
            json_schema["enum"] = list(self.values)
        return json_schema

    def __repr__(self) -> str:
        return f"OneOf({self.values!r})"


class ErrorOut(Schema):
    code: str
    message: str
    fields: dict[str, str] = {}


class Page(Schema, Generic[T]):
    items: list[T]
    total: int
    page: int
    page_size: int


def paginate(
    qs: QuerySet[Any] | Sequence[Any],
    page: int,
    page_size: int,
    *,
    max_page_size: int = MAX_PAGE_SIZE,
    param: str = "page",
) -> dict[str, Any]:
    """One page of ``qs`` (a queryset, or rows computed in Python: a list). ``page`` counts
    from 1; ``page_size`` is 1–200 (or ``max_page_size``). Anything else is a 422 naming the
    parameter (it used to be lowered or raised silently, so a client asking for 1,000 rows a
    page got 200 and skipped the rest when it paged by its own size). ``param``: the query
    parameter's name, for a second list of a response paged by its own parameters
    (``fees_page`` and ``fees_page_size``)."""
    errors: dict[str, str] = {}
    if page < 1:
        errors[param] = _("须为不小于 1 的整数")
    if not 1 <= page_size <= max_page_size:
        errors[f"{param}_size"] = _("须为 1–%(max)s 的整数") % {"max": max_page_size}
    if errors:
        raise ValidationError(_("分页参数有误"), fields=errors)
    total = len(qs) if isinstance(qs, Sequence) else qs.count()
    start = (page - 1) * page_size
    # past the end: no query (an offset beyond the database's integer range would fail)
    items = list(qs[start : start + page_size]) if start < total else []
    return {"items": items, "total": total, "page": page, "page_size": page_size}
