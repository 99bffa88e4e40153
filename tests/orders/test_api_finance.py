"""Payment reconciliation through the API (SOP ORD-06): finance uploads a provider statement,
reads the comparison, applies a payment whose callback was lost, reads the daily ledger;
bad files are a 422 naming the rows and write nothing; other roles cannot import."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from storeops.accounts.roles import Role
from storeops.orders import services as svc
from storeops.orders.models import PaymentStatement
from tests.orders.builders import ACTOR, T0, World
from tests.orders.test_reconcile_db import DAY, wechat_bill

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(store, channel):
    return World(store, channel, stock_sh=20, stock_gz=20)


def _upload(api, store, data, **fields):
    body = {"provider": "test", "file_format": "wechatpay", "statement_date": DAY.isoformat(), **fields}
    body["file"] = SimpleUploadedFile("bill.csv", data)
    return api.client.post(f"/api/v1/orders/finance/{store.pk}/statements", body, **api.headers)


def test_ord06_finance_imports_a_statement_and_applies_a_lost_payment(api_as, world, store):
    paid = world.place(1, customer="c1", now=T0)
    _p, *_ = world.pay(paid, now=T0)
    paid_payment = paid.payments.get()
    lost = world.place(2, customer="c2", now=T0)
    lost_payment = svc.payment_start(actor=ACTOR, order=lost, now=T0)
    finance = api_as(Role.FINANCE)
    data = wechat_bill(
        [
            ("SUCCESS", paid_payment.reference, "100.00", "", "", "0.60"),
            ("SUCCESS", lost_payment.reference, "200.00", "", "", "1.20"),
        ]
    )
    r = _upload(finance, store, data)
    assert r.status_code == 201, r.content
    statement = r.json()
    assert (statement["payments_count"], statement["net"]) == (2, "298.20")
    r = finance.get(f"/orders/finance/{store.pk}/statements/{statement['id']}")
    assert r.status_code == 200
    detail = r.json()
    assert detail["differences"] == 1
    first = detail["items"][0]
    assert (first["reference"], first["result"], first["can_apply"]) == (
        lost_payment.reference,
        "not_in_store",
        True,
    )
    assert first["result_label"] == "渠道已收/退款，本系统未记录"
    r = finance.post(
        f"/orders/finance/{store.pk}/statements/{statement['id']}/apply",
        {"reference": lost_payment.reference},
    )
    assert r.status_code == 200, r.content
    assert r.json()["result"] == "applied"
    lost.refresh_from_db()
    assert lost.status == "paid"
    r = finance.post(
        f"/orders/finance/{store.pk}/statements/{statement['id']}/apply",
        {"reference": lost_payment.reference},
    )
    assert r.status_code == 409
    assert r.json()["code"] == "already_collected"
    r = finance.get(f"/orders/finance/{store.pk}/statements")
    assert r.json()["total"] == 1
    r = finance.get(f"/orders/finance/{store.pk}/ledger", start=DAY.isoformat(), end=DAY.isoformat())
    assert r.status_code == 200
    ledger = r.json()
    assert [(row["day"], row["payments_amount"], row["statement_id"]) for row in ledger["rows"]] == [
        (DAY.isoformat(), "300.00", statement["id"])
    ]  # the applied payment counts on the day the provider collected it


def test_ord06_a_bad_statement_is_a_422_naming_the_rows(api_as, world, store):
    finance = api_as(Role.FINANCE)
    r = _upload(finance, store, wechat_bill([("SUCCESS", "P1", "1.00x", "", "", "0")]))
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "statement_rows_invalid"
    assert "第 2 行" in body["fields"]["file"]
    r = _upload(finance, store, b"x", file_format="paypal")
    assert r.status_code == 422
    assert "file_format" in str(r.json())
    r = _upload(finance, store, wechat_bill([]), provider="nope")
    assert r.status_code == 422
    assert "provider" in r.json()["fields"]
    assert not PaymentStatement.objects.exists()


def test_ord06_ledger_period_is_checked(api_as, store):
    finance = api_as(Role.FINANCE)
    r = finance.get(f"/orders/finance/{store.pk}/ledger", start="2026-06-02", end="2026-06-01")
    assert r.status_code == 422
    assert "start" in r.json()["fields"]
    r = finance.get(
        f"/orders/finance/{store.pk}/ledger", start="2020-01-01", end=(DAY + dt.timedelta(days=1)).isoformat()
    )
    assert r.status_code == 422


@pytest.mark.parametrize("role", [Role.CUSTOMER_SERVICE, Role.OPERATIONS, Role.ANALYST])
def test_ord06_only_finance_and_the_owner_import_statements(api_as, world, store, role):
    r = _upload(api_as(role), store, wechat_bill([]))
    assert r.status_code == 403
    assert _upload(api_as(Role.OWNER), store, wechat_bill([])).status_code == 201


def test_ord06_the_statement_detail_pages_its_lines(api_as, world, store):
    # given a statement of two collections, one of them unknown to us (listed first)
    paid = world.place(1, customer="c1", now=T0)
    world.pay(paid, now=T0)
    finance = api_as(Role.FINANCE)
    data = wechat_bill(
        [
            ("SUCCESS", paid.payments.get().reference, "100.00", "", "", "0.60"),
            ("SUCCESS", "NOT-OURS-1", "50.00", "", "", "0.30"),
        ]
    )
    statement = _upload(finance, store, data).json()
    url = f"/orders/finance/{store.pk}/statements/{statement['id']}"

    # when
    second = finance.get(url, page=2, page_size=1)
    too_big = finance.get(url, page_size=501)

    # then
    assert second.status_code == 200, second.content
    body = second.json()
    assert (body["items_total"], body["page"], body["page_size"], body["differences"]) == (2, 2, 1, 1)
    assert [i["result"] for i in body["items"]] == ["matched"]
    assert too_big.status_code == 422
    assert "page_size" in too_big.json()["fields"]


def test_ord06_the_statement_detail_lists_fees_above_the_agreed_rate(api_as, world, store):
    order = world.place(2, customer="c1", now=T0)
    world.pay(order, now=T0)
    reference = order.payments.get().reference
    finance = api_as(Role.FINANCE)
    statement = _upload(
        finance, store, wechat_bill([("SUCCESS", reference, "200.00", "", "", "2.00")])
    ).json()
    detail = finance.get(f"/orders/finance/{store.pk}/statements/{statement['id']}").json()
    assert detail["differences"] == 0
    assert detail["fee_rate"] == "0.006"
    assert detail["fees_over"] == [  # row 2: the line after the header
        {"row": 2, "reference": reference, "amount": "200.00", "fee": "2.00", "expected_fee": "1.20"}
    ]


def test_ord06_the_statement_detail_pages_the_fees_above_the_agreed_rate(api_as, world, store):
    # given three collections charged 1 % (agreed 0.6 %): fees_over listed every one of them
    finance = api_as(Role.FINANCE)
    data = wechat_bill([("SUCCESS", f"OVER-{n}", "100.00", "", "", "1.00") for n in (1, 2, 3)])
    statement = _upload(finance, store, data).json()
    url = f"/orders/finance/{store.pk}/statements/{statement['id']}"

    # when
    first = finance.get(url, fees_page_size=2)
    second = finance.get(url, fees_page=2, fees_page_size=2)
    bad = finance.get(url, fees_page=0, fees_page_size=501)
    all_bad = finance.get(url, page=0, fees_page_size=0)

    # then: by row, two a page, with the total; the lines' own paging is untouched
    assert first.status_code == 200, first.content
    body = first.json()
    assert (body["fees_over_total"], body["fees_page"], body["fees_page_size"]) == (3, 1, 2)
    assert [f["reference"] for f in body["fees_over"]] == ["OVER-1", "OVER-2"]
    assert (body["items_total"], len(body["items"])) == (3, 3)
    page2 = second.json()
    assert [(f["row"], f["reference"], f["expected_fee"]) for f in page2["fees_over"]] == [
        (4, "OVER-3", "0.60")
    ]
    assert page2["fees_page"] == 2
    assert bad.status_code == 422
    assert set(bad.json()["fields"]) == {"fees_page", "fees_page_size"}
    assert bad.json()["fields"]["fees_page_size"] == "须为 1–500 的整数"
    assert all_bad.status_code == 422
    assert set(all_bad.json()["fields"]) == {"page", "fees_page_size"}  # every bad parameter named
