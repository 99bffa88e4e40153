"""API tokens through /api/v1/accounts: creation checks and revocation."""

from __future__ import annotations

import pytest

from storeops.accounts.models import ApiToken
from storeops.accounts.roles import Role
from storeops.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_revoking_a_revoked_token_keeps_its_first_revocation(api_as):
    # given an owner's revoked token
    owner = api_as(Role.OWNER)
    token = owner.post("/accounts/tokens", {"name": "ERP", "role": "warehouse"}).json()
    first = owner.post(f"/accounts/tokens/{token['id']}/revoke").json()["revoked_at"]

    # when it is revoked again
    again = owner.post(f"/accounts/tokens/{token['id']}/revoke")

    # then nothing changes: the time is the first one, and the log has one revocation
    assert again.status_code == 200
    assert again.json()["revoked_at"] == first
    assert AuditEntry.objects.filter(action="api_token.revoke", object_id=str(token["id"])).count() == 1


def test_a_revoked_token_is_refused_with_401(api_as):
    owner = api_as(Role.OWNER)
    token = owner.post("/accounts/tokens", {"name": "ERP", "role": "warehouse"}).json()
    owner.post(f"/accounts/tokens/{token['id']}/revoke")

    owner.client.logout()
    owner.headers = {"HTTP_AUTHORIZATION": f"Bearer {token['token']}"}
    response = owner.get("/accounts/me")

    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


def test_a_token_name_longer_than_100_characters_is_a_422_and_no_token_is_made(api_as):
    response = api_as(Role.OWNER).post("/accounts/tokens", {"name": "x" * 101, "role": "analyst"})
    assert response.status_code == 422
    assert response.json()["fields"] == {"name": "最多 100 个字符"}
    assert not ApiToken.objects.exists()
