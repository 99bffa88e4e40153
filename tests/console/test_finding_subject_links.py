"""The findings board's detail page links a finding to its subject's console page (the spine
playbook → checks → findings ends at the thing to fix): by primary key, by a number people
read, or through the finding's detail; anything else gets no link rather than a wrong one."""

from __future__ import annotations

import pytest

from storeops.console.subjects import subject_link


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
