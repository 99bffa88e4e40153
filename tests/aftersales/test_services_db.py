"""After-sales through the services (AS-01…AS-05): requests, approval, goods back through QC
into the stock ledger, refunds of exactly what was paid, exchanges, and the order's state."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from storeops.aftersales import selectors, services
from storeops.aftersales.models import AfterSale, AfterSaleEvent
from storeops.audit.models import AuditEntry
from storeops.core.errors import InvalidTransition, NotFound, ValidationError
from storeops.inventory.models import Stock, StockMove, Zone
from storeops.orders.models import Order, PaymentRefund
from storeops.orders.payments import RefundResult, TestGateway
from tests.aftersales.builders import ASKED, DELIVERED, a_discount, delivered_order, shipped_order
from tests.orders.builders import ACTOR, T0, World

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(store, channel):
    return World(store, channel)


def _stock(world, zone, wh=None, sku=None):
    row = Stock.objects.filter(warehouse=wh or world.sh, sku=sku or world.sku_s, zone=zone).first()
    return row.on_hand if row else 0


def _return(order, units, *, kind="return", reason="no_reason", now=ASKED, **kw):
    return services.case_request(
        actor=ACTOR, order=order, kind=kind, reason=reason, units=units, now=now, **kw
    )


# --- AS-01: who may ask, and when -------------------------------------------------------------------


def test_as_01_no_reason_return_within_7_days_of_delivery_is_accepted(world):
    order = delivered_order(world, 1)
    line = order.lines.get()
    case = _return(order, {line.pk: 1}, now=DELIVERED + dt.timedelta(days=7))
    assert case.status == "requested"
    assert case.reason == "no_reason"
    order.refresh_from_db()
    assert order.status == "after_sale"


def test_as_01_return_after_the_window_is_refused_and_writes_nothing(world):
    order = delivered_order(world, 1)
    line = order.lines.get()
    with pytest.raises(ValidationError) as err:
        _return(order, {line.pk: 1}, now=DELIVERED + dt.timedelta(days=7, minutes=1))
    assert "order" in err.value.fields
    assert not AfterSale.objects.exists()
    order.refresh_from_db()
    assert order.status == "delivered"


def test_as_01_two_cases_opened_in_the_same_second_never_clash_on_the_number(world, monkeypatch):
    import secrets

    first_order, second_order = delivered_order(world, 1), delivered_order(world, 1)
    draws = iter([4242, 4242, 4243])  # the second case's first draw clashes; it draws again
    monkeypatch.setattr(secrets, "randbelow", lambda _n: next(draws))
    first = _return(first_order, {first_order.lines.get().pk: 1})
    second = _return(second_order, {second_order.lines.get().pk: 1})
    assert (first.number, second.number) == (
        "AS" + ASKED.strftime("%y%m%d%H%M%S") + "004242",
        "AS" + ASKED.strftime("%y%m%d%H%M%S") + "004243",
    )


def test_as_01_window_comes_from_the_playbook(world, store, system):
    from storeops.stores.services import playbook_update

    playbook_update(actor=system, store=store, values={"return_window_days": 15})
    order = delivered_order(world, 1)
    case = _return(order, {order.lines.get().pk: 1}, now=DELIVERED + dt.timedelta(days=10))
    assert case.status == "requested"


def test_as_01_return_needs_delivery_but_refund_only_is_allowed_once_shipped(world):
    order = shipped_order(world, 1)
    line = order.lines.get()
    with pytest.raises(ValidationError) as err:
        _return(order, {line.pk: 1})
    assert "kind" in err.value.fields
    case = _return(order, {line.pk: 1}, kind="refund_only", reason="not_received")
    assert case.kind == "refund_only"


def test_as_01_unshipped_order_has_no_after_sale_it_is_cancelled_instead(world):
    order = world.place(1)
    world.pay(order)
    with pytest.raises(ValidationError) as err:
        _return(order, {order.lines.get().pk: 1}, kind="refund_only", reason="other")
    assert "取消" in str(err.value.message)


def test_as_01_quantities_cannot_exceed_bought_minus_open_and_refunded(world):
    order = delivered_order(world, 3)
    line = order.lines.get()
    _return(order, {line.pk: 2})
    with pytest.raises(ValidationError) as err:
        _return(order, {line.pk: 2})
    assert err.value.fields == {f"lines.{line.pk}": "最多可申请 1 件"}
    assert AfterSale.objects.count() == 1


def test_as_01_bad_kind_reason_and_unknown_line_are_all_reported(world):
    order = delivered_order(world, 1)
    with pytest.raises(ValidationError) as err:
        services.case_request(
            actor=ACTOR, order=order, kind="swap", reason="bored", units={999: 1}, now=ASKED
        )
    assert {"kind", "reason", "lines.999"} <= set(err.value.fields)


def test_as_01_storefront_caller_must_be_the_orders_customer(world):
    order = delivered_order(world, 1)
    with pytest.raises(NotFound):
        _return(order, {order.lines.get().pk: 1}, customer_ref="someone-else")


# --- AS-03: automatic approval, priority -------------------------------------------------------------


def test_as_03_refund_only_under_50_is_approved_and_refunded_at_once(store, channel):
    world = World(store, channel, price="30.00")
    order = delivered_order(world, 1)
    case = _return(order, {order.lines.get().pk: 1}, kind="refund_only", reason="damaged")
    assert case.status == "refunded"
    assert case.auto_approved
    assert case.refunded_amount == Decimal("30.00")
    order.refresh_from_db()
    assert order.status == "refunded"  # everything paid came back
    assert PaymentRefund.objects.get(order=order).amount == Decimal("30.00")


def test_as_03_refund_only_of_50_or_more_waits_for_a_person(store, channel):
    world = World(store, channel, price="50.00")
    order = delivered_order(world, 1)
    case = _return(order, {order.lines.get().pk: 1}, kind="refund_only", reason="damaged")
    assert case.status == "requested"
    assert not case.auto_approved


def test_as_03_returns_under_50_are_never_auto_approved(store, channel):
    world = World(store, channel, price="30.00")
    order = delivered_order(world, 1)
    case = _return(order, {order.lines.get().pk: 1}, kind="return")
    assert case.status == "requested"
    assert not case.auto_approved


def test_as_03_new_customers_come_first_in_the_queue(world, store):
    first = delivered_order(world, 1, customer="old")
    again = delivered_order(world, 1, customer="old")  # the same buyer's second order: not new
    newbie = delivered_order(world, 1, customer="new")
    assert (first.is_new_customer, again.is_new_customer, newbie.is_new_customer) == (True, False, True)
    late = _return(again, {again.lines.get().pk: 1}, now=ASKED)
    new = _return(newbie, {newbie.lines.get().pk: 1}, now=ASKED + dt.timedelta(hours=1))
    queue = list(selectors.case_list(store=store, status="open"))
    assert [c.pk for c in queue] == [new.pk, late.pk]


def test_as_03_failed_refund_leaves_the_case_approved_and_visible(store, channel, monkeypatch):
    world = World(store, channel, price="30.00")
    order = delivered_order(world, 1)

    monkeypatch.setattr(TestGateway, "refund", _refuse)
    case = _return(order, {order.lines.get().pk: 1}, kind="refund_only", reason="damaged")
    assert case.status == "approved"
    assert AfterSaleEvent.objects.filter(case=case, kind="refund_failed").exists()
    monkeypatch.undo()
    case = services.case_refund(actor=ACTOR, case=case)
    assert case.status == "refunded"


# --- AS-04: QC through the ledger, refund of exactly what was paid --------------------------------------


def _received(order, units, **kw):
    case = _return(order, units, **kw)
    case = services.case_approve(actor=ACTOR, case=case, note="同意退货")
    assert case.status == "approved"
    return services.case_receive(
        actor=ACTOR, case=case, tracking_no="SFBACK1", now=ASKED + dt.timedelta(days=1)
    )


def test_as_04_partial_return_of_one_of_three_refunds_the_apportioned_unit_price(world, store):
    a_discount(store)  # 3 × 100.00 − 10.00 = 290.00 → units 96.67, 96.67, 96.66
    order = delivered_order(world, 3)
    line = order.lines.get()
    assert line.paid_total == Decimal("290.00")
    case = _return(order, {line.pk: 1})
    assert case.refund_amount == Decimal("96.67")
    case = services.case_approve(actor=ACTOR, case=case, now=ASKED)
    case = services.case_receive(actor=ACTOR, case=case, now=ASKED)
    case = services.case_inspect(actor=ACTOR, case=case, results={line.pk: (1, 0)}, now=ASKED)
    assert case.status == "refunded"
    assert case.refunded_amount == Decimal("96.67")
    line.refresh_from_db()
    order.refresh_from_db()
    assert (line.refunded_qty, line.refunded_amount) == (1, Decimal("96.67"))
    assert order.refunded_amount == Decimal("96.67")
    assert order.status == "delivered"  # back from after_sale: two units are kept


def test_as_04_refunds_of_every_unit_add_up_to_exactly_what_was_paid_never_more(world, store):
    a_discount(store)
    order = delivered_order(world, 3)
    line = order.lines.get()
    cases = [_return(order, {line.pk: 1}, kind="refund_only", reason="damaged") for _ in range(3)]
    assert sum(c.refund_amount for c in cases) == Decimal("290.00")
    with pytest.raises(ValidationError):  # nothing left to ask for
        _return(order, {line.pk: 1}, kind="refund_only", reason="damaged")
    # refunded in reverse order: the cents move between cases, the total stays exact
    for c in reversed(cases):
        services.case_approve(actor=ACTOR, case=c)
    order.refresh_from_db()
    assert order.refunded_amount == order.paid_amount == Decimal("290.00")
    assert sum(AfterSale.objects.values_list("refunded_amount", flat=True)) == Decimal("290.00")
    assert order.status == "refunded"


def test_as_04_qc_pass_goes_back_to_sellable_and_fail_to_defective_through_the_ledger(world):
    order = delivered_order(world, 3)
    line = order.lines.get()
    sellable_before = _stock(world, Zone.SELLABLE)
    case = _received(order, {line.pk: 2}, reason="quality")
    assert case.return_warehouse_id == world.sh.pk  # shipped from Shanghai, returned there
    assert _stock(world, Zone.QC) == 2
    case = services.case_inspect(actor=ACTOR, case=case, results={line.pk: (1, 1)})
    assert (_stock(world, Zone.QC), _stock(world, Zone.DEFECTIVE)) == (0, 1)
    assert _stock(world, Zone.SELLABLE) == sellable_before + 1
    moves = StockMove.objects.filter(reference=f"aftersale:{case.number}").order_by("id")
    assert sorted((m.kind, m.stock.zone, m.on_hand_delta) for m in moves) == sorted(
        [
            ("return", Zone.QC, 2),
            ("transfer_out", Zone.QC, -1),
            ("transfer_in", Zone.SELLABLE, 1),
            ("transfer_out", Zone.QC, -1),
            ("transfer_in", Zone.DEFECTIVE, 1),
        ]
    )
    assert case.status == "refunded"  # a failed QC does not withhold the refund
    assert case.refunded_amount == Decimal("200.00")


def test_as_04_inspection_counts_must_match_the_units_and_nothing_moves_otherwise(world):
    order = delivered_order(world, 2)
    line = order.lines.get()
    case = _received(order, {line.pk: 2})
    with pytest.raises(ValidationError) as err:
        services.case_inspect(actor=ACTOR, case=case, results={line.pk: (1, 0)})
    assert f"results.{line.pk}" in err.value.fields
    assert _stock(world, Zone.QC) == 2
    case.refresh_from_db()
    assert case.status == "received"


def test_as_04_exchange_ships_a_replacement_through_the_ledger_and_refunds_nothing(world):
    order = delivered_order(world, 1)
    line = order.lines.get()
    case = _received(
        order, {line.pk: 1}, kind="exchange", reason="size", replacements={line.pk: world.sku_m.pk}
    )
    assert case.refund_amount == Decimal("0.00")
    case = services.case_inspect(actor=ACTOR, case=case, results={line.pk: (1, 0)})
    assert case.status == "inspected"
    m_before = _stock(world, Zone.SELLABLE, sku=world.sku_m)
    case = services.case_exchange_ship(
        actor=ACTOR, case=case, carrier_code="SF", tracking_no="SFEX1", now=ASKED + dt.timedelta(days=2)
    )
    assert case.status == "exchanged"
    assert _stock(world, Zone.SELLABLE, sku=world.sku_m) == m_before - 1
    assert StockMove.objects.filter(reference=f"aftersale:{case.number}", kind="shipment").count() == 1
    from storeops.fulfilment.models import Shipment

    assert Shipment.objects.get(tracking_no="SFEX1").order_ref == case.number
    order.refresh_from_db()
    assert order.refunded_amount == 0
    assert order.status == "delivered"


def test_as_04_exchange_replacement_must_be_the_same_product(world, store):
    from tests.catalog.db_builders import a_product

    other = a_product(store, world.sku_s.product.category, "P2", price="100.00").skus.first()
    order = delivered_order(world, 1)
    line = order.lines.get()
    with pytest.raises(ValidationError) as err:
        _return(order, {line.pk: 1}, kind="exchange", reason="size", replacements={line.pk: other.pk})
    assert f"replacements.{line.pk}" in err.value.fields


def test_as_04_reject_needs_a_reason_and_closes_the_order_case(world):
    order = delivered_order(world, 1)
    case = _return(order, {order.lines.get().pk: 1})
    with pytest.raises(ValidationError):
        services.case_reject(actor=ACTOR, case=case, reason=" ")
    case = services.case_reject(actor=ACTOR, case=case, reason="商品已使用", now=ASKED)
    assert case.status == "rejected"
    order.refresh_from_db()
    assert order.status == "delivered"


def test_as_04_customer_cancels_before_the_goods_arrive_but_not_after(world):
    order = delivered_order(world, 2)
    line = order.lines.get()
    case = _return(order, {line.pk: 1})
    case = services.case_cancel(actor=ACTOR, case=case, customer_ref="c1")
    assert case.status == "cancelled"
    received = _received(order, {line.pk: 1})
    with pytest.raises(InvalidTransition):
        services.case_cancel(actor=ACTOR, case=received)


def test_as_04_order_stays_in_after_sale_until_its_last_case_ends(store, channel):
    world = World(store, channel, price="30.00")
    order = delivered_order(world, 2)
    line = order.lines.get()
    open_case = _return(order, {line.pk: 1})
    _return(order, {line.pk: 1}, kind="refund_only", reason="damaged")  # auto-refunded
    order.refresh_from_db()
    assert order.status == "after_sale"
    services.case_reject(actor=ACTOR, case=open_case, reason="超出范围", now=ASKED)
    order.refresh_from_db()
    assert order.status == "delivered"


def test_as_04_every_step_is_audited(world):
    order = delivered_order(world, 1)
    line = order.lines.get()
    case = _received(order, {line.pk: 1})
    services.case_inspect(actor=ACTOR, case=case, results={line.pk: (1, 0)})
    actions = set(
        AuditEntry.objects.filter(object_type="aftersales.aftersale").values_list("action", flat=True)
    )
    assert {
        "aftersale.request",
        "aftersale.approved",
        "aftersale.received",
        "aftersale.inspected",
        "aftersale.refunded",
    } <= actions


# --- AS-02: refund SLA ------------------------------------------------------------------------------------


def _run_sla(store, now):
    from storeops.sop.models import Finding
    from storeops.sop.services import checks_run

    [result] = checks_run(rule="AS-02", store=store, now=now, notify=False)
    assert not result.error, result.error
    return Finding.objects.filter(rule_id="AS-02")


def _refund_only_case(world, *, big_promo):
    order = delivered_order(world, 1, big_promo=big_promo)
    return _return(order, {order.lines.get().pk: 1}, kind="refund_only", reason="damaged")


def test_as_02_refund_sla_is_24h_for_normal_orders(world, store):
    case = _refund_only_case(world, big_promo=False)
    assert case.due_at == ASKED + dt.timedelta(hours=24)
    assert not _run_sla(store, ASKED + dt.timedelta(hours=19)).exists()
    warn = _run_sla(store, ASKED + dt.timedelta(hours=21)).get()
    assert (warn.severity, warn.status) == ("warning", "open")
    breach = _run_sla(store, ASKED + dt.timedelta(hours=25)).get()
    assert breach.severity == "critical"
    assert breach.subject_id == case.number


def test_as_02_refund_sla_is_48h_for_big_promotion_orders(world, store):
    case = _refund_only_case(world, big_promo=True)
    assert case.due_at == ASKED + dt.timedelta(hours=48)
    assert not _run_sla(store, ASKED + dt.timedelta(hours=25)).exists()
    assert _run_sla(store, ASKED + dt.timedelta(hours=49)).get().severity == "critical"


def test_as_02_finding_resolves_itself_once_refunded(world, store):
    case = _refund_only_case(world, big_promo=False)
    assert _run_sla(store, ASKED + dt.timedelta(hours=25)).get().status == "open"
    services.case_approve(actor=ACTOR, case=case)
    assert _run_sla(store, ASKED + dt.timedelta(hours=26)).get().status == "resolved"


def test_as_02_return_clock_starts_when_the_goods_arrive(world):
    order = delivered_order(world, 1)
    case = _return(order, {order.lines.get().pk: 1})
    assert case.due_at is None
    case = services.case_approve(actor=ACTOR, case=case)
    at = ASKED + dt.timedelta(days=3)
    case = services.case_receive(actor=ACTOR, case=case, now=at)
    assert case.due_at == at + dt.timedelta(hours=24)


# --- AS-05: return rate and reasons ---------------------------------------------------------------------


def test_as_05_return_rate_per_product_and_category_and_reasons(world, store):
    a = delivered_order(world, 3, 1)
    b = delivered_order(world, 1, customer="c2")
    s_line = a.lines.get(sku=world.sku_s)
    m_line = a.lines.get(sku=world.sku_m)
    _return(a, {s_line.pk: 2}, reason="quality")
    _return(a, {m_line.pk: 1}, kind="exchange", reason="size")
    rejected = _return(b, {b.lines.get().pk: 1}, reason="no_reason")
    services.case_reject(actor=ACTOR, case=rejected, reason="已穿着")
    stats = selectors.return_stats(
        store=store, since=T0 - dt.timedelta(days=1), until=T0 + dt.timedelta(days=1)
    )
    # 5 units sold (4 S + 1 M, one product), 3 came back (the rejected one does not count)
    assert (stats.sold, stats.returned, stats.rate) == (5, 3, Decimal("0.6000"))
    [product] = stats.products
    assert (product.code, product.sold, product.returned, product.exchanged) == ("P1", 5, 2, 1)
    [category] = stats.categories
    assert category.rate == Decimal("0.6000")
    assert [(r.reason, r.cases, r.units) for r in stats.reasons] == [("quality", 1, 2), ("size", 1, 1)]
    # the overall rate alone (TEAM-01, DATA-01) is the same figure in two queries
    period = {"since": T0 - dt.timedelta(days=1), "until": T0 + dt.timedelta(days=1)}
    assert selectors.return_rate(store=store, **period) == Decimal("0.6000")


def test_as_05_orders_outside_the_period_are_left_out(world, store):
    order = delivered_order(world, 2)
    _return(order, {order.lines.get().pk: 1})
    stats = selectors.return_stats(
        store=store, since=T0 + dt.timedelta(days=1), until=T0 + dt.timedelta(days=9)
    )
    assert (stats.sold, stats.returned, stats.rate, stats.products) == (0, 0, None, [])


def test_as_04_refund_never_exceeds_paid_even_when_the_order_was_partly_refunded_elsewhere(world):
    from storeops.orders import services as order_services

    order = delivered_order(world, 2)
    line = order.lines.get()
    order_services.order_refund(actor=ACTOR, order=order, units={line.pk: 1}, reason="补偿")
    with pytest.raises(ValidationError):
        _return(Order.objects.get(pk=order.pk), {line.pk: 2}, kind="refund_only", reason="damaged")
    case = _return(Order.objects.get(pk=order.pk), {line.pk: 1}, kind="refund_only", reason="damaged")
    services.case_approve(actor=ACTOR, case=case)
    order.refresh_from_db()
    assert order.refunded_amount == order.paid_amount == Decimal("200.00")


def test_as_01_an_idempotency_key_cannot_be_reused_for_another_order(world):
    from storeops.core.errors import Conflict

    a = delivered_order(world, 1)
    b = delivered_order(world, 1, customer="c2")
    _return(a, {a.lines.get().pk: 1}, idempotency_key="k1")
    with pytest.raises(Conflict):
        _return(b, {b.lines.get().pk: 1}, idempotency_key="k1")
    assert AfterSale.objects.count() == 1


def _refuse(self, **kw):
    return RefundResult(ok=False, provider_refund_id="", reason="down")


def test_as_02_the_sweep_retries_refunds_the_provider_refused(store, channel, monkeypatch):
    world = World(store, channel, price="30.00")
    order = delivered_order(world, 1)
    monkeypatch.setattr(TestGateway, "refund", _refuse)
    case = _return(order, {order.lines.get().pk: 1}, kind="refund_only", reason="damaged")  # fails at ASKED
    minutes = lambda m: ASKED + dt.timedelta(minutes=m)  # noqa: E731
    # the provider stays down: retried after 10 minutes, then 20 later, not in between
    assert services.cases_refund_pending(now=minutes(5)) == 0
    assert services.cases_refund_pending(now=minutes(10)) == 0
    assert services.cases_refund_pending(now=minutes(25)) == 0
    assert services.cases_refund_pending(now=minutes(30)) == 0
    failures = AfterSaleEvent.objects.filter(case=case, kind="refund_failed")
    assert list(failures.values_list("created_at", flat=True)) == [ASKED, minutes(10), minutes(30)]
    monkeypatch.undo()
    # back up: the next retry is due 40 minutes after the last failure
    assert services.cases_refund_pending(now=minutes(60)) == 0
    assert services.cases_refund_pending(now=minutes(70)) == 1
    case.refresh_from_db()
    assert case.status == "refunded"
    assert services.cases_refund_pending(now=minutes(71)) == 0


def test_as_03_the_case_timeline_is_stamped_with_the_services_clock(store, channel):
    # given a refund-only request handled at a given moment (auto-approved and refunded at once)
    world = World(store, channel, price="30.00")
    order = delivered_order(world, 1)
    case = _return(order, {order.lines.get().pk: 1}, kind="refund_only", reason="damaged", now=ASKED)
    # then every event of its timeline, and its closing time, carry that moment (not the wall clock)
    events = list(AfterSaleEvent.objects.filter(case=case).values_list("kind", "created_at"))
    assert [kind for kind, _at in events][:1] == ["requested"]
    assert {at for _kind, at in events} == {ASKED}
    case.refresh_from_db()
    assert case.closed_at == ASKED


# --- every case, not the first N ------------------------------------------------------------------


@pytest.fixture
def many_buyers(store, system):
    """Many test customers order to one address: not order brushing here."""
    from storeops.stores.services import playbook_update

    playbook_update(
        actor=system,
        store=store,
        values={"brushing_accounts_per_address": 50, "brushing_orders_per_account": 50},
    )


def test_as_02_every_case_near_or_past_its_refund_deadline_has_a_finding(
    world, store, many_buyers, monkeypatch
):
    """With the read batch at 2, five overdue cases all report (a capped read left the rest
    without a finding, and resolved the findings they had)."""
    monkeypatch.setattr(selectors, "WATCH_BATCH", 2)
    cases = [_refund_only_case(world, big_promo=False) for _ in range(5)]
    findings = _run_sla(store, ASKED + dt.timedelta(hours=25))
    assert sorted(f.subject_id for f in findings) == sorted(c.number for c in cases)


def test_as_02_refund_retries_reach_cases_behind_ones_still_waiting_out_their_delay(
    store, channel, many_buyers, monkeypatch
):
    """Cases first in line (new customers, earliest due) whose retry is not due yet never keep
    the others from their refund."""
    world = World(store, channel, price="30.00")
    minutes = lambda m: ASKED + dt.timedelta(minutes=m)  # noqa: E731
    monkeypatch.setattr(TestGateway, "refund", _refuse)
    waiting = []
    for n in range(3):
        order = delivered_order(world, 1, customer=f"w{n}")
        waiting.append(_return(order, {order.lines.get().pk: 1}, kind="refund_only", reason="damaged"))
    assert services.cases_refund_pending(now=minutes(10)) == 0  # failed twice: next try at 30 min
    due = []
    for n in range(2):
        order = delivered_order(world, 1, customer=f"d{n}")
        due.append(
            _return(order, {order.lines.get().pk: 1}, kind="refund_only", reason="damaged", now=minutes(10))
        )  # failed once: next try at 20 min
    AfterSale.objects.filter(pk__in=[c.pk for c in waiting]).update(priority=0)
    AfterSale.objects.filter(pk__in=[c.pk for c in due]).update(priority=1)
    monkeypatch.undo()  # the provider is back
    monkeypatch.setattr(services, "BATCH_SIZE", 2)

    assert services.cases_refund_pending(now=minutes(20)) == 2
    assert [AfterSale.objects.get(pk=c.pk).status for c in due] == ["refunded"] * 2
    assert [AfterSale.objects.get(pk=c.pk).status for c in waiting] == ["approved"] * 3
