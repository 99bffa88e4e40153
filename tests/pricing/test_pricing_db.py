"""Pricing on database rows: full cost (PRICE-02), suggester (PRICE-01), versioned price
changes (PRICE-03) and competitor drops (PRICE-04)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from storeops.audit.models import AuditEntry
from storeops.core.errors import Conflict, ValidationError
from storeops.core.money import Money
from storeops.pricing import services as ps
from storeops.pricing.models import ChannelPrice, PriceChange
from storeops.pricing.selectors import price_history, price_suggest, sku_full_cost
from storeops.sop.models import Finding
from storeops.sop.services import checks_run
from storeops.stores import services as st
from tests.catalog.db_builders import ACTOR, a_dress_category, a_product

pytestmark = pytest.mark.django_db


@pytest.fixture
def sku(store):
    return a_product(store, a_dress_category(store), complete=False).skus.get(code="P1-S")


def test_price_02_full_cost_adds_product_operations_logistics_and_tax(sku):
    # given a 60.00 product cost and the other components
    ps.sku_cost_set(actor=ACTOR, sku=sku, operations="8.50", logistics="6.00", tax="5.50")

    # when / then
    assert sku_full_cost(sku=sku) == Money("80.00")


def test_price_01_suggester_uses_the_cheapest_current_competitor_and_the_playbook(store, sku):
    # given full cost 80, competitors at 150 and 140 (cheapest 140)
    ps.sku_cost_set(actor=ACTOR, sku=sku, operations="8.50", logistics="6.00", tax="5.50")
    for name, price in (("A", "150.00"), ("B", "140.00")):
        cp = ps.competitor_product_create(
            actor=ACTOR, store=store, competitor=name, name="裙", product=sku.product
        )
        ps.competitor_price_record(actor=ACTOR, competitor_product=cp, price=price)

    # when
    cost, competitor, suggestion = price_suggest(sku=sku, now=timezone.now())

    # then margin floor 80/0.65 = 123.08; band 126.00–133.00
    assert (cost, competitor) == (Money("80.00"), Money("140.00"))
    assert (suggestion.feasible, suggestion.min_price, suggestion.max_price) == (
        True,
        Money("126.00"),
        Money("133.00"),
    )


def test_price_01_suggester_says_why_no_price_exists_when_margin_is_above_the_band(store, sku):
    # given the playbook asks 50% margin: floor 160 > 133
    ps.sku_cost_set(actor=ACTOR, sku=sku, operations="20.00")
    st.playbook_update(actor=ACTOR, store=store, values={"min_gross_margin": "0.50"})

    # when
    _cost, _competitor, suggestion = price_suggest(
        sku=sku, now=timezone.now(), competitor_price=Money("140.00")
    )

    # then
    assert suggestion.feasible is False
    assert suggestion.message_zh == "按50%毛利率，最低售价为160.00元，高于竞品价下浮5%后的133.00元"


def test_price_03_every_price_change_is_versioned_with_its_reason_and_audited(store, sku, channel):
    # given the initial price 199.00 recorded at creation
    # when the base price drops for a promotion and the channel price is set for a competitor move
    ps.price_set(actor=ACTOR, sku=sku, new_price="179.00", reason="promotion", note="618")
    ps.price_set(actor=ACTOR, sku=sku, new_price="189.00", reason="competitor", channel=channel)

    # then
    sku.refresh_from_db()
    history = [(c.channel_id, c.old_price, c.new_price, c.reason) for c in price_history(sku=sku)]
    assert history == [
        (channel.pk, None, Decimal("189.00"), "competitor"),
        (None, Decimal("199.00"), Decimal("179.00"), "promotion"),
        (None, None, Decimal("199.00"), "initial"),
    ]
    assert sku.price == Decimal("179.00")
    assert ChannelPrice.objects.get(sku=sku, channel=channel).price == Decimal("189.00")
    assert AuditEntry.objects.filter(action="price.change", object_id=str(sku.pk)).count() == 2


@pytest.mark.parametrize(
    ("price", "reason", "note", "field"),
    [
        ("179.00", "", "", "reason"),
        ("179.00", "initial", "", "reason"),
        ("179.00", "other", "", "note"),
        ("-1", "season", "", "new_price"),
        ("1.234", "season", "", "new_price"),
        ("abc", "season", "", "new_price"),
    ],
)
def test_price_03_a_change_without_a_valid_reason_or_amount_is_refused(sku, price, reason, note, field):
    # when / then
    with pytest.raises(ValidationError) as err:
        ps.price_set(actor=ACTOR, sku=sku, new_price=price, reason=reason, note=note)
    assert field in err.value.fields
    assert PriceChange.objects.filter(sku=sku).count() == 1  # only the initial version


def test_price_03_setting_the_same_price_is_a_conflict(sku):
    with pytest.raises(Conflict):
        ps.price_set(actor=ACTOR, sku=sku, new_price="199.00", reason="season")


def test_price_04_a_tracked_competitor_dropping_5_percent_raises_a_finding(store, sku):
    # given a tracked item observed at 100 then 95 (5% drop), an untracked one that halves
    now = timezone.now()
    tracked = ps.competitor_product_create(actor=ACTOR, store=store, competitor="A店", name="碎花裙")
    untracked = ps.competitor_product_create(
        actor=ACTOR, store=store, competitor="B店", name="碎花裙", is_tracked=False
    )
    ps.competitor_price_record(
        actor=ACTOR, competitor_product=tracked, price="100.00", observed_at=now - dt.timedelta(days=1)
    )
    latest = ps.competitor_price_record(
        actor=ACTOR, competitor_product=tracked, price="95.00", promotion="满200减20"
    )
    for days, price in ((1, "100.00"), (0, "50.00")):
        ps.competitor_price_record(
            actor=ACTOR, competitor_product=untracked, price=price, observed_at=now - dt.timedelta(days=days)
        )

    # when
    checks_run(rule="PRICE-04", store=store, notify=False)

    # then
    finding = Finding.objects.get(rule_id="PRICE-04")
    assert finding.subject_key == f"competitor_price:{latest.pk}"
    assert finding.title == "竞品降价：A店「碎花裙」100.00 → 95.00 元（降 5%）"


def test_price_04_a_drop_below_the_alert_ratio_raises_nothing(store):
    # given 100 -> 95.01 (4.99%)
    cp = ps.competitor_product_create(actor=ACTOR, store=store, competitor="A店", name="碎花裙")
    ps.competitor_price_record(
        actor=ACTOR, competitor_product=cp, price="100.00", observed_at=timezone.now() - dt.timedelta(hours=2)
    )
    ps.competitor_price_record(actor=ACTOR, competitor_product=cp, price="95.01")

    # when
    checks_run(rule="PRICE-04", store=store, notify=False)

    # then
    assert Finding.objects.filter(rule_id="PRICE-04").count() == 0


def test_price_03_api_price_history_and_competitors_are_paged_with_a_total(store, sku, api_as):
    """Both lists page like every API list (they stopped silently at 500 rows, with no total)."""
    from storeops.accounts.roles import Role

    for price in ("179.00", "169.00"):
        ps.price_set(actor=ACTOR, sku=sku, new_price=price, reason="promotion")
    for i in range(3):
        ps.competitor_product_create(actor=ACTOR, store=store, competitor="A店", name=f"竞品{i}")
    api = api_as(Role.FINANCE)
    history = api.get(f"/pricing/{store.pk}/skus/{sku.pk}/prices?page_size=2").json()
    assert (history["total"], [c["new_price"] for c in history["items"]]) == (3, ["169.00", "179.00"])
    assert [
        c["reason"]
        for c in api.get(f"/pricing/{store.pk}/skus/{sku.pk}/prices?page=2&page_size=2").json()["items"]
    ] == ["initial"]
    competitors = api.get(f"/pricing/{store.pk}/competitors?page_size=2").json()
    assert (competitors["total"], len(competitors["items"])) == (3, 2)
    assert len(api.get(f"/pricing/{store.pk}/competitors?page=2&page_size=2").json()["items"]) == 1
