"""LOG-03 carrier choice by item and destination: the store's carrier rules (hard limits),
the suggestion among the allowed carriers (statistics), shipping refuses a carrier that
breaks a rule and records whether the suggestion was followed."""

from __future__ import annotations

from decimal import Decimal

import pytest

from storeops.accounts.roles import Role
from storeops.audit.selectors import audit_list
from storeops.catalog import services as catalog_services
from storeops.core.errors import ValidationError
from storeops.fulfilment import selectors, services
from storeops.fulfilment.models import Shipment
from storeops.fulfilment.rules import Breach
from tests.catalog.db_builders import a_dress_category, a_product
from tests.fulfilment.builders import ACTOR, a_carrier, at, delivered

pytestmark = pytest.mark.django_db


def _stats(store, channel, *carriers: tuple[str, float, str], province: str = "浙江省") -> None:
    """Three delivered parcels per carrier: (code, hours from pickup to delivery, cost)."""
    for code, hours, cost in carriers:
        for i in range(3):
            delivered(
                store,
                channel,
                f"{code}{province}{i}",
                carrier=a_carrier(code),
                pickup_h=1,
                deliver_h=1 + hours,
                cost=cost,
                province=province,
            )


def _products(store) -> None:
    """HEAVY-S 12 kg, GLASS-S 300 g and fragile."""
    category = a_dress_category(store, required_qualifications=[])
    for code, grams, fragile in (("HEAVY", 12000, False), ("GLASS", 300, True)):
        skus = [{"code": f"{code}-S", "price": "99.00", "weight_g": grams, "is_fragile": fragile}]
        a_product(store, category, code, complete=False, skus=skus)


def _suggest(store, province: str, lines):
    parcel = selectors.parcel_from_lines(store=store, lines=lines)
    return selectors.carrier_suggest(store=store, province=province, parcel=parcel, since=at(-1))


def test_log_03_a_heavy_parcel_gets_the_carrier_whose_weight_limit_allows_it(store, channel):
    # given ZTO faster and cheaper than SF, but taking parcels up to 20 kg only
    _stats(store, channel, ("SF", 48, "20.00"), ("ZTO", 24, "10.00"))
    _products(store)
    services.carrier_rule_set(actor=ACTOR, store=store, carrier=a_carrier("ZTO"), max_weight_kg="20")
    # when one 12 kg unit ships, then ZTO (the better one) is suggested
    assert _suggest(store, "浙江省", [("HEAVY-S", 1)]).best_code == "ZTO"
    # when two (24 kg) ship, then SF is, and the reason says why ZTO is out
    heavy = _suggest(store, "浙江省", [("HEAVY-S", 2)])
    assert heavy.parcel.weight_kg == Decimal("24.000")
    assert heavy.best_code == "SF"
    assert heavy.choice.excluded == {"ZTO": [Breach.OVERWEIGHT]}
    assert "ZTO（超过限重 20 kg）" in heavy.reason
    assert heavy.reason.startswith("建议 SF")


def test_log_03_a_carrier_excluded_for_the_destination_is_not_suggested(store, channel):
    # given YTO the best carrier, but it does not deliver to Xinjiang or Tibet
    _stats(store, channel, ("SF", 48, "20.00"), ("YTO", 24, "10.00"))
    services.carrier_rule_set(
        actor=ACTOR, store=store, carrier=a_carrier("YTO"), excluded_provinces="新疆维吾尔自治区、西藏"
    )
    # then it is suggested for Zhejiang, not for Xinjiang (nationwide figures stand in there)
    assert selectors.carrier_suggest(store=store, province="浙江省", since=at(-1)).best_code == "YTO"
    xinjiang = selectors.carrier_suggest(store=store, province="新疆维吾尔自治区", since=at(-1))
    assert xinjiang.best_code == "SF"
    assert xinjiang.best.fallback
    assert xinjiang.excluded_reasons() == {"YTO": "不配送新疆"}


