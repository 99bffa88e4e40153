"""Stock bookings through the API take an ``Idempotency-Key`` like the checkout: an ERP that
retries a receipt after a timeout gets the first ledger line back instead of doubling the stock;
the same key with another body is a 409; two simultaneous requests with one key book once."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client
from django.utils import timezone

from storeops.accounts.roles import Role
from storeops.accounts.services import api_token_create
from storeops.core.context import Actor
from storeops.inventory import counts
from storeops.inventory import services as inv
from storeops.inventory.models import IdempotentRequest, Stock, StockMove
from storeops.stores import services as store_services
from tests.catalog.db_builders import a_dress_category, a_product
from tests.concurrency import at_once
from tests.orders.builders import ACTOR, World

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(store, channel):
    return World(store, channel, stock_sh=10, stock_gz=0)


@pytest.fixture
def erp(make_user):
    """A warehouse-role API token, as an ERP or WMS holds one."""
    owner = make_user(Role.OWNER)
    _token, raw = api_token_create(actor=Actor(user=owner, via="cli"), name="ERP", role=Role.WAREHOUSE)
    return raw


def _post(token: str, path: str, body: dict | None = None, key: str | None = None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    if key is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    return Client().post(f"/api/v1{path}", json.dumps(body or {}), content_type="application/json", **headers)


def _receipt(world, quantity=5, reference="ERP-7bcadb"):
    return {
        "kind": "receipt",
        "sku_id": world.sku_s.pk,
        "warehouse_id": world.sh.pk,
        "quantity": quantity,
        "reference": reference,
        "reason": "采购入库",
    }


def _on_hand(world, sku=None, warehouse=None) -> int:
    return Stock.objects.get(sku=sku or world.sku_s, warehouse=warehouse or world.sh, zone="sellable").on_hand


def _moves(world, kind="receipt", reference="ERP-7bcadb") -> int:
    return StockMove.objects.filter(stock__sku=world.sku_s, kind=kind, reference=reference).count()


def test_a_retried_receipt_with_the_same_key_returns_the_first_move_and_books_once(world, erp):
    path = f"/inventory/{world.store.pk}/stock/moves"
    # when the ERP posts a receipt and, after a timeout, posts it again with the same key
    first = _post(erp, path, _receipt(world), key="erp-po-881-1")
    again = _post(erp, path, _receipt(world), key="erp-po-881-1")
    # then the retry answers the first ledger line (200, as the checkout does) ...
    assert (first.status_code, again.status_code) == (201, 200), again.content
    assert again.json() == first.json()
    assert first.json()["on_hand_after"] == 15
    # ... and the stock went up once
    assert _on_hand(world) == 15
    assert _moves(world) == 1


def test_the_same_key_with_another_body_is_a_409_and_books_nothing(world, erp):
    path = f"/inventory/{world.store.pk}/stock/moves"
    assert _post(erp, path, _receipt(world, quantity=5), key="erp-1").status_code == 201
    # when the key is used again for a different quantity
    reused = _post(erp, path, _receipt(world, quantity=7), key="erp-1")
    # then it is refused in the error shape and nothing more is booked
    assert reused.status_code == 409, reused.content
    assert reused.json()["code"] == "idempotency_key_reused"
    assert _on_hand(world) == 15
    assert _moves(world) == 1


def test_without_a_key_a_move_is_booked_each_time_as_before(world, erp):
    path = f"/inventory/{world.store.pk}/stock/moves"
    answers = [_post(erp, path, _receipt(world)) for _ in range(2)]
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[0].json()["id"] != answers[1].json()["id"]
    assert _on_hand(world) == 20
    assert IdempotentRequest.objects.count() == 0


def test_a_retried_adjustment_and_transfer_return_their_first_lines(world, erp):
    store = world.store.pk
    adjust = {"sku_id": world.sku_s.pk, "warehouse_id": world.sh.pk, "delta": -2, "reason": "破损"}
    transfer = {
        "sku_id": world.sku_s.pk,
        "from_warehouse_id": world.sh.pk,
        "to_warehouse_id": world.gz.pk,
        "quantity": 3,
        "reason": "调拨",
    }
    adjusted = [_post(erp, f"/inventory/{store}/stock/adjust", adjust, key="adj-1") for _ in range(2)]
    moved = [_post(erp, f"/inventory/{store}/stock/transfer", transfer, key="tr-1") for _ in range(2)]
    assert [a.status_code for a in adjusted] == [201, 200], adjusted[1].content
    assert adjusted[0].json() == adjusted[1].json()
    assert [a.status_code for a in moved] == [201, 200], moved[1].content
    assert [m["id"] for m in moved[0].json()] == [m["id"] for m in moved[1].json()]
    # 10 − 2 − 3 in Shanghai, 3 in Guangzhou: each booked once
    assert (_on_hand(world), _on_hand(world, warehouse=world.gz)) == (5, 3)


def test_keys_are_scoped_per_store_and_per_endpoint(world, erp, system):
    store = world.store.pk
    # the same key on another endpoint is another request: both are booked
    assert _post(erp, f"/inventory/{store}/stock/moves", _receipt(world), key="k-1").status_code == 201
    adjust = {"sku_id": world.sku_s.pk, "warehouse_id": world.sh.pk, "delta": 1, "reason": "盘盈"}
    assert _post(erp, f"/inventory/{store}/stock/adjust", adjust, key="k-1").status_code == 201
    assert _on_hand(world) == 16
    # and in another store the key is free again
    other = store_services.store_create(actor=system, code="s2", name="二店")
    wh = inv.warehouse_create(actor=ACTOR, store=other, code="bj", name="北京仓")
    sku2 = a_product(other, a_dress_category(other, required_qualifications=[]), "Q1").skus.get(code="Q1-S")
    body = {"kind": "receipt", "sku_id": sku2.pk, "warehouse_id": wh.pk, "quantity": 4, "reason": "采购入库"}
    assert _post(erp, f"/inventory/{other.pk}/stock/moves", body, key="k-1").status_code == 201
    assert _on_hand(world, sku=sku2, warehouse=wh) == 4
    # while on each endpoint of each store a retry is still recognised
    assert _post(erp, f"/inventory/{store}/stock/adjust", adjust, key="k-1").status_code == 200
    assert _post(erp, f"/inventory/{other.pk}/stock/moves", body, key="k-1").status_code == 200
    assert (_on_hand(world), _on_hand(world, sku=sku2, warehouse=wh)) == (16, 4)


def test_an_error_is_not_remembered_so_the_retry_books(world, erp):
    path = f"/inventory/{world.store.pk}/stock/moves"
    ship = {**_receipt(world, quantity=2, reference="SO-1"), "kind": "shipment", "reason": "出库"}
    # a shipment before its reservation is refused ...
    refused = _post(erp, path, ship, key="ship-1")
    assert (refused.status_code, refused.json()["code"]) == (409, "not_reserved")
    # ... and once the units are reserved the same request with the same key goes through
    inv.stock_reserve(actor=ACTOR, sku=world.sku_s, warehouse=world.sh, quantity=2, reference="SO-1")
    shipped = _post(erp, path, ship, key="ship-1")
    assert shipped.status_code == 201, shipped.content
    # and from then on the key stands for that shipment
    assert _post(erp, path, ship, key="ship-1").status_code == 200
    assert _on_hand(world) == 8


def test_a_retried_count_posting_returns_the_first_report_instead_of_already_posted(world, erp):
    sheet = counts.count_sheet_create(
        actor=ACTOR, store=world.store, warehouse=world.sh, scope="skus", sku_ids=[world.sku_s.pk]
    )
    counts.count_sheet_start(actor=ACTOR, sheet=sheet)
    counts.count_sheet_enter(actor=ACTOR, sheet=sheet, counts={world.sku_s.pk: 8})
    path = f"/inventory/{world.store.pk}/count-sheets/{sheet.pk}/post"
    first = _post(erp, path, key="count-1")
    again = _post(erp, path, key="count-1")
    assert (first.status_code, again.status_code) == (200, 200), again.content
    assert again.json() == first.json()
    assert first.json()["net_value"] == "-120.00"
    assert _on_hand(world) == 8
    # without the key a second post is still refused as before
    assert _post(erp, path).json()["code"] == "already_posted"


def test_a_key_longer_than_100_characters_is_a_422(world, erp):
    answer = _post(erp, f"/inventory/{world.store.pk}/stock/moves", _receipt(world), key="k" * 101)
    assert answer.status_code == 422
    assert "idempotency_key" in answer.json()["fields"]
    assert _on_hand(world) == 10


def test_keys_are_kept_a_week_then_purged(world, erp):
    path = f"/inventory/{world.store.pk}/stock/moves"
    assert _post(erp, path, _receipt(world), key="old").status_code == 201
    assert _post(erp, path, _receipt(world, reference="ERP-2"), key="recent").status_code == 201
    now = timezone.now()
    IdempotentRequest.objects.filter(key="old").update(created_at=now - dt.timedelta(days=8))
    IdempotentRequest.objects.filter(key="recent").update(created_at=now - dt.timedelta(days=6))
    assert inv.idempotency_purge(now=now) == 1
    # a retry of the recent one (well past 24 h) is still recognised
    assert _post(erp, path, _receipt(world, reference="ERP-2"), key="recent").status_code == 200
    assert list(IdempotentRequest.objects.values_list("key", flat=True)) == ["recent"]


THREADS = 6


@pytest.mark.django_db(transaction=True)
def test_simultaneous_requests_with_one_key_book_the_receipt_once(store, channel, erp):
    # given an ERP whose receipt timed out and is retried while the first is still running
    world = World(store, channel, stock_sh=10, stock_gz=0)
    path = f"/inventory/{store.pk}/stock/moves"
    body = _receipt(world, quantity=5)
    # when the same request arrives six times at once
    outcome = at_once(lambda: _post(erp, path, body, key="erp-po-9-1"), THREADS)
    # then every caller gets the same ledger line: one 201, the others 200
    assert outcome.errors == []
    answers = outcome.results
    assert sorted(a.status_code for a in answers) == [200] * (THREADS - 1) + [201], [
        a.content for a in answers
    ]
    assert len({a.json()["id"] for a in answers}) == 1
    # and the stock went up by 5, once
    assert _on_hand(world) == 15
    assert _moves(world) == 1


@pytest.mark.django_db(transaction=True)
def test_simultaneous_shipments_with_one_key_ship_once_and_all_get_the_first_line(store, channel, erp):
    # given 2 units reserved for one order: a second booking of the shipment would be refused
    world = World(store, channel, stock_sh=10, stock_gz=0)
    inv.stock_reserve(actor=ACTOR, sku=world.sku_s, warehouse=world.sh, quantity=2, reference="SO-7")
    path = f"/inventory/{store.pk}/stock/moves"
    body = {**_receipt(world, quantity=2, reference="SO-7"), "kind": "shipment", "reason": "出库"}
    # when the WMS's shipment arrives several times at once with one key
    outcome = at_once(lambda: _post(erp, path, body, key="wms-ship-7"), THREADS)
    # then it is booked once and no retry sees "not reserved": they all get the first line
    assert outcome.errors == []
    assert sorted(a.status_code for a in outcome.results) == [200] * (THREADS - 1) + [201], [
        a.content for a in outcome.results
    ]
    stock = Stock.objects.get(sku=world.sku_s, warehouse=world.sh, zone="sellable")
    assert (stock.on_hand, stock.reserved) == (8, 0)
    assert _moves(world, kind="shipment", reference="SO-7") == 1
