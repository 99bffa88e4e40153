"""Free-text input checks shared by the services."""

from __future__ import annotations

from django.utils.translation import gettext as _

from storeops.core.errors import ValidationError


def clean_text(value: str | None, field: str, *, limit: int, required: bool = True, message: str = "") -> str:
    """``value`` stripped; a :class:`ValidationError` naming ``field`` when it is required and
    empty (with ``message``, or a generic one) or longer than ``limit`` characters."""
    text = (value or "").strip()
    if required and not text:
        raise ValidationError(message or _("请填写必填项"), fields={field: _("必填")})
    if len(text) > limit:
        raise ValidationError(_("内容过长"), fields={field: _("最多 %(n)s 个字符") % {"n": limit}})
    return text
