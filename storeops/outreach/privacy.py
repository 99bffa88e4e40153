"""DATA-09: marketing consents carry the customer's phone, e-mail or device, and each message
sent keeps its masked address and text. A copy lists both; deletion withdraws every consent
(an erased customer is never messaged again, MEM-06) and clears the addresses."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from storeops.outreach.models import Consent, ConsentSource, ConsentStatus, Message
from storeops.stores.models import Store


def personal_data(store: Store, customer_ref: str) -> dict[str, list[dict[str, Any]]]:
    consents = Consent.objects.filter(store=store, customer_ref=customer_ref).order_by("channel")
    messages = Message.objects.filter(store=store, customer_ref=customer_ref).order_by("created_at", "pk")
    return {
        "marketing_consents": [
            {
                "channel": c.channel,
                "status": c.status,
                "address": c.address,
                "changed_at": c.changed_at.isoformat(),
            }
            for c in consents
        ],
        "marketing_messages": [
            {
                "channel": m.channel,
                "address": m.address_masked,
                "text": m.text,
                "status": m.status,
                "sent_at": m.sent_at.isoformat() if m.sent_at else None,
            }
            for m in messages
        ],
    }


def erase(store: Store, customer_ref: str, *, by: str) -> dict[str, int]:
    consents = Consent.objects.filter(store=store, customer_ref=customer_ref)
    messages = Message.objects.filter(store=store, customer_ref=customer_ref).exclude(address_masked="")
    return {
        "marketing_consents": consents.update(
            status=ConsentStatus.OPTED_OUT,
            source=ConsentSource.CONSOLE,
            address="",
            changed_at=timezone.now(),
            changed_by=by,
        ),
        "marketing_messages": messages.update(address_masked=""),
    }
