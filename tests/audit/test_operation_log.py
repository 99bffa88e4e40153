"""SOP STORE-05: every change of business data is written to an append-only operation log."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client

from storeops.accounts.roles import Role
from storeops.audit.models import AppendOnlyError, AuditEntry
from storeops.audit.services import audit_record
from storeops.core.context import Actor
from storeops.stores import services as st


def test_store_05_service_change_records_actor_time_object_and_before_after(store, make_user, today):
    # given an operations user and a qualification
    user = make_user(Role.OPERATIONS)
    actor = Actor(user=user, via="console")
    q = st.qualification_create(
        actor=actor,
        store=store,
        kind="trademark",
        title="商标注册证",
        issuer="国家知识产权局",
        valid_from=today,
    )
    # when the qualification's number is changed
    st.qualification_update(actor=actor, qualification=q, number="No.42")
    # then the log holds who, when, what and only the changed field before/after
    entry = AuditEntry.objects.filter(action="qualification.update").get()
    assert entry.actor == user
    assert entry.actor_label == "u_operations"
    assert entry.via == "console"
    assert entry.object_type == "stores.qualification"
    assert entry.object_id == str(q.pk)
    assert entry.store_id == store.pk
    assert entry.before == {"number": ""}
    assert entry.after == {"number": "No.42"}


def test_store_05_failed_change_leaves_neither_data_nor_log(store, system):
    # given a store, when a change fails validation
    before = AuditEntry.objects.count()
    with pytest.raises(Exception):  # noqa: B017, PT011 - any domain error
        st.qualification_create(actor=system, store=store, kind="nope", title="", issuer="", valid_from=None)
    # then nothing was written
    assert AuditEntry.objects.count() == before


def test_store_05_entries_cannot_be_changed_or_deleted_through_the_orm(store):
    entry = AuditEntry.objects.first()
    entry.note = "tampered"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.all().update(note="x")
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.all().delete()


def test_store_05_database_rejects_an_update_behind_the_orm(store):
    # given an entry, when someone updates it with raw SQL, then the database trigger refuses
    entry = AuditEntry.objects.first()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditentry SET note = 'x' WHERE id = %s", [entry.pk])
    assert AuditEntry.objects.get(pk=entry.pk).note == ""


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row DELETE trigger is PostgreSQL-only")
def test_store_05_postgresql_rejects_a_raw_delete(store):
    entry = AuditEntry.objects.first()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditentry WHERE id = %s", [entry.pk])
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_store_05_api_offers_no_route_to_write_the_log(store, api_as, method):
    client = api_as(Role.OWNER)
    entry = AuditEntry.objects.first()
    for path in ("/audit/", f"/audit/{entry.pk}"):
        response = client.call(method.upper(), path, {})
        assert response.status_code in (404, 405)
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_store_05_admin_cannot_add_change_or_delete_entries(store, make_user):
    client = Client()
    client.force_login(make_user(Role.OWNER))
    entry = AuditEntry.objects.first()
    assert client.get("/admin/audit/auditentry/").status_code == 200
    assert client.get("/admin/audit/auditentry/add/").status_code == 403
    assert client.post(f"/admin/audit/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_store_05_admin_edits_are_logged_too(store, make_user):
    # given an owner editing a store's name in the admin
    client = Client()
    user = make_user(Role.OWNER)
    client.force_login(user)
    response = client.post(
        f"/admin/stores/store/{store.pk}/change/",
        {
            "code": store.code,
            "name": "改名后的店铺",
            "legal_name": "",
            "currency": "CNY",
            "is_active": "on",
            "channels-TOTAL_FORMS": "0",
            "channels-INITIAL_FORMS": "0",
            "channels-MIN_NUM_FORMS": "0",
            "channels-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    # then the change is in the log with before/after
    entry = AuditEntry.objects.filter(action="store.update").get()
    assert entry.actor == user
    assert entry.via == "admin"
    assert entry.before == {"name": "测试店铺"}
    assert entry.after == {"name": "改名后的店铺"}


def test_store_05_log_is_filterable_in_api_and_console(store, channel, api_as, make_user):
    client = api_as(Role.OWNER)
    body = client.get("/audit/", action="channel.", store_id=store.pk).json()
    assert body["total"] == 1
    assert body["items"][0]["object_repr"].startswith("天猫旗舰店")
    page = Client()
    page.force_login(make_user(Role.OWNER))
    html = page.get("/audit/", {"action": "channel."}).content.decode()
    assert "channel.create" in html
    assert "store.create" not in html


def test_risk_05_the_log_never_stores_password_or_token_hashes(store, make_user):
    # given a user created through the service and a token created for an integration
    from storeops.accounts.services import api_token_create

    user = make_user(Role.OWNER, "secretive")
    _token, raw = api_token_create(actor=Actor(user=user), name="erp", role=Role.ANALYST)
    # and an admin save of the user (the admin's snapshot covers every field, password included)
    from django.contrib import admin
    from django.contrib.auth.models import User
    from django.test import RequestFactory

    request = RequestFactory().post("/admin/")
    request.user = user
    user.set_password("N3w-pass-word!")
    admin.site._registry[User].save_model(request, user, form=None, change=True)
    entry = AuditEntry.objects.get(action="user.update")
    assert entry.after["password"].startswith("***")
    assert entry.before["password"] != entry.after["password"]
    # then no entry holds a password hash, a token hash or the raw token
    dumped = " ".join(str((e.before, e.after)) for e in AuditEntry.objects.all())
    user.refresh_from_db()
    assert user.password not in dumped
    assert raw not in dumped
    from storeops.accounts.models import ApiToken

    assert ApiToken.objects.get(name="erp").key_hash not in dumped


def test_operation_log_page_shows_snapshot_times_as_local_time_not_iso(store, make_user):
    """A snapshot's datetimes are stored as ISO strings; the console shows them as local
    date and time (Asia/Shanghai), not "2026-12-06T02:39:42.935949+00:00"."""
    audit_record(
        actor=Actor.system(),
        action="test.snapshot",
        obj=store,
        store_id=store.pk,
        after={"created_at": "2026-12-06T02:39:42.935949+00:00", "name": "店"},
    )
    client = Client()
    client.force_login(make_user(Role.OWNER))
    page = client.get("/audit/?action=test.").content.decode()
    assert "created_at: 2026-12-06 10:39:42" in page
    assert "T02:39:42.935949" not in page
