"""STORE-04: an API token is issued FOR a user and acts as that user. Who may issue and
revoke, which roles a token may carry, and what the operation log names."""

from __future__ import annotations

import pytest
from django.test import Client

from storeops.accounts.models import ApiToken
from storeops.accounts.roles import Role
from storeops.audit.models import AuditEntry
from tests.conftest import ApiClient

pytestmark = pytest.mark.django_db


def _with(raw: str) -> ApiClient:
    return ApiClient(Client(), token=raw)


def test_store_04_a_token_acts_as_the_user_it_was_issued_for(api_as, make_user):
    # given a token the owner issued for a warehouse clerk
    owner = api_as(Role.OWNER)
    clerk = make_user(Role.WAREHOUSE)
    created = owner.post("/accounts/tokens", {"name": "WMS", "role": "warehouse", "user_id": clerk.pk})
    assert created.status_code == 201, created.content
    assert (created.json()["user"], created.json()["created_by"]) == ("u_warehouse", "u_owner")

    # when the token asks who it is
    me = _with(created.json()["token"]).get("/accounts/me").json()

    # then it is the clerk, not the owner who issued it
    assert (me["username"], me["roles"], me["via"]) == ("u_warehouse", ["warehouse"], "token")
    token = ApiToken.objects.get(pk=created.json()["id"])
    assert (token.user, token.created_by) == (clerk, make_user(Role.OWNER))
    listed = {t["id"]: t for t in owner.get("/accounts/tokens").json()}
    assert (listed[token.pk]["user"], listed[token.pk]["created_by"]) == ("u_warehouse", "u_owner")


def test_store_04_changes_through_a_token_are_logged_as_its_user(api_as, make_user, store):
    owner = api_as(Role.OWNER)
    ops = make_user(Role.OPERATIONS)
    raw = owner.post("/accounts/tokens", {"name": "ERP", "role": "operations", "user_id": ops.pk}).json()[
        "token"
    ]

    response = _with(raw).patch(f"/stores/{store.pk}/playbook", {"values": {"safety_stock_days": 4}})

    assert response.status_code == 200, response.content
    entry = AuditEntry.objects.filter(action__startswith="playbook").latest("pk")
    assert (entry.actor, entry.actor_label, entry.via) == (ops, "u_operations [ERP]", "token")


def test_store_04_a_user_cannot_issue_a_token_with_a_role_they_do_not_have(api_as):
    # given a warehouse clerk signed in
    clerk = api_as(Role.WAREHOUSE)

    # when the clerk asks for a finance token for themself
    response = clerk.post("/accounts/tokens", {"name": "报表", "role": "finance"})

    # then it is refused with a clear message, and no token is made
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["message"] == "您没有「财务」角色，不能签发该角色的令牌"
    assert body["fields"] == {"role": "您没有「财务」角色，不能签发该角色的令牌"}
    assert not ApiToken.objects.exists()


def test_store_04_the_owner_cannot_issue_a_member_a_token_beyond_their_roles(api_as, make_user):
    clerk = make_user(Role.WAREHOUSE)
    response = api_as(Role.OWNER).post(
        "/accounts/tokens", {"name": "x", "role": "owner", "user_id": clerk.pk}
    )
    assert response.status_code == 422
    assert response.json()["message"] == "用户 u_warehouse 没有「店主/管理员」角色，不能为其签发该角色的令牌"
    assert not ApiToken.objects.exists()


def test_store_04_any_user_issues_a_token_for_themself_with_their_own_role(api_as):
    clerk = api_as(Role.CUSTOMER_SERVICE)

    response = clerk.post("/accounts/tokens", {"name": "工单机器人", "role": "customer_service"})

    assert response.status_code == 201, response.content
    assert (response.json()["user"], response.json()["created_by"]) == ("u_customer_service",) * 2


def test_store_04_only_the_owner_issues_tokens_for_others(api_as, make_user):
    other = make_user(Role.WAREHOUSE)
    response = api_as(Role.OPERATIONS).post(
        "/accounts/tokens", {"name": "x", "role": "warehouse", "user_id": other.pk}
    )
    assert response.status_code == 403
    assert response.json()["message"] == "只有店主可以为其他成员签发令牌；您只能为自己签发"
    assert not ApiToken.objects.exists()


def test_store_04_an_unknown_user_is_a_422(api_as):
    response = api_as(Role.OWNER).post("/accounts/tokens", {"name": "x", "role": "analyst", "user_id": 99999})
    assert response.status_code == 422
    assert response.json()["fields"] == {"user_id": "用户不存在或已停用"}


def test_store_04_a_token_without_the_owner_role_cannot_issue_tokens(api_as, make_user):
    # given an operations token of an operations lead (issued by themself)
    raw = (
        api_as(Role.OPERATIONS).post("/accounts/tokens", {"name": "a", "role": "operations"}).json()["token"]
    )

    # when it tries to issue another token, then it is refused (a leaked token cannot mint more)
    response = _with(raw).post("/accounts/tokens", {"name": "b", "role": "operations"})
    assert response.status_code == 403
    assert ApiToken.objects.count() == 1


