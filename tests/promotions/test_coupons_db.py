"""Coupon templates, issuance limits, rule issuance and redemption (SOP PROMO-02)."""

from __future__ import annotations

import datetime as dt

import pytest

from storeops.core.errors import Conflict, NotFound, ValidationError
from storeops.promotions import selectors, services
from tests.catalog.db_builders import ACTOR

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 6, 18, 12, 0, tzinfo=dt.UTC)


def a_template(store, **overrides):
    data = {"name": "满200减30", "kind": "store_threshold", "threshold": "200", "amount": "30"}
    data.update(overrides)
    return services.coupon_template_create(actor=ACTOR, store=store, **data)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"amount": "0"}, "amount"),
        ({"amount": "1.234"}, "amount"),
        ({"kind": "no_threshold", "threshold": "10"}, "threshold"),
        ({"kind": "store_threshold", "threshold": "0"}, "threshold"),
        ({"kind": "category"}, "category_ids"),
        ({"issue_rule": "monthly_tier"}, "tier"),
        ({"per_user_limit": 0}, "per_user_limit"),
        ({"kind": "gift_card"}, "kind"),
    ],
)
def test_promo_02_invalid_coupon_templates_are_refused_per_field(store, overrides, field):
    with pytest.raises(ValidationError) as caught:
        a_template(store, **overrides)
    assert field in caught.value.fields


def test_promo_02_total_quantity_caps_a_campaign_batch_and_the_rest_are_skipped(store):
    # given a template with 3 coupons in total
    template = a_template(store, total_quantity=3)
    # when a campaign issues to 5 customers
    result = services.coupon_issue_batch(
        actor=ACTOR, template=template, customer_refs=["a", "b", "c", "d", "e"], campaign_ref="618", now=T0
    )
    # then 3 get one and 2 are told it is sold out
    assert [c.customer_ref for c in result.issued] == ["a", "b", "c"]
    assert result.skipped == {"d": "优惠券已发完", "e": "优惠券已发完"}
    template.refresh_from_db()
    assert template.issued_count == 3
    assert len({c.code for c in result.issued}) == 3


def test_promo_02_per_user_limit_refuses_a_second_copy(store):
    template = a_template(store, per_user_limit=1)
    services.coupon_issue(actor=ACTOR, template=template, customer_ref="c1", now=T0)
    with pytest.raises(Conflict) as caught:
        services.coupon_issue(actor=ACTOR, template=template, customer_ref="c1", now=T0)
    assert str(caught.value.message) == "已达每人限领数量"


def test_promo_02_validity_days_start_at_issuance_and_are_capped_by_the_template_end(store):
    template = a_template(store, valid_days=7, valid_until=T0 + dt.timedelta(days=3))
    coupon = services.coupon_issue(actor=ACTOR, template=template, customer_ref="c1", now=T0)
    assert (coupon.valid_from, coupon.valid_until) == (T0, T0 + dt.timedelta(days=3))


def test_promo_02_monthly_tier_coupons_are_issued_once_per_month_by_rule(store):
    # given a gold monthly coupon and a silver one
    gold = a_template(store, name="金卡月券", issue_rule="monthly_tier", tier="gold", per_user_limit=12)
    a_template(store, name="银卡月券", issue_rule="monthly_tier", tier="silver", per_user_limit=12)
    # when the monthly trigger runs twice in June and once in July for a gold member
    june = services.coupon_issue_by_rule(
        actor=ACTOR, store=store, rule="monthly_tier", customer_ref="g1", tier="gold", now=T0
    )
    again = services.coupon_issue_by_rule(
        actor=ACTOR, store=store, rule="monthly_tier", customer_ref="g1", tier="gold", now=T0
    )
    july = services.coupon_issue_by_rule(
        actor=ACTOR,
        store=store,
        rule="monthly_tier",
        customer_ref="g1",
        tier="gold",
        now=T0 + dt.timedelta(days=30),
    )
    # then one gold coupon per month, and none of the silver one
    assert [c.template_id for c in june] == [gold.pk]
    assert again == []
    assert len(july) == 1
    assert selectors.coupon_list(store=store, customer_ref="g1").count() == 2


def test_promo_02_new_user_rule_issues_every_new_user_template(store):
    a_template(store, name="新人券", kind="new_user", threshold="0", amount="10", issue_rule="new_user")
    issued = services.coupon_issue_by_rule(
        actor=ACTOR, store=store, rule="new_user", customer_ref="n1", now=T0
    )
    assert [(c.source, c.customer_ref) for c in issued] == [("new_user", "n1")]


def test_promo_02_redeem_marks_used_once_and_refuses_other_customers_and_expired_coupons(store):
    template = a_template(store, valid_days=1)
    coupon = services.coupon_issue(actor=ACTOR, template=template, customer_ref="c1", now=T0)
    with pytest.raises(NotFound):
        services.coupon_redeem(actor=ACTOR, coupon_code=coupon.code, customer="c2", order_ref="SO1", now=T0)
    with pytest.raises(Conflict) as expired:
        services.coupon_redeem(
            actor=ACTOR,
            coupon_code=coupon.code,
            customer="c1",
            order_ref="SO1",
            now=T0 + dt.timedelta(days=2),
        )
    assert expired.value.code == "coupon_expired"
    redeemed = services.coupon_redeem(
        actor=ACTOR, coupon_code=coupon.code, customer="c1", order_ref="SO1", now=T0
    )
    assert (redeemed.status, redeemed.order_ref, redeemed.redeemed_at) == ("redeemed", "SO1", T0)
    with pytest.raises(Conflict) as twice:
        services.coupon_redeem(actor=ACTOR, coupon_code=coupon.code, customer="c1", order_ref="SO2", now=T0)
    assert str(twice.value.message) == "优惠券已被使用（订单 SO1）"


def test_promo_02_expiry_job_marks_only_coupons_past_their_validity(store):
    template = a_template(store, valid_days=1)
    old = services.coupon_issue(actor=ACTOR, template=template, customer_ref="c1", now=T0)
    fresh = services.coupon_issue(
        actor=ACTOR, template=template, customer_ref="c2", now=T0 + dt.timedelta(days=1)
    )
    assert services.coupons_expire(actor=ACTOR, now=T0 + dt.timedelta(days=1, hours=1)) == 1
    assert {c.code: c.status for c in selectors.coupon_list(store=store)} == {
        old.code: "expired",
        fresh.code: "issued",
    }
