"""The members API and console pages (MEM-01/02/05): join with a code, list with filters and
pagination, detail with ledger, adjustment within the customer-service limit, redemption,
referral statistics, clear refusals."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.utils import timezone

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


def _goods_world(store, channel, points):
    from tests.orders.builders import World

    world = World(store, channel, stock_sh=5, stock_gz=0)
    member = a_member(store, "g1")
    if points:
        services.points_adjust(actor=ACTOR, member=member, points=points, reason="开卡礼", unlimited=True)
    return world, member


ADDRESS_IN = {"receiver": "张三", "phone": "13812345678", "province": "浙江省", "address": "文三路100号"}


def test_mem_02_api_marketing_offers_goods_and_customer_service_redeems_them(store, channel, api_as):
    from storeops.orders.models import Order

    _world, member = _goods_world(store, channel, points=700)
    # marketing offers P1-S for 300 points; customer service may not
    url = f"/members/{store.pk}/rewards/goods"
    assert (
        api_as(Role.CUSTOMER_SERVICE).post(url, {"sku_code": "P1-S", "points_price": 300}).status_code == 403
    )
    created = api_as(Role.MARKETING).post(url, {"sku_code": "P1-S", "points_price": 300})
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["kind"], body["sku_code"], body["points"], body["stock"], body["amount"]) == (
        "goods",
        "P1-S",
        300,
        5,
        "100.00",
    )
    listed = api_as(Role.ANALYST).get(f"/members/{store.pk}/rewards", kind="goods").json()
    assert [r["id"] for r in listed] == [body["id"]]
    # customer service redeems it for the member: an order with nothing to pay
    redeem = f"/members/{store.pk}/members/{member.pk}/points/redeem-goods"
    api = api_as(Role.CUSTOMER_SERVICE)
    done = api.post(redeem, {"reward_id": body["id"], "channel_id": channel.pk, "address": ADDRESS_IN})
    assert done.status_code == 201, done.content
    assert (done.json()["points"], done.json()["points_balance"], done.json()["quantity"]) == (300, 400, 1)
    order = Order.objects.get(number=done.json()["order_number"])
    assert (order.pk, order.payable, order.status) == (done.json()["order_id"], 0, "paid")
    # two more are more than 400 points: refused, nothing written
    refused = api.post(
        redeem, {"reward_id": body["id"], "quantity": 2, "channel_id": channel.pk, "address": ADDRESS_IN}
    )
    assert (refused.status_code, refused.json()["code"]) == (409, "points_insufficient")
    assert Order.objects.filter(customer_ref="g1").count() == 1
    # the warehouse cannot redeem points
    assert (
        api_as(Role.WAREHOUSE).post(redeem, {"reward_id": body["id"], "address": ADDRESS_IN}).status_code
        == 403
    )


def test_mem_02_api_redeem_goods_with_an_idempotency_key_twice_redeems_once(store, channel, api_as):
    from storeops.orders.models import Order

    _world, member = _goods_world(store, channel, points=700)
    api = api_as(Role.CUSTOMER_SERVICE)
    reward = api_as(Role.MARKETING).post(
        f"/members/{store.pk}/rewards/goods", {"sku_code": "P1-S", "points_price": 300}
    )
    url = f"/api/v1/members/{store.pk}/members/{member.pk}/points/redeem-goods"
    body = json.dumps({"reward_id": reward.json()["id"], "channel_id": channel.pk, "address": ADDRESS_IN})

    def send():
        return api.client.post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-1")

    first, again = send(), send()
    assert (first.status_code, again.status_code) == (201, 200), again.content
    assert again.json() == {**first.json(), "replayed": True}
    assert first.json()["points_balance"] == 400
    assert Order.objects.filter(customer_ref="g1").count() == 1


def test_mem_02_api_goods_reward_and_redemption_refuse_bad_input_clearly(store, channel, api_as):
    _world, member = _goods_world(store, channel, points=700)
    api = api_as(Role.OPERATIONS)
    url = f"/members/{store.pk}/rewards/goods"
    bad = api.post(url, {"sku_code": "NOPE", "points_price": 0})
    assert bad.status_code == 422
    assert set(bad.json()["fields"]) == {"sku_code", "points_price"}
    reward = api.post(url, {"sku_code": "P1-S", "points_price": 100}).json()
    redeem = f"/members/{store.pk}/members/{member.pk}/points/redeem-goods"
    no_address = api.post(
        redeem,
        {"reward_id": reward["id"], "channel_id": channel.pk, "address": {**ADDRESS_IN, "receiver": " "}},
    )
    assert no_address.status_code == 422
    assert "address.receiver" in no_address.json()["fields"]
    other_channel = api.post(
        redeem, {"reward_id": reward["id"], "channel_id": 999_999, "address": ADDRESS_IN}
    )
    assert (other_channel.status_code, list(other_channel.json()["fields"])) == (422, ["channel_id"])
    # 6 × 100 points are covered, 6 units are not in stock (5)
    too_many = api.post(
        redeem, {"reward_id": reward["id"], "quantity": 6, "channel_id": channel.pk, "address": ADDRESS_IN}
    )
    assert (too_many.status_code, too_many.json()["code"]) == (409, "insufficient_stock")
    assert Member.objects.get(pk=member.pk).points_balance == 700


def test_mem_02_console_lists_goods_rewards_and_staff_add_one(store, channel, make_user):
    from storeops.members.models import PointsReward

    _goods_world(store, channel, points=0)
    client = Client()
    client.force_login(make_user(Role.MARKETING))
    response = client.post("/members/rewards/goods/", {"sku_code": "P1-S", "points_price": "300"})
    assert response.status_code == 302
    reward = PointsReward.objects.get(kind="goods")
    assert (reward.sku.code, reward.points_price) == ("P1-S", 300)
    page = client.get("/members/").content.decode()
    assert "P1-S" in page
    assert ">300<" in page
    assert "新增兑换商品" in page
    # a refusal comes back as a message, nothing saved
    again = client.post("/members/rewards/goods/", {"sku_code": "P1-S", "points_price": "x"}, follow=True)
    assert "所需积分应为大于 0 的整数" in again.content.decode()
    assert PointsReward.objects.filter(kind="goods").count() == 1
    # customer service sees the catalogue but no form
    cs = Client()
    cs.force_login(make_user(Role.CUSTOMER_SERVICE))
    listing = cs.get("/members/").content.decode()
    assert "P1-S" in listing
    assert "新增兑换商品" not in listing


def test_mem_05_every_invitee_of_a_member_is_paged_in_the_api_and_the_console(store, api_as, make_user):
    """The detail showed at most 100 invitees (API) and 50 (console), counted as those: the API
    now gives the total and a paged list, the console pages them beside the ledger."""
    alice = a_member(store, "alice")
    for n in range(27):
        a_member(store, f"inv{n:02d}", invite_code=alice.invite_code)
    api = api_as(Role.OPERATIONS)
    detail = api.get(f"/members/{store.pk}/members/{alice.pk}").json()
    assert detail["invitees_total"] == 27
    first = api.get(f"/members/{store.pk}/members/{alice.pk}/invitees", page_size=20).json()
    second = api.get(f"/members/{store.pk}/members/{alice.pk}/invitees", page=2, page_size=20).json()
    assert (first["total"], len(first["items"]), len(second["items"])) == (27, 20, 7)
    assert {i["customer_ref"] for i in first["items"] + second["items"]} == {f"inv{n:02d}" for n in range(27)}

    client = Client()
    client.force_login(make_user(Role.CUSTOMER_SERVICE))
    page = client.get(f"/members/{alice.pk}/", {"kind": "adjust"})
    html = page.content.decode()
    assert "邀请的会员（27）" in html
    assert len(page.context["invitees"].object_list) == 25
    assert "?kind=adjust&invitees_page=2" in html
    rest = client.get(f"/members/{alice.pk}/", {"kind": "adjust", "invitees_page": 2})
    assert [m.customer_ref for m in rest.context["invitees"]] == ["inv01", "inv00"]  # newest first


def test_mem_02_refused_points_adjustment_keeps_what_was_typed_and_saves_nothing(store, make_user):
    member = a_member(store, "console-2")
    services.points_adjust(actor=ACTOR, member=member, points=30, reason="开卡礼")
    client = Client()
    client.force_login(make_user(Role.CUSTOMER_SERVICE))
    response = client.post(f"/members/{member.pk}/adjust/", {"points": "-1.5", "reason": "误加 1.5 分"})
    assert response.status_code == 422  # was a redirect to an empty form
    html = response.content.decode()
    assert 'name="points" value="-1.5" required></label><span class="err">应为整数</span>' in html
    assert 'value="误加 1.5 分"' in html
    assert "积分与成长值应为整数" in html
    response = client.post(f"/members/{member.pk}/adjust/", {"points": "-10", "reason": "  "})
    assert response.status_code == 422
    html = response.content.decode()
    assert 'name="points" value="-10" required>' in html
    assert '<span class="err">请填写调整原因</span>' in html
    assert Member.objects.get(pk=member.pk).points_balance == 30


def test_mem_02_refused_goods_reward_keeps_what_was_typed_and_saves_nothing(store, channel, make_user):
    from storeops.members.models import PointsReward

    _goods_world(store, channel, points=0)
    client = Client()
    client.force_login(make_user(Role.MARKETING))
    response = client.post("/members/rewards/goods/", {"sku_code": "NOPE-1", "points_price": "300"})
    assert response.status_code == 422  # was a redirect to an empty form
    html = response.content.decode()
    assert 'value="NOPE-1"></label><span class="err">不是本店铺的 SKU</span>' in html
    assert 'value="300"></label>' in html
    assert "兑换商品信息有误，未保存" in html
    assert not PointsReward.objects.filter(kind="goods").exists()


# --- MEM-01 birthday gift -------------------------------------------------------------------------------


def test_mem_01_api_birthday_on_join_patch_list_filter_and_gifts(store, api_as):
    api = api_as(Role.OPERATIONS)
    joined = api.post(f"/members/{store.pk}/members", {"customer_ref": "b1", "birthday": "03-15"})
    assert (joined.status_code, joined.json()["birthday"]) == (201, "03-15")
    member_id = joined.json()["id"]
    bad = api.patch(f"/members/{store.pk}/members/{member_id}", {"birthday": "02-30"})
    assert (bad.status_code, set(bad.json()["fields"])) == (422, {"birthday"})
    assert Member.objects.get(pk=member_id).birth_day == 15
    moved = api.patch(f"/members/{store.pk}/members/{member_id}", {"birthday": "07-01"})
    assert moved.json()["birthday"] == "07-01"
    a_member(store, "b2", birthday="03-02")
    in_march = api.get(f"/members/{store.pk}/members", birth_month=3).json()
    assert [m["customer_ref"] for m in in_march["items"]] == ["b2"]
    assert api.get(f"/members/{store.pk}/members", birth_month=13).status_code == 422
    # today's run: nobody's birthday is today unless we make it so
    today = timezone.localdate().strftime("%m-%d")
    api.patch(f"/members/{store.pk}/members/{member_id}", {"birthday": today})
    a_template(store, rule="birthday", amount="20")
    run = api.post(f"/members/{store.pk}/birthday-gifts", {})
    assert run.json() == {"members": 1, "coupons": 1}
    gifts = api_as(Role.ANALYST).get(f"/members/{store.pk}/birthday-gifts", q="b1").json()
    assert (gifts["total"], gifts["items"][0]["customer_ref"], gifts["items"][0]["coupons"]) == (1, "b1", 1)
    detail = api.get(f"/members/{store.pk}/members/{member_id}").json()
    assert detail["birthday_gifts"][0]["year"] == timezone.localdate().year


def test_mem_01_console_profile_form_sets_the_birthday_and_keeps_a_refusal_as_typed(store, make_user):
    member = a_member(store, "b1")
    client = Client()
    client.force_login(make_user(Role.OPERATIONS))
    refused = client.post(
        f"/members/{member.pk}/profile/",
        {"gender": "", "birth_year": "", "birthday": "13-40", "city": "杭州"},
    )
    assert refused.status_code == 422
    body = refused.content.decode()
    assert 'value="13-40"' in body
    assert "生日应为" in body
    member.refresh_from_db()
    assert (member.birth_month, member.city) == (None, "")
    done = client.post(
        f"/members/{member.pk}/profile/",
        {"gender": "female", "birth_year": "1990", "birthday": "3-15", "city": "杭州"},
    )
    assert done.status_code == 302
    member.refresh_from_db()
    assert (member.birth_month, member.birth_day, member.birth_year, member.city) == (3, 15, 1990, "杭州")
    page = client.get(f"/members/{member.pk}/").content.decode()
    assert "03-15" in page
    assert "生日礼" in page
    listed = client.get("/members/", {"birth_month": "3"}).content.decode()
    assert ">b1</a>" in listed  # the member's link (a bare "b1" also turns up in CSRF tokens)
    assert ">b1</a>" not in client.get("/members/", {"birth_month": "4"}).content.decode()


def test_mem_02_console_offers_a_no_threshold_coupon_for_points_and_switches_rewards(store, make_user):
    offset = a_template(store, rule="manual", amount="5", name="积分抵5元", per_user=100)
    a_template(store, rule="manual", amount="8", name="另一张", per_user=100)
    client = Client()
    client.force_login(make_user(Role.OPERATIONS))
    assert ">积分抵5元（" in client.get("/members/").content.decode()  # a choice of the form
    assert client.post("/members/rewards/coupon/", {"coupon_template_id": ""}).status_code == 422
    assert client.post("/members/rewards/coupon/", {"coupon_template_id": str(offset.pk)}).status_code == 302
    reward = services.PointsReward.objects.get(store=store, coupon_template_id=offset.pk)
    # offered once: the template leaves the form's choices
    assert ">积分抵5元（" not in client.get("/members/").content.decode()
    assert client.post(f"/members/rewards/{reward.pk}/active/", {"active": "0"}).status_code == 302
    reward.refresh_from_db()
    assert reward.is_active is False
    # customer service may not change the catalogue
    cs = Client()
    cs.force_login(make_user(Role.CUSTOMER_SERVICE))
    assert cs.post(f"/members/rewards/{reward.pk}/active/", {"active": "1"}).status_code == 403
