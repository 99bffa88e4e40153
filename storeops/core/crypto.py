"""Secrets kept in the database, encrypted at rest (SOP RISK-05).

A value is stored as ``enc1:<Fernet token>`` (AES-128-CBC with HMAC-SHA256, from the
``cryptography`` package). The key is derived (HKDF-SHA256) from Django's ``SECRET_KEY``, so
a copy of the database or a backup alone does not reveal the secrets. Rotating ``SECRET_KEY``
works the Django way: put the old key in ``SECRET_KEY_FALLBACKS`` and values written with it
stay readable (each is re-encrypted with the new key when next saved).

A value that cannot be decrypted (``SECRET_KEY`` changed without the old one in the
fallbacks) reads as empty and is logged: a webhook signed with it is then refused, and the
secret has to be entered again. A stored value without the prefix is read as it is (rows
written before encryption; the migration that introduced it re-saves them).
"""

from __future__ import annotations

import base64
import logging
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import models

PREFIX = "enc1:"
_INFO = b"storeops field encryption v1"

logger = logging.getLogger(__name__)


def _fernet(secret: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret.encode())
    return Fernet(base64.urlsafe_b64encode(key))


@lru_cache(maxsize=4)
def _keys(secrets: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([_fernet(s) for s in secrets])


def _current() -> MultiFernet:
    return _keys((str(settings.SECRET_KEY), *(str(k) for k in getattr(settings, "SECRET_KEY_FALLBACKS", []))))


def encrypt(plain: str) -> str:
    """``plain`` encrypted with the current key ("" stays "")."""
    if not plain:
        return ""
    return PREFIX + _current().encrypt(plain.encode()).decode()


def decrypt(stored: str) -> str:
    """The plain text of a stored value ("" when it cannot be decrypted, logged)."""
    if not stored or not stored.startswith(PREFIX):
        return stored
    try:
        return _current().decrypt(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken:
        logger.error(
            "a stored secret cannot be decrypted: SECRET_KEY changed without the old key in "
            "SECRET_KEY_FALLBACKS; enter the secret again"
        )
        return ""


class EncryptedTextField(models.TextField):  # type: ignore[type-arg]
    """Text encrypted at rest with :func:`encrypt`; the model attribute is the plain text.
    Not for lookups (each encryption differs)."""

    description = "Text encrypted at rest"

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        return None if value is None else decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        return value if value in (None, "") else encrypt(str(value))
