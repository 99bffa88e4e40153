"""PROMO-05 through the API with tokens only: a token acts as the user it was issued for,
so three tokens of three people complete the three approvals, and one person's tokens count
as one person (separation of duties)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from storeops.accounts.roles import Role
from storeops.accounts.services import user_create
from storeops.audit.models import AuditEntry
from storeops.marketing.models import CampaignApproval
from tests.conftest import ApiClient
from tests.marketing.builders import ACTOR, a_campaign

pytestmark = pytest.mark.django_db


def _issue(owner: ApiClient, user, role: Role, name: str) -> ApiClient:
    """The owner issues a token for ``user``; a client that calls with it only."""
    response = owner.post("/accounts/tokens", {"name": name, "role": role.value, "user_id": user.pk})
    assert response.status_code == 201, response.content
    assert response.json()["user"] == user.get_username()
    return ApiClient(Client(), token=response.json()["token"])


def _person(username: str, *roles: Role):
    return user_create(actor=ACTOR, username=username, password="pw-person-1", roles=list(roles))


def test_promo_05_three_tokens_of_three_people_complete_the_approval_chain(store, today, api_as):
    # given tokens the owner issued for an operations lead, a marketing lead and finance
    owner = api_as(Role.OWNER)
    people = {
        "operations": (_person("li_ops", Role.OPERATIONS), Role.OPERATIONS),
        "marketing": (_person("wang_mkt", Role.MARKETING), Role.MARKETING),
        "finance": (_person("zhao_fin", Role.FINANCE), Role.FINANCE),
    }
    tokens = {step: _issue(owner, user, role, f"bot-{step}") for step, (user, role) in people.items()}
    # and a campaign submitted through the marketing token
    campaign = a_campaign(store, today + dt.timedelta(days=20))
    base = f"/marketing/{store.pk}/campaigns/{campaign.pk}"
    assert tokens["marketing"].post(f"{base}/submit", {}).status_code == 200

    # when each token approves its step
    for step in ("operations", "marketing", "finance"):
        response = tokens[step].post(f"{base}/approvals/{step}", {"approve": True})
        assert response.status_code == 200, (step, response.content)

    # then the campaign is approved, each step by the token's user, and the log says so
    assert response.json()["status"] == "approved"
    approvals = CampaignApproval.objects.filter(campaign=campaign, decision="approved").order_by("pk")
    assert [(a.step, a.user.username) for a in approvals] == [
        ("operations", "li_ops"),
        ("marketing", "wang_mkt"),
        ("finance", "zhao_fin"),
    ]
    entries = AuditEntry.objects.filter(action="campaign.approve", object_id=str(campaign.pk)).order_by("pk")
    assert [(e.actor.username, e.actor_label, e.via) for e in entries] == [
        ("li_ops", "li_ops [bot-operations]", "token"),
        ("wang_mkt", "wang_mkt [bot-marketing]", "token"),
        ("zhao_fin", "zhao_fin [bot-finance]", "token"),
    ]


def test_promo_05_two_tokens_of_one_person_are_one_person(store, today, api_as):
    # given one person who leads operations and marketing, with a token for each role
    owner = api_as(Role.OWNER)
    both = _person("chen_lead", Role.OPERATIONS, Role.MARKETING)
    ops = _issue(owner, both, Role.OPERATIONS, "ops-bot")
    mkt = _issue(owner, both, Role.MARKETING, "mkt-bot")
    campaign = a_campaign(store, today + dt.timedelta(days=20))
    base = f"/marketing/{store.pk}/campaigns/{campaign.pk}"
    assert mkt.post(f"{base}/submit", {}).status_code == 200
    assert ops.post(f"{base}/approvals/operations", {"approve": True}).status_code == 200

    # when the second token approves the next step
    response = mkt.post(f"{base}/approvals/marketing", {"approve": True})

    # then it is refused as the same person, with the existing error
    assert response.status_code == 403
    assert response.json()["code"] == "separation_of_duties"
    assert "同一人不能审批同一活动的两个环节" in response.json()["message"]
    campaign.refresh_from_db()
    assert campaign.status == "pending_marketing"
