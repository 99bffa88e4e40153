"""Link every existing parcel to the orders it carries (``ShipmentOrder``).

Until now a parcel named its orders only in ``Shipment.order_ref``: the numbers joined with
``","`` and cut to 64 characters, so a merged parcel of four or more orders lost the last ones
(and its last number could be cut in the middle). Here each parcel gets one link per number of
its ``order_ref``; when the text is 64 characters long (maybe cut) the merged group is read
back from the orders themselves: the orders of the first number's merge group (same store,
channel and ``merge_key``) shipped at the parcel's creation time (``order_ship`` stamps both
with the same instant). A cut last number that no order has is dropped.

The helpers are frozen copies (a migration must not follow later changes of the app's code).
Parcels that already have links are left alone, so the migration can run again safely.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

CUT = 64  # Shipment.order_ref's max_length: the joined numbers were cut to it
BATCH = 1000


def split_order_ref(text: str) -> list[str]:
    seen: dict[str, None] = {}
    for piece in text.split(","):
        if piece.strip():
            seen.setdefault(piece.strip(), None)
    return list(seen)


def _numbers(order_model: Any, db: str, row: tuple[Any, ...]) -> list[str]:
    _pk, store_id, channel_id, order_ref, created_at = row
    numbers = split_order_ref(order_ref)
    if len(order_ref) < CUT or not numbers or order_model is None:
        return numbers
    orders = order_model.objects.using(db).filter(store_id=store_id, channel_id=channel_id)
    key = orders.filter(number=numbers[0]).values_list("merge_key", flat=True).first()
    if key:
        group = list(
            orders.filter(merge_key=key, shipped_at=created_at)
            .order_by("created_at", "pk")
            .values_list("number", flat=True)
        )
        # the group read back must hold every whole number of the text (the last may be cut)
        if numbers[0] in group and set(numbers[:-1]) <= set(group):
            return list(dict.fromkeys(group))
    last = numbers[-1]
    if (
        not orders.filter(number=last).exists()
        and orders.filter(number__startswith=last).exists()
    ):
        return numbers[:-1]  # a number cut in the middle: the start of another order's number
    return numbers


def forwards(apps: Any, schema_editor: Any) -> None:
    db = schema_editor.connection.alias
    shipment_model = apps.get_model("fulfilment", "Shipment")
    link_model = apps.get_model("fulfilment", "ShipmentOrder")
    try:
        order_model = apps.get_model("orders", "Order")
    except LookupError:  # pragma: no cover - the orders app is always installed with fulfilment
        order_model = None
    linked = link_model.objects.using(db).values("shipment_id")
    ids = list(shipment_model.objects.using(db).exclude(pk__in=linked).order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), BATCH):  # ids read first: the loop writes links
        rows = (
            shipment_model.objects.using(db)
            .filter(pk__in=ids[start : start + BATCH])
            .order_by("pk")
            .values_list("pk", "store_id", "channel_id", "order_ref", "created_at")
        )
        link_model.objects.using(db).bulk_create(
            [
                link_model(shipment_id=row[0], order_number=number)
                for row in rows
                for number in _numbers(order_model, db, row)
            ]
        )


class Migration(migrations.Migration):
    dependencies = [
        ("fulfilment", "0002_shipment_order"),
        ("orders", "0001_initial"),  # merged groups are read back from the orders (see above)
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
