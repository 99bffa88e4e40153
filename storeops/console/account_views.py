"""Console pages for API tokens (create, show once, revoke).

Every signed-in user may issue tokens for themself, with a role they hold, and revoke their
own; the owner (``accounts.add_apitoken`` / ``accounts.change_apitoken``) issues tokens for
any team member or integration user and revokes any token. Holders of
``accounts.view_apitoken`` (owner, finance) see every token, the others their own.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from storeops.accounts.roles import ROLE_LABELS, Role
from storeops.accounts.selectors import api_token_get, api_token_list, token_user_choices
from storeops.accounts.services import api_token_create, api_token_revoke, token_roles_for
from storeops.console.views import _actor, _base_context, console_view, error_text
from storeops.core.errors import DomainError, ValidationError

MAX_TOKEN_DAYS = 3650


def _posted_role(request: HttpRequest) -> Role:
    try:
        return Role(request.POST.get("role", ""))
    except ValueError:
        raise ValidationError(_("请选择角色"), fields={"role": _("请选择角色")}) from None


def _posted_user(request: HttpRequest) -> Any:
    """The token's user chosen by the owner (none: the owner), one of the active members."""
    user_id = request.POST.get("user_id", "").strip()
    if not user_id:
        return None
    known = user_id.isdigit() and len(user_id) < 19  # a bigger number is no id (and overflows SQL)
    target = token_user_choices().filter(pk=int(user_id)).first() if known else None
    if target is None:
        raise ValidationError(_("用户不存在或已停用"), fields={"user_id": _("用户不存在或已停用")})
    return target


def _posted_expiry(request: HttpRequest) -> dt.datetime | None:
    """The expiry ``expires_in_days`` days from now (empty: never); a number of days that is
    not a whole number from 1 to 3,650 is refused (a huge one overflowed the date: a 500)."""
    days = request.POST.get("expires_in_days", "").strip()
    if not days:
        return None
    if not days.isdigit() or not 1 <= int(days) <= MAX_TOKEN_DAYS:
        message = _("有效天数应为 1 到 %(n)s 之间的整数") % {"n": MAX_TOKEN_DAYS}
        raise ValidationError(message, fields={"expires_in_days": message})
    return timezone.now() + dt.timedelta(days=int(days))


@console_view(None)
def tokens(request: HttpRequest) -> HttpResponse:
    errors: dict[str, str] = {}
    created_secret = ""
    user = request.user
    for_anyone = user.has_perm("accounts.add_apitoken")
    if request.method == "POST":
        try:
            _token, created_secret = api_token_create(
                actor=_actor(request),
                name=request.POST.get("name", ""),
                role=_posted_role(request),
                user=_posted_user(request) if for_anyone else None,
                expires_at=_posted_expiry(request),
            )
        except DomainError as exc:
            errors = {k: str(v) for k, v in exc.fields.items()} or {"name": str(exc.message)}
        else:
            messages.success(request, _("令牌已创建：请立即复制，它只显示这一次"))
    labels = {r.value: str(label) for r, label in ROLE_LABELS.items()}
    can_revoke_any = user.has_perm("accounts.change_apitoken")
    listed = Paginator(
        api_token_list(user=None if user.has_perm("accounts.view_apitoken") else user), 50
    ).get_page(request.GET.get("page"))
    roles = list(Role) if for_anyone else token_roles_for(user)
    return render(
        request,
        "console/tokens.html",
        _base_context(
            request,
            tokens=[
                (t, labels.get(t.role.name, t.role.name), can_revoke_any or t.user_id == user.pk)
                for t in listed
            ],
            roles=[(r.value, ROLE_LABELS[r]) for r in roles],
            users=list(token_user_choices()) if for_anyone else [],
            page=listed,
            errors=errors,
            created_secret=created_secret,
            can_add=bool(roles),
            for_anyone=for_anyone,
        ),
        status=422 if errors else 200,
    )


@require_POST
@console_view(None)
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    """The owner revokes any token, a user their own (another's: a message, nothing changes)."""
    token = api_token_get(token_id=token_id)
    if token.revoked_at is None:
        try:
            api_token_revoke(actor=_actor(request), token=token)
        except DomainError as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(request, _("令牌已吊销：%(name)s") % {"name": token.name})
    return HttpResponseRedirect(reverse("console:tokens"))
