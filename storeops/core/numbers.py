"""Human-readable document numbers: the creation time to the second plus six random digits.

Two documents created in the same second clash one time in a million per pair; the number's
unique constraint catches it and :func:`create_numbered` draws again instead of failing the
caller's request.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any, TypeVar

from django.db import IntegrityError, models, transaction

M = TypeVar("M", bound=models.Model)

ATTEMPTS = 5


def new_number(now: dt.datetime, prefix: str = "") -> str:
    return prefix + now.strftime("%y%m%d%H%M%S") + f"{secrets.randbelow(10**6):06d}"


def create_numbered(model: type[M], now: dt.datetime, prefix: str = "", **fields: Any) -> M:
    """Create ``model(number=…, **fields)`` under a fresh number, drawing again on a clash.

    Any other integrity error (an idempotency key, a missing parent) is re-raised for the
    caller to handle.
    """
    manager = model._default_manager
    for attempt in range(ATTEMPTS):
        number = new_number(now, prefix)
        try:
            with transaction.atomic():
                return manager.create(number=number, **fields)
        except IntegrityError:
            if attempt == ATTEMPTS - 1 or not manager.filter(number=number).exists():
                raise
    raise AssertionError("unreachable")  # pragma: no cover
