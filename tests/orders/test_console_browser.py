"""The order detail page in a real browser (headless Chromium): readable, no script or
resource errors, no horizontal overflow at 1280 px. The screenshot goes to
``$STOREOPS_SCREENSHOT_DIR`` when set, otherwise to the test's tmp dir."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from storeops.accounts.roles import Role
from storeops.orders import services as svc
from storeops.promotions import services as prs
from tests.conftest import PASSWORD
from tests.console.test_browser import CHROMIUM, WIDTH, _no_horizontal_overflow, page, shots  # noqa: F401
from tests.orders.builders import ACTOR, World

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium at /usr/bin/chromium"),
]


@pytest.fixture
def held_order(transactional_db, store, channel):
    world = World(store, channel)
    offer = prs.offer_create(
        actor=ACTOR,
        store=store,
        kind="tiered_reduction",
        params={"tiers": [{"threshold": "200", "amount": "20"}]},
    )
    prs.offer_set_status(actor=ACTOR, offer=offer, status="active")
    address = svc.AddressIn(
        receiver="李四",
        phone="0571-12",
        province="浙江省",
        city="杭州市",
        district="西湖区",
        address="文一路200号",
    )
    order = world.place(2, 1, customer="vip-7", address=address, now=timezone.now() - dt.timedelta(hours=45))
    world.pay(order)
    return svc.order_auto_review(actor=ACTOR, order=order)


def test_order_detail_in_the_browser(page, held_order, make_user, shots):  # noqa: F811
    make_user(Role.OWNER, username="boss")
    page.goto(f"/admin/login/?next=/orders/{held_order.pk}/")
    page.fill("input[name=username]", "boss")
    page.fill("input[name=password]", PASSWORD)
    page.click("form [type=submit]")
    page.wait_for_url(re.compile(rf"/orders/{held_order.pk}/$"))
    main = page.locator("main").inner_text()
    assert held_order.number in page.locator("main h1").inner_text()
    assert "待人工审核" in page.locator("main h1").inner_text()
    for text in (
        "280.00",
        "300.00",
        "地址异常",
        "上海仓",
        "P1-M",
        "挂起待人工审核",
        "电话有误",
        "剩余 2小时",
    ):
        assert text in main, text
    assert page.locator("main table").count() >= 6
    # the owner sees every form that applies to a held order (not "hold" again)
    for label in ("审核通过", "保存地址", "发送", "取消订单"):
        assert page.locator("main form button", has_text=label).count() >= 1, label
    _no_horizontal_overflow(page)
    page.screenshot(path=str(shots / "order-detail-zh.png"), full_page=True)

    # the list, the review queue and the ship-risk page fit the width too
    for url, name in (
        ("/orders/", "orders-list-zh"),
        ("/orders/review-queue/", "orders-review-queue-zh"),
        ("/orders/ship-risk/", "orders-ship-risk-zh"),
    ):
        page.goto(url)
        assert held_order.number in page.locator("main table").first.inner_text()
        _no_horizontal_overflow(page)
        page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
