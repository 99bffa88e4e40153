"""DATA-09: the personal data the orders app holds about one customer — delivery address and
phone, the client IP and device of their web-shop orders, invoice contact details — for a copy
(PIPL art. 45) and for deletion (art. 47). Deletion keeps the orders, their money and the
province and city (accounting and statistics); invoice titles and tax ids stay because tax
records must be kept."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from storeops.orders.models import InvoiceRequest, Order, OrderStatus
from storeops.stores.models import Store

_FINISHED = (OrderStatus.COMPLETED, OrderStatus.CANCELLED, OrderStatus.CLOSED, OrderStatus.REFUNDED)


def _orders(store: Store, customer_ref: str) -> QuerySet[Order]:
    return Order.objects.filter(store=store, customer_ref=customer_ref)


def order_numbers(store: Store, customer_ref: str) -> list[str]:
    return list(_orders(store, customer_ref).values_list("number", flat=True))


def personal_data(store: Store, customer_ref: str) -> dict[str, list[dict[str, Any]]]:
    orders = _orders(store, customer_ref).order_by("created_at", "pk")
    invoices = InvoiceRequest.objects.filter(order__in=orders).select_related("order").order_by("pk")
    return {
        "orders": [
            {
                "number": o.number,
                "created_at": o.created_at.isoformat(),
                "status": o.status,
                "receiver": o.receiver,
                "phone": o.phone,
                "province": o.province,
                "city": o.city,
                "district": o.district,
                "address": o.address,
                "client_ip": o.client_ip,
                "device_id": o.device_id,
                "paid_amount": str(o.paid_amount),
            }
            for o in orders
        ],
        "invoice_requests": [
            {
                "order": i.order.number,
                "title": i.title,
                "tax_id": i.tax_id,
                "payer_name": i.payer_name,
                "email": i.email,
                "mailing_address": i.mailing_address,
            }
            for i in invoices
        ],
    }


def unfinished(store: Store, customer_ref: str) -> list[str]:
    """Orders not finished yet (to be paid, shipped or delivered, or in after-sales): their
    address and phone are still needed, so deletion waits for them."""
    return list(
        _orders(store, customer_ref)
        .exclude(status__in=_FINISHED)
        .order_by("pk")
        .values_list("number", flat=True)
    )


def erase(store: Store, customer_ref: str) -> dict[str, int]:
    """Finished orders only: the caller checked :func:`unfinished` first, and an order placed
    since (a race) keeps the address it is still to be delivered to."""
    orders = _orders(store, customer_ref).filter(status__in=_FINISHED)
    invoices = InvoiceRequest.objects.filter(order__in=orders).exclude(email="", mailing_address="")
    return {
        "invoice_requests": invoices.update(email="", mailing_address=""),
        "orders": orders.update(
            receiver="",
            phone="",
            district="",
            address="",
            latitude=None,
            longitude=None,
            client_ip=None,
            device_id="",
        ),
    }
