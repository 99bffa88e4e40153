"""Console coupon templates (SOP PROMO-02): create a template, switch it on and off, and
issue its coupons to a list of customers, all through the services."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from storeops.accounts.roles import Role
from storeops.audit.models import AuditEntry
from storeops.promotions import services
from storeops.promotions.models import CouponTemplate, IssuedCoupon
from storeops.stores import services as store_services
from tests.catalog.db_builders import ACTOR, a_dress_category

pytestmark = pytest.mark.django_db

NEW = "/promotions/coupons/templates/new/"
ACTIVE_ACTIONS = ("coupon_template.deactivate", "coupon_template.activate")


def _client(make_user, role):
    client = Client()
    client.force_login(make_user(role))
    return client


def _template(store, **overrides):
    data = {"name": "满100减10", "kind": "store_threshold", "threshold": "100", "amount": "10"}
    data.update(overrides)
    return services.coupon_template_create(actor=ACTOR, store=store, **data)


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_promo_02_console_creates_a_coupon_template(store, make_user):
    dress = a_dress_category(store, required_qualifications=[])
    client = _client(make_user, Role.OPERATIONS)
    # the coupons page links to the form, which offers the store's categories
    assert NEW in client.get("/promotions/coupons/").content.decode()
    page = client.get(NEW).content.decode()
    assert "新建券模板" in page
    assert "适用类目" in page
    # when a category coupon is posted
    response = client.post(
        NEW,
        {
            "name": "连衣裙满200减30",
            "kind": "category",
            "threshold": "200",
            "amount": "30",
            "category_ids": [str(dress.pk)],
            "issue_rule": "manual",
            "valid_days": "7",
            "total_quantity": "100",
            "per_user_limit": "2",
            "stackable": "on",
        },
    )
    # then it is saved through the service (audited) and the list shows it
    assert response.status_code == 302
    assert response["Location"] == "/promotions/coupons/"
    template = CouponTemplate.objects.get(name="连衣裙满200减30")
    assert (template.kind, template.threshold, template.amount) == ("category", Decimal(200), Decimal(30))
    assert (template.valid_days, template.total_quantity, template.per_user_limit) == (7, 100, 2)
    assert template.stackable
    assert template.is_active
    assert [c.pk for c in template.categories.all()] == [dress.pk]
    assert AuditEntry.objects.filter(action="coupon_template.create", object_id=str(template.pk)).exists()
    assert "连衣裙满200减30" in client.get("/promotions/coupons/").content.decode()


def test_promo_02_console_coupon_template_errors_are_shown_next_to_the_fields(store, make_user):
    client = _client(make_user, Role.OPERATIONS)
    # a store-wide threshold coupon worth more than its threshold: the service refuses it
    html = client.post(
        NEW,
        {
            "name": "错券",
            "kind": "store_threshold",
            "threshold": "50",
            "amount": "80",
            "issue_rule": "manual",
            "per_user_limit": "1",
        },
    ).content.decode()
    assert "面额不能超过门槛" in html
    assert html.index('id="id_amount"') < html.index("面额不能超过门槛") < html.index('id="id_stackable"')
    assert "表单有误，未保存" in html
    # a category coupon without a category
    html = client.post(
        NEW,
        {
            "name": "品类券",
            "kind": "category",
            "threshold": "100",
            "amount": "10",
            "issue_rule": "manual",
            "per_user_limit": "1",
        },
    ).content.decode()
    assert "品类券至少选择一个本店类目" in html
    # a monthly tier coupon without a tier
    html = client.post(
        NEW,
        {
            "name": "金卡月券",
            "kind": "no_threshold",
            "amount": "5",
            "issue_rule": "monthly_tier",
            "per_user_limit": "1",
        },
    ).content.decode()
    assert "会员月度券需指定会员等级" in html
    # and nothing was written
    assert not CouponTemplate.objects.exists()
    assert not AuditEntry.objects.filter(action="coupon_template.create").exists()


def test_promo_02_console_switches_a_coupon_template_off_and_on(store, make_user):
    template = _template(store)
    client = _client(make_user, Role.OPERATIONS)
    url = f"/promotions/coupons/templates/{template.pk}/active/"
    assert url in client.get("/promotions/coupons/").content.decode()
    # when switched off, it issues nothing more
    response = client.post(url, {"active": "0"}, follow=True)
    template.refresh_from_db()
    assert not template.is_active
    assert "券模板“满100减10”已停用" in _messages(response)
    response = client.post(
        "/promotions/coupons/issue/", {"template": template.pk, "customer_refs": "c1"}, follow=True
    )
    assert "优惠券模板已停用" in _messages(response)
    assert not IssuedCoupon.objects.exists()
    # when switched on again
    client.post(url, {"active": "1"})
    template.refresh_from_db()
    assert template.is_active
    actions = AuditEntry.objects.filter(object_id=str(template.pk), action__in=ACTIVE_ACTIONS).order_by("pk")
    assert list(actions.values_list("action", flat=True)) == list(ACTIVE_ACTIONS)
    # GET changes nothing
    assert client.get(url).status_code == 405


def test_promo_02_console_issues_coupons_to_a_list_of_customers(store, make_user):
    template = _template(store, total_quantity=3)
    services.coupon_issue(actor=ACTOR, template=template, customer_ref="c1")  # c1 reached the limit
    client = _client(make_user, Role.OPERATIONS)
    response = client.post(
        "/promotions/coupons/issue/",
        {"template": template.pk, "customer_refs": "c1, c2，c3\nc2 c4", "campaign_ref": "双11"},
        follow=True,
    )
    # then c2 and c3 get one each; c1 is over its limit, c4 beyond the total quantity
    issued = IssuedCoupon.objects.filter(template=template).exclude(customer_ref="c1")
    assert sorted(issued.values_list("customer_ref", flat=True)) == ["c2", "c3"]
    assert set(issued.values_list("campaign_ref", flat=True)) == {"双11"}
    notes = _messages(response)
    assert "已发放 2 张“满100减10”" in notes
    assert any(n.startswith("跳过 2 位顾客") and "c1" in n and "c4" in n for n in notes)
    assert response.redirect_chain[-1][0] == f"/promotions/coupons/?template={template.pk}"
    # an empty list is refused
    response = client.post(
        "/promotions/coupons/issue/", {"template": template.pk, "customer_refs": " "}, follow=True
    )
    assert "请填写有效的顾客编号" in _messages(response)


def test_promo_02_a_refused_batch_shows_the_form_again_with_the_pasted_customers(store, make_user):
    # a refusal redirected to an empty form: a pasted list of 200 customers was lost for one typo
    _template(store, name="其他券")
    template = _template(store)
    client = _client(make_user, Role.OPERATIONS)
    typed = "c1, c2\n" + "x" * 65 + "\nc3"
    response = client.post(
        "/promotions/coupons/issue/",
        {"template": template.pk, "customer_refs": typed, "campaign_ref": "双11"},
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert f">{typed}</textarea>" in html
    assert 'name="campaign_ref" maxlength="64" value="双11"' in html
    assert f'<option value="{template.pk}" selected>' in html
    assert "请填写有效的顾客编号" in _messages(response)
    assert not IssuedCoupon.objects.exists()


def test_promo_02_console_coupon_actions_need_the_promotion_permissions(store, make_user):
    template = _template(store)
    for role in (Role.CUSTOMER_SERVICE, Role.ANALYST, Role.MARKETING):
        client = _client(make_user, role)
        assert client.get(NEW).status_code == 403
        assert client.post(NEW, {"name": "x", "kind": "no_threshold", "amount": "5"}).status_code == 403
        active = client.post(f"/promotions/coupons/templates/{template.pk}/active/", {"active": "0"})
        assert active.status_code == 403
        issue = client.post("/promotions/coupons/issue/", {"template": template.pk, "customer_refs": "c9"})
        assert issue.status_code == 403
        # and the coupons page offers none of the buttons
        html = client.get("/promotions/coupons/").content.decode()
        assert NEW not in html
        assert "/promotions/coupons/issue/" not in html
    template.refresh_from_db()
    assert template.is_active
    assert CouponTemplate.objects.count() == 1
    assert not IssuedCoupon.objects.exists()


def test_promo_02_console_another_stores_template_is_not_found(store, make_user, system):
    other = store_services.store_create(actor=system, code="s2", name="另一家店")
    foreign = _template(other, name="别家的券")
    client = _client(make_user, Role.OPERATIONS)
    client.get("/promotions/coupons/?store=s1")
    assert (
        client.post(f"/promotions/coupons/templates/{foreign.pk}/active/", {"active": "0"}).status_code == 404
    )
    issue = client.post("/promotions/coupons/issue/", {"template": foreign.pk, "customer_refs": "c1"})
    assert issue.status_code == 404
    foreign.refresh_from_db()
    assert foreign.is_active
    assert not IssuedCoupon.objects.exists()


def test_console_names_member_tiers_not_their_keys(store, make_user):
    """The tier pickers and the template list show 银卡/金卡/钻石卡, not silver/gold/diamond."""
    _template(
        store,
        name="会员月度券 10 元",
        kind="no_threshold",
        threshold="0",
        issue_rule="monthly_tier",
        tier="gold",
    )
    client = _client(make_user, Role.OPERATIONS)
    for url in (NEW, "/promotions/quote/"):
        page = client.get(url).content.decode()
        assert ">金卡</option>" in page, url
        assert ">gold</option>" not in page, url
    coupons = client.get("/promotions/coupons/").content.decode()
    assert "(金卡)" in coupons
    assert "(gold)" not in coupons
