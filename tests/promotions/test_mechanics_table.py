"""Hand-computed cases for every mechanic (SOP PROMO-01/02/03, MEM-01)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from storeops.promotions.engine import (
    AddOnDeal,
    CustomerContext,
    FlashSale,
    GroupBuy,
    NthItemOff,
    Offer,
    Presale,
    PromotionPolicy,
    Quote,
    Scope,
    ThresholdGift,
    TimeSlotOff,
    Window,
    member_price_offer,
    quote_best_price,
)

from .builders import NOW, at, cny, coupon, customer, line, percent, spend_save

MEMBER = member_price_offer(PromotionPolicy())


def _quote(lines, offers=(), coupons=(), who: CustomerContext | None = None, now=NOW) -> Quote:  # type: ignore[no-untyped-def]
    return quote_best_price(lines=lines, customer=who or customer(), offers=offers, coupons=coupons, now=now)


# --- the table: (case, lines, offers, coupons, customer, expected payable) ------------------

GROUP_3_HALF = Offer(id="group", mechanic=GroupBuy(price=cny(50), group_size=3, time_limit_hours=24))
FLASH = Offer(id="flash", mechanic=FlashSale(price=cny("9.90"), stock_remaining=100, per_buyer_limit=1))
SLOT_EVENING = Offer(id="slot", mechanic=TimeSlotOff(slots=((at(20), at(22)),), rate=Decimal("0.9")))
SECOND_HALF = Offer(id="nth", mechanic=NthItemOff(n=2, rate=Decimal("0.5")))

TABLE = [
    # SOP: PROMO-01 满200减30 on 120 + 90
    (
        "promo_01_spend_200_save_30",
        [line("a", 120), line("b", 90)],
        [spend_save("m", (200, 30))],
        [],
        None,
        "180.00",
    ),
    # SOP: PROMO-01 tiered: 满200减30 / 满300减50 on 320 reaches the higher tier
    (
        "promo_01_tiered_reaches_300_minus_50",
        [line("a", 320)],
        [spend_save("m", (200, 30), (300, 50))],
        [],
        None,
        "270.00",
    ),
    # SOP: PROMO-01 每满200减30 on 650: 3 x 30 off
    (
        "promo_01_repeat_every_200_minus_30",
        [line("a", 650)],
        [spend_save("m", (200, 30), repeat=True)],
        [],
        None,
        "560.00",
    ),
    # SOP: PROMO-01 below the threshold nothing is taken off
    (
        "promo_01_below_threshold_pays_list",
        [line("a", "199.99")],
        [spend_save("m", (200, 30))],
        [],
        None,
        "199.99",
    ),
    # SOP: PROMO-01 第二件半价: 59 + 29.50
    ("promo_01_second_item_half_price", [line("a", 59, 2)], [SECOND_HALF], [], None, "88.50"),
    # SOP: PROMO-01 第二件半价 with 3 units: only one unit is the second of a pair
    ("promo_01_second_item_half_price_three_units", [line("a", 59, 3)], [SECOND_HALF], [], None, "147.50"),
    # SOP: PROMO-01 8折 on 2 x 33.33 = 53.328, rounded once at the line price
    (
        "promo_01_percentage_rounds_line_half_up",
        [line("a", "33.33", 2)],
        [percent("p", "0.8")],
        [],
        None,
        "53.33",
    ),
    # SOP: MEM-01 silver 9.5折
    ("mem_01_silver_pays_95_percent", [line("a", 100)], [MEMBER], [], customer(tier="silver"), "95.00"),
    # SOP: MEM-01 diamond 8.8折
    ("mem_01_diamond_pays_88_percent", [line("a", 100)], [MEMBER], [], customer(tier="diamond"), "88.00"),
    # SOP: MEM-01 gold has no default rate
    ("mem_01_gold_has_no_default_rate", [line("a", 100)], [MEMBER], [], customer(tier="gold"), "100.00"),
    # SOP: PROMO-01 3人拼团5折 when the group is joined
    (
        "promo_01_group_of_3_half_price_joined",
        [line("a", 100)],
        [GROUP_3_HALF],
        [],
        customer(joined_groups=frozenset({"group"})),
        "50.00",
    ),
    # SOP: PROMO-01 拼团 price needs a formed/joined group
    ("promo_01_group_price_needs_a_group", [line("a", 100)], [GROUP_3_HALF], [], None, "100.00"),
    # SOP: PROMO-01 flash sale limit 1: one unit at 9.90, two at list 20
    ("promo_01_flash_sale_per_buyer_limit", [line("a", 20, 3)], [FLASH], [], None, "49.90"),
    # SOP: PROMO-01 flash sale units beyond the limit take the member price (fallback)
    (
        "promo_01_flash_sale_rest_at_member_price",
        [line("a", 20, 3)],
        [FLASH, MEMBER],
        [],
        customer(tier="silver"),
        "47.90",
    ),
    # SOP: PROMO-01 flash sale already bought up to the limit
    (
        "promo_01_flash_sale_limit_used_up",
        [line("a", 20)],
        [FLASH],
        [],
        customer(prior_use={"flash": 1}),
        "20.00",
    ),
    # SOP: PROMO-01 time-slot 9折 from 20:00 to 22:00, quoted at 20:30
    ("promo_01_time_slot_inside", [line("a", 100)], [SLOT_EVENING], [], None, "90.00"),
    # SOP: PROMO-01 add-on: beans 5 off with a coffee machine in the cart
    (
        "promo_01_add_on_with_anchor",
        [line("machine", 999, product="coffee-machine"), line("beans", 50, 2, product="beans")],
        [
            Offer(
                id="addon",
                mechanic=AddOnDeal(anchor_product_ids=frozenset({"coffee-machine"}), amount_off=cny(5)),
                scope=Scope(product_ids=frozenset({"beans"})),
            )
        ],
        [],
        None,
        "1094.00",  # 999 + 45 + 50: one add-on unit per machine
    ),
    # SOP: PROMO-02 store threshold coupon 满199减20 on 210
    ("promo_02_store_threshold_coupon", [line("a", 210)], [], [coupon("X", 199, 20)], None, "190.00"),
    # SOP: PROMO-02 category coupon only counts its category
    (
        "promo_02_category_coupon_below_threshold_in_category",
        [line("a", 150, category="c1"), line("b", 100, category="c2")],
        [],
        [coupon("X", 199, 20, scope=Scope(category_ids=frozenset({"c1"})))],
        None,
        "250.00",
    ),
    # SOP: PROMO-02 new-user coupon is not for an existing customer
    (
        "promo_02_new_user_coupon_refused_to_old_user",
        [line("a", 50)],
        [],
        [coupon("NEW", 0, 10, scope=Scope(new_users_only=True))],
        None,
        "50.00",
    ),
    # SOP: PROMO-02 new-user coupon for a new customer
    (
        "promo_02_new_user_coupon_for_new_user",
        [line("a", 50)],
        [],
        [coupon("NEW", 0, 10, scope=Scope(new_users_only=True))],
        customer(is_new=True),
        "40.00",
    ),
    # SOP: PROMO-02 an expired coupon is not used
    (
        "promo_02_expired_coupon_not_used",
        [line("a", 50)],
        [],
        [coupon("OLD", 0, 10, validity=Window(ends=NOW - timedelta(seconds=1)))],
        None,
        "50.00",
    ),
    # SOP: PROMO-02 per-user limit reached
    (
        "promo_02_per_user_limit_reached",
        [line("a", 50)],
        [],
        [coupon("ONCE", 0, 10, per_user_limit=1)],
        customer(prior_use={"coupon-ONCE": 1}),
        "50.00",
    ),
    # SOP: PROMO-02 one coupon per order: the bigger one
    (
        "promo_02_one_coupon_per_order",
        [line("a", 300)],
        [],
        [coupon("A", 0, 10), coupon("B", 200, 25)],
        None,
        "275.00",
    ),
    # SOP: PROMO-02 stackable coupons combine
    (
        "promo_02_stackable_coupons_combine",
        [line("a", 300)],
        [],
        [coupon("A", 0, 10, stackable=True), coupon("B", 200, 25, stackable=True)],
        None,
        "265.00",
    ),
    # SOP: PROMO-04 a no-threshold coupon bigger than the cart leaves zero, never negative
    ("promo_04_never_negative", [line("a", 30)], [], [coupon("BIG", 0, 50)], None, "0.00"),
    # SOP: PROMO-03 a cart with no offers costs its list price
    (
        "promo_03_no_offers_costs_list_price",
        [line("a", "12.34", 3), line("b", "0.01")],
        [],
        [],
        None,
        "37.03",
    ),
    # SOP: PROMO-03 exclusive group: only the better of two 满减
    (
        "promo_03_exclusive_group_takes_the_better",
        [line("a", 300)],
        [spend_save("m1", (200, 30), group="g"), spend_save("m2", (300, 40), group="g")],
        [],
        None,
        "260.00",
    ),
    # SOP: PROMO-03 different groups stack
    (
        "promo_03_different_groups_stack",
        [line("a", 300)],
        [spend_save("m1", (200, 30), group="g1"), spend_save("m2", (300, 40), group="g2")],
        [],
        None,
        "230.00",
    ),
    # SOP: PROMO-03 silver 9.5折 on 210 would miss 满200减30: list price + 满减 is cheaper
    (
        "promo_03_member_price_skipped_to_keep_threshold",
        [line("a", 210)],
        [MEMBER, spend_save("m", (200, 30))],
        [],
        customer(tier="silver"),
        "180.00",
    ),
    # SOP: PROMO-03 coupon threshold is after store level: 满200减30 leaves 170 < 180, the
    # 满180减40 coupon alone (160) beats 满减 alone (170)
    (
        "promo_03_store_offer_skipped_to_keep_coupon",
        [line("a", 200)],
        [spend_save("m", (200, 30))],
        [coupon("C", 180, 40)],
        None,
        "160.00",
    ),
]


@pytest.mark.parametrize(
    ("case", "lines", "offers", "coupons", "who", "expected"), TABLE, ids=[row[0] for row in TABLE]
)
def test_hand_computed_case_pays_the_expected_total(case, lines, offers, coupons, who, expected) -> None:  # type: ignore[no-untyped-def]
    # given a cart, offers and coupons from the table
    # when the best price is quoted
    result = _quote(lines, offers, coupons, who)
    # then the payable is the hand-computed amount and the lines add up to it
    assert result.payable == cny(expected), case
    assert sum((ln.final_total.amount for ln in result.lines), Decimal(0)) == Decimal(expected)


def test_promo_01_presale_deposit_x2_with_spend_300_save_50_splits_deposit_and_balance() -> None:
    # given a 400 item on presale: deposit 50 counts as 100 (定金膨胀 x2), and 满300减50
    presale = Offer(
        id="pre",
        mechanic=Presale(
            deposit=cny(50),
            multiplier=Decimal(2),
            balance_starts=NOW + timedelta(days=1),
            balance_ends=NOW + timedelta(days=2),
        ),
    )
    # when quoted in the deposit phase
    result = _quote([line("a", 400)], [presale, spend_save("m", (300, 50))])
    # then 400 - 50 (expansion) = 350, 满300减50 -> 300: 50 deposit now, 250 balance later
    assert result.payable == cny(300)
    assert (result.deposit_total, result.balance_total) == (cny(50), cny(250))
    assert (result.lines[0].deposit, result.lines[0].balance) == (cny(50), cny(250))


def test_promo_01_presale_deduction_is_capped_by_the_offer() -> None:
    # given deposit 50 x3 = 150 but capped at 120
    presale = Offer(
        id="pre",
        mechanic=Presale(
            deposit=cny(50),
            multiplier=Decimal(3),
            balance_starts=NOW + timedelta(days=1),
            balance_ends=NOW + timedelta(days=2),
            max_deduction=cny(120),
        ),
    )
    # when quoted
    result = _quote([line("a", 400)], [presale])
    # then only 120 - 50 = 70 comes off
    assert result.payable == cny(330)


def test_promo_01_presale_balance_phase_needs_a_paid_deposit() -> None:
    # given a presale whose deposit window has closed and whose balance window is open
    presale = Offer(
        id="pre",
        window=Window(ends=NOW - timedelta(days=1)),
        mechanic=Presale(
            deposit=cny(50),
            multiplier=Decimal(2),
            balance_starts=NOW - timedelta(hours=1),
            balance_ends=NOW + timedelta(days=1),
        ),
    )
    # when quoted for a customer without and with a paid deposit
    without = _quote([line("a", 400)], [presale])
    paid = _quote([line("a", 400)], [presale], who=customer(paid_deposits=frozenset({"pre"})))
    # then only the depositor gets the expansion
    assert (without.payable, paid.payable) == (cny(400), cny(350))


def test_promo_01_time_slot_discount_outside_its_slot_does_not_apply() -> None:
    # given a 20:00-22:00 9折 and a quote at 23:00
    late = NOW.replace(hour=23)
    # when quoted
    result = _quote([line("a", 100)], [SLOT_EVENING], now=late)
    # then the list price is paid
    assert result.payable == cny(100)


def test_promo_01_threshold_gift_appears_without_changing_the_price() -> None:
    # given 满300赠 a tote bag and a 320 cart
    gift = Offer(id="gift", mechanic=ThresholdGift(threshold=cny(300), gift_sku_id="tote"))
    # when quoted
    result = _quote([line("a", 320)], [gift])
    # then the gift is granted and the price is unchanged
    assert result.payable == cny(320)
    assert [(g.offer_id, g.sku_id, g.quantity) for g in result.gifts] == [("gift", "tote", 1)]


def test_promo_01_offer_outside_its_channel_does_not_apply() -> None:
    # given a Douyin-only 8折
    douyin = percent("d", "0.8", scope=Scope(channels=frozenset({"douyin"})))
    # when quoted on the web shop and on Douyin
    web = _quote([line("a", 100)], [douyin])
    live = _quote([line("a", 100)], [douyin], who=customer(channel="douyin"))
    # then only Douyin gets it
    assert (web.payable, live.payable) == (cny(100), cny(80))


def test_promo_01_segment_scoped_offer_needs_the_segment() -> None:
    # given a win-back 9折 for the "sleeping" segment
    winback = percent("w", "0.9", scope=Scope(segments=frozenset({"sleeping"})))
    # when quoted for an active and a sleeping customer
    active = _quote([line("a", 100)], [winback], who=customer(segments=frozenset({"active"})))
    sleeping = _quote([line("a", 100)], [winback], who=customer(segments=frozenset({"sleeping"})))
    # then only the sleeping one gets it
    assert (active.payable, sleeping.payable) == (cny(100), cny(90))


def test_promo_01_offer_not_yet_started_does_not_apply() -> None:
    # given a 满减 starting tomorrow
    tomorrow = Offer(
        id="m", mechanic=spend_save("m", (100, 10)).mechanic, window=Window(starts=NOW + timedelta(days=1))
    )
    # when quoted today
    result = _quote([line("a", 150)], [tomorrow])
    # then nothing is taken off
    assert result.payable == cny(150)
