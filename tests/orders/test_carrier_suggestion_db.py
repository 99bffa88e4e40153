"""LOG-03 when an order ships: the suggested carrier is preselected in the console's ship form,
the API offers it (and ships with it when no carrier is named), a carrier that breaks one of
the store's carrier rules is refused, and the parcel records the suggestion."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from storeops.accounts.roles import Role
from storeops.catalog import services as catalog_services
from storeops.fulfilment import services as fulfilment_services
from storeops.fulfilment.models import Shipment
from storeops.orders import services as svc
from tests.fulfilment.builders import a_carrier, delivered
from tests.orders.builders import ACTOR, World

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(store, channel):
    """SF better than ZTO to Zhejiang by the statistics (SF 1.3, ZTO 1.5); P1-S weighs 2 kg."""
    world = World(store, channel)
    recent = timezone.now() - dt.timedelta(days=3)
    for i in range(3):
        for code, hours, cost in (("SF", 24, "20.00"), ("ZTO", 48, "10.00")):
            delivered(
                store,
                channel,
                f"{code}-H{i}",
                carrier=a_carrier(code),
                pickup_h=1,
                deliver_h=1 + hours,
                cost=cost,
                created_at=recent,
            )
    catalog_services.sku_shipping_update(actor=ACTOR, sku=world.sku_s, weight_g=2000)
    return world


def _allocated(world, qty: int = 1):
    order = world.place(qty, now=timezone.now())
    world.pay(order, now=timezone.now())
    order = svc.order_auto_review(actor=ACTOR, order=order)
    return svc.order_allocate(actor=ACTOR, order=order)


def _sf_max_kg(world, kg: str) -> None:
    fulfilment_services.carrier_rule_set(
        actor=ACTOR, store=world.store, carrier=a_carrier("SF"), max_weight_kg=kg
    )


def test_log_03_console_ship_form_preselects_the_suggested_carrier(world, make_user):
    order = _allocated(world)
    client = Client()
    client.force_login(make_user(Role.WAREHOUSE))
    # given no carrier rules, then SF (the best by statistics) is preselected
    page = client.get(f"/orders/{order.pk}/").content.decode()
    assert '<option value="SF" selected>SF SF快递 （建议）</option>' in page
    assert '<option value="ZTO">ZTO ZTO快递</option>' in page
    # given SF takes parcels up to 1 kg (this one weighs 2 kg), then ZTO is preselected
    _sf_max_kg(world, "1")
    page = client.get(f"/orders/{order.pk}/").content.decode()
    assert '<option value="ZTO" selected>ZTO ZTO快递 （建议）</option>' in page
    assert '<option value="SF">SF SF快递 （不符合规则：超过限重 1 kg）</option>' in page
    assert "已排除：SF（超过限重 1 kg）" in page
    # when the warehouse ships with SF anyway, then it is refused and the form keeps SF chosen
    response = client.post(f"/orders/{order.pk}/ship/", {"carrier": "SF", "tracking_no": "SF-X"})
    body = response.content.decode()
    assert '<option value="SF" selected>' in body
    assert "超过限重 1 kg" in body
    order.refresh_from_db()
    assert order.status == "allocated"


def test_log_03_order_api_suggests_ships_with_the_suggestion_and_refuses_a_rule_breaker(world, api_as):
    _sf_max_kg(world, "3")
    order = _allocated(world, qty=2)  # 4 kg: over SF's limit
    warehouse = api_as(Role.WAREHOUSE)
    base = f"/orders/{world.store.pk}/orders/{order.number}"
    suggestion = warehouse.get(f"{base}/carrier-suggestion").json()
    assert (suggestion["best"], suggestion["parcel"]["weight_kg"]) == ("ZTO", "4.000")
    assert suggestion["excluded"][0]["carrier"] == "SF"
    # when shipped with SF, then 422 carrier_not_allowed and nothing moved
    refused = warehouse.post(f"{base}/ship", {"carrier": "SF", "tracking_no": "SF-1"})
    assert refused.status_code == 422
    assert refused.json()["code"] == "carrier_not_allowed"
    order.refresh_from_db()
    assert order.status == "allocated"
    assert not Shipment.objects.filter(tracking_no="SF-1").exists()
    # when shipped without a carrier, then it goes with the suggestion and records it as followed
    shipped = warehouse.post(f"{base}/ship", {"tracking_no": "ZTO-1"})
    assert shipped.status_code == 200, shipped.content
    parcel = Shipment.objects.get(tracking_no="ZTO-1")
    assert (parcel.carrier.code, parcel.suggested_carrier) == ("ZTO", "ZTO")


def test_log_03_a_parcel_shipped_against_the_suggestion_records_it(world):
    order = _allocated(world)
    svc.order_ship(actor=ACTOR, order=order, carrier_code="ZTO", tracking_numbers="ZTO-2")
    parcel = Shipment.objects.get(tracking_no="ZTO-2")
    assert (parcel.carrier.code, parcel.suggested_carrier) == ("ZTO", "SF")
