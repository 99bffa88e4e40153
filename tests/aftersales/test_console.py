"""Console pages of after-sales: the queue with SLA timers, a case with its actions, the
return-rate page with the published policy."""

from __future__ import annotations

import datetime as dt
import html

import pytest
from django.test import Client
from django.utils import timezone

from storeops.accounts.roles import Role
from storeops.aftersales import services
from storeops.inventory.models import Stock, Zone
from storeops.orders import services as order_services
from tests.aftersales.builders import shipped_order
from tests.orders.builders import ACTOR, ADDRESS, World

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(store, channel):
    return World(store, channel)


def _delivered(world, qty=2, customer="c1"):
    order = shipped_order(world, qty, customer=customer)
    return order_services.order_deliver(actor=ACTOR, order=order, at=timezone.now() - dt.timedelta(hours=2))


def _client(make_user, role):
    client = Client()
    client.force_login(make_user(role))
    return client


def test_as_02_queue_shows_refund_timers_and_new_customers(world, make_user):
    order = _delivered(world)
    case = services.case_request(
        actor=ACTOR,
        order=order,
        kind="refund_only",
        reason="damaged",
        units={order.lines.get().pk: 1},
        now=timezone.now() - dt.timedelta(hours=23),
    )
    page = _client(make_user, Role.CUSTOMER_SERVICE).get("/aftersales/")
    assert page.status_code == 200
    html = page.content.decode()
    assert case.number in html
    assert "新顾客" in html
    assert "state-expiring" in html  # 1 hour left of 24: inside the 4-hour warning
    assert 'href="/aftersales/"' in html  # the nav link


def test_as_04_case_page_approves_and_receives_into_qc(world, make_user):
    order = _delivered(world)
    line = order.lines.get()
    case = services.case_request(
        actor=ACTOR, order=order, kind="return", reason="quality", units={line.pk: 1}
    )
    cs = _client(make_user, Role.CUSTOMER_SERVICE)
    page = cs.get(f"/aftersales/cases/{case.number}/")
    assert page.status_code == 200
    assert "同意" in page.content.decode()
    done = cs.post(f"/aftersales/cases/{case.number}/decide/", {"decision": "approve", "note": "ok"})
    assert done.status_code == 302
    warehouse = _client(make_user, Role.WAREHOUSE)
    assert "收货入质检区" in warehouse.get(f"/aftersales/cases/{case.number}/").content.decode()
    warehouse.post(f"/aftersales/cases/{case.number}/goods/", {"action": "receive", "tracking_no": "SFR9"})
    assert Stock.objects.get(warehouse=world.sh, sku=world.sku_s, zone=Zone.QC).on_hand == 1
    inspect = warehouse.post(
        f"/aftersales/cases/{case.number}/goods/",
        {"action": "inspect", f"passed_{line.pk}": "0", f"failed_{line.pk}": "1"},
    )
    assert inspect.status_code == 302
    assert Stock.objects.get(warehouse=world.sh, sku=world.sku_s, zone=Zone.DEFECTIVE).on_hand == 1
    case.refresh_from_db()
    assert case.status == "refunded"


def test_as_04_a_refused_action_shows_the_reason(world, make_user):
    order = _delivered(world)
    case = services.case_request(
        actor=ACTOR, order=order, kind="return", reason="size", units={order.lines.get().pk: 1}
    )
    cs = _client(make_user, Role.CUSTOMER_SERVICE)
    response = cs.post(f"/aftersales/cases/{case.number}/decide/", {"decision": "reject", "note": ""})
    assert "请填写拒绝原因" in response.content.decode()


def test_as_05_return_rate_page_renders_rates_reasons_and_policy(world, make_user):
    order = _delivered(world, 2)
    services.case_request(
        actor=ACTOR, order=order, kind="return", reason="quality", units={order.lines.get().pk: 1}
    )
    page = _client(make_user, Role.ANALYST).get("/aftersales/stats/?since=2026-05-01&until=2026-06-30")
    assert page.status_code == 200
    html = page.content.decode()
    assert "P1" in html
    assert "50.0%" in html  # the return rate as a percentage, not the ratio 0.5000
    assert "0.5000" not in html
    assert "质量问题" in html
    assert "7 天" in html  # the published policy


