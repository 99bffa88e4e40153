"""Users, roles and API tokens: every change goes through here and is audited."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group, Permission
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from storeops.accounts.models import ApiToken, UserProfile, hash_token
from storeops.accounts.roles import Role, role_grants
from storeops.audit.services import audit_record
from storeops.core.context import Actor
from storeops.core.errors import PermissionDenied, ValidationError


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


def role_permissions(role: Role) -> set[str]:
    """The permissions (``app_label.codename``) the role's group holds."""
    group = Group.objects.get(name=role.group_name)
    return {
        f"{app}.{code}" for app, code in group.permissions.values_list("content_type__app_label", "codename")
    }


def user_holds_role(user: AbstractBaseUser, role: Role) -> bool:
    """Does ``user`` hold every permission of ``role``? True for the roles they have, and for
    every role for an owner or a superuser (their permissions cover all of them)."""
    if not user.is_active:
        return False
    if user.is_superuser:  # type: ignore[attr-defined]
        return True
    return role_permissions(role) <= user.get_all_permissions()  # type: ignore[attr-defined]


def token_roles_for(user: AbstractBaseUser) -> list[Role]:
    """The roles a token issued for ``user`` may carry (see :func:`api_token_create`)."""
    return [r for r in Role if user_holds_role(user, r)]


def _issuer_may(actor: Actor, via_token: ApiToken | None, perm: str) -> bool:
    if via_token is not None:
        return token_has_perm(via_token, perm)
    return bool(actor.user is not None and actor.user.has_perm(perm))


def api_token_create(
    *,
    actor: Actor,
    name: str,
    role: Role,
    user: AbstractBaseUser | None = None,
    expires_at: dt.datetime | None = None,
    via_token: ApiToken | None = None,
) -> tuple[ApiToken, str]:
    """Issue a token FOR ``user`` (default: the actor themself); returns the token row and the
    raw secret (shown once). The token acts as ``user``.

    - Anyone signed in may issue a token for themself; only a holder of
      ``accounts.add_apitoken`` (the owner) may issue one for another user.
    - The role must be one the token's user holds (all of its permissions): a token never
      carries more than its user may do. At every request the token's rights are still the
      intersection of its role and its user's current permissions, so taking a role away
      from the user takes it from their tokens at once.
    - ``via_token``: the request came with that token. Only a token holding
      ``accounts.add_apitoken`` may issue tokens (a leaked token cannot mint successors
      that outlive its revocation).
    - ``actor.user`` None (system, CLI without a user): ``user`` is required.
    """
    if not name.strip():
        raise ValidationError(_("请填写令牌名称"), fields={"name": _("必填")})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError(_("过期时间必须在未来"), fields={"expires_at": _("过期时间必须在未来")})
    target = user if user is not None else actor.user
    if target is None:
        raise ValidationError(_("请选择令牌用户"), fields={"user_id": _("必填")})
    if actor.user is not None:
        if via_token is not None and not token_has_perm(via_token, "accounts.add_apitoken"):
            raise PermissionDenied(
                _("此令牌不能签发新令牌：请在控制台签发，或使用店主角色的令牌（需要 accounts.add_apitoken）")
            )
        if target.pk != actor.user.pk and not _issuer_may(actor, via_token, "accounts.add_apitoken"):
            raise PermissionDenied(_("只有店主可以为其他成员签发令牌；您只能为自己签发"))
    if not target.is_active:
        raise ValidationError(_("该用户已停用，不能为其签发令牌"), fields={"user_id": _("用户已停用")})
    if not user_holds_role(target, role):
        if actor.user is not None and target.pk == actor.user.pk:
            message = _("您没有「%(role)s」角色，不能签发该角色的令牌") % {"role": role.label}
        else:
            message = _("用户 %(user)s 没有「%(role)s」角色，不能为其签发该角色的令牌") % {
                "user": target.get_username(),
                "role": role.label,
            }
        raise ValidationError(message, fields={"role": message})
    raw = ApiToken.generate()
    with transaction.atomic():
        token = ApiToken.objects.create(
            name=name.strip(),
            role=Group.objects.get(name=role.group_name),
            user=target,
            created_by=actor.user if actor.user is not None and actor.user.pk else None,
            prefix=raw[:10],
            key_hash=hash_token(raw),
            expires_at=expires_at,
        )
        audit_record(
            actor=actor,
            action="api_token.create",
            obj=token,
            after={
                "name": token.name,
                "role": role.value,
                "prefix": token.prefix,
                "user": target.get_username(),
            },
        )
    return token, raw


def api_token_revoke(*, actor: Actor, token: ApiToken, via_token: ApiToken | None = None) -> None:
    """Revoke ``token``: the owner (``accounts.change_apitoken``) any token, a user their own.
    Revoking a revoked token changes nothing: it keeps the time it was first revoked, and the
    operation log gets no second entry."""
    own = actor.user is not None and token.user_id == actor.user.pk
    if actor.user is not None and not own and not _issuer_may(actor, via_token, "accounts.change_apitoken"):
        raise PermissionDenied(_("只能吊销自己的令牌；其他成员的令牌请由店主吊销"))
    with transaction.atomic():
        updated = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        token.refresh_from_db(fields=["revoked_at"])
        if updated:
            audit_record(actor=actor, action="api_token.revoke", obj=token, after={"revoked": True})


_MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _model_backend_only() -> bool:
    from django.conf import settings

    return list(settings.AUTHENTICATION_BACKENDS) == [_MODEL_BACKEND]


@functools.cache
def _grants_sql() -> str:
    """One statement: does the role ``%s`` grant app ``%s`` permission ``%s``, and does user
    ``%s`` (superuser flag ``%s``) hold it — directly or through a group, as ModelBackend reads
    it? Table names come from the models (a swapped user model keeps working)."""
    user_model = get_user_model()
    user_perms = user_model._meta.get_field("user_permissions").remote_field.through._meta  # type: ignore[union-attr]
    user_groups = user_model._meta.get_field("groups").remote_field.through._meta  # type: ignore[union-attr]
    group_perms = Group._meta.get_field("permissions").remote_field.through._meta  # type: ignore[union-attr]
    ct = Permission._meta.get_field("content_type").related_model._meta  # type: ignore[union-attr]
    gp, up, ug = group_perms.db_table, user_perms.db_table, user_groups.db_table
    up_user = user_perms.get_field(user_model._meta.model_name).column  # type: ignore[arg-type]
    ug_user = user_groups.get_field(user_model._meta.model_name).column  # type: ignore[arg-type]
    # table and column names come from the models' metadata; every value is bound
    return (
        f"SELECT EXISTS (SELECT 1 FROM {Permission._meta.db_table} p "  # noqa: S608
        f"JOIN {ct.db_table} ct ON ct.id = p.content_type_id "
        f"JOIN {gp} gp ON gp.permission_id = p.id AND gp.group_id = %s "
        "WHERE ct.app_label = %s AND p.codename = %s AND ("
        f"EXISTS (SELECT 1 FROM {up} up WHERE up.{up_user} = %s AND up.permission_id = p.id) "
        f"OR EXISTS (SELECT 1 FROM {ug} ug JOIN {gp} gp2 ON gp2.group_id = ug.group_id "
        f"WHERE ug.{ug_user} = %s AND gp2.permission_id = p.id) OR %s))"
    )


def _token_grants_pg(token: ApiToken, perm: str) -> bool | None:
    """:func:`token_has_perm` for one permission in one prepared statement on PostgreSQL (the
    ORM form of it spends ~4 ms planning on every request), from the rows as they are now.
    None when it does not apply: another database, other authentication backends configured
    (they decide in Python), or a malformed permission name."""
    from django.db import DEFAULT_DB_ALIAS, connections

    app_label, dot, codename = perm.partition(".")
    conn = connections[DEFAULT_DB_ALIAS]
    if not dot or conn.vendor != "postgresql" or not _model_backend_only():
        return None
    cursor = _prepared_cursor(conn)
    user = token.user
    params = (token.role_id, app_label, codename, user.pk, user.pk, bool(user.is_superuser))
    try:
        cursor.execute(_grants_sql(), params, prepare=True)
        row = cursor.fetchone()
    except Exception:
        with conn.wrap_database_errors:
            raise
    return bool(row[0])


def _prepared_cursor(conn: Any) -> Any:
    """A server-side-binding psycopg cursor on Django's current connection, kept while that
    connection lives (Django's own cursors bind on the client and cannot prepare). It shares
    the connection and so any open transaction. Django's query log does not see it."""
    raw = conn.connection
    if raw is None:
        conn.ensure_connection()
        raw = conn.connection
    cached = getattr(conn, "_storeops_auth_cursor", None)
    if cached is not None and cached[0] is raw and not cached[1].closed:
        return cached[1]
    import psycopg

    cursor = psycopg.Cursor(raw)
    conn._storeops_auth_cursor = (raw, cursor)
    return cursor


def api_token_authenticate(raw: str, *, perm: str | None = None) -> ApiToken | None:
    """The active token for ``raw``, or None. Records last use at most once a minute.

    With ``perm``, whether the token holds that permission (:func:`token_has_perm`) is read
    at once, from the current rows, in one prepared statement on PostgreSQL; the answer is
    kept on this token object only (i.e. for this request), never across requests."""
    if not raw.startswith("so_"):
        return None
    token = ApiToken.objects.select_related("role", "user").filter(key_hash=hash_token(raw)).first()
    now = timezone.now()
    if token is None or not token.is_active(now) or not token.user.is_active:
        return None
    if perm is not None:
        granted = _token_grants_pg(token, perm)
        if granted is not None:
            token._perm_checked = {perm: granted}  # type: ignore[attr-defined]
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def token_has_perm(token: ApiToken, perm: str) -> bool:
    """A token acts as its user with its role's permissions only: the intersection of its
    role and what its user may do at the time of use."""
    checked = getattr(token, "_perm_checked", None)
    if checked is not None and perm in checked:
        return bool(checked[perm])
    cache = getattr(token, "_perm_cache", None)
    if cache is None:
        cache = {
            f"{app}.{code}"
            for app, code in token.role.permissions.values_list("content_type__app_label", "codename")
        }
        token._perm_cache = cache  # type: ignore[attr-defined]
    return perm in cache and token.user.has_perm(perm)
