"""Reads for accounts: API tokens."""

from __future__ import annotations

from django.db.models import QuerySet

from storeops.accounts.models import ApiToken
from storeops.core.errors import NotFound


def api_token_list() -> QuerySet[ApiToken]:
    return ApiToken.objects.select_related("role", "user").order_by("revoked_at", "-created_at")


def api_token_get(*, token_id: int) -> ApiToken:
    token = api_token_list().filter(pk=token_id).first()
    if token is None:
        from django.utils.translation import gettext as _

        raise NotFound(_("令牌不存在"))
    return token
