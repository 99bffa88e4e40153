"""SOP MEM-07: personas per customer and per segment — purchase frequency, AOV, preferred
categories, price sensitivity (discount depth, share of spend on discounted orders), region as
province and city only (DATA-09 / RISK-05: no names, phones or streets); demographics (gender
split, age bands, top cities) of the members among the persona's customers, from their optional
member profile, with the known counts as the base and the unknown counted apart."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st_

from storeops.accounts.roles import Role
from storeops.analytics import rules, segments, services
from storeops.members import services as member_services
from storeops.orders import services as order_services
from storeops.promotions import services as promotions
from tests.orders.builders import ACTOR, World

SINCE, UNTIL = dt.date(2026, 1, 1), dt.date(2026, 12, 31)


def _facts(orders, paid, listed, discounted, first=dt.date(2026, 10, 2), customers=1):
    return rules.PersonaFacts(
        customers=customers,
        orders=orders,
        paid=Decimal(paid),
        list_total=Decimal(listed),
        discounted_paid=Decimal(discounted),
        first_paid=first,
        last_paid=dt.date(2026, 12, 1),
    )


def test_mem_07_frequency_aov_and_price_sensitivity():
    # 6 orders over the 90 days since the first one: 2 a month
    p = rules.persona(
        _facts(6, "600", "800", "450"), since=SINCE, until=UNTIL, sensitive_share=Decimal("0.5")
    )
    assert p.orders_per_month == Decimal("2.00")
    assert p.aov == Decimal("100.00")
    assert p.discount_depth == Decimal("0.25")  # 1 − 600 ÷ 800
    assert p.discounted_share == Decimal("0.75")
    assert p.price_sensitive is True
    calm = rules.persona(
        _facts(1, "100", "100", "0"), since=SINCE, until=UNTIL, sensitive_share=Decimal("0.5")
    )
    assert (calm.discount_depth, calm.discounted_share, calm.price_sensitive) == (0, 0, False)
    # a newcomer's two orders in one week are not eight a month: at least 30 days are counted
    week = rules.persona(
        _facts(2, "200", "200", "0", first=dt.date(2026, 12, 24)),
        since=SINCE,
        until=UNTIL,
        sensitive_share=Decimal("0.5"),
    )
    assert week.orders_per_month == Decimal("2.00")
    assert rules.persona(
        _facts(0, "0", "0", "0"), since=SINCE, until=UNTIL, sensitive_share=Decimal("0.5")
    ) == (rules.Persona(None, None, None, None, None))


def test_mem_07_top_shares_rank_and_share_the_spend():
    shares = rules.top_shares({"连衣裙": Decimal(300), "半身裙": Decimal(100), "T恤": Decimal(0)}, 3)
    assert shares == [("连衣裙", Decimal("0.75")), ("半身裙", Decimal("0.25"))]
    assert rules.top_shares({}, 3) == []


@settings(deadline=None)  # pure arithmetic: a timing deadline only flakes on a loaded machine
@given(
    st_.integers(min_value=1, max_value=50),
    st_.decimals(min_value=1, max_value=10**6, places=2),
    st_.decimals(min_value=0, max_value=1, places=2),
    st_.decimals(min_value=0, max_value=1, places=2),
)
def test_mem_07_discount_figures_stay_between_0_and_1(orders, listed, paid_share, discounted_share):
    paid = (listed * paid_share).quantize(Decimal("0.01"))
    discounted = (paid * discounted_share).quantize(Decimal("0.01"))
    p = rules.persona(
        _facts(orders, paid, listed, discounted), since=SINCE, until=UNTIL, sensitive_share=Decimal("0.5")
    )
    assert p.discount_depth is not None
    assert 0 <= p.discount_depth <= 1
    assert p.discounted_share is None or 0 <= p.discounted_share <= 1


# --- on real orders -------------------------------------------------------------------------------------


@pytest.fixture
def shop(store, channel):
    """loyal: 3 orders at full price; deal: 2 orders under a 10 % store-wide offer."""
    world = World(store, channel, stock_sh=30, stock_gz=0)
    today = timezone.localdate()

    def buy(customer, days_before, qty=1):
        when = timezone.make_aware(dt.datetime.combine(today - dt.timedelta(days=days_before), dt.time(12)))
        order = world.place(qty, customer=customer, now=when)
        world.pay(order, now=when)
        return order

    for days in (61, 31, 1):
        buy("loyal", days)
    offer = promotions.offer_create(actor=ACTOR, store=store, kind="percentage", params={"rate": "0.9"})
    promotions.offer_set_status(actor=ACTOR, offer=offer, status="active")
    buy("deal", 20, qty=2)
    buy("deal", 10, qty=2)
    promotions.offer_set_status(actor=ACTOR, offer=offer, status="paused")
    services.segments_snapshot(actor=ACTOR, store=store, day=today)
    return world


def test_mem_07_customer_persona_from_orders(store, shop):
    loyal = segments.customer_persona(store=store, customer_ref="loyal")
    assert (loyal.orders, loyal.paid, loyal.aov) == (3, Decimal("300.00"), Decimal("100.00"))
    assert loyal.orders_per_month == Decimal("1.45")  # 3 orders × 30 ÷ 62 days (to the end of today)
    assert (loyal.discount_depth, loyal.price_sensitive) == (Decimal(0), False)
    assert loyal.categories == [("连衣裙", Decimal("1.0000"))]
    assert loyal.regions == [("浙江省 杭州市", Decimal("1.0000"))]
    assert loyal.demographics_available is False
    deal = segments.customer_persona(store=store, customer_ref="deal")
    assert (deal.paid, deal.aov) == (Decimal("360.00"), Decimal("180.00"))
    assert deal.discount_depth == Decimal("0.1")
    assert (deal.discounted_share, deal.price_sensitive) == (Decimal("1"), True)
    assert deal.segment == "new"
    with pytest.raises(Exception, match="没有已付款订单"):
        segments.customer_persona(store=store, customer_ref="nobody")


def test_mem_07_refunds_reduce_the_spend(store, shop):
    order = shop.place(1, customer="refunder")
    shop.pay(order)
    order = shop.ship(order)  # returned in full (before shipping it would be a cancellation)
    order_services.order_refund(actor=ACTOR, order=order, units={order.lines.get().pk: 1}, reason="退货")
    persona = segments.customer_persona(store=store, customer_ref="refunder")
    assert (persona.orders, persona.paid) == (0, Decimal("0.00"))


def test_mem_07_segment_personas(store, shop):
    by_segment = {p.subject: p for p in segments.segment_personas(store=store)}
    assert set(by_segment) == {"new", "active", "high_value", "sleeping"}
    # deal's first order is 20 days old: new (though the top spender); loyal is active
    new = by_segment["new"]
    assert (new.customers, new.orders, new.price_sensitive) == (1, 2, True)
    assert by_segment["active"].customers == 1
    assert by_segment["sleeping"].customers == 0
    assert by_segment["sleeping"].aov is None


def test_mem_07_api_and_console_show_no_personal_data(store, shop, api_as, make_user):
    api = api_as(Role.MARKETING)
    one = api.get(f"/analytics/{store.pk}/personas/loyal")
    assert one.status_code == 200
    body = one.json()
    assert body["aov"] == "100.00"
    assert body["regions"] == [{"name": "浙江省 杭州市", "share": "1.0000"}]
    assert body["demographics_available"] is False
    all_segments = api.get(f"/analytics/{store.pk}/personas").json()
    assert [p["subject"] for p in all_segments] == ["new", "active", "high_value", "sleeping"]
    assert api.get(f"/analytics/{store.pk}/personas/nobody").status_code == 404
    text = json.dumps([body, all_segments], ensure_ascii=False)
    for secret in ("张三", "13812345678", "文三路", "西湖区"):
        assert secret not in text
    client = Client()
    client.force_login(make_user(Role.CUSTOMER_SERVICE))  # dedicated service for high-value customers
    html = client.get("/personas/?customer=deal").content.decode()
    assert "价格敏感" in html
    assert "浙江省 杭州市" in html
    assert "13812345678" not in html
    assert "文三路" not in html
    assert api_as(Role.WAREHOUSE).get(f"/analytics/{store.pk}/personas").status_code == 403


# --- demographics ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("born", "band"),
    [
        (2010, "<18"),  # 16
        (2009, "<18"),  # 17
        (2008, "18-24"),  # 18
        (2002, "18-24"),  # 24
        (2001, "25-29"),
        (1997, "25-29"),  # 29
        (1996, "30-34"),
        (1991, "35-39"),  # 35
        (1987, "35-39"),  # 39
        (1986, "40-49"),  # 40
        (1977, "40-49"),  # 49
        (1976, "50+"),  # 50
        (1900, "50+"),
        (2026, "<18"),  # born this year
        (2027, None),  # after the persona's year: not an age
        (None, None),
    ],
)
def test_mem_07_age_bands_from_the_birth_year(born, band):
    assert rules.age_band(born, 2026) == band


def test_mem_07_demographics_count_the_unknown_apart():
    profiles = [
        rules.Profile("female", 1996, "杭州"),
        rules.Profile("female", None, " 杭州 "),
        rules.Profile("male", 2010, "上海"),
        rules.Profile("", None, ""),  # a member who gave nothing
        None,  # not a member
    ]
    d = rules.demographics(profiles, year=2026, genders=["female", "male", "other"])
    assert (d.customers, d.members) == (5, 4)
    assert (d.gender_known, d.gender_unknown) == (3, 2)
    assert d.genders == [
        ("female", 2, Decimal("0.6667")),
        ("male", 1, Decimal("0.3333")),
        ("other", 0, Decimal(0)),
    ]
    assert (d.age_known, d.age_unknown) == (2, 3)
    assert {band: n for band, n, _share in d.ages if n} == {"30-34": 1, "<18": 1}
    assert [band for band, _n, _s in d.ages] == ["<18", "18-24", "25-29", "30-34", "35-39", "40-49", "50+"]
    assert d.cities == [("杭州", 2, Decimal("0.6667")), ("上海", 1, Decimal("0.3333"))]
    assert d.city_unknown == 2
    assert d.available is True
    nobody = rules.demographics([None, None], year=2026, genders=["female"])
    assert nobody.available is False
    assert nobody.genders == [("female", 0, Decimal(0))]
    assert nobody.gender_unknown == 2


@settings(deadline=None)
@given(
    st_.lists(
        st_.one_of(
            st_.none(),
            st_.builds(
                rules.Profile,
                st_.sampled_from(["", "female", "male", "other"]),
                st_.one_of(st_.none(), st_.integers(min_value=1900, max_value=2100)),
                st_.sampled_from(["", "杭州", "上海", "北京", "深圳", "成都", "广州", "西安"]),
            ),
        ),
        max_size=40,
    )
)
def test_mem_07_demographics_known_and_unknown_add_up_to_the_customers(profiles):
    d = rules.demographics(profiles, year=2026, genders=["female", "male", "other"], top_cities=5)
    assert d.customers == len(profiles)
    assert sum(n for _c, n, _s in d.genders) == d.gender_known
    assert sum(n for _c, n, _s in d.ages) == d.age_known
    assert d.gender_known + d.gender_unknown == d.customers
    assert d.age_known + d.age_unknown == d.customers
    assert len(d.cities) <= 5
    for known, rows in ((d.gender_known, d.genders), (d.age_known, d.ages)):
        if known:
            assert abs(sum(s for _c, _n, s in rows) - 1) <= Decimal("0.001")


def _join(store, ref, **profile):
    return member_services.member_join(actor=ACTOR, store=store, customer_ref=ref, **profile)


@pytest.fixture
def members_shop(store, shop):
    """Four more new buyers; deal and three of them are members, with profiles of varying
    completeness; loyal (active) is not a member."""
    year = timezone.localdate().year
    _join(store, "deal", gender="male", birth_year=year - 17, city="上海")
    _join(store, "n1", gender="female", birth_year=year - 18, city="杭州")
    _join(store, "n2", gender="female", city="杭州")
    _join(store, "n3")  # a member who gave nothing
    today = timezone.localdate()
    when = timezone.make_aware(dt.datetime.combine(today - dt.timedelta(days=5), dt.time(12)))
    for ref in ("n1", "n2", "n3", "n4"):
        shop.pay(shop.place(1, customer=ref, now=when), now=when)
    services.segments_snapshot(actor=ACTOR, store=store, day=today)
    return shop


def test_mem_07_segment_personas_show_gender_age_and_city_with_their_base(store, members_shop):
    by_segment = {p.subject: p for p in segments.segment_personas(store=store)}
    new = by_segment["new"]
    assert new.customers == 5
    d = new.demographics
    assert (d.members, d.gender_known, d.age_known, d.city_known) == (4, 3, 2, 3)
    assert (d.gender_unknown, d.age_unknown, d.city_unknown) == (2, 3, 2)
    assert d.genders[:2] == [("female", 2, Decimal("0.6667")), ("male", 1, Decimal("0.3333"))]
    assert {band: n for band, n, _s in d.ages if n} == {"<18": 1, "18-24": 1}
    assert d.cities == [("杭州", 2, Decimal("0.6667")), ("上海", 1, Decimal("0.3333"))]
    assert new.demographics_available is True
    loyal = segments.customer_persona(store=store, customer_ref="loyal")  # a buyer, not a member
    assert (loyal.demographics.customers, loyal.demographics.members) == (1, 0)
    assert loyal.demographics_available is False
    one = segments.customer_persona(store=store, customer_ref="n1")
    assert {band for band, n, _s in one.demographics.ages if n} == {"18-24"}
    assert one.demographics.cities == [("杭州", 1, Decimal("1.0000"))]


def test_mem_07_api_and_console_show_the_demographics(store, members_shop, api_as, make_user):
    api = api_as(Role.MARKETING)
    body = {p["subject"]: p for p in api.get(f"/analytics/{store.pk}/personas").json()}
    demo = body["new"]["demographics"]
    assert body["new"]["demographics_available"] is True
    assert (demo["customers"], demo["members"], demo["gender_known"], demo["gender_unknown"]) == (5, 4, 3, 2)
    assert demo["genders"][0] == {"code": "female", "label": "女", "customers": 2, "share": "0.6667"}
    assert demo["age_year"] == timezone.localdate().year
    assert [a["code"] for a in demo["ages"]] == ["<18", "18-24", "25-29", "30-34", "35-39", "40-49", "50+"]
    assert demo["ages"][1] == {"code": "18-24", "label": "18–24岁", "customers": 1, "share": "0.5000"}
    assert demo["cities"][0] == {"code": "杭州", "label": "杭州", "customers": 2, "share": "0.6667"}
    assert api.get(f"/analytics/{store.pk}/personas/loyal").json()["demographics"]["members"] == 0
    one = api.get(f"/analytics/{store.pk}/personas/deal").json()["demographics"]
    assert [(g["code"], g["customers"]) for g in one["genders"]] == [("female", 0), ("male", 1), ("other", 0)]
    assert one["ages"][0]["customers"] == 1
    client = Client()
    client.force_login(make_user(Role.MARKETING))
    html = client.get("/personas/?customer=n1").content.decode()
    assert "各分层人口属性" in html
    assert "女 66.7%、男 33.3%（3/5 人已知）" in html
    assert "4/5 位是会员：性别已知 3，年龄已知 2，城市已知 3" in html
    assert "18–24岁 100.0%（1/1 人已知）" in html  # n1's own card
