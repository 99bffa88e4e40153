"""ORD-07: invoices on request and the three-flow consistency check (三流合一)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from storeops.accounts.roles import Role
from storeops.core.errors import Conflict, InvalidTransition, ValidationError
from storeops.orders import invoices as inv
from storeops.orders import services as svc
from storeops.orders.models import InvoiceRequest
from storeops.orders.rules import uscc_check_char
from storeops.sop.models import Finding
from storeops.sop.services import checks_run
from tests.orders.builders import ACTOR, World

pytestmark = pytest.mark.django_db

TAX_ID = "91330106MA2GL1234" + uscc_check_char("91330106MA2GL1234")
COMPANY = "杭州某某科技有限公司"
COMPANY_ADDRESS = svc.AddressIn(
    receiver="张三", phone="13812345678", province="浙江省", city="杭州市", district="西湖区",
    address=f"文三路100号{COMPANY}",
)  # fmt: skip


@pytest.fixture
def world(store, channel):
    return World(store, channel)


def _paid(world, qty=2, address=None):
    order = world.place(qty, **({"address": address} if address else {}))
    world.pay(order)
    order.refresh_from_db()
    return order


def _company_request(order, **kw):
    data = {
        "kind": "electronic",
        "title_type": "company",
        "title": COMPANY,
        "tax_id": TAX_ID,
        "email": "finance@example.com",
        "payer_name": COMPANY,
    }
    return inv.invoice_request(actor=ACTOR, order=order, **{**data, **kw})


def _ord07(store):
    checks_run(rule="ORD-07", store=store, notify=False)
    return Finding.objects.filter(rule_id="ORD-07", resolved_at__isnull=True)


# --- requests ------------------------------------------------------------------------------------


def test_ord_07_request_for_a_paid_order_takes_paid_less_refunded(world):
    order = _paid(world, qty=2)
    svc.order_refund(actor=ACTOR, order=order, units={order.lines.get().pk: 1}, reason="少发一件")
    invoice = inv.invoice_request(
        actor=ACTOR,
        order=order,
        kind="paper",
        title_type="personal",
        title="张三",
        mailing_address="杭州文三路100号",
    )
    assert invoice.status == "requested"
    assert invoice.amount == Decimal("100.00") == order.payable - Decimal("100.00")


def test_ord_07_unpaid_order_cannot_be_invoiced(world):
    order = world.place(1)
    with pytest.raises(InvalidTransition, match="尚未付款"):
        _company_request(order)
    assert not InvoiceRequest.objects.exists()


def test_ord_07_amount_never_more_than_paid_less_refunded(world):
    order = _paid(world, qty=1, address=COMPANY_ADDRESS)
    with pytest.raises(ValidationError) as exc:
        _company_request(order, amount=Decimal("100.01"))
    assert "amount" in exc.value.fields
    assert _company_request(order, amount=Decimal("60.00")).amount == Decimal("60.00")
    # a smaller invoice the customer asked for is not a three-flow mismatch
    assert not _ord07(order.store).exists()


def test_ord_07_one_open_request_per_order(world):
    order = _paid(world)
    first = _company_request(order)
    with pytest.raises(Conflict):
        _company_request(order)
    inv.invoice_reject(actor=ACTOR, invoice=first, reason="抬头有误")
    assert _company_request(order, title=COMPANY).status == "requested"  # a new one after rejection


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"tax_id": ""}, "tax_id"),
        ({"tax_id": TAX_ID[:-1] + ("0" if TAX_ID[-1] != "0" else "1")}, "tax_id"),  # wrong check char
        ({"email": ""}, "email"),
        ({"email": "not-an-email"}, "email"),
        ({"kind": "paper", "mailing_address": ""}, "mailing_address"),
        ({"title": ""}, "title"),
        ({"kind": "fax"}, "kind"),
    ],
)
def test_ord_07_bad_request_is_refused_with_field_messages(world, changes, field):
    order = _paid(world)
    with pytest.raises(ValidationError) as exc:
        _company_request(order, **changes)
    assert field in exc.value.fields
    assert not InvoiceRequest.objects.exists()


# --- issue, reject, reverse ----------------------------------------------------------------------


def test_ord_07_issue_then_reverse_after_refund_then_request_again(world):
    order = _paid(world, qty=2)
    invoice = _company_request(order)
    with pytest.raises(InvalidTransition):
        inv.invoice_reverse(actor=ACTOR, invoice=invoice, reason="x")  # not issued yet
    issued = inv.invoice_issue(actor=ACTOR, invoice=invoice, invoice_number="24330000000012345678")
    assert (issued.status, issued.invoice_number) == ("issued", "24330000000012345678")
    assert issued.issued_at is not None
    with pytest.raises(InvalidTransition, match="没有退款"):
        inv.invoice_reverse(actor=ACTOR, invoice=issued, reason="x")
    svc.order_refund(actor=ACTOR, order=order, units={order.lines.get().pk: 1}, reason="退一件")
    reversed_ = inv.invoice_reverse(actor=ACTOR, invoice=issued, reason="部分退款，红冲")
    assert reversed_.status == "reversed"
    assert reversed_.reason == "部分退款，红冲"
    again = _company_request(order)
    assert again.amount == Decimal("100.00")


def test_ord_07_issue_refused_when_refunded_since_the_request(world):
    order = _paid(world, qty=2)
    invoice = _company_request(order)
    svc.order_refund(actor=ACTOR, order=order, units={order.lines.get().pk: 1}, reason="退一件")
    with pytest.raises(Conflict, match="超过实付减退款"):
        inv.invoice_issue(actor=ACTOR, invoice=invoice, invoice_number="1001")
    with pytest.raises(ValidationError):
        inv.invoice_reject(actor=ACTOR, invoice=invoice, reason=" ")
    assert inv.invoice_reject(actor=ACTOR, invoice=invoice, reason="金额变化").status == "rejected"


def test_ord_07_invoice_numbers_are_unique_per_store(world):
    a = _company_request(_paid(world))
    b = _company_request(_paid(world))
    inv.invoice_issue(actor=ACTOR, invoice=a, invoice_number="1001")
    with pytest.raises(Conflict):
        inv.invoice_issue(actor=ACTOR, invoice=b, invoice_number="1001")


# --- the three-flow check ------------------------------------------------------------------------


def test_ord_07_three_flows_agree_no_finding(world, store):
    order = _paid(world, address=COMPANY_ADDRESS)
    _company_request(order)
    assert not _ord07(store).exists()


def test_ord_07_payer_not_the_company_raises_a_finance_finding_that_resolves(world, store):
    # given a company invoice paid by a private person and shipped to a private address
    order = _paid(world)
    invoice = _company_request(order, payer_name="李四")
    findings = _ord07(store)
    assert findings.count() == 1
    finding = findings.get()
    assert finding.owner_role == Role.FINANCE
    assert set(finding.detail["problems"]) == {"funds", "goods"}
    assert "发票三流不一致" in finding.title
    # when finance rejects the request, the finding resolves itself
    inv.invoice_reject(actor=ACTOR, invoice=invoice, reason="付款人与抬头不一致")
    assert not _ord07(store).exists()


def test_ord_07_refund_after_issuing_raises_amount_finding_until_reversed(world, store):
    order = _paid(world, qty=2, address=COMPANY_ADDRESS)
    invoice = inv.invoice_issue(actor=ACTOR, invoice=_company_request(order), invoice_number="1001")
    assert not _ord07(store).exists()
    svc.order_refund(actor=ACTOR, order=order, units={order.lines.get().pk: 1}, reason="退一件")
    finding = _ord07(store).get()
    assert finding.detail["problems"] == ["amount"]
    assert finding.severity == "critical"
    inv.invoice_reverse(actor=ACTOR, invoice=invoice, reason="红冲")
    assert not _ord07(store).exists()


# --- API -----------------------------------------------------------------------------------------


def _body(order, **kw):
    return {
        "order_number": order.number,
        "kind": "electronic",
        "title_type": "company",
        "title": COMPANY,
        "tax_id": TAX_ID,
        "email": "finance@example.com",
        "payer_name": COMPANY,
        **kw,
    }


def test_ord_07_api_request_issue_and_permissions(world, store, api_as):
    order = _paid(world, address=COMPANY_ADDRESS)
    cs, finance = api_as(Role.CUSTOMER_SERVICE), api_as(Role.FINANCE)
    bad = cs.post(f"/orders/invoices/{store.pk}", _body(order, tax_id="123"))
    assert bad.status_code == 422
    assert "tax_id" in bad.json()["fields"]
    assert finance.post(f"/orders/invoices/{store.pk}", _body(order)).status_code == 403
    created = cs.post(f"/orders/invoices/{store.pk}", _body(order))
    assert created.status_code == 201, created.content
    data = created.json()
    assert (data["amount"], data["net_paid"], data["flow_problems"]) == ("200.00", "200.00", [])
    assert cs.post(f"/orders/invoices/{store.pk}", _body(order)).status_code == 409
    invoice_id = data["id"]
    assert (
        cs.post(f"/orders/invoices/{store.pk}/{invoice_id}/issue", {"invoice_number": "1"}).status_code == 403
    )
    empty = finance.post(f"/orders/invoices/{store.pk}/{invoice_id}/issue", {"invoice_number": ""})
    assert empty.status_code == 422
    issued = finance.post(f"/orders/invoices/{store.pk}/{invoice_id}/issue", {"invoice_number": "1001"})
    assert issued.status_code == 200
    assert issued.json()["status"] == "issued"
    listed = finance.get(f"/orders/invoices/{store.pk}", status="issued").json()
    assert [i["id"] for i in listed["items"]] == [invoice_id]
    assert finance.get(f"/orders/invoices/{store.pk}/999999").status_code == 404
    unknown = cs.post(f"/orders/invoices/{store.pk}", _body(order, order_number="NOPE"))
    assert unknown.status_code == 422


# --- console -------------------------------------------------------------------------------------


def test_ord_07_console_invoice_queue_renders_and_finance_issues(world, store, make_user):
    order = _paid(world)
    invoice = _company_request(order, payer_name="李四")
    client = Client()
    client.force_login(make_user(Role.FINANCE))
    page = client.get("/orders/invoices/")
    assert page.status_code == 200
    text = page.content.decode()
    assert COMPANY in text
    assert "付款人与发票抬头不一致" in text
    response = client.post(f"/orders/invoices/{invoice.pk}/issue/", {"invoice_number": "88001"})
    assert response.status_code == 302
    invoice.refresh_from_db()
    assert invoice.status == "issued"
    assert invoice.invoice_number == "88001"
    cs = Client()
    cs.force_login(make_user(Role.CUSTOMER_SERVICE))
    assert cs.post(f"/orders/invoices/{invoice.pk}/reject/", {"reason": "x"}).status_code == 403


def test_ord_07_every_open_request_that_breaks_the_three_flows_has_a_finding(world, store, monkeypatch):
    """Not the first N requests only: with the read batch at 2, five requests all report."""
    from storeops.orders import invoice_checks

    monkeypatch.setattr(invoice_checks, "BATCH_SIZE", 2)
    invoices = [_company_request(_paid(world, qty=1), payer_name="李四") for _ in range(5)]
    assert sorted(f.subject_id for f in _ord07(store)) == sorted(str(i.pk) for i in invoices)
