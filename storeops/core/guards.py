"""Model-level guards every save goes through."""

from __future__ import annotations

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
