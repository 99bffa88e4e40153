from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django import template

register = template.Library()


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
            return v
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