def test_as_04_mem_02_case_of_a_points_order_says_points_come_back_not_money(world, make_user):
    from tests.fulfilment.builders import a_carrier
    from tests.members.builders import points_order

    # given goods taken for points, delivered, and a refund-only request for one unit
    a_carrier("SF")
    order = points_order(world, "c1")
    order_services.order_auto_review(actor=ACTOR, order=order)
    order = order_services.order_allocate(actor=ACTOR, order=order.__class__.objects.get(pk=order.pk))
    [order] = order_services.order_ship(actor=ACTOR, order=order, carrier_code="SF", tracking_numbers="SF77")
    order = order_services.order_deliver(actor=ACTOR, order=order, at=timezone.now() - dt.timedelta(hours=2))
    case = services.case_request(
        actor=ACTOR, order=order, kind="refund_only", reason="damaged", units={order.lines.get().pk: 1}
    )
    # when customer service opens the case
    html = _client(make_user, Role.CUSTOMER_SERVICE).get(f"/aftersales/cases/{case.number}/").content.decode()
    # then the page says no money moves and the points come back, instead of "refund 0.00 CNY"
    assert "积分兑换订单：顾客未付款，不退钱" in html
    assert "按实付分摊金额退款" not in html


# --- daily work through the console forms (helper "flows") ---------------------------------------


def _en_client(make_user, role):
    client = Client()
    client.force_login(make_user(role, username=f"{role.value}_en", language="en"))
    return client


def test_as_04_exchange_is_shipped_with_a_carrier_chosen_from_a_list(world, make_user):
    from tests.fulfilment.builders import a_carrier

    a_carrier("SF")
    order = _delivered(world, 1)
    line = order.lines.get()
    case = services.case_request(
        actor=ACTOR,
        order=order,
        kind="exchange",
        reason="size",
        units={line.pk: 1},
        replacements={line.pk: world.sku_m.pk},
    )
    case = services.case_approve(actor=ACTOR, case=case)
    case = services.case_receive(actor=ACTOR, case=case, tracking_no="R1")
    services.case_inspect(actor=ACTOR, case=case, results={line.pk: (1, 0)})
    warehouse = _client(make_user, Role.WAREHOUSE)
    html = warehouse.get(f"/aftersales/cases/{case.number}/").content.decode()
    # the carrier was a free-text "carrier code" box: the warehouse had to know "SF"
    assert '<select name="carrier"' in html
    assert '<option value="SF">SF SF快递</option>' in html
    warehouse.post(
        f"/aftersales/cases/{case.number}/goods/",
        {"action": "exchange", "carrier": "SF", "tracking_no": "SFX1"},
    )
    case.refresh_from_db()
    assert case.status == "exchanged"


def test_as_withdraw_and_refund_ask_for_confirmation(world, make_user):
    order = _delivered(world)
    case = services.case_request(
        actor=ACTOR, order=order, kind="refund_only", reason="damaged", units={order.lines.get().pk: 2}
    )
    html = _client(make_user, Role.CUSTOMER_SERVICE).get(f"/aftersales/cases/{case.number}/").content.decode()
    form = html.split(f'action="/aftersales/cases/{case.number}/cancel/"')[1].split(">")[0]
    assert "return confirm(this.dataset.confirm)" in form
    assert "data-confirm=" in form


def test_as_english_page_has_distinct_labels_and_english_punctuation(world, make_user):
    order = _delivered(world)
    case = services.case_request(
        actor=ACTOR, order=order, kind="refund_only", reason="damaged", units={order.lines.get().pk: 2}
    )
    cs = _en_client(make_user, Role.CUSTOMER_SERVICE)
    queue = cs.get("/aftersales/").content.decode()
    # "应退金额" and "退款截止" were both "Refund due"; the "open" filter said "Acknowledged"
    assert "Refund deadline" in queue
    assert ">In progress</option>" in queue
    assert "Acknowledged" not in queue
    response = cs.post(f"/aftersales/cases/{case.number}/decide/", {"decision": "reject", "note": ""})
    text = " ".join(str(m) for m in response.context["messages"])
    assert "：" not in text, text  # was "…rejecting：Required"
    assert '</textarea><span class="err">Required</span>' in response.content.decode()


# --- a refused form comes back as typed ----------------------------------------------------------


def test_as_03_refused_decision_shows_the_error_in_its_form_and_decides_nothing(world, make_user):
    order = _delivered(world)
    case = services.case_request(
        actor=ACTOR, order=order, kind="return", reason="size", units={order.lines.get().pk: 1}
    )
    response = _client(make_user, Role.CUSTOMER_SERVICE).post(
        f"/aftersales/cases/{case.number}/decide/", {"decision": "reject", "note": "   "}
    )
    assert response.status_code == 422  # was a redirect
    html = response.content.decode()
    assert '"说明（拒绝时必填）"></textarea><span class="err">必填</span>' in html
    assert "请填写拒绝原因" in html
    case.refresh_from_db()
    assert case.status == "requested"


