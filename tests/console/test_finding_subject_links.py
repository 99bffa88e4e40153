"""The findings board's detail page links a finding to its subject's console page (the spine
playbook → checks → findings ends at the thing to fix): by primary key, by a number people
read, or through the finding's detail; anything else gets no link rather than a wrong one."""

from __future__ import annotations

import pytest
from django.test import Client

from storeops.accounts.roles import Role
from storeops.console.subjects import subject_link
from storeops.sop.models import Finding


@pytest.mark.parametrize(
    ("subject_type", "subject_id", "detail", "url"),
    [
        ("catalog.product", "12", {}, "/catalog/products/12/"),
        ("service.ticket", "7", {}, "/service/tickets/7/"),
        ("marketing.campaign", "3", {}, "/marketing/campaigns/3/"),
        ("orders.order", "2612061234", {}, "/orders/?q=2612061234"),
        ("aftersales.aftersale", "AS2612060001", {}, "/aftersales/cases/AS2612060001/"),
        ("orders.paymentstatement", "P123", {"statement": 5}, "/finance/statements/5/"),
        ("orders.paymentstatement", "P123", {}, None),
        (
            "orders.paymentstatement",
            "test:2026-06-01",
            {"day": "2026-06-01"},
            "/finance/payments/?start=2026-06-01&end=2026-06-01",
        ),
        ("catalog.product", "not-a-pk", {}, None),
        ("members.month", "2026-06", {}, None),
    ],
)
def test_finding_subject_links(subject_type, subject_id, detail, url):
    assert subject_link(subject_type, subject_id, detail) == url


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "linked"),
    [(Role.FINANCE, True), (Role.OWNER, True), (Role.CUSTOMER_SERVICE, False), (Role.WAREHOUSE, False)],
)
def test_the_subject_is_a_link_only_for_a_reader_who_may_open_it(store, make_user, role, linked):
    # an ORD-06 finding is on the board of every role that sees findings, but its statement is
    # finance data: customer service and the warehouse got a link that answered 403
    finding = Finding.objects.create(
        store=store,
        rule_id="ORD-06",
        subject_key="statement:test:payment:P1",
        subject_type="orders.paymentstatement",
        subject_id="P1",
        detail={"statement": 5},
        title="对账差异",
        owner_role="finance",
    )
    client = Client()
    client.force_login(make_user(role))
    response = client.get(f"/findings/{finding.pk}/")
    assert response.status_code == 200
    assert ('href="/finance/statements/5/"' in response.content.decode()) is linked
    assert (subject_link(finding.subject_type, "P1", finding.detail, make_user(role)) is not None) is linked
