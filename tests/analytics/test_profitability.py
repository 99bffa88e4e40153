"""SOP DATA-08: gross and net margin, ROI = (sales − cost) ÷ cost and profit contribution per
product from the orders paid (less refunds) and the PRICE-02 unit costs; low-profit products
(a playbook setting) are flagged — by the daily check, in the API, the console and its Excel."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from storeops.accounts.roles import Role
from storeops.aftersales import selectors as aftersales_selectors
from storeops.analytics import selectors
from storeops.analytics.rules import ProductProfit
from storeops.orders import services as order_services
from storeops.pricing import services as pricing
from storeops.sop.models import Finding
from storeops.sop.services import checks_run
from storeops.stores import services as st
from tests.orders.builders import ACTOR, T0, World


def test_data_08_margins_and_roi():
    p = ProductProfit(
        1,
        "P1",
        "连衣裙",
        units=3,
        revenue=Decimal("300"),
        purchase_cost=Decimal("180"),
        full_cost=Decimal("240"),
    )
    assert (p.gross_profit, p.gross_margin) == (Decimal("120"), Decimal("0.4"))
    assert (p.net_profit, p.net_margin) == (Decimal("60"), Decimal("0.2"))
    assert p.roi == Decimal("0.25")  # (300 − 240) ÷ 240
    assert not p.low_profit(Decimal("0.10"))
    assert p.low_profit(Decimal("0.25"))
    given_away = ProductProfit(
        2, "G", "赠品", units=2, revenue=Decimal(0), purchase_cost=Decimal(20), full_cost=Decimal(30)
    )
    assert given_away.net_margin is None
    assert given_away.low_profit(Decimal("0.10"))  # all cost, no sales
    unsold = ProductProfit(
        3, "U", "未售", units=0, revenue=Decimal(0), purchase_cost=Decimal(0), full_cost=Decimal(0)
    )
    assert not unsold.low_profit(Decimal("0.10"))


@pytest.fixture
def world(store, channel):
    # P1-S and P1-M at 100.00, purchase cost 60.00 (the builder's)
    w = World(store, channel, stock_sh=50, stock_gz=0)
    pricing.sku_cost_set(actor=ACTOR, sku=w.sku_s, operations="10", logistics="8", tax="2")  # full 80
    return w


def _sold(world, qty_s=0, qty_m=0, customer="c1"):
    now = timezone.now() - dt.timedelta(days=1)
    order = world.place(qty_s, qty_m, customer=customer, now=now)
    world.pay(order, now=now)
    return order


@pytest.mark.django_db
def test_data_08_per_product_from_paid_orders_less_refunds(world, store):
    _sold(world, qty_s=3)  # 3 × 100, full cost 3 × 80
    cancelled = _sold(world, qty_s=2, customer="c2")
    order_services.order_cancel(actor=ACTOR, order=cancelled, reason="顾客取消")  # refunded: counts nothing
    _sold(world, qty_m=1, customer="c3")  # 100, full cost 60 (no extra components)
    report = selectors.profitability(store=store)
    (product,) = report.products
    assert product.units == 4
    assert product.revenue == Decimal("400.00")
    assert product.purchase_cost == Decimal("240.00")
    assert product.full_cost == Decimal("300.00")
    assert product.gross_margin == Decimal("0.4")
    assert product.net_margin == Decimal("0.25")
    assert product.roi == Decimal("0.3333")
    assert report.contribution(product) == Decimal("1")


@pytest.mark.django_db
def test_data_08_refunded_goods_that_never_came_back_sellable_still_cost(world, store):
    """Refund-only: the money goes back, the goods stay with the customer. A return that fails
    QC is defective stock. Both cost their purchase; a return that passes QC does not."""
    from storeops.aftersales import services as aftersales
    from tests.aftersales.builders import ASKED, delivered_order

    def case(order, kind, reason, units):
        line = order.lines.get()
        return aftersales.case_request(
            actor=ACTOR, order=order, kind=kind, reason=reason, units={line.pk: units}, now=ASKED
        ), line

    kept = delivered_order(world, 2, customer="c1")  # 2 × 100 paid; 1 refunded, kept by the customer
    c, _ = case(kept, "refund_only", "damaged", 1)
    c = aftersales.case_approve(actor=ACTOR, case=c, now=ASKED)
    assert c.status == "refunded"
    back = delivered_order(world, 3, customer="c2")  # 3 × 100; 3 returned: 2 pass QC, 1 fails
    c, line = case(back, "return", "no_reason", 3)
    c = aftersales.case_approve(actor=ACTOR, case=c, now=ASKED)
    c = aftersales.case_receive(actor=ACTOR, case=c, now=ASKED)
    c = aftersales.case_inspect(actor=ACTOR, case=c, results={line.pk: (2, 1)}, now=ASKED)
    assert c.status == "refunded"

    report = selectors.profitability(store=store, until=T0 + dt.timedelta(days=7), days=14)
    (product,) = report.products
    assert product.units == 1  # 5 sold, 4 refunded
    assert product.revenue == Decimal("100.00")
    # cost: the unit sold, the refund-only unit the customer kept, the unit that failed QC
    assert product.purchase_cost == Decimal("180.00")  # 3 × 60
    assert product.full_cost == Decimal("240.00")  # 3 × 80
    assert product.net_profit == Decimal("-140.00")
    # the QC pass units went back to sellable stock: they cost nothing
    assert aftersales_selectors.units_not_restocked(
        store=store, since=T0 - dt.timedelta(days=7), until=T0 + dt.timedelta(days=7)
    ) == {world.sku_s.pk: 2}


@pytest.mark.django_db
def test_data_08_low_profit_products_are_findings_and_the_margin_is_a_playbook_setting(world, store, system):
    _sold(world, qty_s=2)  # net margin 20%
    checks_run(rule="DATA-08", store=store, notify=False)
    assert not Finding.objects.filter(rule_id="DATA-08").exists()
    st.playbook_update(actor=system, store=store, values={"low_profit_net_margin": "0.25"})
    checks_run(rule="DATA-08", store=store, notify=False)
    (finding,) = Finding.objects.filter(rule_id="DATA-08")
    assert finding.severity == "warning"
    assert "净利率 20.0%，低于 25.0%" in finding.title
    # a loss is critical: the full cost rises above the price
    pricing.sku_cost_set(actor=ACTOR, sku=world.sku_s, operations="50")
    checks_run(rule="DATA-08", store=store, notify=False)
    finding.refresh_from_db()
    assert finding.severity == "critical"
    assert "亏损" in finding.title


@pytest.mark.django_db
def test_data_08_api_console_and_excel(world, store, api_as, make_user):
    _sold(world, qty_s=3)
    body = api_as(Role.FINANCE).get(f"/analytics/{store.pk}/profitability", days=7).json()
    assert body["total"]["revenue"] == "300.00"
    assert body["products"][0]["net_margin"] == "0.2000"
    assert body["products"][0]["low_profit"] is False
    assert api_as(Role.CUSTOMER_SERVICE).get(f"/analytics/{store.pk}/profitability").status_code == 403
    client = Client()
    client.force_login(make_user(Role.ANALYST))
    html = client.get("/profitability/?days=7").content.decode()
    assert "利润分析" in html
    assert "300.00" in html
    response = client.get("/profitability/?days=7&format=xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert [c.value for c in sheet[2]][:4] == ["商品编码", "商品", "销量", "销售额"]
    assert [c.value for c in sheet[3]][:4] == ["P1", world.sku_s.product.title, 3, 300.0]
