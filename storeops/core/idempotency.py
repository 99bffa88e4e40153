"""Idempotency keys: a client that retries a write after a timeout sends the same
``Idempotency-Key`` and gets the first answer again instead of a second order, case,
redemption or stock booking.

The mechanism, shared by the checkout (``orders.services.order_place``), after-sales requests,
points redemptions and the inventory API's stock bookings:

* a key is unique per store (and per endpoint where the result is not a row of its own) — a
  unique index on the row that records the first result holds it;
* :func:`once` looks the key up first (a retry: the first result, ``created=False``); else it
  runs the write in a transaction that inserts that row. When a concurrent request with the same
  key inserted it first, the insert fails (PostgreSQL: it waits for the other transaction and
  fails once it commits; SQLite: writers queue), the whole write is rolled back and the
  winner's result is returned — nothing is done twice;
* the same key with a different request is a **409** ``idempotency_key_reused`` (the row keeps a
  fingerprint of the request, :func:`fingerprint`);
* an error is not remembered: nothing was written, so a retry with the key tries again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from storeops.core.errors import Conflict, ValidationError

T = TypeVar("T")

MAX_KEY_LENGTH = 100  # the key columns are CharField(max_length=100)
HEADER = "Idempotency-Key"


def clean_key(raw: str | None, *, field: str = "idempotency_key") -> str | None:
    """The key as stored (surrounding blanks removed); None for no key. Too long: 422."""
    key = (raw or "").strip() or None
    if key is not None and len(key) > MAX_KEY_LENGTH:
        raise ValidationError(_("幂等键过长"), fields={field: _("最多 100 个字符")})
    return key


def fingerprint(request: Any) -> str:
    """A short hash of a request's content (JSON-able; dict keys in any order, dates and
    decimals as text) that tells a retry from another request under the same key."""
    body = json.dumps(request, ensure_ascii=False, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()[:32]


def key_reused(message: Any) -> Conflict:
    """The 409 for a key that was used for a different request (``message`` names the first)."""
    return Conflict(message, code="idempotency_key_reused")


def once(*, key: str | None, find: Callable[[], T | None], run: Callable[[], T]) -> tuple[T, bool]:
    """``(result, created)``: ``run()`` once per ``key``.

    ``find()`` returns the result recorded under the key (None: none yet) and raises
    :func:`key_reused` when it was recorded for a different request. ``run()`` does the write
    and records the key on a row under a unique constraint (it runs in a transaction here), so
    a concurrent request with the same key makes it raise ``IntegrityError``. Without a key
    ``run()`` simply runs."""
    if key is not None:
        first = find()
        if first is not None:
            return first, False
    try:
        with transaction.atomic():
            return run(), True
    except IntegrityError:
        if key is None:
            raise
        first = find()
        if first is None:
            raise
        return first, False  # a concurrent request with the same key won
