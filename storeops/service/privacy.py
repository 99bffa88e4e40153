"""DATA-09: what customers wrote — their messages in service tickets, review texts and photos,
NPS comments — is personal data. A copy lists it; deletion replaces the customer's ticket
messages with a note and clears review texts, photos and NPS comments. Ratings, scores,
categories and timings stay (CS-04 and TEAM-01 statistics); open tickets wait, since they are
still being answered."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from storeops.service.models import Author, NpsResponse, Review, Ticket, TicketMessage, TicketStatus
from storeops.stores.models import Store

_OPEN = (TicketStatus.OPEN, TicketStatus.IN_PROGRESS)


def personal_data(store: Store, customer_ref: str) -> dict[str, list[dict[str, Any]]]:
    tickets = Ticket.objects.filter(store=store, customer_ref=customer_ref)
    messages = (
        TicketMessage.objects.filter(ticket__in=tickets, author_kind=Author.CUSTOMER)
        .select_related("ticket")
        .order_by("sent_at", "pk")
    )
    reviews = Review.objects.filter(store=store, customer_ref=customer_ref).order_by("created_at", "pk")
    nps = NpsResponse.objects.filter(store=store, customer_ref=customer_ref).order_by("pk")
    return {
        "service_messages": [
            {
                "ticket": m.ticket_id,
                "subject": m.ticket.subject,
                "sent_at": m.sent_at.isoformat(),
                "text": m.body,
            }
            for m in messages
        ],
        "reviews": [
            {
                "order": r.order_ref,
                "sku": r.sku_code,
                "rating": r.rating,
                "text": r.text,
                "images": r.images,
                "created_at": r.created_at.isoformat(),
            }
            for r in reviews
        ],
        "nps_answers": [{"score": n.score, "comment": n.comment, "order": n.order_ref} for n in nps],
    }


def unfinished(store: Store, customer_ref: str) -> list[str]:
    """Open tickets of the customer (they are still being answered)."""
    tickets = Ticket.objects.filter(store=store, customer_ref=customer_ref, status__in=_OPEN)
    return [f"#{pk}" for pk in tickets.order_by("pk").values_list("pk", flat=True)]


def erase(store: Store, customer_ref: str) -> dict[str, int]:
    tickets = Ticket.objects.filter(store=store, customer_ref=customer_ref)
    erased = _("（内容已按顾客的个人信息删除请求清除）")
    return {
        "service_messages": TicketMessage.objects.filter(ticket__in=tickets, author_kind=Author.CUSTOMER)
        .exclude(body=erased)
        .update(body=erased),
        "reviews": Review.objects.filter(store=store, customer_ref=customer_ref).update(text="", images=[]),
        "nps_answers": NpsResponse.objects.filter(store=store, customer_ref=customer_ref)
        .exclude(comment="")
        .update(comment=""),
    }
