"""Payment reconciliation on the console (SOP ORD-06): finance uploads a statement, sees the
difference, applies the lost payment with one click; the ledger shows the day beside its
statement; the pages read in Chinese and English; other roles cannot import or apply."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from storeops.accounts.roles import Role, role_grants
from storeops.orders import services as svc
from storeops.orders.models import PaymentStatement
from tests.orders.builders import ACTOR, T0, World
from tests.orders.test_reconcile_db import DAY, wechat_bill

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(store, channel):
    return World(store, channel)


def _client(make_user, role, **kwargs):
    client = Client()
    client.force_login(make_user(role, **kwargs))
    return client


def _upload(client, data):
    return client.post(
        "/finance/statements/upload/",
        {
            "provider": "test",
            "file_format": "wechatpay",
            "statement_date": DAY.isoformat(),
            "file": SimpleUploadedFile("wechat-20260601.csv", data),
        },
    )


def test_ord06_finance_uploads_a_statement_and_applies_the_lost_payment(world, make_user):
    paid = world.place(1, customer="c1", now=T0)
    world.pay(paid, now=T0)
    lost = world.place(1, customer="c2", now=T0)
    lost_payment = svc.payment_start(actor=ACTOR, order=lost, now=T0)
    finance = _client(make_user, Role.FINANCE)
    data = wechat_bill(
        [
            ("SUCCESS", paid.payments.get().reference, "100.00", "", "", "0.60"),
            ("SUCCESS", lost_payment.reference, "100.00", "", "", "0.60"),
        ]
    )
    r = _upload(finance, data)
    statement = PaymentStatement.objects.get()
    assert r.status_code == 302
    assert r["Location"] == f"/finance/statements/{statement.pk}/"
    page = finance.get(r["Location"]).content.decode()
    assert "渠道已收/退款，本系统未记录" in page
    assert lost_payment.reference in page
    assert "补记支付" in page
    assert "198.80" in page
    assert paid.payments.get().reference not in page  # only the differences by default
    assert (
        paid.payments.get().reference
        in finance.get(f"/finance/statements/{statement.pk}/?show=all").content.decode()
    )
    r = finance.post(f"/finance/statements/{statement.pk}/apply/", {"reference": lost_payment.reference})
    assert r.status_code == 302
    lost.refresh_from_db()
    assert lost.status == "paid"
    page = finance.get(f"/finance/statements/{statement.pk}/", follow=True).content.decode()
    assert "没有差异" in page
    assert "已补记支付" in page
    ledger = finance.get(
        "/finance/payments/", {"start": DAY.isoformat(), "end": DAY.isoformat()}
    ).content.decode()
    assert "wechat-20260601.csv" in ledger
    assert "200.00" in ledger  # the applied payment on the day the provider collected it


def test_ord06_a_bad_statement_is_refused_with_the_row_named(world, make_user):
    finance = _client(make_user, Role.FINANCE)
    r = _upload(finance, wechat_bill([("SUCCESS", "P1", "1.0x", "", "", "0")]))
    assert r.status_code == 422  # the ledger again, the form as chosen
    page = r.content.decode()
    assert "第 2 行" in page
    assert "对账单有无法识别的行" in page
    assert not PaymentStatement.objects.exists()


def test_ord06_a_refused_upload_keeps_the_provider_format_and_date_chosen(world, make_user):
    # a refusal redirected to the ledger with a blank form: three choices to make again
    finance = _client(make_user, Role.FINANCE)
    chosen = {"provider": "marketplace", "file_format": "alipay", "statement_date": "2026-05-30"}
    for data in (chosen, {**chosen, "file": SimpleUploadedFile("a.csv", b"nothing,here\n1,2\n")}):
        r = finance.post("/finance/statements/upload/", data)
        assert r.status_code == 422
        html = r.content.decode()
        assert '<option value="marketplace" selected>' in html
        assert '<option value="alipay" selected>' in html
        assert 'name="statement_date" value="2026-05-30"' in html
        assert list(r.context["messages"])
    assert not PaymentStatement.objects.exists()
    blank = finance.get("/finance/payments/").content.decode()
    assert "selected>" not in blank.split("finance/statements/upload/")[1]


def test_ord06_pages_read_in_english(world, make_user):
    lost = world.place(1, customer="c2", now=T0)
    payment = svc.payment_start(actor=ACTOR, order=lost, now=T0)
    english = _client(make_user, Role.FINANCE, username="fin_en", language="en")
    _upload(english, wechat_bill([("SUCCESS", payment.reference, "100.00", "", "", "0.60")]))
    statement = PaymentStatement.objects.get()
    page = english.get(f"/finance/statements/{statement.pk}/").content.decode()
    assert "Collected by the provider, not recorded here" in page
    assert "Apply payment" in page
    applied = english.post(
        f"/finance/statements/{statement.pk}/apply/", {"reference": payment.reference}, follow=True
    )
    notes = [str(m) for m in applied.context["messages"]]
    assert notes == [f"{payment.reference}: Payment applied; the order is paid"]  # was "…：…"
    ledger = english.get("/finance/payments/").content.decode()
    assert "Payment reconciliation" in ledger
    assert "收支对账" not in ledger


def test_ord06_a_bad_period_is_a_422_with_the_default_period_shown(world, make_user):
    r = _client(make_user, Role.FINANCE).get(
        "/finance/payments/", {"start": "2026-06-02", "end": "2026-06-01"}
    )
    assert r.status_code == 422
    assert "开始日期晚于结束日期" in r.content.decode()


@pytest.mark.parametrize("role", [Role.CUSTOMER_SERVICE, Role.WAREHOUSE])
def test_ord06_other_roles_cannot_import_or_apply(world, make_user, role):
    client = _client(make_user, role)
    assert _upload(client, wechat_bill([])).status_code == 403
    assert client.get("/finance/payments/").status_code == 403  # finance data: not theirs to read
    assert client.get("/orders/").status_code == 200  # though they read orders
    assert role_grants(role, "orders.view_order")
    assert not role_grants(role, "orders.view_paymentstatement")
    assert not role_grants(role, "orders.view_paymentstatementline")
    assert client.post("/finance/statements/1/apply/", {"reference": "x"}).status_code == 403
    analyst = _client(make_user, Role.ANALYST, username="analyst2")
    page = analyst.get("/finance/payments/").content.decode()
    assert "导入渠道对账单" not in page  # reads, cannot import


def test_ord06_the_ledger_exports_to_excel_with_numbers(world, make_user):
    from openpyxl import load_workbook

    paid = world.place(2, customer="c1", now=T0)
    world.pay(paid, now=T0)
    client = _client(make_user, Role.FINANCE)
    r = client.get("/finance/payments/", {"start": DAY.isoformat(), "end": DAY.isoformat(), "format": "xlsx"})
    assert r.status_code == 200
    assert r["Content-Disposition"].endswith('.xlsx"')
    sheet = load_workbook(io.BytesIO(r.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][:4] == ("日期", "支付渠道", "收款笔数", "收款金额")
    day, provider, count, amount = rows[2][:4]
    assert (day.date(), provider, count, amount) == (DAY, "测试支付", 1, 200)
    assert rows[-1][0] == "合计"
    assert rows[-1][7] == 200


def test_ord06_the_finding_links_to_its_statement(world, store, make_user):
    from storeops.sop.models import Finding
    from tests.orders.test_reconcile_db import run_check

    lost = world.place(1, customer="c2", now=T0)
    payment = svc.payment_start(actor=ACTOR, order=lost, now=T0)
    finance = _client(make_user, Role.FINANCE)
    _upload(finance, wechat_bill([("SUCCESS", payment.reference, "100.00", "", "", "0.60")]))
    statement = PaymentStatement.objects.get()
    run_check("ORD-06", store=store, now=T0 + dt.timedelta(days=1))
    finding = Finding.objects.get(rule_id="ORD-06")
    page = finance.get(f"/findings/{finding.pk}/").content.decode()
    assert f'href="/finance/statements/{statement.pk}/"' in page
    assert payment.reference in page


def test_ord06_the_statement_page_lists_fees_above_the_agreed_rate(world, make_user):
    order = world.place(2, customer="c1", now=T0)
    world.pay(order, now=T0)
    finance = _client(make_user, Role.FINANCE)
    _upload(finance, wechat_bill([("SUCCESS", order.payments.get().reference, "200.00", "", "", "2.00")]))
    statement = PaymentStatement.objects.get()
    page = finance.get(f"/finance/statements/{statement.pk}/").content.decode()
    assert "手续费高于约定费率 0.6%：1 笔" in page
    assert "共多收 ¥0.80" in page


def test_ord06_fees_above_the_rate_are_paged_not_cut(world, make_user, monkeypatch):
    # the statement page listed the first 100 and said so: the rest could not be seen
    from storeops.console import finance_views

    monkeypatch.setattr(finance_views, "FEES_PAGE_SIZE", 1)
    first_order = world.place(2, customer="c1", now=T0)
    second_order = world.place(1, customer="c2", now=T0)
    for order in (first_order, second_order):
        world.pay(order, now=T0)
    finance = _client(make_user, Role.FINANCE)
    rows = [
        ("SUCCESS", first_order.payments.get().reference, "200.00", "", "", "2.00"),
        ("SUCCESS", second_order.payments.get().reference, "100.00", "", "", "1.00"),
    ]
    _upload(finance, wechat_bill(rows))
    statement = PaymentStatement.objects.get()
    url = f"/finance/statements/{statement.pk}/"
    pages = [finance.get(f"{url}?show=all{query}").content.decode() for query in ("", "&fpage=2")]
    refs = [first_order.payments.get().reference, second_order.payments.get().reference]
    for page in pages:
        assert "手续费高于约定费率 0.6%：2 笔" in page
        fees = page.split("手续费高于约定费率")[1]
        assert sum(f'<td class="nowrap">{ref}</td>' in fees for ref in refs) == 1
    assert pages[0].split("手续费高于约定费率")[1] != pages[1].split("手续费高于约定费率")[1]
    assert "?show=all&fpage=2" in pages[0]
