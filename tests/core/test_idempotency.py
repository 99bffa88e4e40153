"""The shared idempotency-key helpers (checkout, after-sales, points redemptions, stock
bookings)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from storeops.core.errors import Conflict, ValidationError
from storeops.core.idempotency import clean_key, fingerprint, key_reused


def test_a_key_is_trimmed_and_a_blank_one_is_no_key():
    assert clean_key("  erp-1 ") == "erp-1"
    assert clean_key("   ") is None
    assert clean_key(None) is None


def test_a_key_over_100_characters_is_a_422_naming_the_field():
    assert clean_key("k" * 100) == "k" * 100
    with pytest.raises(ValidationError) as refused:
        clean_key("k" * 101)
    assert set(refused.value.fields) == {"idempotency_key"}


def test_the_fingerprint_ignores_key_order_and_tells_other_content_apart():
    body = {"sku_id": 1, "quantity": 5, "at": dt.date(2026, 12, 6), "price": Decimal("9.90")}
    same = {"price": Decimal("9.90"), "at": dt.date(2026, 12, 6), "quantity": 5, "sku_id": 1}
    assert fingerprint(body) == fingerprint(same)
    assert fingerprint(body) != fingerprint({**body, "quantity": 6})


def test_a_reused_key_is_a_conflict_with_its_own_code():
    error = key_reused("used")
    assert isinstance(error, Conflict)
    assert (error.code, error.http_status) == ("idempotency_key_reused", 409)
