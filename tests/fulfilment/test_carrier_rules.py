"""Pure LOG-03 carrier rules: parcels from their lines, hard limits, and the choice among
the allowed carriers."""

from __future__ import annotations

from decimal import Decimal

import pytest

from storeops.fulfilment.rules import (
    Breach,
    CarrierFigures,
    CarrierLimits,
    Fragile,
    Parcel,
    breaches,
    choose_carrier,
    parcel_of,
    parcels_strictest,
    province_in,
    province_short,
)


def _fig(code: str, p90: str, cost: str) -> CarrierFigures:
    return CarrierFigures(code, 10, Decimal(p90), Decimal(p90), Decimal(cost), None, Decimal(0))


@pytest.mark.parametrize(
    ("name", "short"),
    [
        ("浙江省", "浙江"),
        ("新疆维吾尔自治区", "新疆"),
        ("广西壮族自治区", "广西"),
        ("内蒙古自治区", "内蒙古"),
        ("上海市", "上海"),
        ("香港特别行政区", "香港"),
        ("西藏", "西藏"),
    ],
)
def test_log_03_province_short_names(name, short):
    assert province_short(name) == short


def test_log_03_a_destination_matches_an_excluded_province_by_its_short_name():
    assert province_in("新疆维吾尔自治区", ("新疆", "西藏"))
    assert province_in("西藏自治区", ("新疆", "西藏"))
    assert not province_in("浙江省", ("新疆", "西藏"))
    assert not province_in("", ("新疆",))


def test_log_03_parcel_weight_is_the_sum_of_its_units_and_unknown_when_one_sku_has_none():
    # given 2 × 1.5 kg and 1 × 250 g, one of them fragile
    assert parcel_of([(2, 1500, False), (1, 250, True)]) == Parcel(Decimal("3.250"), 3, True)
    # when a SKU has no weight, then the parcel's weight is unknown (its units still count)
    assert parcel_of([(2, 1500, False), (1, None, False)]) == Parcel(None, 3, False)


def test_log_03_several_parcels_with_one_carrier_stand_as_the_strictest():
    light, heavy = Parcel(Decimal("2"), 5, False), Parcel(Decimal("30"), 1, True)
    assert parcels_strictest([light, heavy]) == Parcel(Decimal("30"), 5, True)
    assert parcels_strictest([light, Parcel(None, 1)]).weight_kg is None


def test_log_03_breaches_name_each_hard_rule_broken():
    limits = CarrierLimits("ZTO", Decimal("20"), 10, excluded_provinces=("新疆",), fragile=Fragile.REFUSE)
    parcel = Parcel(Decimal("20.5"), 11, True)
    assert breaches(limits, parcel, "新疆维吾尔自治区") == [
        Breach.OVERWEIGHT,
        Breach.TOO_MANY_ITEMS,
        Breach.PROVINCE_EXCLUDED,
        Breach.FRAGILE_REFUSED,
    ]
    # at the limit is allowed; an unknown weight cannot be checked, so it is not a breach
    assert breaches(limits, Parcel(Decimal("20"), 10, False), "浙江省") == []
    assert breaches(limits, Parcel(None, None, False), "浙江省") == []
    assert breaches(None, parcel, "新疆") == []


def test_log_03_choice_ranks_only_the_allowed_carriers():
    # given ZTO the best by figures but limited to 20 kg
    figures = [_fig("SF", "48", "20"), _fig("ZTO", "24", "10"), _fig("YTO", "36", "12")]
    limits = {"ZTO": CarrierLimits("ZTO", max_weight_kg=Decimal("20"))}
    # when a 25 kg parcel is placed, then ZTO is out and YTO (1.0) beats SF (1.367)
    heavy = choose_carrier(
        ["SF", "ZTO", "YTO"], limits, figures, parcel=Parcel(Decimal("25"), 1), province="浙江省"
    )
    assert heavy.excluded == {"ZTO": [Breach.OVERWEIGHT]}
    assert [s.carrier_code for s in heavy.ranked] == ["YTO", "SF"]
    assert heavy.best == "YTO"
    # when it is 5 kg, then ZTO is allowed and best
    light = choose_carrier(
        ["SF", "ZTO", "YTO"], limits, figures, parcel=Parcel(Decimal("5"), 1), province="浙江省"
    )
    assert (light.best, light.excluded) == ("ZTO", {})
    # when the weight is unknown, then ZTO is not excluded but the choice says it was unchecked
    unknown = choose_carrier(["SF", "ZTO"], limits, figures, parcel=Parcel(None, 1), province="浙江省")
    assert (unknown.best, unknown.weight_unchecked) == ("ZTO", True)


def test_log_03_a_fragile_parcel_goes_to_the_fragile_carrier_first():
    figures = [_fig("SF", "48", "20"), _fig("ZTO", "24", "10")]
    limits = {
        "SF": CarrierLimits("SF", fragile=Fragile.PREFER),
        "YTO": CarrierLimits("YTO", fragile=Fragile.REFUSE),
    }
    fragile = choose_carrier(
        ["SF", "ZTO", "YTO"], limits, figures, parcel=Parcel(Decimal("1"), 1, True), province="浙江省"
    )
    assert (fragile.best, fragile.preferred, fragile.excluded) == (
        "SF",
        frozenset({"SF"}),
        {"YTO": [Breach.FRAGILE_REFUSED]},
    )
    plain = choose_carrier(
        ["SF", "ZTO", "YTO"], limits, figures, parcel=Parcel(Decimal("1"), 1), province="浙江省"
    )
    assert (plain.best, plain.unranked) == ("ZTO", ["YTO"])


def test_log_03_without_figures_only_a_sole_allowed_carrier_is_suggested():
    limits = {"ZTO": CarrierLimits("ZTO", excluded_provinces=("新疆",))}
    sole = choose_carrier(["SF", "ZTO"], limits, [], parcel=Parcel(), province="新疆")
    assert (sole.best, sole.unranked) == ("SF", ["SF"])
    several = choose_carrier(["SF", "ZTO"], limits, [], parcel=Parcel(), province="浙江")
    assert several.best is None
