"""Reads for accounts: API tokens."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy

from storeops.accounts.models import ApiToken
from storeops.core.queries import get_or_not_found


def api_token_list() -> QuerySet[ApiToken]:
    return ApiToken.objects.select_related("role", "user").order_by("revoked_at", "-created_at")


def api_token_get(*, token_id: int) -> ApiToken:
    return get_or_not_found(api_token_list(), gettext_lazy("令牌不存在"), pk=token_id)
