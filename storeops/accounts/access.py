"""Who is calling the API, and may they? (SOP STORE-04)

Every operation declares the Django permission it needs with ``auth=perm("app.codename")``.
:class:`Access` authenticates the caller (API token in ``Authorization: Bearer so_…``, or
the console session with CSRF on unsafe methods) and then checks the permission, before
the request body is even parsed: anonymous → 401, authenticated without the permission →
403. The permission-matrix test walks every operation and fails if one lacks an Access.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError
from ninja.utils import check_csrf

from storeops.accounts.services import api_token_authenticate, token_has_perm
from storeops.core.context import Actor
from storeops.core.errors import PermissionDenied


class Principal:
    """Who is calling: a user via session, or an API token acting with its role."""

    def __init__(self, user: Any, token: Any = None):
        self.user = user
        self.token = token

    def has_perm(self, perm: str) -> bool:
        if self.token is not None:
            return token_has_perm(self.token, perm)
        return bool(self.user.has_perm(perm))

    @property
    def actor(self) -> Actor:
        if self.token is not None:
            return Actor(user=self.user, via="token", token_name=self.token.name)
        return Actor(user=self.user, via="api")


class Access:
    """Ninja auth callable: authenticate, then require ``permission`` (None = any signed-in caller)."""

    # ninja puts this mapping into the schema's ``components.securitySchemes`` as it is (it
    # must be data: a method here made /api/v1/openapi.json and /api/v1/docs fail with 500)
    openapi_security_schema: ClassVar[dict[str, str]] = {"type": "http", "scheme": "bearer"}

    def __init__(self, permission: str | None):
        self.permission = permission

    def __call__(self, request: HttpRequest) -> Principal | None:
        principal = self._authenticate(request, self.permission)
        if principal is None:
            return None
        if self.permission is not None and not principal.has_perm(self.permission):
            raise PermissionDenied(_("没有执行此操作的权限（需要 %(perm)s）") % {"perm": self.permission})
        return principal

    def _authenticate(self, request: HttpRequest, permission: str | None = None) -> Principal | None:
        header = request.headers.get("Authorization", "")
        if header.lower().startswith("bearer "):
            # the permission is checked in the token's own query (one round trip, no cache)
            token = api_token_authenticate(header[7:].strip(), perm=permission)
            if token is None:
                raise AuthenticationError()
            request.user = token.user
            return Principal(token.user, token)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_active:
            unsafe = request.method not in ("GET", "HEAD", "OPTIONS")
            if unsafe and not getattr(request, "_dont_enforce_csrf_checks", False):  # noqa: SIM102
                if check_csrf(request) is not None:
                    raise PermissionDenied(_("CSRF 校验失败，请刷新页面后重试"))
            return Principal(user)
        return None


def perm(permission: str | None) -> Access:
    return Access(permission)


def principal(request: HttpRequest) -> Principal:
    return request.auth  # type: ignore[attr-defined,no-any-return]


MAX_PAGE_SIZE = 200
