from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from storeops.accounts import selectors, services
from storeops.accounts.access import perm, principal
from storeops.accounts.models import ApiToken
from storeops.accounts.roles import Role
from storeops.core.api import OneOf
from storeops.core.errors import ValidationError

router = Router(tags=["accounts"])


class MeOut(Schema):
    username: str
    roles: list[str]
    language: str
    via: str


class TokenIn(Schema):
    name: str
    role: Annotated[str, OneOf(Role)]
    user_id: int | None = None  # whom the token is for (acts as); default: the caller
    expires_at: dt.datetime | None = None


class TokenOut(Schema):
    id: int
    name: str
    role: str
    user: str  # the token acts as this user
    created_by: str | None  # who issued it
    prefix: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None

    @staticmethod
    def resolve_role(obj: ApiToken | dict[str, Any]) -> str:
        return str(obj["role"]) if isinstance(obj, dict) else obj.role.name

    @staticmethod
    def resolve_user(obj: ApiToken | dict[str, Any]) -> str:
        return str(obj["user"]) if isinstance(obj, dict) else obj.user.get_username()

    @staticmethod
    def resolve_created_by(obj: ApiToken | dict[str, Any]) -> str | None:
        if isinstance(obj, dict):
            return obj["created_by"]  # type: ignore[no-any-return]
        return obj.created_by.get_username() if obj.created_by is not None else None


class TokenCreatedOut(TokenOut):
    token: str


class LanguageIn(Schema):
    language: Annotated[str, OneOf(code for code, _name in settings.LANGUAGES)]


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


@router.get("/tokens", response=list[TokenOut], auth=perm(None))
def token_list(request: HttpRequest) -> list[ApiToken]:
    """Every token for a holder of accounts.view_apitoken (owner, finance); else the caller's own."""
    p = principal(request)
    mine = None if p.has_perm("accounts.view_apitoken") else p.user
    return list(selectors.api_token_list(user=mine).order_by("-created_at"))


@router.post("/tokens", response={201: TokenCreatedOut}, auth=perm(None))
def token_create(request: HttpRequest, payload: TokenIn) -> Status:
    role = Role(payload.role)  # one of the roles: the schema refuses any other (422)
    p = principal(request)
    user = None
    if payload.user_id is not None:
        user = selectors.token_user_choices().filter(pk=payload.user_id).first()
        if user is None:
            raise ValidationError(_("用户不存在或已停用"), fields={"user_id": _("用户不存在或已停用")})
    token, raw = services.api_token_create(
        actor=p.actor,
        name=payload.name,
        role=role,
        user=user,
        expires_at=payload.expires_at,
        via_token=p.token,
    )
    out = {
        f: getattr(token, f)
        for f in ("id", "name", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at")
    }
    creator = token.created_by.get_username() if token.created_by is not None else None
    return Status(
        201,
        {
            **out,
            "role": token.role.name,
            "user": token.user.get_username(),
            "created_by": creator,
            "token": raw,
        },
    )


@router.post("/tokens/{token_id}/revoke", response=TokenOut, auth=perm(None))
def token_revoke(request: HttpRequest, token_id: int) -> ApiToken:
    """The owner revokes any token; a user their own."""
    p = principal(request)
    token = selectors.api_token_get(token_id=token_id)
    services.api_token_revoke(actor=p.actor, token=token, via_token=p.token)
    return token
