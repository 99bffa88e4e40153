"""Console pages of orders: the list (tabs, filters, CSV), the detail and its action forms,
the manual review queue (ORD-01) and the ship-risk page (ORD-03)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from storeops.accounts.roles import Role
from storeops.core.errors import ValidationError
from storeops.orders import services as svc
from storeops.orders.models import AccountFreeze, Order, PaymentRefund
from tests.fulfilment.builders import a_carrier
from tests.orders.builders import ACTOR, World

pytestmark = pytest.mark.django_db

BAD_PHONE = svc.AddressIn(
    receiver="李四", phone="123", province="浙江省", city="杭州市", address="文一路200号"
)


@pytest.fixture
def world(store, channel):
    return World(store, channel)


def _client(make_user, role, **kwargs):
    client = Client()
    client.force_login(make_user(role, **kwargs))
    return client


def _paid(world, *, customer="c1", address=None, at=None, qty=1):
    at = at or timezone.now()
    kwargs = {"address": address} if address else {}
    order = world.place(qty, customer=customer, now=at, **kwargs)
    world.pay(order, now=at)
    return order


def _held(world, customer="held"):
    order = _paid(world, customer=customer, address=BAD_PHONE)
    return svc.order_auto_review(actor=ACTOR, order=order)


def _messages(response) -> str:
    return " ".join(str(m) for m in response.context["messages"]) if response.context else ""


# --- pages and permissions -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/orders/", "/orders/review-queue/", "/orders/ship-risk/", "/orders/{id}/", "/orders/?format=csv"],
)
def test_order_pages_render_for_operations_and_are_403_for_marketing(world, make_user, path):
    order = _held(world)
    url = path.format(id=order.pk)
    assert _client(make_user, Role.OPERATIONS).get(url).status_code == 200
    assert _client(make_user, Role.MARKETING).get(url).status_code == 403


def test_order_actions_are_403_without_the_permission(world, make_user):
    order = _held(world)
    finance = _client(make_user, Role.FINANCE)  # reads orders, changes nothing
    for action, data in (
        ("review", {"decision": "approve"}),
        ("cancel", {"reason": "x"}),
        ("ship", {"carrier": "SF", "tracking_no": "1"}),
        ("address", {}),
        ("notify", {"text": "x"}),
    ):
        assert finance.post(f"/orders/{order.pk}/{action}/", data).status_code == 403, action
    order.refresh_from_db()
    assert order.status == "on_hold"


def test_nav_shows_orders_only_to_roles_that_may_see_them(world, make_user):
    assert 'href="/orders/"' in _client(make_user, Role.WAREHOUSE).get("/").content.decode()
    assert 'href="/orders/"' not in _client(make_user, Role.MARKETING).get("/").content.decode()


# --- list ----------------------------------------------------------------------------------------


def test_list_tabs_count_each_status_and_the_tab_filters_the_rows(world, make_user):
    held = _held(world)
    unpaid = world.place(1, customer="u1", now=timezone.now())
    client = _client(make_user, Role.CUSTOMER_SERVICE)
    page = client.get("/orders/?status=on_hold")
    rows = page.context["rows"]
    assert [r["o"].number for r in rows] == [held.number]
    tabs = {t["value"]: t["n"] for t in page.context["tabs"]}
    assert (tabs[""], tabs["on_hold"], tabs["created"]) == (2, 1, 1)
    html = page.content.decode()
    assert "待人工审核" in html
    assert "地址异常" in html
    assert unpaid.number not in html


def test_list_masks_the_phone_and_search_finds_by_phone_suffix(world, make_user):
    order = _paid(
        world,
        customer="c7",
        address=svc.AddressIn(
            receiver="王五", phone="13900009876", province="上海市", city="上海市", address="世纪大道1号"
        ),
    )
    _paid(world, customer="c8")
    html = _client(make_user, Role.OPERATIONS).get("/orders/?q=9876").content.decode()
    assert order.number in html
    assert "139****9876" in html
    assert "13900009876" not in html
    # the other order is filtered out
    assert "13812345678" not in html
    assert "138****5678" not in html


def test_ord_03_list_highlights_overdue_ship_by_and_filters_breached(world, make_user):
    late = _paid(world, customer="late", at=timezone.now() - dt.timedelta(hours=50))
    fresh = _paid(world, customer="fresh")
    client = _client(make_user, Role.WAREHOUSE)
    page = client.get("/orders/?ship_risk=breached")
    assert [r["o"].number for r in page.context["rows"]] == [late.number]
    html = page.content.decode()
    assert "已超时 2小时" in html
    assert fresh.number not in html


def test_list_bad_date_shows_an_error_and_no_rows(world, make_user):
    _paid(world)
    page = _client(make_user, Role.OPERATIONS).get("/orders/?created_from=2026-13-45")
    assert page.status_code == 200
    assert "日期格式应为 YYYY-MM-DD" in _messages(page)
    assert page.context["rows"] == []


def test_csv_export_has_the_filtered_rows_with_masked_phones(world, make_user):
    held = _held(world)
    _paid(world, customer="other")
    response = _client(make_user, Role.FINANCE).get("/orders/?format=csv&status=on_hold")
    assert response["Content-Type"].startswith("text/csv")
    assert response.streaming  # row by row: no cap on how many orders an export holds
    body = response.getvalue().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][:3] == ["订单号", "渠道", "来源"]
    assert len(rows) == 2
    assert rows[1][0] == held.number
    assert rows[1][5] == "12****"  # phone masked
    assert rows[1][13] == "待人工审核"
    assert rows[1][16] == "地址异常"


def test_csv_export_streams_in_the_language_of_the_user_who_asked(world, make_user):
    from django.utils import translation

    _paid(world)
    client = _client(make_user, Role.FINANCE, username="en_finance", language="en")
    response = client.get("/orders/?format=csv")
    translation.activate("zh-hans")  # the rows are written while the response is read
    rows = list(csv.reader(io.StringIO(response.getvalue().decode("utf-8-sig"))))
    with translation.override("en"):
        assert rows[0][:2] == [translation.gettext("订单号"), translation.gettext("渠道")]
    assert rows[0][0] != "订单号"
    assert len(rows) == 2


# --- detail --------------------------------------------------------------------------------------


def test_detail_shows_money_lines_allocations_timeline_payments_and_forms_by_permission(world, make_user):
    order = _held(world)
    Order.objects.filter(pk=order.pk).update(
        pricing={"explanation": [{"zh": "满100减10", "en": "10 off over 100"}], "applied": []}
    )
    html = _client(make_user, Role.CUSTOMER_SERVICE).get(f"/orders/{order.pk}/").content.decode()
    for text in ("应付金额", "100.00", "P1-S", "上海仓", "已预占", "满100减10", "付款成功", "挂起待人工审核"):
        assert text in html, text
    assert "支付成功 → 已处理" in html  # the payment callback and what was done with it
    assert "电话有误" in html  # why the automatic review held it
    assert "异常通知：地址异常" in html
    assert "您的订单" in html  # the ORD-04 notification sent when it was held
    # customer service reviews and cancels, but does not ship
    assert f"/orders/{order.pk}/review/" in html
    assert f"/orders/{order.pk}/cancel/" in html
    assert f"/orders/{order.pk}/ship/" not in html
    # finance only reads
    finance = _client(make_user, Role.FINANCE).get(f"/orders/{order.pk}/").content.decode()
    assert '<form method="post" action="/orders/' not in finance


def test_detail_pricing_explanation_is_in_the_users_language(world, make_user):
    order = world.place(1)
    Order.objects.filter(pk=order.pk).update(
        pricing={"explanation": [{"zh": "满100减10", "en": "10 off over 100"}], "applied": []}
    )
    html = _client(make_user, Role.OPERATIONS, username="en_ops", language="en").get(f"/orders/{order.pk}/")
    assert "10 off over 100" in html.content.decode()


def test_detail_of_an_unknown_order_is_404(store, make_user):
    assert _client(make_user, Role.OPERATIONS).get("/orders/999999/").status_code == 404


# --- actions -------------------------------------------------------------------------------------


def test_ord_01_queue_approve_needs_the_check_box_then_passes_the_order(world, make_user):
    held = _held(world)
    client = _client(make_user, Role.CUSTOMER_SERVICE)
    queue = client.get("/orders/review-queue/")
    assert [r.order.number for r in queue.context["rows"]] == [held.number]
    assert "地址异常" in queue.content.decode()
    # when approved without ticking "已核对": refused, still held
    data = {"decision": "approve", "require_check": "1", "next": "/orders/review-queue/"}
    response = client.post(f"/orders/{held.pk}/review/", data, follow=True)
    assert "请先核对地址、库存和风险后勾选“已核对”" in _messages(response)
    held.refresh_from_db()
    assert held.status == "on_hold"
    # when ticked: reviewed, back on the (now empty) queue
    response = client.post(f"/orders/{held.pk}/review/", {**data, "checked": "1"}, follow=True)
    assert response.redirect_chain[-1][0] == "/orders/review-queue/"
    assert f"订单 {held.number} 已审核通过" in _messages(response)
    held.refresh_from_db()
    assert (held.status, held.hold_reasons) == ("reviewed", [])
    assert response.context["rows"] == []


def test_ord_01_queue_shows_time_waited_against_the_30_minute_window(world, make_user):
    _paid(world, at=timezone.now() - dt.timedelta(minutes=45))
    page = _client(make_user, Role.OPERATIONS).get("/orders/review-queue/")
    html = page.content.decode()
    assert "45 / 30 分钟" in html
    assert page.context["overdue"] == 1


def test_ord_01_a_long_review_queue_is_paged_and_counts_every_waiting_order(store, channel, make_user):
    # given 27 orders waiting for review (a big-promotion morning): 26 past the window, 1 fresh
    world = World(store, channel, stock_sh=30)
    for i in range(26):
        _paid(world, at=timezone.now() - dt.timedelta(minutes=60 - i))
    _paid(world)
    client = _client(make_user, Role.OPERATIONS)
    # when the queue is opened, then it shows one page, but counts all of them
    first = client.get("/orders/review-queue/")
    assert len(first.context["rows"]) == 25
    assert first.context["overdue"] == 26
    html = first.content.decode()
    assert "27 笔订单待审核" in html
    assert "第 1 / 2 页，共 27 条" in html
    # and the second page has the rest, the fresh order last
    second = client.get("/orders/review-queue/?page=2")
    assert [r.overdue for r in second.context["rows"]] == [True, False]


def test_hold_without_a_note_is_refused_with_a_chinese_message(world, make_user):
    order = _paid(world)
    svc.order_auto_review(actor=ACTOR, order=order)
    response = _client(make_user, Role.OPERATIONS).post(
        f"/orders/{order.pk}/review/", {"decision": "hold", "note": ""}
    )
    assert response.status_code == 422  # the order page again, the note's error next to it
    assert "请填写挂起原因" in _messages(response)
    assert (
        'placeholder="说明（挂起必填）" value=""><span class="err">必填</span>' in response.content.decode()
    )
    order.refresh_from_db()
    assert order.status == "reviewed"


def test_cancel_needs_a_reason_then_cancels_and_refunds_in_full(world, make_user):
    order = _held(world)
    client = _client(make_user, Role.CUSTOMER_SERVICE)
    response = client.post(f"/orders/{order.pk}/cancel/", {"reason": "  "})
    assert "请填写取消原因" in _messages(response)
    order.refresh_from_db()
    assert order.status == "on_hold"
    response = client.post(f"/orders/{order.pk}/cancel/", {"reason": "顾客要求取消"}, follow=True)
    assert f"订单 {order.number} 已取消，已退款 100.00" in _messages(response)
    order.refresh_from_db()
    assert (order.status, order.refunded_amount) == ("cancelled", Decimal("100.00"))
    assert PaymentRefund.objects.get(order=order).reason == "顾客要求取消"
    # cancelling again is refused with the service's message
    response = client.post(f"/orders/{order.pk}/cancel/", {"reason": "再次"}, follow=True)
    assert "不能取消" in _messages(response)


def test_address_fix_validates_then_updates(world, make_user):
    order = _held(world)
    client = _client(make_user, Role.CUSTOMER_SERVICE)
    response = client.post(
        f"/orders/{order.pk}/address/",
        {"receiver": "李四", "phone": "", "province": "浙江省", "address": "文一路200号"},
    )
    assert "收货信息不完整" in _messages(response)
    client.post(
        f"/orders/{order.pk}/address/",
        {
            "receiver": "李四",
            "phone": "13912345678",
            "province": "浙江省",
            "city": "杭州市",
            "address": "文一路200号",
        },
    )
    order.refresh_from_db()
    assert order.phone == "13912345678"


def test_notify_sends_a_message_and_refuses_an_empty_one(world, make_user):
    order = _held(world)
    client = _client(make_user, Role.CUSTOMER_SERVICE)
    response = client.post(f"/orders/{order.pk}/notify/", {"channel": "sms", "text": ""}, follow=True)
    assert "请填写通知内容" in _messages(response)
    client.post(f"/orders/{order.pk}/notify/", {"channel": "sms", "text": "地址已更正，今日发货"})
    assert order.notifications.filter(purpose="manual", text="地址已更正，今日发货").exists()


def test_warehouse_allocates_ships_with_a_tracking_number_and_marks_delivered(world, make_user):
    a_carrier("SF")
    order = _paid(world)
    svc.order_auto_review(actor=ACTOR, order=order)
    client = _client(make_user, Role.WAREHOUSE)
    client.post(f"/orders/{order.pk}/allocate/")
    order.refresh_from_db()
    assert order.status == "allocated"
    page = client.get(f"/orders/{order.pk}/").content.decode()
    assert 'name="tracking_no"' in page  # one warehouse: one tracking number
    # without a tracking number: refused
    response = client.post(f"/orders/{order.pk}/ship/", {"carrier": "SF"}, follow=True)
    assert "缺少运单号" in _messages(response)
    # without a carrier: refused
    response = client.post(f"/orders/{order.pk}/ship/", {"tracking_no": "SF1"}, follow=True)
    assert "请选择快递公司" in _messages(response)
    response = client.post(
        f"/orders/{order.pk}/ship/", {"carrier": "SF", "tracking_no": "SF123"}, follow=True
    )
    assert f"已发货：{order.number}" in _messages(response)
    order.refresh_from_db()
    assert order.status == "shipped"
    client.post(f"/orders/{order.pk}/deliver/")
    order.refresh_from_db()
    assert order.status == "delivered"


def test_unknown_carrier_is_shown_as_an_error_not_a_404(world, make_user):
    order = _paid(world)
    svc.order_auto_review(actor=ACTOR, order=order)
    order.refresh_from_db()
    svc.order_allocate(actor=ACTOR, order=order)
    response = _client(make_user, Role.WAREHOUSE).post(
        f"/orders/{order.pk}/ship/", {"carrier": "NOPE", "tracking_no": "1"}
    )
    assert response.status_code == 422
    assert "快递公司不存在" in _messages(response)


def test_ord_03_ship_risk_page_groups_orders_by_channel(world, make_user):
    late = _paid(world, customer="late", at=timezone.now() - dt.timedelta(hours=47))
    _paid(world, customer="fresh")
    page = _client(make_user, Role.WAREHOUSE).get("/orders/ship-risk/")
    assert (page.context["at_risk"], page.context["breached"]) == (1, 0)
    html = page.content.decode()
    assert late.number in html
    assert "天猫旗舰店" in html
    assert "剩余 " in html


def test_ord_03_a_long_ship_risk_list_is_paged_and_counts_every_order(store, channel, make_user):
    # given 27 paid orders near or past their ship-by time (the page showed at most 2,000 and
    # counted only those)
    world = World(store, channel, stock_sh=30)
    for i in range(27):
        _paid(world, customer=f"c{i}", at=timezone.now() - dt.timedelta(hours=47, minutes=i))
    client = _client(make_user, Role.WAREHOUSE)
    first = client.get("/orders/ship-risk/")
    assert (first.context["at_risk"], first.context["breached"]) == (27, 0)
    [group] = first.context["groups"]
    assert (len(group.rows), group.at_risk) == (25, 27)
    assert "第 1 / 2 页，共 27 条" in first.content.decode()
    second = client.get("/orders/ship-risk/?page=2")
    assert [len(g.rows) for g in second.context["groups"]] == [2]


def test_list_page_queries_do_not_grow_with_the_number_of_orders(world, make_user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = _client(make_user, Role.OPERATIONS)
    for i in range(2):
        _paid(world, customer=f"a{i}")
    client.get("/orders/")  # warm up (session, user, profile)
    with CaptureQueriesContext(connection) as few:
        client.get("/orders/")
    for i in range(4):
        _paid(world, customer=f"b{i}")
    with CaptureQueriesContext(connection) as more:
        page = client.get("/orders/")
    assert len(page.context["rows"]) == 6
    assert len(more.captured_queries) == len(few.captured_queries)


def test_ord_01_running_the_automatic_review_from_the_detail_holds_a_bad_address(world, make_user):
    order = _paid(world, address=BAD_PHONE)
    client = _client(make_user, Role.OPERATIONS)
    assert 'value="auto"' in client.get(f"/orders/{order.pk}/").content.decode()
    response = client.post(f"/orders/{order.pk}/review/", {"decision": "auto"}, follow=True)
    assert f"订单 {order.number} 未通过自动审核，已转人工：地址异常" in _messages(response)
    order.refresh_from_db()
    assert (order.status, order.hold_reasons) == ("on_hold", ["bad_address"])
    response = client.post(f"/orders/{order.pk}/review/", {"decision": "bogus"}, follow=True)
    assert "未知的审核动作" in _messages(response)


def test_ord_02_split_order_ships_with_one_tracking_number_per_warehouse(store, channel, make_user):
    world = World(store, channel, stock_sh=3, stock_gz=3)
    a_carrier("SF")
    order = _paid(world, qty=5)  # 3 + 2 units from two warehouses
    svc.order_auto_review(actor=ACTOR, order=order)
    order.refresh_from_db()
    svc.order_allocate(actor=ACTOR, order=order)
    client = _client(make_user, Role.WAREHOUSE)
    page = client.get(f"/orders/{order.pk}/").content.decode()
    assert f'name="tracking_{world.sh.pk}"' in page
    assert f'name="tracking_{world.gz.pk}"' in page
    # one number missing: refused, naming the warehouse
    data = {"carrier": "SF", f"tracking_{world.sh.pk}": "SF-A", f"tracking_{world.gz.pk}": ""}
    response = client.post(f"/orders/{order.pk}/ship/", data)
    assert "缺少运单号" in _messages(response)
    # the error sits next to the warehouse's number, the typed one is kept
    html = response.content.decode()
    assert f'name="tracking_{world.gz.pk}" value=""></label><span class="err">必填</span>' in html
    assert f'name="tracking_{world.sh.pk}" value="SF-A"></label></p>' in html
    order.refresh_from_db()
    assert order.status == "allocated"
    client.post(f"/orders/{order.pk}/ship/", {**data, f"tracking_{world.gz.pk}": "SF-B"})
    order.refresh_from_db()
    assert order.status == "shipped"


def test_ord_05_shipping_an_already_shipped_order_is_refused_and_ships_nothing_else(world, make_user):
    a_carrier("SF")
    first, second = _paid(world, customer="same"), _paid(world, customer="same")
    for o in (first, second):
        svc.order_auto_review(actor=ACTOR, order=o)
        o.refresh_from_db()
        svc.order_allocate(actor=ACTOR, order=o)
    first.refresh_from_db()
    svc.order_ship(actor=ACTOR, order=first, carrier_code="SF", tracking_numbers="SF1")  # ships both
    third = _paid(world, customer="same")
    svc.order_auto_review(actor=ACTOR, order=third)
    third.refresh_from_db()
    svc.order_allocate(actor=ACTOR, order=third)
    response = _client(make_user, Role.WAREHOUSE).post(
        f"/orders/{first.pk}/ship/", {"carrier": "SF", "tracking_no": "SF2"}, follow=True
    )
    assert f"订单 {first.number} 不是待发货状态" in _messages(response)
    third.refresh_from_db()
    assert third.status == "allocated"


def test_risk_01_confirm_brushing_from_the_detail_then_lift_on_the_frozen_accounts_page(world, make_user):
    order = _held(world, customer="ring-7")
    client = _client(make_user, Role.OPERATIONS)
    html = client.get(f"/orders/{order.pk}/").content.decode()
    assert f"/orders/{order.pk}/brushing/" in html
    # customer service reviews orders but does not see the brushing form
    cs = _client(make_user, Role.CUSTOMER_SERVICE)
    assert f"/orders/{order.pk}/brushing/" not in cs.get(f"/orders/{order.pk}/").content.decode()
    response = client.post(f"/orders/{order.pk}/brushing/", {"note": " "}, follow=True)
    assert "请填写确认刷单的依据" in _messages(response)
    response = client.post(f"/orders/{order.pk}/brushing/", {"note": "同地址 6 个账号"}, follow=True)
    assert "已确认刷单" in _messages(response)
    order.refresh_from_db()
    assert order.status == "cancelled"
    assert "顾客账号 ring-7 已冻结" in client.get(f"/orders/{order.pk}/").content.decode()
    page = client.get("/orders/frozen-accounts/").content.decode()
    assert "ring-7" in page
    assert "同地址 6 个账号" in page
    assert order.number in page
    freeze_id = AccountFreeze.objects.get(customer_ref="ring-7").pk
    assert f"/orders/frozen-accounts/{freeze_id}/lift/" in page
    response = client.post(f"/orders/frozen-accounts/{freeze_id}/lift/", {"note": ""}, follow=True)
    assert "请填写解冻说明" in _messages(response)
    response = client.post(f"/orders/frozen-accounts/{freeze_id}/lift/", {"note": "申诉成功"}, follow=True)
    assert "账号 ring-7 已解冻" in _messages(response)
    assert "ring-7" not in client.get("/orders/frozen-accounts/").content.decode()
    assert "申诉成功" in client.get("/orders/frozen-accounts/?state=lifted").content.decode()
    # a freeze by hand, and a bad state filter is an error message, not a 500
    response = client.post(
        "/orders/frozen-accounts/add/", {"customer_ref": "ring-8", "reason": "同设备"}, follow=True
    )
    assert "账号 ring-8 已冻结" in _messages(response)
    response = client.get("/orders/frozen-accounts/?state=nope")
    assert response.status_code == 200
    assert "状态筛选无效" in _messages(response)


# --- daily work through the console forms (helper "flows") ---------------------------------------


def _allocated(world, customer="c1"):
    order = _paid(world, customer=customer)
    svc.order_auto_review(actor=ACTOR, order=order)
    order.refresh_from_db()
    return svc.order_allocate(actor=ACTOR, order=order)


def test_ship_without_a_tracking_number_names_the_warehouse_not_its_id(world, make_user):
    a_carrier("SF")
    order = _allocated(world)
    response = _client(make_user, Role.WAREHOUSE).post(
        f"/orders/{order.pk}/ship/", {"carrier": "SF", "tracking_no": ""}
    )
    # was "缺少运单号（运单号 1：必填）": the warehouse's database id; now next to its input
    assert "缺少运单号" in _messages(response)
    assert "运单号 1" not in _messages(response)
    assert '上海仓 运单号 <input name="tracking_no" value=""></label><span class="err">必填</span>' in (
        response.content.decode()
    )


def test_ord_05_order_page_shows_the_parcel_carrier_and_tracking_number_of_merged_orders(world, make_user):
    a_carrier("SF")
    first, second = _allocated(world, customer="same"), _allocated(world, customer="same")
    client = _client(make_user, Role.WAREHOUSE)
    response = client.post(
        f"/orders/{first.pk}/ship/", {"carrier": "SF", "tracking_no": "SF778899"}, follow=True
    )
    assert f"已发货：{first.number}、{second.number}" in _messages(response)
    for order in (first, second):  # the order page said nothing of the parcel it left in
        page = _client(make_user, Role.CUSTOMER_SERVICE).get(f"/orders/{order.pk}/").content.decode()
        assert "包裹" in page
        assert "SF778899" in page
        assert "SF快递" in page
    assert "SF778899" not in client.get(f"/orders/{_paid(world, customer='other').pk}/").content.decode()


def test_cancel_and_brushing_ask_for_confirmation_before_refunding(world, make_user):
    order = _paid(world)
    page = _client(make_user, Role.OPERATIONS).get(f"/orders/{order.pk}/").content.decode()
    for action in ("cancel", "brushing"):
        form = page.split(f'action="/orders/{order.pk}/{action}/"')[1].split(">")[0]
        assert 'onsubmit="return confirm(this.dataset.confirm)"' in form, action
        assert "data-confirm=" in form, action


def test_english_reader_sees_english_buttons_and_punctuation(world, make_user):
    order = _paid(world)
    client = _client(make_user, Role.OPERATIONS, username="ops_en", language="en")
    page = client.get(f"/orders/{order.pk}/").content.decode()
    assert 'value="approve">Approve</button>' in page  # was "Approved", the status word
    assert f"<h1>Order {order.number}" in page  # was "Orders"
    # a refusal in the review queue is a message with its fields' errors
    response = client.post(
        f"/orders/{order.pk}/review/",
        {"decision": "approve", "require_check": "1", "next": "/orders/review-queue/"},
        follow=True,
    )
    text = _messages(response)
    assert "（" not in text
    assert "：" not in text
    assert " (" in text


def test_ord_07_invoice_queue_confirms_a_mismatched_issue_and_every_reversal(world, make_user):
    from storeops.orders import invoices
    from storeops.orders.rules import uscc_check_char

    tax_id = "91330106MA2GL1234" + uscc_check_char("91330106MA2GL1234")
    mismatched = invoices.invoice_request(
        actor=ACTOR,
        order=_paid(world, customer="m1"),
        kind="electronic",
        title_type="company",
        title="杭州某某科技有限公司",
        tax_id=tax_id,
        email="f@example.com",
        payer_name="李四",
    )
    matching = invoices.invoice_request(
        actor=ACTOR,
        order=_paid(world, customer="m2"),
        kind="electronic",
        title_type="personal",
        title="张三",
        email="z@example.com",
    )
    finance = _client(make_user, Role.FINANCE)
    html = finance.get("/orders/invoices/").content.decode()

    def form(action, invoice):
        return html.split(f'action="/orders/invoices/{invoice.pk}/{action}/"')[1].split(">")[0]

    # issuing an invoice whose three flows disagree turns into a critical finding: ask first
    assert "data-confirm=" in form("issue", mismatched)
    assert "data-confirm=" not in form("issue", matching)
    invoices.invoice_issue(actor=ACTOR, invoice=matching, invoice_number="88002")
    issued = finance.get("/orders/invoices/?status=issued").content.decode()
    reverse = issued.split(f'action="/orders/invoices/{matching.pk}/reverse/"')[1].split(">")[0]
    assert "return confirm(this.dataset.confirm)" in reverse
    english = _client(make_user, Role.FINANCE, username="fin_en", language="en")
    assert ">Reject</button>" in english.get("/orders/invoices/").content.decode()  # was "Rejected"


def test_ord_06_import_messages_are_in_the_readers_language(world, make_user):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.orders.import_files import TMALL_HEADER, csv_bytes, tmall_rows

    rows = [r[:] for r in tmall_rows()]
    rows[0][6] = "NOPE-1"  # an unknown merchant SKU code
    client = _client(make_user, Role.OPERATIONS, username="ops_en", language="en")
    upload = SimpleUploadedFile("tmall.csv", csv_bytes(TMALL_HEADER, rows), content_type="text/csv")
    response = client.post(
        "/orders/imports/upload/",
        {"channel": world.channel.pk, "file": upload, "dry_run": "1"},
        follow=True,
    )
    text = _messages(response)
    assert "Tmall/Taobao" in text  # was "Format: 天猫/淘宝"
    assert "Line 2 Merchant SKU code: " in text  # was "第2行 商家编码: …"
    assert "天猫" not in text
    assert "第2行" not in text
    # and the list of imports names the format, not its code
    upload = SimpleUploadedFile("tmall.csv", csv_bytes(TMALL_HEADER, tmall_rows()), content_type="text/csv")
    client.post("/orders/imports/upload/", {"channel": world.channel.pk, "file": upload}, follow=True)
    listed = client.get("/orders/imports/").content.decode()
    assert "<td>Tmall/Taobao</td>" in listed
    assert "<td>tmall</td>" not in listed


def test_risk_01_refused_freeze_keeps_what_was_typed_and_saves_nothing(world, make_user):
    client = Client()
    client.force_login(make_user(Role.OPERATIONS))
    response = client.post("/orders/frozen-accounts/add/", {"customer_ref": "ring-9", "reason": "  "})
    assert response.status_code == 422  # was a redirect to an empty form
    html = response.content.decode()
    assert 'value="ring-9"' in html
    assert '<span class="err">必填</span>' in html
    assert "请填写冻结原因" in _messages(response)
    assert not AccountFreeze.objects.exists()


def test_ord_04_refused_address_fix_keeps_what_was_typed_and_saves_nothing(world, make_user):
    order = _held(world)
    before = order.address
    response = _client(make_user, Role.CUSTOMER_SERVICE).post(
        f"/orders/{order.pk}/address/",
        {"receiver": "王五", "phone": " ", "province": "江苏省", "city": "南京市", "address": "中山路1号"},
    )
    assert response.status_code == 422  # was a redirect to the old address
    html = response.content.decode()
    assert 'name="receiver" value="王五"' in html
    assert 'name="address" value="中山路1号"' in html
    assert 'name="phone" value=""' in html
    assert "收货信息不完整" in _messages(response)
    assert '<span class="err">必填</span>' in html
    # the other forms stay as new
    assert 'name="reason" placeholder="取消原因（必填）" size="24" value=""' in html
    order.refresh_from_db()
    assert (order.receiver, order.address) == ("李四", before)


def test_ord_04_refused_cancel_keeps_the_reason_typed_and_cancels_nothing(world, make_user, monkeypatch):
    order = _held(world)
    client = _client(make_user, Role.CUSTOMER_SERVICE)
    response = client.post(f"/orders/{order.pk}/cancel/", {"reason": "  "})
    assert response.status_code == 422  # was a redirect
    html = response.content.decode()
    assert 'size="24" value=""><span class="err">必填</span>' in html  # inside the cancel form
    assert "请填写取消原因" in _messages(response)

    # a reason the service refuses is shown again as typed
    def refuse(**kwargs):
        raise ValidationError("原因不能含有顾客电话", fields={"reason": "请删去电话号码"})

    monkeypatch.setattr(svc, "order_cancel", refuse)
    response = client.post(f"/orders/{order.pk}/cancel/", {"reason": "顾客 13912345678 要求取消"})
    assert response.status_code == 422
    html = response.content.decode()
    assert 'value="顾客 13912345678 要求取消"><span class="err">请删去电话号码</span>' in html
    assert "原因不能含有顾客电话" in _messages(response)
    order.refresh_from_db()
    assert order.status == "on_hold"
    assert not PaymentRefund.objects.filter(order=order).exists()


def test_ord_02_refused_ship_keeps_the_carrier_and_tracking_number_and_ships_nothing(world, make_user):
    a_carrier("SF")
    order = _allocated(world)
    response = _client(make_user, Role.WAREHOUSE).post(
        f"/orders/{order.pk}/ship/", {"carrier": "", "tracking_no": "SF-778"}
    )
    assert response.status_code == 422  # was a redirect to an empty form
    html = response.content.decode()
    assert 'name="tracking_no" value="SF-778"' in html
    assert '</select><span class="err">必填</span>' in html
    assert "请选择快递公司" in _messages(response)
    response = _client(make_user, Role.WAREHOUSE).post(
        f"/orders/{order.pk}/ship/", {"carrier": "SF", "tracking_no": ""}
    )
    assert '<option value="SF" selected>' in response.content.decode()
    order.refresh_from_db()
    assert order.status == "allocated"
