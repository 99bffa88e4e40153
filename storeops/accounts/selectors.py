"""Reads for accounts: API tokens and the users a token may be issued for."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import F, QuerySet
from django.utils.translation import gettext_lazy

from storeops.accounts.models import ApiToken
from storeops.core.queries import get_or_not_found


def api_token_list(*, user: Any = None) -> QuerySet[ApiToken]:
    """Every token, or with ``user`` only the tokens issued for that user."""
    # live tokens first on every database (PostgreSQL sorts NULLs last by default)
    tokens = ApiToken.objects.select_related("role", "user", "created_by").order_by(
        F("revoked_at").asc(nulls_first=True), "-created_at"
    )
    return tokens if user is None else tokens.filter(user=user)


def api_token_get(*, token_id: int) -> ApiToken:
    return get_or_not_found(api_token_list(), gettext_lazy("令牌不存在"), pk=token_id)


def token_user_choices() -> QuerySet[Any]:
    """The active users a token may be issued for (the owner's user selector), by username."""
    return get_user_model().objects.filter(is_active=True).order_by("username")
