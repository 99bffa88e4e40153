"""SOP STORE-05: every change made in the Django admin is written to the operation log —
the object, its many-to-many fields and its inline rows — and every registered admin uses
the audit mixin, so a new admin cannot forget it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.contrib import admin
from django.test import Client

from storeops.accounts.roles import Role
from storeops.audit.admin_mixins import AuditedAdminMixin
from storeops.audit.models import AuditEntry
from storeops.catalog import services as cs
from storeops.catalog.models import SalesDaily, Supplier, SupplierCertification, Tag
from tests.catalog.db_builders import ACTOR, a_dress_category, a_product


class _FormFields(HTMLParser):
    """The fields of the admin's change form as a browser would post them unchanged."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, list[str]] = {}
        self._select: str | None = None
        self._textarea: str | None = None
        self._in_form = False

    def _add(self, name: str, value: str) -> None:
        self.data.setdefault(name, []).append(value)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method", "").lower() == "post":
            self._in_form = True
        if not self._in_form or ("name" not in a and tag != "option"):
            return
        if tag == "input":
            kind = a.get("type", "text").lower()
            if kind in ("submit", "button", "file", "image"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self._add(a["name"], a.get("value", "on" if kind == "checkbox" else ""))
        elif tag == "select":
            self._select = a["name"]
        elif tag == "option" and self._select and "selected" in a:
            self._add(self._select, a.get("value", ""))
        elif tag == "textarea":
            self._textarea = a["name"]
            self._add(self._textarea, "")

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.data[self._textarea][-1] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            if self._textarea:
                value = self.data[self._textarea][-1]
                self.data[self._textarea][-1] = value[1:] if value.startswith("\n") else value
            self._textarea = None
        elif tag == "form":
            self._in_form = False


def _change_form(client: Client, url: str) -> dict[str, list[str]]:
    response = client.get(url)
    assert response.status_code == 200
    parser = _FormFields()
    parser.feed(response.content.decode())
    parser.data.pop("csrfmiddlewaretoken", None)
    return parser.data


@pytest.fixture
def owner_client(make_user):
    client = Client()
    user = make_user(Role.OWNER)
    client.force_login(user)
    return client, user


def test_store_05_every_registered_admin_uses_the_audit_mixin():
    """A ModelAdmin registered without the mixin would let its edits skip the log."""
    missing = sorted(
        model._meta.label
        for model, model_admin in admin.site._registry.items()
        if not isinstance(model_admin, AuditedAdminMixin)
    )
    assert missing == []
    # the models the audit found unlogged are among them
    labels = {model._meta.label for model in admin.site._registry}
    assert {"catalog.SalesDaily", "catalog.SupplyRecord", "catalog.MarketCategoryStat"} <= labels
    assert "pricing.CompetitorPrice" in labels


def test_store_05_admin_inline_rows_changed_added_and_deleted_are_logged(store, owner_client, today):
    # given a supplier with two certifications
    client, user = owner_client
    supplier = cs.supplier_create(actor=ACTOR, store=store, code="SUP1", name="杭州织造")
    keep = SupplierCertification.objects.create(
        supplier=supplier, kind="iso9001", number="A-1", valid_from=today - dt.timedelta(days=30)
    )
    drop = SupplierCertification.objects.create(
        supplier=supplier, kind="other", number="B-1", valid_from=today - dt.timedelta(days=30)
    )
    url = f"/admin/catalog/supplier/{supplier.pk}/change/"
    data = _change_form(client, url)
    # when the admin changes one certification's number inline and deletes the other
    index = {data[f"certifications-{i}-id"][0]: i for i in range(2)}
    data[f"certifications-{index[str(keep.pk)]}-number"] = ["A-2"]
    data[f"certifications-{index[str(drop.pk)]}-DELETE"] = ["on"]
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    # then the inline update and delete are in the log with before/after, by the admin user
    update = AuditEntry.objects.get(action="suppliercertification.update")
    assert (update.before, update.after) == ({"number": "A-1"}, {"number": "A-2"})
    assert update.object_id == str(keep.pk)
    assert (update.actor, update.via, update.store_id) == (user, "admin", store.pk)
    delete = AuditEntry.objects.get(action="suppliercertification.delete")
    assert delete.object_id == str(drop.pk)
    assert delete.before["number"] == "B-1"
    assert set(delete.after.values()) == {None}  # the log's before/after keep the keys that changed
    assert delete.store_id == store.pk
    assert not SupplierCertification.objects.filter(pk=drop.pk).exists()
    # and nothing unchanged was logged as a change
    assert not AuditEntry.objects.filter(action="supplier.update").exclude(before={}).exists()


def test_store_05_admin_inline_row_added_is_logged(store, owner_client, today):
    client, _user = owner_client
    supplier = cs.supplier_create(actor=ACTOR, store=store, code="SUP1", name="杭州织造")
    url = f"/admin/catalog/supplier/{supplier.pk}/change/"
    data = _change_form(client, url)
    data.update(
        {
            "certifications-TOTAL_FORMS": ["1"],
            "certifications-0-kind": ["iso9001"],
            "certifications-0-number": ["N-9"],
            "certifications-0-valid_from": [today.isoformat()],
            "certifications-0-supplier": [str(supplier.pk)],
        }
    )
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    entry = AuditEntry.objects.get(action="suppliercertification.create")
    cert = SupplierCertification.objects.get(supplier=supplier)
    assert entry.object_id == str(cert.pk)
    assert entry.after["number"] == "N-9"
    assert entry.store_id == store.pk


def test_store_05_admin_tag_changes_and_sku_inline_edits_of_a_product_are_logged(store, owner_client):
    # given a product with one tag and two SKUs
    client, _user = owner_client
    product = a_product(store, a_dress_category(store, required_qualifications=[]), "P1")
    old = Tag.objects.create(store=store, kind="style", name="法式")
    new = Tag.objects.create(store=store, kind="style", name="韩系")
    product.tags.add(old)
    url = f"/admin/catalog/product/{product.pk}/change/"
    data = _change_form(client, url)
    assert data["tags"] == [str(old.pk)]
    # when the admin swaps the tag and changes a SKU's barcode
    data["tags"] = [str(new.pk)]
    sku = product.skus.order_by("code").first()
    (i,) = [k for k in range(2) if data[f"skus-{k}-id"] == [str(sku.pk)]]
    data[f"skus-{i}-barcode"] = ["6901234567892"]
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    # then the m2m change has the tag ids before/after
    tags = AuditEntry.objects.get(action="product.update", after__has_key="tags")
    assert (tags.before, tags.after) == ({"tags": [old.pk]}, {"tags": [new.pk]})
    assert tags.store_id == store.pk
    # and the SKU's inline edit has its own entry
    sku_entry = AuditEntry.objects.get(action="sku.update")
    assert sku_entry.object_id == str(sku.pk)
    assert sku_entry.after == {"barcode": "6901234567892"}
    assert sku_entry.store_id == store.pk


def test_store_05_admin_delete_of_a_previously_unlogged_model_is_logged(store, channel, owner_client, today):
    # given a day of sales (its admin page wrote no log before)
    client, user = owner_client
    product = a_product(store, a_dress_category(store, required_qualifications=[]), "P1")
    row = SalesDaily.objects.create(
        store=store, product=product, channel=channel, day=today, units=3, revenue=Decimal("597.00")
    )
    # when the admin deletes it
    response = client.post(f"/admin/catalog/salesdaily/{row.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    # then the delete is logged with the row's values before
    entry = AuditEntry.objects.get(action="salesdaily.delete")
    assert entry.object_id == str(row.pk)
    assert entry.before["units"] == 3
    assert entry.after["units"] is None
    assert (entry.actor, entry.store_id) == (user, store.pk)


def test_store_05_admin_edit_of_a_previously_unlogged_model_is_logged(store, owner_client, today):
    client, _user = owner_client
    supplier = cs.supplier_create(actor=ACTOR, store=store, code="SUP1", name="杭州织造")
    assert isinstance(admin.site._registry[Supplier], AuditedAdminMixin)
    from storeops.catalog.models import SupplyRecord

    record = SupplyRecord.objects.create(
        supplier=supplier, reference="PO-1", ordered_on=today, due_on=today + dt.timedelta(days=7)
    )
    url = f"/admin/catalog/supplyrecord/{record.pk}/change/"
    data = _change_form(client, url)
    data["reference"] = ["PO-2"]
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    entry = AuditEntry.objects.get(action="supplyrecord.update")
    assert (entry.before, entry.after) == ({"reference": "PO-1"}, {"reference": "PO-2"})
    assert entry.store_id == store.pk


def test_store_05_admin_password_page_is_logged_with_the_password_masked(store, owner_client, make_user):
    client, user = owner_client
    clerk = make_user(Role.CUSTOMER_SERVICE, "clerk")
    url = f"/admin/auth/user/{clerk.pk}/password/"
    new = "An0ther-long-pass!"
    response = client.post(url, {"password1": new, "password2": new, "usable_password": "true"})
    assert response.status_code == 302, response.content.decode()[:3000]
    entry = AuditEntry.objects.get(action="user.update", object_id=str(clerk.pk))
    assert entry.actor == user
    assert entry.after["password"].startswith("***")
    clerk.refresh_from_db()
    assert clerk.password not in str(entry.after)
