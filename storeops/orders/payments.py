"""Payment providers: the interface the order services talk to, and a built-in test gateway.

A provider does three things: it turns a payment into instructions for the customer
(a redirect URL or QR data), it verifies the asynchronous callbacks it sends us, and it
refunds. Real gateways (Alipay, WeChat Pay, UnionPay) implement the same protocol in their
own modules and are selected by name in ``STOREOPS_PAYMENT_PROVIDERS``.

The **test gateway** behaves like a real one on purpose: callbacks are signed
(HMAC-SHA256 over the raw body), can be delivered twice or out of order, and a payment can
fail or time out. Tests and the demo use it; it is never a shortcut around verification.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Protocol

from django.conf import settings
from django.utils import translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy


@dataclasses.dataclass(frozen=True, slots=True)
class PaymentRequest:
    reference: str  # our payment reference
    order_number: str
    amount: Decimal
    currency: str
    description: str


@dataclasses.dataclass(frozen=True, slots=True)
class Instructions:
    redirect_url: str
    qr_data: str


@dataclasses.dataclass(frozen=True, slots=True)
class CallbackData:
    """A verified callback: which payment, what happened, the provider's ids."""

    event_id: str
    reference: str
    outcome: str  # "succeeded" | "failed"
    provider_txn_id: str
    amount: Decimal
    reason: str = ""
    # when the provider collected (or refused) the money, as it says; None: when we hear of it
    collected_at: dt.datetime | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class RefundResult:
    ok: bool
    provider_refund_id: str
    reason: str = ""


class InvalidCallback(ValueError):
    """The callback's signature or body is not valid: it is recorded and rejected."""


class BadSignature(InvalidCallback):
    """The callback's signature is missing or does not match its body."""


class PaymentProvider(Protocol):
    name: str
    label: Any  # what people read for it, e.g. "测试支付" (a lazy translation or a str)

    def start(self, request: PaymentRequest) -> Instructions: ...

    def verify(self, body: bytes, headers: Mapping[str, str]) -> CallbackData: ...

    def refund(
        self, *, reference: str, provider_txn_id: str, amount: Decimal, refund_reference: str
    ) -> RefundResult: ...


SIGNATURE_HEADER = "X-Storeops-Signature"


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class TestGateway:
    """The built-in gateway (name ``test``). Its secret is ``STOREOPS_PAYMENT_TEST_SECRET``."""

    name = "test"
    label = gettext_lazy("测试支付")
    __test__ = False  # not a pytest test class

    def __init__(self, secret: str | None = None) -> None:
        self.secret = secret or settings.STOREOPS_PAYMENT_TEST_SECRET

    def start(self, request: PaymentRequest) -> Instructions:
        url = f"/api/v1/orders/test-gateway/{request.reference}"
        return Instructions(
            redirect_url=url,
            qr_data=f"storeops-test://pay?ref={request.reference}&amount={request.amount}&currency={request.currency}",
        )

    def callback(
        self,
        *,
        reference: str,
        amount: Decimal,
        outcome: str = "succeeded",
        reason: str = "",
        event_id: str | None = None,
        txn_id: str | None = None,
        collected_at: dt.datetime | None = None,
    ) -> tuple[bytes, dict[str, str]]:
        """The signed callback this gateway sends when the customer pays (or fails to).
        ``collected_at`` is the gateway's own time of the payment (a real gateway's
        ``success_time``); a callback without it is dated when it arrives."""
        fields = {
            "event_id": event_id or f"ev_{secrets.token_hex(8)}",
            "reference": reference,
            "outcome": outcome,
            "txn_id": txn_id or (f"tx_{reference}" if outcome == "succeeded" else ""),
            "amount": str(amount),
            "reason": reason,
        }
        if collected_at is not None:
            fields["collected_at"] = collected_at.isoformat()
        body = json.dumps(fields, sort_keys=True).encode()
        return body, {SIGNATURE_HEADER: sign(self.secret, body)}

    def verify(self, body: bytes, headers: Mapping[str, str]) -> CallbackData:
        given = _header(headers, SIGNATURE_HEADER)
        if not given or not hmac.compare_digest(given, sign(self.secret, body)):
            raise BadSignature("missing signature" if not given else "bad signature")
        try:
            data: dict[str, Any] = json.loads(body)
            outcome = str(data["outcome"])
            if outcome not in ("succeeded", "failed"):
                raise InvalidCallback("unknown outcome")
            collected_at = None
            if data.get("collected_at"):
                collected_at = dt.datetime.fromisoformat(str(data["collected_at"]))
                if collected_at.tzinfo is None:
                    raise InvalidCallback("collected_at without a time zone")
            return CallbackData(
                event_id=str(data["event_id"]),
                reference=str(data["reference"]),
                outcome=outcome,
                provider_txn_id=str(data.get("txn_id") or ""),
                amount=Decimal(str(data["amount"])),
                reason=str(data.get("reason") or ""),
                collected_at=collected_at,
            )
        except (KeyError, ValueError, ArithmeticError, TypeError) as exc:
            raise InvalidCallback(f"malformed body: {exc}") from exc

    def refund(
        self, *, reference: str, provider_txn_id: str, amount: Decimal, refund_reference: str
    ) -> RefundResult:
        if amount <= 0 or not provider_txn_id:
            return RefundResult(ok=False, provider_refund_id="", reason="nothing to refund")
        return RefundResult(ok=True, provider_refund_id=f"rf_{refund_reference}")


class MarketplaceSettlement:
    """Orders paid on a marketplace (Tmall, JD, Douyin, Pinduoduo — imported, ORD-06): the
    platform holds the buyer's money and pays the shop out later, so there is nothing to start
    and no callback to verify. A refund is executed by the platform (approved in its seller
    centre, or through its API by a channel adapter that replaces this class); StoreOps records
    it here so the order's books — paid, refunded, per line — stay exact."""

    name = "marketplace"
    label = gettext_lazy("平台结算")

    def start(self, request: PaymentRequest) -> Instructions:
        raise InvalidCallback("marketplace orders are paid on the marketplace")

    def verify(self, body: bytes, headers: Mapping[str, str]) -> CallbackData:
        raise InvalidCallback("marketplace payments have no callbacks")

    def refund(
        self, *, reference: str, provider_txn_id: str, amount: Decimal, refund_reference: str
    ) -> RefundResult:
        if amount <= 0:
            return RefundResult(ok=False, provider_refund_id="", reason="nothing to refund")
        return RefundResult(ok=True, provider_refund_id=f"mp_{refund_reference}")


def _header(headers: Mapping[str, str], name: str) -> str:
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return ""


def provider_label(name: str) -> str:
    """The configured provider's label ("测试支付" for ``test``); an unknown name as given."""
    path = settings.STOREOPS_PAYMENT_PROVIDERS.get(name)
    if path is None:
        return name
    try:
        cls = import_string(path)
    except ImportError:
        return name
    return str(getattr(cls, "label", "") or name)


def provider_label_msgid(name: str) -> str:
    """The provider's label untranslated, for texts rendered later in each reader's language
    (a finding title's ``{"msgid": ...}`` parameter)."""
    with translation.override(None):
        return provider_label(name)


def provider(name: str) -> PaymentProvider:
    """The configured provider called ``name`` (``KeyError`` when there is none)."""
    paths: Mapping[str, str] = settings.STOREOPS_PAYMENT_PROVIDERS
    cls = import_string(paths[name])
    instance: PaymentProvider = cls()
    return instance
