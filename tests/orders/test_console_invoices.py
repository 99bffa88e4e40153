"""ORD-07 on the console order page: the order's invoice requests (with the three-flow check)
and the form customer service records a customer's request with (by chat or phone)."""

from __future__ import annotations

import html
import re

import pytest
from django.test import Client

from storeops.accounts.roles import Role
from storeops.audit.models import AuditEntry
from storeops.orders import invoices as inv
from storeops.orders import services as svc
from storeops.orders.models import InvoiceRequest
from storeops.orders.rules import uscc_check_char
from tests.orders.builders import ACTOR, World

pytestmark = pytest.mark.django_db

TAX_ID = "91330106MA2GL1234" + uscc_check_char("91330106MA2GL1234")
BAD_TAX_ID = TAX_ID[:-1] + ("0" if TAX_ID[-1] != "0" else "1")  # wrong check character
COMPANY = "杭州某某科技有限公司"
COMPANY_ADDRESS = svc.AddressIn(
    receiver="张三", phone="13812345678", province="浙江省", city="杭州市", district="西湖区",
    address=f"文三路100号{COMPANY}",
)  # fmt: skip


@pytest.fixture
def world(store, channel):
    return World(store, channel)


def _client(make_user, role, **kwargs):
    client = Client()
    client.force_login(make_user(role, **kwargs))
    return client


def _paid(world, address=None, customer="c1"):
    order = world.place(1, customer=customer, **({"address": address} if address else {}))
    world.pay(order)
    order.refresh_from_db()
    return order


def _form(page: str, order) -> str:
    """The 申请开票 form of the order page ('' when not shown)."""
    action = f'action="/orders/{order.pk}/invoice/"'
    return page.split(action, 1)[1].split("</form>", 1)[0] if action in page else ""


