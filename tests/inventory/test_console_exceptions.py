"""The inventory exceptions page lists every open inventory finding, a page at a time (it showed
at most 100 per rule, with nothing saying more were left out)."""

from __future__ import annotations

import pytest
from django.test import Client

from storeops.accounts.roles import Role
from storeops.sop.models import Finding

pytestmark = pytest.mark.django_db


def test_inv_01_exceptions_page_pages_every_open_inventory_finding(store, make_user):
    rows = [
        Finding(
            store=store,
            rule_id="INV-01",
            subject_key=f"sku:{n}",
            title=f"缺货{n:03d}",
            owner_role="warehouse",
        )
        for n in range(101)
    ]
    rows.append(
        Finding(store=store, rule_id="INV-02", subject_key="sku:x", title="滞销", owner_role="warehouse")
    )
    rows.append(
        Finding(store=store, rule_id="ORD-01", subject_key="o:1", title="审核", owner_role="operations")
    )
    Finding.objects.bulk_create(rows)
    client = Client()
    client.force_login(make_user(Role.WAREHOUSE))
    page = client.get("/inventory/exceptions/").context["page"]
    assert page.paginator.count == 102  # both inventory rules, not the order finding
    last = client.get("/inventory/exceptions/", {"page": page.paginator.num_pages}).context["page"]
    assert len(last.object_list) == 102 % 25
    assert "第 1 / 5 页，共 102 条" in client.get("/inventory/exceptions/").content.decode()