def test_as_04_refused_qc_result_keeps_the_counts_typed_and_moves_no_stock(world, make_user):
    order = _delivered(world)
    line = order.lines.get()
    case = services.case_request(
        actor=ACTOR, order=order, kind="return", reason="quality", units={line.pk: 1}
    )
    case = services.case_approve(actor=ACTOR, case=case)
    services.case_receive(actor=ACTOR, case=case, tracking_no="R1")
    response = _client(make_user, Role.WAREHOUSE).post(
        f"/aftersales/cases/{case.number}/goods/",
        {"action": "inspect", f"passed_{line.pk}": "3", f"failed_{line.pk}": "1", "note": "外盒破损"},
    )
    assert response.status_code == 422  # was a redirect to the default counts
    html = response.content.decode()
    assert f'name="passed_{line.pk}" value="3"' in html
    assert f'name="failed_{line.pk}" value="1"' in html
    assert 'value="外盒破损"' in html
    assert '<span class="err">合格与不合格数量之和须为 1</span>' in html
    assert "质检结果有误" in html
    case.refresh_from_db()
    assert case.status == "received"
    assert Stock.objects.get(warehouse=world.sh, sku=world.sku_s, zone=Zone.QC).on_hand == 1


def test_as_04_refused_exchange_keeps_the_carrier_chosen_and_ships_nothing(world, make_user):
    from tests.fulfilment.builders import a_carrier

    a_carrier("SF")
    order = _delivered(world, 1)
    line = order.lines.get()
    case = services.case_request(
        actor=ACTOR,
        order=order,
        kind="exchange",
        reason="size",
        units={line.pk: 1},
        replacements={line.pk: world.sku_m.pk},
    )
    case = services.case_approve(actor=ACTOR, case=case)
    case = services.case_receive(actor=ACTOR, case=case, tracking_no="R1")
    services.case_inspect(actor=ACTOR, case=case, results={line.pk: (1, 0)})
    response = _client(make_user, Role.WAREHOUSE).post(
        f"/aftersales/cases/{case.number}/goods/", {"action": "exchange", "carrier": "SF", "tracking_no": " "}
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert '<option value="SF" selected>' in html
    assert 'required value=""><span class="err">必填</span>' in html
    assert "请填写运单号" in html
    case.refresh_from_db()
    assert case.status == "inspected"


def test_as_05_return_rates_by_product_are_paged_and_keep_the_period(world, make_user, monkeypatch):
    # every product sold in the period was one row of a single page
    from storeops.console import aftersales_views
    from storeops.inventory import services as stock_services
    from storeops.orders.services import CartItem, Shopper
    from tests.catalog.db_builders import a_product

    monkeypatch.setattr(aftersales_views, "PAGE_SIZE", 1)
    other = a_product(world.store, world.sku_s.product.category, "P2")
    stock_services.stock_receive(
        actor=ACTOR, sku=other.skus.get(code="P2-S"), warehouse=world.sh, quantity=5, reason="采购入库"
    )
    for lines in ([CartItem("P1-S", 1)], [CartItem("P2-S", 1)]):
        order, _ = order_services.order_place(
            actor=ACTOR,
            store=world.store,
            channel=world.channel,
            customer=Shopper(customer_ref="c1"),
            lines=lines,
            address=ADDRESS,
        )
        world.pay(order)
    client = _client(make_user, Role.ANALYST)
    today = timezone.localdate()
    period = f"since={today - dt.timedelta(days=400):%Y-%m-%d}&until={today:%Y-%m-%d}"
    first = client.get(f"/aftersales/stats/?{period}").content.decode()
    second = client.get(f"/aftersales/stats/?{period}&page=2").content.decode()
    codes = [page.split("按商品")[1].split("按类目")[0] for page in (first, second)]
    assert ("<td>P1</td>" in codes[0]) != ("<td>P2</td>" in codes[0])  # one product a page
    assert ("<td>P1</td>" in codes[1]) != ("<td>P2</td>" in codes[1])
    assert codes[0] != codes[1]
    assert f"?{period}&page=2" in html.unescape(first)  # the pager keeps the period
