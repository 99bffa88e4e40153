"""The last action forms that flashed a refusal and redirected, losing what was typed: the
order page's review (hold) note, customer notification and brushing note, and the frozen
accounts page's lift note. A refusal now shows the page again (422) with the form as typed,
the error next to its field, and nothing written."""

from __future__ import annotations

import pytest
from django.test import Client

from storeops.accounts.roles import Role
from storeops.core.errors import ValidationError
from storeops.orders import services as svc
from storeops.orders.models import AccountFreeze, CustomerNotification, OrderEvent
from tests.orders.builders import ACTOR, World

pytestmark = pytest.mark.django_db

TOO_LONG = "同地址多个账号下单" * 40  # 360 characters: the services keep notes to 300


@pytest.fixture
def world(store, channel):
    return World(store, channel)


def _client(make_user, role, **kwargs):
    client = Client()
    client.force_login(make_user(role, **kwargs))
    return client


def _messages(response) -> str:
    return " ".join(str(m) for m in response.context["messages"])


def _paid(world, customer="c1"):
    order = world.place(1, customer=customer)
    world.pay(order)
    return order


def test_refused_hold_keeps_the_note_on_the_order_page_and_holds_nothing(world, make_user, monkeypatch):
    order = _paid(world)
    client = _client(make_user, Role.CUSTOMER_SERVICE)
    response = client.post(f"/orders/{order.pk}/review/", {"decision": "hold", "note": "  "})
    assert response.status_code == 422  # was a redirect
    html = response.content.decode()
    assert 'placeholder="说明（挂起必填）" value=""><span class="err">必填</span>' in html
    assert "请填写挂起原因" in _messages(response)
    order.refresh_from_db()
    assert order.status == "paid"

    def refuse(**kwargs):
        raise ValidationError("挂起说明不能含有顾客电话", fields={"note": "请删去电话号码"})

    monkeypatch.setattr(svc, "order_hold", refuse)
    response = client.post(
        f"/orders/{order.pk}/review/", {"decision": "hold", "note": "顾客 13912345678 来电"}
    )
    assert response.status_code == 422
    assert (
        'value="顾客 13912345678 来电"><span class="err">请删去电话号码</span>' in response.content.decode()
    )
    # the other forms of the page stay as new
    assert 'name="reason" placeholder="取消原因（必填）" size="24" value=""' in response.content.decode()
    order.refresh_from_db()
    assert order.status == "paid"


def test_a_refusal_from_the_review_queue_still_goes_back_to_the_queue(world, make_user):
    order = _paid(world)
    response = _client(make_user, Role.CUSTOMER_SERVICE).post(
        f"/orders/{order.pk}/review/",
        {"decision": "approve", "require_check": "1", "next": "/orders/review-queue/"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/orders/review-queue/"


def test_refused_notification_keeps_the_channel_and_text_and_sends_nothing(world, make_user):
    order = _paid(world)
    client = _client(make_user, Role.CUSTOMER_SERVICE)
    response = client.post(f"/orders/{order.pk}/notify/", {"channel": "phone", "text": " "})
    assert response.status_code == 422  # was a redirect to an empty form
    html = response.content.decode()
    assert '<option value="phone" selected>' in html
    assert 'placeholder="通知内容"></textarea><span class="err">必填</span>' in html
    assert "请填写通知内容" in _messages(response)
    response = client.post(f"/orders/{order.pk}/notify/", {"channel": "fax", "text": "您的包裹明天发出"})
    assert response.status_code == 422
    html = response.content.decode()
    assert ">您的包裹明天发出</textarea>" in html
    assert '</select><span class="err">未知的通知方式</span>' in html
    assert not CustomerNotification.objects.exists()
    assert not OrderEvent.objects.filter(order=order, kind="customer_notified").exists()


def test_refused_brushing_keeps_the_grounds_typed_and_cancels_and_freezes_nothing(world, make_user):
    order = _paid(world, customer="ring-1")
    client = _client(make_user, Role.OPERATIONS)
    response = client.post(f"/orders/{order.pk}/brushing/", {"note": " "})
    assert response.status_code == 422  # was a redirect
    assert 'required value=""><span class="err">必填</span>' in response.content.decode()
    assert "请填写确认刷单的依据" in _messages(response)
    response = client.post(f"/orders/{order.pk}/brushing/", {"note": TOO_LONG})
    assert response.status_code == 422
    assert (
        f'required value="{TOO_LONG}"><span class="err">最多 300 个字符</span>' in response.content.decode()
    )
    order.refresh_from_db()
    assert order.status == "paid"
    assert not AccountFreeze.objects.exists()


def test_refused_lift_keeps_the_note_in_its_row_and_lifts_nothing(store, make_user):
    kept = svc.account_freeze(actor=ACTOR, store=store, customer_ref="ring-2", reason="同设备")
    other = svc.account_freeze(actor=ACTOR, store=store, customer_ref="ring-3", reason="同地址")
    client = _client(make_user, Role.OPERATIONS)
    response = client.post(f"/orders/frozen-accounts/{kept.pk}/lift/", {"note": " "})
    assert response.status_code == 422  # was a redirect
    assert '<span class="err">必填</span>' in response.content.decode()
    assert "请填写解冻说明" in _messages(response)
    response = client.post(f"/orders/frozen-accounts/{kept.pk}/lift/", {"note": TOO_LONG})
    assert response.status_code == 422
    html = response.content.decode()
    row = html.split(f'action="/orders/frozen-accounts/{kept.pk}/lift/"')[1].split("</form>")[0]
    assert f'required value="{TOO_LONG}"><span class="err">最多 300 个字符</span>' in row
    other_row = html.split(f'action="/orders/frozen-accounts/{other.pk}/lift/"')[1].split("</form>")[0]
    assert TOO_LONG not in other_row
    assert "err" not in other_row
    # the freeze-by-hand form stays as new
    assert 'name="customer_ref" placeholder="顾客标识（必填）" size="18" required value=""' in html
    assert AccountFreeze.objects.filter(lifted_at__isnull=True).count() == 2
