"""Console pages for integrations: API tokens (create, show once, revoke)."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from storeops.accounts.roles import ROLE_LABELS, Role
from storeops.accounts.selectors import api_token_get, api_token_list
from storeops.accounts.services import api_token_create, api_token_revoke
from storeops.console.views import _actor, _base_context, console_view
from storeops.core.errors import DomainError


@console_view("accounts.view_apitoken")
def tokens(request: HttpRequest) -> HttpResponse:
    errors: dict[str, str] = {}
    created_secret = ""
    if request.method == "POST":
        if not request.user.has_perm("accounts.add_apitoken"):
            return render(
                request, "console/forbidden.html", {"permission": "accounts.add_apitoken"}, status=403
            )
        days = request.POST.get("expires_in_days", "").strip()
        try:
            role = Role(request.POST.get("role", ""))
            expires_at = timezone.now() + dt.timedelta(days=int(days)) if days else None
            _token, created_secret = api_token_create(
                actor=_actor(request), name=request.POST.get("name", ""), role=role, expires_at=expires_at
            )
        except ValueError:
            errors["role"] = _("请选择角色，有效期请填写天数")
        except DomainError as exc:
            errors = {k: str(v) for k, v in exc.fields.items()} or {"name": str(exc.message)}
        else:
            messages.success(request, _("令牌已创建：请立即复制，它只显示这一次"))
    labels = {r.value: str(label) for r, label in ROLE_LABELS.items()}
    return render(
        request,
        "console/tokens.html",
        _base_context(
            request,
            tokens=[(t, labels.get(t.role.name, t.role.name)) for t in api_token_list()],
            roles=[(r.value, ROLE_LABELS[r]) for r in Role],
            errors=errors,
            created_secret=created_secret,
            can_add=request.user.has_perm("accounts.add_apitoken"),
            can_revoke=request.user.has_perm("accounts.change_apitoken"),
        ),
        status=422 if errors else 200,
    )


@require_POST
@console_view("accounts.change_apitoken")
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = api_token_get(token_id=token_id)
    if token.revoked_at is None:
        api_token_revoke(actor=_actor(request), token=token)
        messages.success(request, _("令牌已吊销：%(name)s") % {"name": token.name})
    return HttpResponseRedirect(reverse("console:tokens"))
