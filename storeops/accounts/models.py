from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

TOKEN_PREFIX = "so_"  # noqa: S105 - a public prefix, not a secret


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class UserProfile(models.Model):
    """Per-user preferences: console language (zh-hans default, English switchable)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    language = models.CharField(_("界面语言"), max_length=10, choices=settings.LANGUAGES, blank=True)
    phone = models.CharField(_("手机"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("用户偏好")
        verbose_name_plural = _("用户偏好")

    def __str__(self) -> str:
        return f"{self.user} ({self.language or '-'})"


class ApiToken(models.Model):
    """A bearer token, issued FOR ``user`` (a team member or a dedicated integration user):
    every request made with it acts as that user (operation log, separation of duties,
    ``owner=me``), with the permissions its role and that user both hold. ``created_by`` is
    who issued it (the user themself, or the owner).

    Only a SHA-256 of the token is stored; the token itself is shown once at creation.
    """

    name = models.CharField(_("名称"), max_length=100)
    role = models.ForeignKey(Group, on_delete=models.PROTECT, verbose_name=_("角色"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="api_tokens",
        verbose_name=_("令牌用户"),
        help_text=_("用此令牌发出的每个请求都以该用户的身份执行"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("签发人"),
        editable=False,
    )
    prefix = models.CharField(max_length=12, db_index=True, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(_("过期时间"), null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API 令牌")
        verbose_name_plural = _("API 令牌")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def generate() -> str:
        return TOKEN_PREFIX + secrets.token_urlsafe(32)

    def is_active(self, now: timezone.datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