def test_log_03_allowed_carriers_are_ranked_by_their_statistics(store, channel):
    # given four carriers; EMS the fastest and cheapest but refusing fragile goods
    _stats(
        store, channel, ("SF", 24, "20.00"), ("ZTO", 48, "10.00"), ("YTO", 72, "12.00"), ("EMS", 12, "8.00")
    )
    _products(store)
    services.carrier_rule_set(actor=ACTOR, store=store, carrier=a_carrier("EMS"), fragile="refuse")
    # when a fragile parcel is placed, then the other three are ranked by score (best 24 h, 10.00):
    # SF 0.5*1 + 0.3*2 + 0.2 = 1.3; ZTO 0.5*2 + 0.3 + 0.2 = 1.5; YTO 0.5*3 + 0.3*1.2 + 0.2 = 2.06
    result = _suggest(store, "浙江省", [("GLASS-S", 1)])
    assert [(s.carrier_code, s.score) for s in result.ranked] == [
        ("SF", Decimal("1.300")),
        ("ZTO", Decimal("1.500")),
        ("YTO", Decimal("2.060")),
    ]
    assert result.excluded_reasons() == {"EMS": "不收易碎品"}
    # when YTO is the store's carrier for fragile goods, then it comes first despite its score
    services.carrier_rule_set(actor=ACTOR, store=store, carrier=a_carrier("YTO"), fragile="prefer")
    preferred = _suggest(store, "浙江省", [("GLASS-S", 1)])
    assert [s.carrier_code for s in preferred.ranked] == ["YTO", "SF", "ZTO"]
    assert "易碎品首选快递优先" in preferred.reason
    # (a parcel without fragile goods is ranked by score alone)
    assert _suggest(store, "浙江省", [("HEAVY-S", 1)]).best_code == "EMS"


def test_log_03_shipping_refuses_a_carrier_that_breaks_a_rule_and_records_the_suggestion(store, channel):
    _stats(store, channel, ("SF", 48, "20.00"), ("ZTO", 24, "10.00"))
    _products(store)
    services.carrier_rule_set(actor=ACTOR, store=store, carrier=a_carrier("ZTO"), max_items=1)
    common = {
        "actor": ACTOR,
        "store": store,
        "channel": channel,
        "warehouse_code": "WH1",
        "province": "浙江省",
        "order_ref": "T-1",
    }
    # when two units are handed to ZTO (one unit per parcel), then it is refused, nothing written
    with pytest.raises(ValidationError) as refused:
        services.shipment_create(
            carrier=a_carrier("ZTO"), tracking_no="Z-1", lines=[("HEAVY-S", 2)], **common
        )
    assert refused.value.code == "carrier_not_allowed"
    assert refused.value.fields == {"carrier": "超过每件最多 1 件"}
    assert not Shipment.objects.filter(tracking_no="Z-1").exists()
    # when they go with SF, then the parcel records SF as suggested, its weight from the SKUs
    shipment = services.shipment_create(
        carrier=a_carrier("SF"), tracking_no="S-1", lines=[("HEAVY-S", 2)], **common
    )
    assert (shipment.suggested_carrier, shipment.weight_kg) == ("SF", Decimal("24.000"))


def test_log_03_carrier_statistics_report_how_often_the_suggestion_was_followed(store, channel):
    common = {"actor": ACTOR, "store": store, "channel": channel, "warehouse_code": "W", "lines": [("X", 1)]}
    for no, carrier, suggested in (("A", "SF", "SF"), ("B", "SF", "SF"), ("C", "ZTO", "SF")):
        services.shipment_create(
            carrier=a_carrier(carrier),
            tracking_no=no,
            province="江苏省",
            order_ref=no,
            suggested_carrier=suggested,
            **common,
        )
    stats = {s.carrier_code: s for s in selectors.carrier_stats(store=store, by_province=False)}
    assert (stats["SF"].suggestion_followed, stats["SF"].suggestion_overridden) == (2, 0)
    assert (stats["ZTO"].suggestion_followed, stats["ZTO"].suggestion_overridden) == (0, 1)
    adoption = selectors.suggestion_adoption(stats.values())
    assert (adoption.followed, adoption.suggested, adoption.rate) == (2, 3, Decimal("0.6667"))


def test_log_03_carrier_rules_are_validated_and_audited(store):
    carrier = a_carrier("ZTO")
    with pytest.raises(ValidationError) as bad:
        services.carrier_rule_set(
            actor=ACTOR,
            store=store,
            carrier=carrier,
            max_weight_kg="-1",
            max_items=0,
            excluded_provinces=["火星"],
            fragile="maybe",
        )
    assert set(bad.value.fields) == {"max_weight_kg", "max_items", "excluded_provinces", "fragile"}
    rule = services.carrier_rule_set(
        actor=ACTOR,
        store=store,
        carrier=carrier,
        max_weight_kg="30.5",
        excluded_provinces="新疆，西藏自治区, 新疆",
    )
    assert (rule.max_weight_kg, rule.excluded_provinces) == (Decimal("30.500"), ["新疆", "西藏"])
    services.carrier_rule_set(actor=ACTOR, store=store, carrier=carrier, max_weight_kg="25")
    entries = [e for e in audit_list(store_id=store.pk) if e.action == "carrier_rule.set"]
    assert len(entries) == 2
    assert services.carrier_rule_delete(actor=ACTOR, store=store, carrier=carrier)
    assert not services.carrier_rule_delete(actor=ACTOR, store=store, carrier=carrier)


