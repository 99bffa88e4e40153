"""Orders for goods taken with points (MEM-02) next to the other order rules: nothing was paid,
so there is nothing to invoice (ORD-07), and taking goods for points does not make a customer
known to the store (ORD-01 fraud score, AS-03 new-customer priority)."""

from __future__ import annotations

import pytest

from storeops.core.errors import InvalidTransition
from storeops.orders import invoices as inv
from storeops.orders import selectors
from storeops.orders import services as order_services
from storeops.orders.models import InvoiceRequest
from storeops.sop.models import Finding
from storeops.sop.services import checks_run
from tests.members.builders import PLAIN_DAY, paid_order, points_order
from tests.orders.builders import ACTOR, World

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(store, channel):
    return World(store, channel)


def test_ord_07_invoice_for_a_points_order_is_refused(store, world):
    # given goods taken for points: paid, with nothing paid
    order = points_order(world, "c1")
    assert selectors.is_points_order(order)
    # when an invoice is asked for, then it is refused saying why (not "not paid yet")
    with pytest.raises(InvalidTransition) as exc:
        inv.invoice_request(
            actor=ACTOR,
            order=order,
            kind="electronic",
            title_type="personal",
            title="张三",
            email="a@example.com",
        )
    message = str(exc.value.message)
    assert "积分兑换订单" in message
    assert "没有可开票金额" in message
    assert "尚未付款" not in message
    # and nothing is written, so the three-flow check has nothing to report
    assert not InvoiceRequest.objects.exists()
    checks_run(rule="ORD-07", store=store, notify=False)
    assert not Finding.objects.filter(rule_id="ORD-07").exists()


def test_ord_07_a_paid_order_is_still_invoiced_after_goods_taken_for_points(world):
    points_order(world, "c1")
    order = paid_order(world, "c1")
    invoice = inv.invoice_request(
        actor=ACTOR,
        order=order,
        kind="electronic",
        title_type="personal",
        title="张三",
        email="a@example.com",
    )
    assert invoice.amount == order.paid_amount


def test_ord_01_goods_taken_for_points_do_not_make_a_customer_known(world):
    # given c1 took goods for points, and c2 bought before
    points_order(world, "c1")
    paid_order(world, "c2")
    # then c1's first purchase is a new customer's (fraud score, AS-03 priority), c2's next is not
    assert paid_order(world, "c1", at=PLAIN_DAY).is_new_customer is True
    assert paid_order(world, "c2", at=PLAIN_DAY).is_new_customer is False


def test_risk_01_many_accounts_taking_goods_for_points_to_one_address_are_held(world):
    # given four members took goods for points to the same address (each passed review)
    for n in range(4):
        order = points_order(world, f"m{n}")
        assert order_services.order_auto_review(actor=ACTOR, order=order, now=PLAIN_DAY).status == "reviewed"
    # when a fifth account does the same (the playbook's 5 accounts to one address)
    held = order_services.order_auto_review(actor=ACTOR, order=points_order(world, "m4"), now=PLAIN_DAY)
    # then that points order waits in the manual review queue as suspected brushing
    assert held.status == "on_hold"
    assert held.hold_reasons == ["fraud"]
    assert "brushing.accounts_same_address=5" in held.events.get(kind="held").note
