"""Model-level guards every save goes through."""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import Any

from django.db import models
from django.db.backends.base.operations import BaseDatabaseOperations
from django.utils.translation import gettext as _

from storeops.core.errors import ValidationError

# the portable column ranges (PostgreSQL's); SQLite would store far larger numbers
_INTEGER_RANGES = BaseDatabaseOperations.integer_field_ranges


def _limit_error(field: models.Field[Any, Any], value: Any) -> str | None:
    if isinstance(field, models.CharField) and field.max_length and isinstance(value, str):
        if len(value) > field.max_length:
            return _("最多 %(n)s 个字符") % {"n": field.max_length}
    elif isinstance(field, models.IntegerField) and not field.primary_key and isinstance(value, int):
        low, high = _INTEGER_RANGES.get(field.get_internal_type(), (None, None))
        if low is not None and high is not None and not low <= value <= high:
            return _("须在 %(low)s 与 %(high)s 之间") % {"low": low, "high": high}
    elif isinstance(field, models.DecimalField) and field.max_digits and isinstance(value, Decimal | int):
        whole_digits = field.max_digits - (field.decimal_places or 0)
        number = Decimal(value)
        if number.is_finite() and abs(number) >= Decimal(10) ** whole_digits:
            return _("数值超出范围")
    return None


def column_limits_check(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    """``pre_save``: a value its column cannot hold — a text longer than ``max_length``, a
    number beyond the integer or decimal column — is a 422 naming the field, before the row is
    written. PostgreSQL refused such values with a database error (a 500); SQLite, the default
    database, stored them as they were (a 5,000-character code, a quantity of 10^14). Only
    StoreOps' own models (historical models in migrations are left alone)."""
    if not sender.__module__.startswith("storeops."):
        return
    errors: dict[str, str] = {}
    for field in sender._meta.concrete_fields:
        if field.is_relation:
            continue
        message = _limit_error(field, getattr(instance, field.attname, None))
        if message:
            errors[field.name] = message
    if errors:
        raise ValidationError(_("内容过长或数值超出范围，未保存"), fields=errors)


def refuse_ints_beyond_64_bits(sender: Any, connection: Any, **kwargs: Any) -> None:
    """``connection_created``: on PostgreSQL a Python int beyond 64 bits in a query (an id of
    10^20 in a filter or a path) raises OverflowError, as SQLite's driver does, so the API's
    answer is the same 422 on both databases. psycopg would send it as ``numeric`` and the
    comparison with a ``bigint`` column would quietly match nothing (a 200 with an empty list,
    or a 404). No StoreOps column holds an integer beyond ``bigint``; decimals are Decimal."""
    if connection.vendor == "postgresql":
        connection.connection.adapters.register_dumper(int, _int64_dumper())


@functools.cache
def _int64_dumper() -> type:
    from psycopg.types.numeric import IntDumper  # PostgreSQL only

    class Int64Dumper(IntDumper):
        def upgrade(self, obj: int, format: Any) -> Any:
            if not -(2**63) <= obj < 2**63:
                raise OverflowError(f"integer {obj} beyond 64 bits")
            return super().upgrade(obj, format)

    return Int64Dumper