def test_store_04_users_see_and_revoke_their_own_tokens_the_owner_all(api_as, make_user):
    owner = api_as(Role.OWNER)
    mine = api_as(Role.MARKETING).post("/accounts/tokens", {"name": "mine", "role": "marketing"}).json()
    clerk = make_user(Role.WAREHOUSE)
    theirs = owner.post("/accounts/tokens", {"name": "wms", "role": "warehouse", "user_id": clerk.pk}).json()
    marketer = api_as(Role.MARKETING)

    # a user lists their own tokens only, revokes their own, not another's
    assert [t["name"] for t in marketer.get("/accounts/tokens").json()] == ["mine"]
    refused = marketer.post(f"/accounts/tokens/{theirs['id']}/revoke")
    assert refused.status_code == 403
    assert refused.json()["message"] == "只能吊销自己的令牌；其他成员的令牌请由店主吊销"
    assert marketer.post(f"/accounts/tokens/{mine['id']}/revoke").json()["revoked_at"] is not None
    # the owner sees and revokes any token
    assert {t["name"] for t in owner.get("/accounts/tokens").json()} == {"mine", "wms"}
    assert owner.post(f"/accounts/tokens/{theirs['id']}/revoke").json()["revoked_at"] is not None
    assert _with(theirs["token"]).get("/accounts/me").status_code == 401


def test_store_04_a_token_loses_what_its_user_loses(api_as, make_user, store):
    # given an operations token of an operations lead
    lead = make_user(Role.OPERATIONS)
    raw = (
        api_as(Role.OPERATIONS).post("/accounts/tokens", {"name": "a", "role": "operations"}).json()["token"]
    )
    url = f"/stores/{store.pk}/playbook"
    assert _with(raw).patch(url, {"values": {"safety_stock_days": 4}}).status_code == 200

    # when the lead moves to analytics, then the token can no longer change the playbook
    from django.contrib.auth.models import Group

    lead.groups.set([Group.objects.get(name="analyst")])
    assert _with(raw).patch(url, {"values": {"safety_stock_days": 5}}).status_code == 403


def test_store_04_console_owner_issues_a_token_for_a_member_and_the_list_shows_both(make_user):
    clerk = make_user(Role.WAREHOUSE)
    client = Client()
    client.force_login(make_user(Role.OWNER))

    page = client.get("/tokens/").content.decode()
    assert 'name="user_id"' in page

    response = client.post("/tokens/", {"name": "WMS", "role": "warehouse", "user_id": str(clerk.pk)})
    assert response.status_code == 200
    token = ApiToken.objects.get(name="WMS")
    assert (token.user, token.created_by.username) == (clerk, "u_owner")
    html = response.content.decode()
    assert "<td>u_warehouse</td><td>u_owner</td>" in html


def test_store_04_console_member_issues_for_themself_only_with_their_roles(make_user):
    client = Client()
    client.force_login(make_user(Role.WAREHOUSE))

    page = client.get("/tokens/").content.decode()
    assert 'name="user_id"' not in page
    assert '<option value="warehouse"' in page
    assert '<option value="finance"' not in page

    refused = client.post("/tokens/", {"name": "x", "role": "finance"})
    assert refused.status_code == 422
    assert "您没有「财务」角色，不能签发该角色的令牌" in refused.content.decode()
    ok = client.post("/tokens/", {"name": "WMS", "role": "warehouse"})
    assert ok.status_code == 200
    assert ApiToken.objects.get().user.username == "u_warehouse"


def test_store_04_console_member_cannot_revoke_anothers_token(make_user, api_as):
    clerk = make_user(Role.WAREHOUSE)
    theirs = (
        api_as(Role.OWNER)
        .post("/accounts/tokens", {"name": "wms", "role": "warehouse", "user_id": clerk.pk})
        .json()
    )
    client = Client()
    client.force_login(make_user(Role.MARKETING))

    response = client.post(f"/tokens/{theirs['id']}/revoke/", follow=True)

    assert "只能吊销自己的令牌" in response.content.decode()
    assert ApiToken.objects.get(pk=theirs["id"]).revoked_at is None


def test_store_04_console_token_list_is_paged_with_live_tokens_first(make_user):
    """Revoked tokens stay listed for the record: the page is paged (50), and the live ones
    come first on every database (PostgreSQL sorts the NULL ``revoked_at`` last by default)."""
    from django.utils import timezone

    from storeops.accounts.services import api_token_create
    from storeops.core.context import Actor

    owner = make_user(Role.OWNER)
    actor = Actor(user=owner)
    api_token_create(actor=actor, name="live-one", role=Role.OWNER)  # the oldest
    for i in range(55):
        api_token_create(actor=actor, name=f"old-{i}", role=Role.OWNER)
    ApiToken.objects.exclude(name="live-one").update(revoked_at=timezone.now())
    client = Client()
    client.force_login(owner)

    first = client.get("/tokens/").content.decode()
    assert "live-one" in first
    assert first.count("已吊销") == 49
    assert "第 1 / 2 页，共 56 条" in first
    second = client.get("/tokens/", {"page": 2}).content.decode()
    assert "live-one" not in second
    assert second.count("已吊销") == 6
