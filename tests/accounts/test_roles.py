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
