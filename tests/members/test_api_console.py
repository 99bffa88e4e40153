"""The members API and console pages (MEM-01/02/05): join with a code, list with filters and
pagination, detail with ledger, adjustment within the customer-service limit, redemption,
referral statistics, clear refusals."""

from __future__ import annotations

import pytest
from django.test import Client

from storeops.accounts.roles import Role
from storeops.members import services
from storeops.members.models import Member
from tests.members.builders import ACTOR, a_member, a_template

pytestmark = pytest.mark.django_db


def test_mem_05_api_join_with_an_invite_code_and_refuse_a_loop(store, api_as):
    api = api_as(Role.OPERATIONS)
    alice = api.post(f"/members/{store.pk}/members", {"customer_ref": "alice", "city": "杭州"})
    assert alice.status_code == 201, alice.content
    code = alice.json()["invite_code"]
    bob = api.post(f"/members/{store.pk}/members", {"customer_ref": "bob", "invite_code": code})
    assert (bob.status_code, bob.json()["referred_by"]) == (201, "alice")
    # alice binding bob's code would close a loop: refused with a clear message
    loop = api.post(
        f"/members/{store.pk}/members/{alice.json()['id']}/referrer",
        {"invite_code": bob.json()["invite_code"]},
    )
    assert loop.status_code == 422
    assert loop.json()["code"] == "referral_loop"
    again = api.post(f"/members/{store.pk}/members", {"customer_ref": "alice"})
    assert (again.status_code, again.json()["code"]) == (409, "already_member")
    stats = api.get(f"/members/{store.pk}/referrals").json()
    assert (stats["invited"], stats["pending"], stats["top_inviters"][0]["customer_ref"]) == (1, 1, "alice")


def test_mem_01_api_list_filters_by_tier_and_paginates(store, api_as):
    for n in range(5):
        a_member(store, f"c{n}")
    gold = Member.objects.get(customer_ref="c0")
    services.points_adjust(actor=ACTOR, member=gold, points=1, growth=300_000, reason="迁移", unlimited=True)
    Member.objects.filter(pk=gold.pk).update(paid_orders=3)
    services.tiers_recompute(actor=ACTOR, store=store)
    api = api_as(Role.ANALYST)
    page = api.get(f"/members/{store.pk}/members", page=2, page_size=2).json()
    assert (page["total"], page["page"], len(page["items"])) == (5, 2, 2)
    golds = api.get(f"/members/{store.pk}/members", tier="gold").json()
    assert [m["customer_ref"] for m in golds["items"]] == ["c0"]
    exact = api.get(f"/members/{store.pk}/members", customer_ref="c1").json()
    assert [m["customer_ref"] for m in exact["items"]] == ["c1"]
    detail = api.get(f"/members/{store.pk}/members/{gold.pk}").json()
    assert detail["ledger"][0]["growth"] == 300_000


def test_mem_02_api_customer_service_adjusts_within_the_limit_only(store, api_as):
    member = a_member(store, "c1")
    api = api_as(Role.CUSTOMER_SERVICE)
    url = f"/members/{store.pk}/members/{member.pk}/points/adjust"
    ok = api.post(url, {"points": 200, "reason": "物流延误补偿"})
    assert (ok.status_code, ok.json()["points_after"]) == (201, 200)
    too_much = api.post(url, {"points": 501, "reason": "补偿"})
    assert too_much.status_code == 403
    assert "上限" in too_much.json()["message"]
    boss = api_as(Role.OPERATIONS).post(url, {"points": 5000, "reason": "大客户补偿"})
    assert boss.status_code == 201


def test_mem_02_api_redeem_returns_the_coupon_and_the_new_balance(store, api_as):
    member = a_member(store, "c1")
    services.points_adjust(actor=ACTOR, member=member, points=600, reason="补偿", unlimited=True)
    template = a_template(store, rule="manual", amount="5", per_user=10)
    api = api_as(Role.MARKETING)
    reward = api.post(f"/members/{store.pk}/rewards", {"coupon_template_id": template.pk})
    assert (reward.status_code, reward.json()["points"]) == (201, 500)
    url = f"/members/{store.pk}/members/{member.pk}/points/redeem"
    done = api.post(url, {"reward_id": reward.json()["id"]})
    assert done.status_code == 201, done.content
    assert (done.json()["points"], done.json()["points_balance"]) == (500, 100)
    refused = api.post(url, {"reward_id": reward.json()["id"]})
    assert (refused.status_code, refused.json()["code"]) == (409, "points_insufficient")


def test_mem_02_console_member_pages_show_ledger_and_adjust(store, make_user):
    member = a_member(store, "console-1")
    services.points_adjust(actor=ACTOR, member=member, points=30, reason="开卡礼")
    template = a_template(store, rule="manual", amount="5", name="积分抵5元", per_user=10)
    services.reward_create(actor=ACTOR, store=store, coupon_template_id=template.pk)
    client = Client()
    client.force_login(make_user(Role.CUSTOMER_SERVICE))
    listing = client.get("/members/", {"tier": "silver", "q": "console"})
    assert listing.status_code == 200
    assert "console-1" in listing.content.decode()
    assert "积分抵5元" in listing.content.decode()  # the rewards catalogue with its points price
    assert ">500<" in listing.content.decode()
    detail = client.get(f"/members/{member.pk}/")
    assert "开卡礼" in detail.content.decode()
    response = client.post(f"/members/{member.pk}/adjust/", {"points": "-10", "reason": "误加"})
    assert response.status_code == 302
    assert Member.objects.get(pk=member.pk).points_balance == 20
