"""SOP DATA-09 and RISK-05: personal data stays in the system. Exports carry the minimum
(masked phone and name, no street address), logs mask phones, and the operation log and the
token table keep no usable secret."""

from __future__ import annotations

import csv
import io
import json
import logging

import pytest
from django.test import Client

from storeops.accounts.models import ApiToken
from storeops.accounts.roles import Role
from storeops.accounts.services import api_token_create
from storeops.audit.models import AuditEntry
from storeops.core.context import Actor
from storeops.orders import services as order_services
from storeops.orders.models import Order
from tests.orders.builders import ACTOR, World

pytestmark = pytest.mark.django_db


def test_data_09_the_order_export_masks_phone_and_name_and_leaves_out_the_street(store, channel, make_user):
    world = World(store, channel)
    order = world.place(1)
    world.pay(order)
    client = Client()
    client.force_login(make_user(Role.OPERATIONS))
    response = client.get("/orders/?format=csv")
    assert response.status_code == 200
    text = response.getvalue().decode("utf-8-sig")  # streamed: read once
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 2
    assert "13812345678" not in text
    assert "138****5678" in text
    assert "张三" not in text
    assert "张*" in rows[1]
    assert "文三路100号" not in text  # province and city only
    assert "西湖区" not in text


def test_risk_05_the_order_export_and_api_mask_the_client_ip_and_device(store, channel, make_user, api_as):
    """RISK-01 records where a storefront order came from; like the phone, the IP and the
    device id leave the system only masked (the full values are on the console detail page)."""
    world = World(store, channel)
    order = world.place(1)
    Order.objects.filter(pk=order.pk).update(
        client_ip="203.0.113.57", device_id="a1b2c3d4-ffff-4000-8000-e5f6"
    )
    client = Client()
    client.force_login(make_user(Role.OPERATIONS))
    text = client.get("/orders/?format=csv").getvalue().decode("utf-8-sig")
    assert "203.0.113.57" not in text
    assert "a1b2c3d4-ffff-4000-8000-e5f6" not in text
    assert "203.0.113.*" in text
    assert "a1b2****e5f6" in text
    detail = api_as(Role.OPERATIONS).get(f"/orders/{store.pk}/orders/{order.number}")
    assert detail.status_code == 200
    assert "203.0.113.57" not in detail.content.decode()
    assert "a1b2c3d4-ffff" not in detail.content.decode()
    # the console's list shows neither
    listed = client.get("/orders/").content.decode()
    assert order.number in listed
    assert "203.0.113" not in listed


def test_risk_05_customer_notifications_are_logged_with_the_phone_masked(store, channel, caplog):
    world = World(store, channel)
    order = world.place(1)
    with caplog.at_level(logging.INFO, logger="storeops.notify.customer"):
        order_services.customer_notify(
            actor=ACTOR, order=order, purpose="test", channel="sms", text="您的订单已发货"
        )
    assert caplog.records
    assert "13812345678" not in caplog.text
    assert "138****5678" in caplog.text


def test_risk_05_api_token_secrets_are_never_stored_or_logged(owner):
    token, raw = api_token_create(actor=Actor(user=owner, via="cli"), name="erp", role=Role.OPERATIONS)
    row = ApiToken.objects.get(pk=token.pk)
    assert raw not in {row.key_hash, row.prefix}
    assert row.key_hash
    assert len(row.prefix) < len(raw)
    entries = list(AuditEntry.objects.filter(action="api_token.create"))
    assert len(entries) == 1
    logged = json.dumps([e.after for e in entries], ensure_ascii=False)
    assert "erp" in logged  # the entry is about this token
    assert raw not in logged
    assert row.key_hash not in logged
