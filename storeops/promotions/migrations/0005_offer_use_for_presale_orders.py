"""Presale orders placed before each presale order got a use of its presale offer
(``OfferUse``, the link the offer page counts deposits and balances by): give them one.
The offer is the presale the order's pricing names (``pricing.applied``, kind "presale");
should it name none, the store's one presale offer whose balance window is the order's. An order closed or
cancelled has its use released when it ended. Data only; nothing to undo."""

from django.db import migrations
from django.utils.dateparse import parse_datetime


def _window(params):
    try:
        starts, ends = parse_datetime(params["balance_starts"]), parse_datetime(params["balance_ends"])
    except (KeyError, TypeError, ValueError):
        return None
    if starts is None or ends is None or starts.tzinfo is None or ends.tzinfo is None:
        return None
    return starts, ends


def link_presale_orders(apps, schema_editor):
    db = schema_editor.connection.alias
    Order = apps.get_model("orders", "Order")
    Offer = apps.get_model("promotions", "Offer")
    OfferUse = apps.get_model("promotions", "OfferUse")
    presales = {}  # offer id -> (store id, balance window)
    for pk, store_id, params in (
        Offer.objects.using(db).filter(kind="presale").values_list("pk", "store_id", "params")
    ):
        presales[pk] = (store_id, _window(params or {}))
    if not presales:
        return
    linked = set(OfferUse.objects.using(db).filter(offer_id__in=presales).values_list("order_id", flat=True))
    rows = []
    orders = Order.objects.using(db).filter(deposit_amount__gt=0).order_by("pk")
    for order in orders.iterator():
        if order.pk in linked:
            continue
        named = {
            int(a["offer"][2:])
            for a in (order.pricing or {}).get("applied", [])
            if a.get("kind") == "presale"
            and str(a.get("offer", "")).startswith("of")
            and a["offer"][2:].isdigit()
        }
        found = {pk for pk in named if pk in presales and presales[pk][0] == order.store_id}
        if not found:
            found = {
                pk
                for pk, (store_id, window) in presales.items()
                if store_id == order.store_id and window == (order.balance_starts, order.balance_ends)
            }
        if len(found) != 1:
            continue
        rows.append(
            OfferUse(
                offer_id=found.pop(),
                customer_ref=order.customer_ref or "",
                order_id=order.pk,
                order_number=order.number,
                quantity=1,
                used_at=order.created_at,
                released_at=order.cancelled_at if order.status in ("cancelled", "closed") else None,
            )
        )
    OfferUse.objects.using(db).bulk_create(rows, batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("promotions", "0004_offer_use"),
        ("orders", "0009_presale"),
    ]

    operations = [migrations.RunPython(link_presale_orders, migrations.RunPython.noop)]
