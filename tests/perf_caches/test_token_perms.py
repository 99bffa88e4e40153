"""API tokens are authorised in the token's own query (one round trip per request), from the
rows as they are now: nothing is cached across requests, so a permission taken away from the
role, or from the token's creator, is refused on the very next request."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test import Client

from storeops.accounts.roles import Role
from storeops.accounts.services import api_token_authenticate, api_token_create, token_has_perm
from storeops.core.context import Actor
from tests.conftest import ApiClient

pytestmark = pytest.mark.django_db

PERM = "orders.place_order"


def _perm(name: str) -> Permission:
    app, code = name.split(".")
    return Permission.objects.get(content_type__app_label=app, codename=code)


@pytest.fixture
def token(owner):
    _token, raw = api_token_create(actor=Actor(user=owner, via="cli"), name="shop", role=Role.OPERATIONS)
    return raw


def _status(store, raw: str) -> int:
    api = ApiClient(Client(), raw)
    return api.call("GET", f"/orders/shop/{store.pk}/orders/NOPE").status_code


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the prepared check is PostgreSQL-only")
def test_token_request_is_authorised_at_authentication(store, token):
    found = api_token_authenticate(token, perm=PERM)
    assert found is not None
    assert found._perm_checked == {PERM: True}
    assert token_has_perm(found, PERM)
    found = api_token_authenticate(token, perm="orders.no_such_perm")
    assert found is not None
    assert found._perm_checked == {"orders.no_such_perm": False}


def test_permission_removed_from_the_role_is_refused_on_the_next_request(store, token):
    assert _status(store, token) == 404  # allowed: the order just does not exist
    Group.objects.get(name=Role.OPERATIONS.group_name).permissions.remove(_perm(PERM))
    assert _status(store, token) == 403
    Group.objects.get(name=Role.OPERATIONS.group_name).permissions.add(_perm(PERM))
    assert _status(store, token) == 404


def test_token_loses_what_its_creator_loses(store, token, owner):
    assert _status(store, token) == 404
    owner.groups.clear()
    assert _status(store, token) == 403
    owner.user_permissions.add(_perm(PERM))  # a direct permission counts, as for ModelBackend
    assert _status(store, token) == 404
    owner.user_permissions.clear()
    owner.is_superuser = True
    owner.save(update_fields=["is_superuser"])
    assert _status(store, token) == 404  # an active superuser holds every permission ...
    Group.objects.get(name=Role.OPERATIONS.group_name).permissions.remove(_perm(PERM))
    assert _status(store, token) == 403  # ... but the token still only acts with its role's


def test_inactive_creator_or_revoked_token_is_401(store, token, owner):
    owner.is_active = False
    owner.save(update_fields=["is_active"])
    assert _status(store, token) == 401


@pytest.mark.parametrize("role", [Role.OPERATIONS, Role.CUSTOMER_SERVICE, Role.OWNER])
def test_one_query_check_agrees_with_the_python_check_for_every_permission(make_user, owner, role):
    _token, raw = api_token_create(actor=Actor(user=owner, via="cli"), name="t", role=role)
    owner.groups.set(Group.objects.filter(name=Role.OPERATIONS.group_name))  # creator holds less
    perms = Permission.objects.select_related("content_type")
    names = [f"{p.content_type.app_label}.{p.codename}" for p in perms]
    for name in [*names, "orders.no_such_perm", "malformed"]:
        slow = api_token_authenticate(raw)
        fast = api_token_authenticate(raw, perm=name)
        assert slow is not None
        assert fast is not None
        assert getattr(slow, "_perm_checked", None) is None
        assert token_has_perm(fast, name) == token_has_perm(slow, name), name


def test_other_authentication_backends_fall_back_to_django(settings, store, token):
    settings.AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend", "tests.nowhere.Backend"]
    found = api_token_authenticate(token, perm=PERM)
    assert found is not None
    assert getattr(found, "_perm_checked", None) is None
