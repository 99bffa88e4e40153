"""SOP INV-02: before a big promotion, stock must cover promo_stock_cover_days of uplifted
demand; each short SKU of a campaign starting soon raises a finding with the shortfall. The
uplift is the campaign's own ``expected_uplift``, else the playbook's ``promo_default_uplift``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from storeops.catalog.models import SalesDaily
from storeops.inventory import selectors as sel
from storeops.inventory import services as inv
from storeops.marketing import services as mkt
from storeops.sop.models import Finding
from storeops.sop.services import checks_run
from storeops.stores.selectors import playbook_get
from tests.catalog.db_builders import ACTOR, a_dress_category, a_product


@pytest.fixture
def world(store, channel, today):
    cat = a_dress_category(store, required_qualifications=[])
    product = a_product(store, cat, "HOT")
    s, m = product.skus.get(code="HOT-S"), product.skus.get(code="HOT-M")
    wh = inv.warehouse_create(actor=ACTOR, store=store, code="sh", name="上海仓")
    # 28 days x 4 units a day of the product; S shipped 3 of every 4 units in the ledger
    for n in range(1, 29):
        SalesDaily.objects.create(
            store=store, product=product, channel=channel, day=today - dt.timedelta(days=n), units=4
        )
    inv.stock_receive(actor=ACTOR, sku=s, warehouse=wh, quantity=200, reason="采购入库")
    inv.stock_receive(actor=ACTOR, sku=m, warehouse=wh, quantity=200, reason="采购入库")
    for sku, qty in ((s, 30), (m, 10)):
        inv.stock_reserve(actor=ACTOR, sku=sku, warehouse=wh, quantity=qty, reference="SO-1")
        inv.stock_ship(actor=ACTOR, sku=sku, warehouse=wh, quantity=qty, reference="SO-1")
    return {"s": s, "m": m, "wh": wh}


def _campaign(store, today, *, days_ahead=10, stock=(), kind="big_promotion"):
    return mkt.campaign_create(
        actor=ACTOR,
        store=store,
        theme="双11狂欢",
        kind=kind,
        starts_on=today + dt.timedelta(days=days_ahead),
        ends_on=today + dt.timedelta(days=days_ahead + 3),
        stock=list(stock),
    )


def test_inv_02_short_sku_of_a_big_promotion_raises_a_finding_with_the_shortfall(store, world, today):
    # given the ledger's shipments dated today (outside the window, which ends yesterday), so
    # the product's 4 a day splits evenly: 2 a day per SKU; S has 170 available, M 190;
    # required = ceil(2 x 2.0 x 15) = 60 each -> covered
    _campaign(store, today, stock=[{"sku_code": "HOT-S", "planned_qty": 100}])
    checks_run(rule="INV-02", store=store, notify=False)
    assert not Finding.objects.filter(rule_id="INV-02").exists()
    # when the S stock drops to 50 available (120 more reserved)
    inv.stock_reserve(actor=ACTOR, sku=world["s"], warehouse=world["wh"], quantity=120, reference="SO-2")
    checks_run(rule="INV-02", store=store, notify=False)
    # then one finding for S with the shortfall of 10 units
    finding = Finding.objects.get(rule_id="INV-02")
    assert finding.subject_key.endswith(f"sku:{world['s'].pk}")
    assert finding.detail["shortfall"] == 10
    assert finding.detail["required"] == 60
    assert finding.detail["uplift"] == "2.0"


def test_inv_02_cover_days_and_uplift_come_from_the_playbook(store, world, today):
    from storeops.stores.services import playbook_update

    _campaign(store, today, stock=[{"sku_code": "HOT-M", "planned_qty": 100}])
    # 2 a day x 5 uplift x 20 days = 200 > 190 available
    playbook_update(
        actor=ACTOR, store=store, values={"promo_default_uplift": "5", "promo_stock_cover_days": 20}
    )
    checks_run(rule="INV-02", store=store, notify=False)
    assert Finding.objects.get(rule_id="INV-02").detail["shortfall"] == 10


def test_inv_02_sku_demand_is_split_by_the_ledgers_shipments(store, world, today):
    # given shipments dated within the window: S shipped 30, M 10 -> S takes 3/4 of 4 a day
    from django.db import connection
    from django.utils import timezone

    with connection.cursor() as cur:
        cur.execute("UPDATE inventory_stockmove SET created_at = %s", [timezone.now() - dt.timedelta(days=2)])
    _campaign(store, today)  # no stock plan: every active SKU
    rows = {
        r.sku_code: r
        for r in sel.promotion_cover(store=store, today=today, playbook=playbook_get(store=store))
    }
    assert rows["HOT-S"].baseline_daily == 3
    assert rows["HOT-M"].baseline_daily == 1
    assert rows["HOT-S"].cover.required == 90  # 3 x 2.0 x 15
    assert rows["HOT-S"].planned_qty is None


def test_inv_02_only_big_promotions_starting_within_the_lookahead_are_checked(store, world, today):
    inv.stock_reserve(actor=ACTOR, sku=world["s"], warehouse=world["wh"], quantity=170, reference="SO-3")
    _campaign(store, today, days_ahead=40)  # beyond the 30-day lookahead
    _campaign(store, today, days_ahead=5, kind="regular")
    checks_run(rule="INV-02", store=store, notify=False)
    assert not Finding.objects.filter(rule_id="INV-02").exists()
    _campaign(store, today, days_ahead=5)
    checks_run(rule="INV-02", store=store, notify=False)
    assert Finding.objects.filter(rule_id="INV-02").count() == 1


def _uplifted(store, today, uplift, **kw):
    from storeops.marketing import services as mkt

    campaign = _campaign(store, today, **kw)
    # the plan is a draft: edit it as a whole with the uplift
    return mkt.campaign_update(
        actor=ACTOR,
        campaign=campaign,
        theme=campaign.theme,
        kind=campaign.kind,
        starts_on=campaign.starts_on,
        ends_on=campaign.ends_on,
        stock=[{"sku_code": s.sku.code, "planned_qty": s.planned_qty} for s in campaign.stock_lines.all()],
        expected_uplift=uplift,
    )


def test_inv_02_cover_check_uses_the_campaigns_own_uplift(store, world, today):
    # given M: 2 a day (the product's 4 split evenly), 190 available, 15 days of cover.
    # At the playbook's 2.0 the need is 60 -> covered; the campaign expects 7x: 2 x 7 x 15 = 210
    _uplifted(store, today, "7", stock=[{"sku_code": "HOT-M", "planned_qty": 100}])
    checks_run(rule="INV-02", store=store, notify=False)
    finding = Finding.objects.get(rule_id="INV-02")
    assert finding.detail["required"] == 210
    assert finding.detail["shortfall"] == 20
    assert finding.detail["uplift"] == "7.00"
    assert finding.detail["uplift_from_playbook"] is False


def test_inv_02_each_campaign_keeps_its_own_uplift_and_the_default_stays_the_playbooks(store, world, today):
    own = _uplifted(store, today, "3.5", days_ahead=5, stock=[{"sku_code": "HOT-S", "planned_qty": 50}])
    plain = _campaign(store, today, days_ahead=12, stock=[{"sku_code": "HOT-S", "planned_qty": 50}])
    rows = {
        r.campaign_id: r
        for r in sel.promotion_cover(store=store, today=today, playbook=playbook_get(store=store))
    }
    assert (rows[own.pk].uplift, rows[own.pk].uplift_from_playbook) == (Decimal("3.5"), False)
    assert rows[own.pk].cover.required == 105  # 2 a day x 3.5 x 15
    assert (rows[plain.pk].uplift, rows[plain.pk].uplift_from_playbook) == (Decimal("2.0"), True)
    assert rows[plain.pk].cover.required == 60


def test_inv_02_default_uplift_follows_the_campaigns_channel_playbook(store, channel, world, today):
    from storeops.marketing import services as mkt
    from storeops.stores.services import playbook_update

    playbook_update(actor=ACTOR, store=store, channel=channel, values={"promo_default_uplift": "8"})
    mkt.campaign_create(
        actor=ACTOR,
        store=store,
        channel=channel,
        theme="天猫双11",
        kind="big_promotion",
        starts_on=today + dt.timedelta(days=10),
        ends_on=today + dt.timedelta(days=12),
        stock=[{"sku_code": "HOT-M", "planned_qty": 100}],
    )
    checks_run(rule="INV-02", store=store, notify=False)
    # 2 a day x 8 (the Tmall channel's default) x 15 = 240 > 190
    finding = Finding.objects.get(rule_id="INV-02")
    assert (finding.detail["required"], finding.detail["uplift"]) == (240, "8")
