from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from typing import Any

from django import template
from django.utils import timezone

from storeops.audit.selectors import via_label
from storeops.core.money import amount_text

register = template.Library()

register.filter("via_label", via_label)  # console / task / cli … as words

# A datetime as an audit snapshot stores it (isoformat(): microseconds and UTC offset).
ISO_DATETIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)?")


def _local_time(value: str) -> str:
    """An ISO datetime such as 2026-12-06T02:39:42.935949+00:00 as 2026-12-06 10:39:42 (site time zone)."""
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return value
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


@register.filter
def changes(value: Any) -> str:
    """Render an audit before/after dict as ``key: value`` lines (empty → "")."""
    if not value:
        return ""
    if not isinstance(value, dict):
        return str(value)

    def show(v: Any) -> str:
        if v is None:
            return "—"
        if isinstance(v, str):
            return _local_time(v) if ISO_DATETIME.fullmatch(v) else v
        return json.dumps(v, ensure_ascii=False)

    return "\n".join(f"{k}: {show(v)}" for k, v in sorted(value.items()))


@register.filter
def pct(value: Any, digits: int = 0) -> str:
    """A ratio as a percentage: 0.48 → "48%" (empty for None)."""
    if value is None or value == "":
        return ""
    return f"{Decimal(str(value)) * 100:.{int(digits)}f}%"


@register.filter
def thousands(value: Any) -> str:
    """124000 → "124,000"."""
    if value is None or value == "":
        return ""
    return f"{value:,}"


@register.filter
def money(value: Any, currency: str = "CNY") -> str:
    """An amount as people read it (``core.money.amount_text``): Decimal("2100") → "¥2,100.00".

    Takes a Decimal, int, numeric string or a ``Money`` (its own currency wins); None or ""
    → ""; what is not a finite number is shown as it is."""
    if value is None or value == "":
        return ""
    amount = getattr(value, "amount", value)
    try:
        number = amount if isinstance(amount, Decimal | int) else str(amount)
        return amount_text(number, getattr(value, "currency", None) or currency or "CNY")
    except (TypeError, ValueError, ArithmeticError):
        return str(value)
