"""Users, roles and API tokens: every change goes through here and is audited."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group, Permission
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from storeops.accounts.models import ApiToken, UserProfile, hash_token
from storeops.accounts.roles import Role, role_grants
from storeops.audit.services import audit_record
from storeops.core.context import Actor
from storeops.core.errors import ValidationError


def roles_sync(*, using: str = "default") -> None:
    """Create the seven role groups and set each one's permissions from the role table."""
    permissions = list(Permission.objects.using(using).select_related("content_type"))
    for role in Role:
        group, _created = Group.objects.using(using).get_or_create(name=role.group_name)
        wanted = [p for p in permissions if role_grants(role, f"{p.content_type.app_label}.{p.codename}")]
        group.permissions.set(wanted)


def user_create(
    *,
    actor: Actor,
    username: str,
    password: str,
    roles: list[Role],
    email: str = "",
    language: str = "",
    is_superuser: bool = False,
) -> AbstractBaseUser:
    User = get_user_model()  # noqa: N806
    if User.objects.filter(username=username).exists():
        raise ValidationError(_("用户名已存在"), fields={"username": _("用户名已存在")})
    with transaction.atomic():
        user = User.objects.create_user(
            username=username, password=password, email=email, is_staff=True, is_superuser=is_superuser
        )
        user.groups.set(Group.objects.filter(name__in=[r.group_name for r in roles]))
        UserProfile.objects.create(user=user, language=language)
        audit_record(
            actor=actor,
            action="user.create",
            obj=user,
            after={"username": username, "roles": [r.value for r in roles], "email": email},
        )
    return user


def user_set_language(*, actor: Actor, user: AbstractBaseUser, language: str) -> None:
    from django.conf import settings

    if language not in dict(settings.LANGUAGES):
        raise ValidationError(_("不支持的语言"), fields={"language": _("不支持的语言")})
    profile, _created = UserProfile.objects.get_or_create(user=user)
    before = profile.language
    profile.language = language
    profile.save(update_fields=["language"])
    user.profile = profile  # type: ignore[attr-defined]  # keep the cached relation current
    audit_record(
        actor=actor,
        action="user.set_language",
        obj=user,
        before={"language": before},
        after={"language": language},
    )


def user_roles(user: AbstractBaseUser) -> list[Role]:
    names = set(user.groups.values_list("name", flat=True))  # type: ignore[attr-defined]
    return [r for r in Role if r.group_name in names]


def api_token_create(
    *, actor: Actor, name: str, role: Role, expires_at: dt.datetime | None = None
) -> tuple[ApiToken, str]:
    """Create a token for an integration; returns the token row and the raw secret (shown once)."""
    if not name.strip():
        raise ValidationError(_("请填写令牌名称"), fields={"name": _("必填")})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError(_("过期时间必须在未来"), fields={"expires_at": _("过期时间必须在未来")})
    raw = ApiToken.generate()
    with transaction.atomic():
        token = ApiToken.objects.create(
            name=name.strip(),
            role=Group.objects.get(name=role.group_name),
            user=actor.user,
            prefix=raw[:10],
            key_hash=hash_token(raw),
            expires_at=expires_at,
        )
        audit_record(
            actor=actor,
            action="api_token.create",
            obj=token,
            after={"name": token.name, "role": role.value, "prefix": token.prefix},
        )
    return token, raw


def api_token_revoke(*, actor: Actor, token: ApiToken) -> None:
    with transaction.atomic():
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(actor=actor, action="api_token.revoke", obj=token, after={"revoked": True})


def api_token_authenticate(raw: str) -> ApiToken | None:
    """The active token for ``raw``, or None. Records last use at most once a minute."""
    if not raw.startswith("so_"):
        return None
    token = ApiToken.objects.select_related("role", "user").filter(key_hash=hash_token(raw)).first()
    now = timezone.now()
    if token is None or not token.is_active(now) or not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def token_has_perm(token: ApiToken, perm: str) -> bool:
    """A token acts with its role's permissions only (never more than its creator had at use)."""
    cache = getattr(token, "_perm_cache", None)
    if cache is None:
        cache = {
            f"{app}.{code}"
            for app, code in token.role.permissions.values_list("content_type__app_label", "codename")
        }
        token._perm_cache = cache  # type: ignore[attr-defined]
    return perm in cache and token.user.has_perm(perm)
