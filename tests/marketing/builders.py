"""Builders of campaign and ad rows for the marketing tests (plain functions over services)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model

from storeops.accounts.roles import Role
from storeops.accounts.services import user_create
from storeops.core.context import Actor
from storeops.marketing import services as ms
from storeops.marketing.models import AdPlan, Campaign
from storeops.stores.models import Store

ACTOR = Actor.system("cli")


def a_campaign(store: Store, starts_on: dt.date, **overrides: Any) -> Campaign:
    """A 3-day campaign with a preheat, burst and return phase and a 10,000 CNY budget."""
    ends_on = starts_on + dt.timedelta(days=2)
    data: dict[str, Any] = {
        "theme": "双11狂欢",
        "kind": "regular",
        "starts_on": starts_on,
        "ends_on": ends_on,
        "target_gmv": "100000",
        "target_new_users": 500,
        "planned_redemption_rate": "0.30",
        "max_payment_failure_rate": "0.05",
        "expected_refund_rate": "0.10",
        "phases": [
            {"kind": "preheat", "starts_on": starts_on, "ends_on": starts_on},
            {
                "kind": "burst",
                "starts_on": starts_on + dt.timedelta(days=1),
                "ends_on": starts_on + dt.timedelta(days=1),
            },
            {"kind": "return", "starts_on": ends_on, "ends_on": ends_on},
        ],
        "budget": [
            {"kind": "discount", "planned": "6000"},
            {"kind": "ads", "planned": "3000"},
            {"kind": "kol", "planned": "1000"},
        ],
    }
    data.update(overrides)
    return ms.campaign_create(actor=ACTOR, store=store, **data)


def approvers() -> list[Actor]:
    """Three different people for the three approval steps (PROMO-05 separation of duties)."""
    people = []
    for role in (Role.OPERATIONS, Role.MARKETING, Role.FINANCE):
        name = f"approver_{role.value}"
        user = get_user_model().objects.filter(username=name).first() or user_create(
            actor=ACTOR, username=name, password="pw-approver-1", roles=[role]
        )
        people.append(Actor(user=user))
    return people


def an_approved_campaign(store: Store, starts_on: dt.date, **overrides: Any) -> Campaign:
    """A campaign approved through the whole chain, each step by its own approver."""
    campaign = a_campaign(store, starts_on, **overrides)
    ms.campaign_submit(actor=ACTOR, campaign=campaign)
    for who in approvers():
        campaign = ms.campaign_decide(actor=who, campaign=campaign, approve=True)
    return campaign


def an_ad_plan(store: Store, **overrides: Any) -> AdPlan:
    data: dict[str, Any] = {
        "name": "连衣裙精准",
        "purpose": "profit",
        "match_type": "exact",
        "category": "连衣裙",
        "daily_budget": "500",
    }
    data.update(overrides)
    return ms.ad_plan_create(actor=ACTOR, store=store, **data)
