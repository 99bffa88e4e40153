"""SOP DATA-09 in the console: customer service records a request and downloads the copy; the
owner deletes; a deletion blocked by an unfinished order says which order."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from storeops.accounts.roles import Role
from storeops.privacy.models import DataRequest
from tests.orders.builders import World

pytestmark = pytest.mark.django_db


def _client(make_user, role):
    client = Client()
    client.force_login(make_user(role))
    return client


def test_data_09_console_records_a_request_and_downloads_the_copy(store, channel, make_user):
    World(store, channel).place(1, customer="c9")
    desk = _client(make_user, Role.CUSTOMER_SERVICE)
    # a refused form comes back as typed with the field's message
    form = {"customer_ref": "", "kind": "access", "received_via": "邮件"}
    bad = desk.post("/service/privacy/open/", form)
    assert bad.status_code == 422
    assert 'value="邮件"' in bad.content.decode()
    made = desk.post(
        "/service/privacy/open/", {"customer_ref": "c9", "kind": "access", "received_via": "邮件"}
    )
    request = DataRequest.objects.get()
    assert made["Location"].endswith(f"/service/privacy/{request.pk}/")
    page = desk.get(f"/service/privacy/{request.pk}/").content.decode()
    assert "下载副本" in page
    assert f'action="/service/privacy/{request.pk}/erase/"' not in page  # not an erase request
    copy = desk.post(f"/service/privacy/{request.pk}/export/")
    assert copy["Content-Disposition"] == f'attachment; filename="personal-data-{request.pk}.json"'
    data = json.loads(copy.content)
    assert data["orders"][0]["receiver"] == "张三"
    listed = desk.get("/service/privacy/?status=done").content.decode()
    assert f'href="/service/privacy/{request.pk}/">c9</a>' in listed


def test_data_09_console_deletion_waits_for_the_unfinished_order_then_the_owner_deletes(
    store, channel, make_user
):
    world = World(store, channel)
    order = world.place(1, customer="c9")
    owner = _client(make_user, Role.OWNER)
    owner.post("/service/privacy/open/", {"customer_ref": "c9", "kind": "erase"})
    request = DataRequest.objects.get()
    page = owner.get(f"/service/privacy/{request.pk}/").content.decode()
    assert "暂不能删除" in page
    assert order.number in page
    owner.post(f"/service/privacy/{request.pk}/erase/")
    request.refresh_from_db()
    assert request.status == "open"
    from storeops.orders import services as order_services
    from tests.orders.builders import ACTOR

    order_services.order_cancel(actor=ACTOR, order=order, reason="顾客取消")
    owner.post(f"/service/privacy/{request.pk}/erase/")
    request.refresh_from_db()
    assert request.status == "done"
    done = owner.get(f"/service/privacy/{request.pk}/").content.decode()
    assert "订单收货信息" in done
