from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Schema

from storeops.accounts import services
from storeops.accounts.access import perm, principal
from storeops.accounts.models import ApiToken
from storeops.accounts.roles import Role
from storeops.core.errors import ValidationError

router = Router(tags=["accounts"])


class MeOut(Schema):
    username: str
    roles: list[str]
    language: str
    via: str


class TokenIn(Schema):
    name: str
    role: str
    expires_at: dt.datetime | None = None


class TokenOut(Schema):
    id: int
    name: str
    role: str
    prefix: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None

    @staticmethod
    def resolve_role(obj: ApiToken | dict[str, Any]) -> str:
        return str(obj["role"]) if isinstance(obj, dict) else obj.role.name


class TokenCreatedOut(TokenOut):
    token: str


class LanguageIn(Schema):
    language: str


@router.get("/me", response=MeOut, auth=perm(None))
def me(request: HttpRequest) -> dict[str, Any]:
    p = principal(request)
    roles = [p.token.role.name] if p.token is not None else [r.value for r in services.user_roles(p.user)]
    profile = getattr(p.user, "profile", None)
    return {
        "username": p.user.get_username(),
        "roles": roles,
        "via": p.actor.via,
        "language": getattr(profile, "language", "") or "",
    }


@router.put("/me/language", response=MeOut, auth=perm(None))
def me_language(request: HttpRequest, payload: LanguageIn) -> dict[str, Any]:
    p = principal(request)
    services.user_set_language(actor=p.actor, user=p.user, language=payload.language)
    return me(request)


@router.get("/tokens", response=list[TokenOut], auth=perm("accounts.view_apitoken"))
def token_list(request: HttpRequest) -> list[ApiToken]:
    return list(ApiToken.objects.select_related("role").order_by("-created_at"))


@router.post("/tokens", response={201: TokenCreatedOut}, auth=perm("accounts.add_apitoken"))
def token_create(request: HttpRequest, payload: TokenIn) -> tuple[int, dict[str, Any]]:
    try:
        role = Role(payload.role)
    except ValueError:
        raise ValidationError(
            "未知角色 / unknown role", fields={"role": ", ".join(r.value for r in Role)}
        ) from None
    token, raw = services.api_token_create(
        actor=principal(request).actor, name=payload.name, role=role, expires_at=payload.expires_at
    )
    out = {
        f: getattr(token, f)
        for f in ("id", "name", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at")
    }
    return 201, {**out, "role": token.role.name, "token": raw}


@router.post("/tokens/{token_id}/revoke", response=TokenOut, auth=perm("accounts.change_apitoken"))
def token_revoke(request: HttpRequest, token_id: int) -> ApiToken:
    token = get_object_or_404(ApiToken.objects.select_related("role"), pk=token_id)
    services.api_token_revoke(actor=principal(request).actor, token=token)
    return token
