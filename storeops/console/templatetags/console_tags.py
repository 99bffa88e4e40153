from __future__ import annotations

import json
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