def _value(form: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', form)
    assert found, name
    return html.unescape(found.group(1))


def _selected(form: str, name: str) -> str:
    select = form.split(f'name="{name}"', 1)[1].split("</select>", 1)[0]
    found = re.search(r'<option value="([^"]*)" selected>', select)
    assert found, name
    return found.group(1)


def _field_error(page: str, name: str) -> str:
    found = re.search(rf'<span class="err" data-field="{name}">([^<]*)</span>', page)
    return html.unescape(found.group(1)) if found else ""


def _company_post(**kw):
    return {
        "kind": "electronic",
        "title_type": "company",
        "title": COMPANY,
        "tax_id": TAX_ID,
        "email": "finance@example.com",
        "mailing_address": "",
        "payer_name": COMPANY,
        "amount": "",
        **kw,
    }


def test_ord_07_cs_records_an_electronic_company_invoice_from_the_order_page(world, make_user):
    # given a paid order delivered to the company and a customer service agent on its page
    order = _paid(world, address=COMPANY_ADDRESS)
    cs = _client(make_user, Role.CUSTOMER_SERVICE, username="cs1")
    page = cs.get(f"/orders/{order.pk}/").content.decode()
    form = _form(page, order)
    assert "申请开票" in page
    assert form, "the CS agent is offered the invoice request form"
    # pre-filled: an electronic invoice for a person, titled with the receiver's name
    assert _selected(form, "kind") == "electronic"
    assert _selected(form, "title_type") == "personal"
    assert _value(form, "title") == "张三"
    assert COMPANY_ADDRESS.address in _value(form, "mailing_address")
    assert "没有发票申请" in page

    # when the agent records the customer's electronic company invoice request
    response = cs.post(f"/orders/{order.pk}/invoice/", _company_post(), follow=True)

    # then it is recorded by the service the API uses (audited, amount = paid less refunds)
    assert response.redirect_chain[-1][0] == f"/orders/{order.pk}/"
    text = " ".join(str(m) for m in response.context["messages"])
    assert "已记录" in text
    assert order.number in text
    invoice = InvoiceRequest.objects.get(order=order)
    assert (invoice.kind, invoice.title_type, invoice.title, invoice.tax_id, invoice.status) == (
        "electronic",
        "company",
        COMPANY,
        TAX_ID,
        "requested",
    )
    assert invoice.amount == inv.net_paid(order)
    assert invoice.requested_by.startswith("cs1")
    assert AuditEntry.objects.filter(action="invoice.request", object_id=str(invoice.pk)).exists()
    # the order page lists it (no flow problem) and offers no second request while it is open
    page = response.content.decode()
    section = page.split('id="invoice"', 1)[1]
    for shown in (COMPANY, TAX_ID, "待开票", "一致"):
        assert shown in section
    assert not _form(page, order)
    assert "已有未完成的发票申请" in section
    # and it appears in finance's queue
    finance = _client(make_user, Role.FINANCE, username="fin1")
    queue = finance.get("/orders/invoices/").content.decode()
    assert order.number in queue
    assert COMPANY in queue


def test_ord_07_bad_tax_id_shows_the_error_next_to_the_field_and_keeps_the_input(world, make_user):
    order = _paid(world, address=COMPANY_ADDRESS)
    cs = _client(make_user, Role.CUSTOMER_SERVICE)
    typed = _company_post(
        kind="paper",
        tax_id=BAD_TAX_ID,
        mailing_address="杭州市西湖区文三路100号 财务部 王会计 13800000000",
        email="f@example.com",
        amount="50.00",
    )

    response = cs.post(f"/orders/{order.pk}/invoice/", typed)

    # the order page again (422, as every refused console form), not a redirect: the error
    # next to the tax id, nothing recorded
    assert response.status_code == 422
    page = response.content.decode()
    assert "统一社会信用代码无效" in _field_error(page, "tax_id")
    assert 'name="tax_id" value="' + BAD_TAX_ID + '" autofocus' in page  # scrolled to it
    assert not _field_error(page, "title")
    assert "发票申请信息有误" in page
    assert not InvoiceRequest.objects.filter(order=order).exists()
    # switching the language on that page (it sends the reader back to its address) is no 405
    back = cs.get(f"/orders/{order.pk}/invoice/")
    assert back.status_code == 302
    assert back["Location"] == f"/orders/{order.pk}/#invoice"
    # everything typed is kept
    form = _form(page, order)
    assert _selected(form, "kind") == "paper"
    assert _selected(form, "title_type") == "company"
    for name in ("title", "tax_id", "email", "mailing_address", "payer_name", "amount"):
        assert _value(form, name) == typed[name], name


def test_ord_07_bad_amount_and_missing_email_show_next_to_their_fields(world, make_user):
    order = _paid(world)
    cs = _client(make_user, Role.CUSTOMER_SERVICE)
    page = cs.post(f"/orders/{order.pk}/invoice/", _company_post(amount="abc")).content.decode()
    assert _field_error(page, "amount")
    page = cs.post(f"/orders/{order.pk}/invoice/", _company_post(amount="99999", email="")).content.decode()
    assert "电子发票必须填写接收邮箱" in _field_error(page, "email")
    page = cs.post(f"/orders/{order.pk}/invoice/", _company_post(amount="99999")).content.decode()
    assert _field_error(page, "amount")  # more than paid less refunds
    assert _value(_form(page, order), "amount") == "99999"
    assert not InvoiceRequest.objects.filter(order=order).exists()


def test_ord_07_warehouse_user_gets_403_and_no_form(world, make_user):
    order = _paid(world, address=COMPANY_ADDRESS)
    warehouse = _client(make_user, Role.WAREHOUSE)
    page = warehouse.get(f"/orders/{order.pk}/").content.decode()
    assert 'id="invoice"' in page  # reads the order's invoices
    assert not _form(page, order)
    assert warehouse.post(f"/orders/{order.pk}/invoice/", _company_post()).status_code == 403
    assert not InvoiceRequest.objects.filter(order=order).exists()


def test_ord_07_order_page_shows_the_three_flow_problems(world, make_user):
    # given a company invoice paid by a person and delivered to a person at home
    order = _paid(world)
    inv.invoice_request(
        actor=ACTOR,
        order=order,
        kind="electronic",
        title_type="company",
        title=COMPANY,
        tax_id=TAX_ID,
        email="f@example.com",
        payer_name="李四",
    )
    page = _client(make_user, Role.CUSTOMER_SERVICE).get(f"/orders/{order.pk}/").content.decode()
    section = page.split('id="invoice"', 1)[1].split("</table>", 1)[0]
    assert "付款人与发票抬头不一致" in section
    assert "收货人/收货地址与发票抬头单位不一致" in section
    assert "sev-critical" in section


def test_ord_07_unpaid_order_offers_no_request(world, make_user):
    order = world.place(1)
    page = _client(make_user, Role.CUSTOMER_SERVICE).get(f"/orders/{order.pk}/").content.decode()
    assert not _form(page, order)
    assert "尚未付款" in page.split('id="invoice"', 1)[1]


def test_ord_07_invoice_form_in_english(world, make_user):
    order = _paid(world)
    client = _client(make_user, Role.CUSTOMER_SERVICE, username="cs_en", language="en")
    page = client.get(f"/orders/{order.pk}/").content.decode()
    form = _form(page, order)
    assert "Submit invoice request" in form
    page = client.post(f"/orders/{order.pk}/invoice/", _company_post(tax_id=BAD_TAX_ID)).content.decode()
    error = _field_error(page, "tax_id")
    assert error
    assert not re.search(r"[\u4e00-\u9fff]", error)


# --- the finance queue: a refused issue / reject / reversal keeps what was typed ----------------


def _queue_form(page: str, invoice, action: str) -> str:
    marker = f'action="/orders/invoices/{invoice.pk}/{action}/"'
    assert marker in page, action
    return page.split(marker, 1)[1].split("</form>", 1)[0]


def test_ord_07_a_refused_issue_or_reject_shows_the_queue_again_with_the_value_as_typed(world, make_user):
    # a refusal redirected to the queue: the invoice number or reason typed was lost
    first = _company_request_for(_paid(world, customer="c1"))
    second = _company_request_for(_paid(world, customer="c2"))
    inv.invoice_issue(actor=ACTOR, invoice=second, invoice_number="88001")
    other = _company_request_for(_paid(world, customer="c3"))
    finance = _client(make_user, Role.FINANCE)
    back = "/orders/invoices/?status=requested&q="
    cases = [
        ("issue", {"invoice_number": "88/01"}, "invoice_number", "只能是数字、字母或连字符，最多 40 位"),
        ("issue", {"invoice_number": "88001"}, "invoice_number", ""),  # used: a message on top
        ("reject", {"reason": "抬头" * 101}, "reason", "最多 200 个字符"),
    ]
    for action, data, name, error in cases:
        response = finance.post(f"/orders/invoices/{first.pk}/{action}/", {**data, "next": back})
        assert response.status_code == 422
        page = response.content.decode()
        form = _queue_form(page, first, action)
        assert _value(form, name) == data[name]
        assert _field_error(form, name) == error
        assert list(response.context["messages"])
        # the other rows' forms are new, and every form still goes back to the filtered queue
        assert 'value="88/01"' not in _queue_form(page, other, "issue")
        assert f'name="next" value="{html.escape(back)}"' in form
    first.refresh_from_db()
    assert first.status == "requested"
    assert first.invoice_number == ""
    # the same forms as first shown are empty
    plain = finance.get(back).content.decode()
    assert 'name="invoice_number" value=' not in plain


def test_ord_07_a_refused_reversal_keeps_its_reason_and_a_long_reason_is_refused_not_cut(world, make_user):
    order = world.place(2, customer="c1")
    world.pay(order)
    invoice = _company_request_for(order)
    inv.invoice_issue(actor=ACTOR, invoice=invoice, invoice_number="88002")
    svc.order_refund(actor=ACTOR, order=order, units={order.lines.get().pk: 1}, reason="缺货")  # one of two
    finance = _client(make_user, Role.FINANCE)
    long_reason = "开票后退款" * 41  # 205 characters: it used to be cut at 200 without a word
    response = finance.post(
        f"/orders/invoices/{invoice.pk}/reverse/",
        {"reason": long_reason, "next": "/orders/invoices/?status=issued"},
    )
    assert response.status_code == 422
    form = _queue_form(response.content.decode(), invoice, "reverse")
    assert _value(form, "reason") == long_reason
    assert _field_error(form, "reason") == "最多 200 个字符"
    invoice.refresh_from_db()
    assert invoice.status == "issued"
    response = finance.post(
        f"/orders/invoices/{invoice.pk}/reverse/",
        {"reason": "退款", "next": "/orders/invoices/?status=issued"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/orders/invoices/?status=issued"
    invoice.refresh_from_db()
    assert invoice.status == "reversed"


def _company_request_for(order):
    return inv.invoice_request(
        actor=ACTOR,
        order=order,
        kind="electronic",
        title_type="company",
        title=COMPANY,
        tax_id=TAX_ID,
        email="finance@example.com",
        payer_name=COMPANY,
    )
