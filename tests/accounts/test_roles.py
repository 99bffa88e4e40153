"""SOP STORE-04: seven job roles as Django groups, each with its own permission set."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from storeops.accounts.roles import Role


def _perms(role: Role) -> set[str]:
    group = Group.objects.get(name=role.value)
    return {
        f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")
    }


@pytest.mark.django_db
def test_store_04_the_seven_roles_exist_as_groups_after_migrate():
    assert set(Group.objects.values_list("name", flat=True)) >= {r.value for r in Role}


@pytest.mark.django_db
def test_store_04_finance_and_analyst_are_read_only():
    for role in (Role.FINANCE, Role.ANALYST):
        writes = {p for p in _perms(role) if p.split(".")[1].startswith(("add_", "change_", "delete_"))}
        assert writes == set(), role


@pytest.mark.django_db
def test_store_04_job_roles_get_what_their_job_needs():
    ops, wh, cs = _perms(Role.OPERATIONS), _perms(Role.WAREHOUSE), _perms(Role.CUSTOMER_SERVICE)
    assert {"stores.change_playbook", "sop.change_finding", "sop.run_checks", "audit.view_auditentry"} <= ops
    assert "stores.add_store" not in ops
    assert "audit.view_auditentry" not in wh
    assert "stores.change_playbook" not in cs
    assert "accounts.add_apitoken" in _perms(Role.OWNER)
    assert "accounts.add_apitoken" not in ops


@pytest.mark.django_db
def test_store_04_nobody_may_edit_the_operation_log():
    for role in Role:
        assert not {"audit.add_auditentry", "audit.change_auditentry", "audit.delete_auditentry"} & _perms(
            role
        )


def test_store_04_owner_creates_a_role_token_in_the_console_and_sees_it_once(make_user):
    # given the owner on the tokens page
    from django.test import Client

    from storeops.accounts.models import ApiToken

    client = Client()
    client.force_login(make_user(Role.OWNER))
    # when a warehouse token is created
    response = client.post("/tokens/", {"name": "WMS", "role": "warehouse", "expires_in_days": "30"})
    # then its secret is shown once and only its hash is stored
    assert response.status_code == 200
    token = ApiToken.objects.get(name="WMS")
    html = response.content.decode()
    start = html.index('<pre id="new-token">') + len('<pre id="new-token">')
    secret = html[start : html.index("</pre>", start)]
    assert secret.startswith("so_")
    assert token.role.name == "warehouse"
    assert token.key_hash != secret
    assert secret not in client.get("/tokens/").content.decode()
    # and revoking it from the console stops it working
    assert client.post(f"/tokens/{token.pk}/revoke/").status_code == 302
    api = Client().get("/api/v1/stores/", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api.status_code == 401


def test_store_04_token_form_rejects_a_missing_name_and_creates_nothing(make_user):
    from django.test import Client

    from storeops.accounts.models import ApiToken

    client = Client()
    client.force_login(make_user(Role.OWNER))
    response = client.post("/tokens/", {"name": " ", "role": "analyst"})
    assert response.status_code == 422
    assert "必填" in response.content.decode()
    assert not ApiToken.objects.exists()