# --- API ------------------------------------------------------------------------------------------


def test_log_03_carrier_rules_api_sets_lists_and_deletes_for_the_warehouse(store, api_as):
    a_carrier("ZTO")
    warehouse = api_as(Role.WAREHOUSE)
    put = warehouse.put(
        f"/fulfilment/{store.pk}/carrier-rules/zto",
        {"max_weight_kg": "20", "max_items": 5, "excluded_provinces": ["西藏自治区"], "fragile": "refuse"},
    )
    assert put.status_code == 200, put.content
    assert put.json()["excluded_provinces"] == ["西藏"]
    rows = warehouse.get(f"/fulfilment/{store.pk}/carrier-rules").json()
    assert [(r["carrier"], r["max_weight_kg"], r["max_items"], r["fragile"]) for r in rows] == [
        ("ZTO", "20.000", 5, "refuse")
    ]
    bad = warehouse.put(f"/fulfilment/{store.pk}/carrier-rules/ZTO", {"excluded_provinces": ["火星"]})
    assert (bad.status_code, list(bad.json()["fields"])) == (422, ["excluded_provinces"])
    assert warehouse.call("DELETE", f"/fulfilment/{store.pk}/carrier-rules/ZTO").status_code == 204
    assert warehouse.call("DELETE", f"/fulfilment/{store.pk}/carrier-rules/ZTO").status_code == 404


def test_log_03_suggestion_api_explains_the_choice_and_the_exclusions(store, channel, api_as):
    _stats(store, channel, ("SF", 48, "20.00"), ("ZTO", 24, "10.00"))
    services.carrier_rule_set(actor=ACTOR, store=store, carrier=a_carrier("ZTO"), max_weight_kg="20")
    out = (
        api_as(Role.WAREHOUSE)
        .get(f"/fulfilment/{store.pk}/carrier-suggestion", province="浙江省", weight_kg="25", days=3650)
        .json()
    )
    assert out["best"] == "SF"
    assert out["parcel"] == {"weight_kg": "25", "items": None, "fragile": False}
    assert out["excluded"] == [{"carrier": "ZTO", "breaches": ["overweight"], "reason": "超过限重 20 kg"}]
    assert out["reason"].startswith("建议 SF")


def test_log_03_shipment_api_refuses_a_carrier_that_breaks_a_rule_with_a_422(store, channel, api_as):
    a_carrier("SF")
    services.carrier_rule_set(actor=ACTOR, store=store, carrier=a_carrier("SF"), excluded_provinces=["新疆"])
    body = {
        "channel_id": channel.pk,
        "order_ref": "T-9",
        "carrier": "SF",
        "tracking_no": "SF9",
        "warehouse_code": "HZ1",
        "lines": [{"sku_code": "A-1", "qty": 1}],
        "province": "新疆维吾尔自治区",
    }
    refused = api_as(Role.WAREHOUSE).post(f"/fulfilment/{store.pk}/shipments", body)
    assert refused.status_code == 422
    assert (refused.json()["code"], refused.json()["fields"]) == (
        "carrier_not_allowed",
        {"carrier": "不配送新疆"},
    )
    assert not Shipment.objects.filter(tracking_no="SF9").exists()
    ok = api_as(Role.WAREHOUSE).post(f"/fulfilment/{store.pk}/shipments", {**body, "province": "浙江省"})
    assert ok.status_code == 201, ok.content
    assert ok.json()["suggested_carrier"] == "SF"  # the only carrier: suggested without figures


def test_log_03_sku_weight_and_fragility_are_set_by_api(store, api_as):
    a_product(store, a_dress_category(store, required_qualifications=[]), "P1", complete=False)
    client = api_as(Role.OPERATIONS)
    out = client.patch(f"/catalog/{store.pk}/skus/P1-S", {"weight_g": 450, "is_fragile": True})
    assert out.status_code == 200, out.content
    assert (out.json()["weight_g"], out.json()["is_fragile"]) == (450, True)
    assert client.patch(f"/catalog/{store.pk}/skus/P1-S", {"weight_g": 0}).status_code == 422
    assert client.patch(f"/catalog/{store.pk}/skus/P1-S", {"weight_g": None}).json()["weight_g"] is None
    assert client.patch(f"/catalog/{store.pk}/skus/NOPE", {"weight_g": 1}).status_code == 404
    assert selectors.parcel_from_lines(store=store, lines=[("P1-S", 2)]).fragile
    catalog_services  # noqa: B018  (the service behind the route)
