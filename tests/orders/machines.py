"""The set-up the orders' hypothesis state machines share (``OrderBooks``, ``PresaleBooks``):
each example runs inside a savepoint that is rolled back, so examples don't see each other,
on a new store with a web channel, the builders' two SKUs in two warehouses and a
store-level 满200减7 (discounts apportioned over lines and units in odd cents)."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import event
from hypothesis.stateful import RuleBasedStateMachine

from storeops.core.errors import Conflict, InvalidTransition
from storeops.inventory.models import Stock, Zone
from storeops.orders import rules
from storeops.orders import services as svc
from storeops.orders.models import Order
from storeops.promotions import services as prs
from storeops.promotions.selectors import offer_cache_clear
from storeops.stores import services as store_services
from storeops.stores.selectors import playbook_get
from tests.orders.builders import ACTOR, World


class StoreMachine(RuleBasedStateMachine):
    """Subclasses name their store (``STORE``: code, name) and its stock per SKU in each
    warehouse (``STOCK``), and say what a refused call must leave unchanged (``_snapshot``)."""

    STORE: tuple[str, str]
    STOCK: dict[str, int]

    def __init__(self) -> None:
        super().__init__()
        self._savepoint = transaction.atomic()
        self._savepoint.__enter__()
        offer_cache_clear()  # ids come back after a rollback (SQLite): never serve a built offer
        code, name = self.STORE
        store = store_services.store_create(actor=ACTOR, code=code, name=name)
        channel = store_services.channel_create(
            actor=ACTOR, store=store, kind="own_web", code="web", name="自营商城"
        )
        self.world = World(store, channel, stock_sh=self.STOCK["sh"], stock_gz=self.STOCK["gz"])
        offer = prs.offer_create(
            actor=ACTOR,
            store=store,
            kind="tiered_reduction",
            title_zh="满200减7",
            params={"tiers": [{"threshold": "200", "amount": "7"}]},
        )
        prs.offer_set_status(actor=ACTOR, offer=offer, status="active")
        self.playbook = playbook_get(store=store, channel=channel)
        self.now = timezone.now().replace(microsecond=0)

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._savepoint.__exit__(None, None, None)

    def _available(self, sku_id: int) -> int:
        rows = Stock.objects.filter(sku_id=sku_id, zone=Zone.SELLABLE, warehouse__store=self.world.store)
        return sum(r.on_hand - r.reserved for r in rows)

    def _snapshot(self, order: Order) -> tuple:
        raise NotImplementedError

    def _refused(self, order: Order, call, *errors: type[Exception], code: str | None = None) -> None:
        """``call`` must raise one of ``errors`` (default: a conflict, e.g. an invalid transition),
        with ``code`` when given, and leave the order exactly as it was (``_snapshot``)."""
        before = self._snapshot(order)
        with pytest.raises(errors or (Conflict,)) as caught:
            call()
        if code is not None:
            assert caught.value.code == code, caught.value
        assert self._snapshot(order) == before

    def _whole_refund_refused(self, order: Order, line, units: int, amount) -> bool:
        """When refunding ``units`` of ``line`` (``amount``) would take all of a paid order that
        has not shipped, check that it is refused (``cancel_instead``) and changes nothing."""
        if not takes_everything(order, line.pk, units, amount):
            return False
        event("refund: refused, all of a not shipped order (cancel it instead)")
        self._refused(
            order,
            lambda: svc.order_refund(actor=ACTOR, order=order, units={line.pk: units}, reason="退款"),
            InvalidTransition,
            code="cancel_instead",
        )
        return True


def takes_everything(order: Order, line_id: int, units: int, amount) -> bool:
    """Whether refunding ``units`` of line ``line_id`` (``amount``) leaves nothing of a paid
    order that has not shipped: every unit refunded, or all that was paid. Such a refund is
    refused (``cancel_instead``): the order is cancelled instead."""
    if rules.Status(order.status) not in rules.PAID_NOT_SHIPPED:
        return False
    if order.paid_amount > 0 and order.refunded_amount + amount >= order.paid_amount:
        return True
    return all(
        line.refunded_qty + (units if line.pk == line_id else 0) >= line.quantity
        for line in order.lines.all()
    )
