"""PROMO-05: a campaign's offers go live only once the plan is approved by the whole chain
(operations lead → marketing head → finance); a rejected or cancelled plan pauses its active
offers."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from storeops.accounts.roles import Role
from storeops.audit.models import AuditEntry
from storeops.core.errors import Conflict
from storeops.marketing import services as ms
from storeops.promotions import services as prs
from storeops.promotions.models import Offer
from tests.marketing.builders import ACTOR, a_campaign, an_approved_campaign, approvers

pytestmark = pytest.mark.django_db


def _offer(store, title="九折"):
    return prs.offer_create(
        actor=ACTOR, store=store, kind="percentage", title_zh=title, params={"rate": "0.9"}
    )


def _status(offer) -> str:
    return Offer.objects.get(pk=offer.pk).status


def test_promo_05_an_offer_of_a_draft_campaign_cannot_be_activated(store, today):
    offer = _offer(store)
    a_campaign(store, today + dt.timedelta(days=10), theme="双11狂欢", offer_ids=[offer.pk])
    with pytest.raises(Conflict) as err:
        prs.offer_set_status(actor=ACTOR, offer=offer, status="active")
    assert err.value.code == "campaign_not_approved"
    assert "双11狂欢" in str(err.value.message)
    assert "草稿" in str(err.value.message)
    assert _status(offer) == "draft"
    assert not AuditEntry.objects.filter(action="offer.active").exists()


def test_promo_05_activation_waits_for_every_step_of_the_approval_chain(store, today):
    offer = _offer(store)
    campaign = a_campaign(store, today + dt.timedelta(days=10), offer_ids=[offer.pk])
    ms.campaign_submit(actor=ACTOR, campaign=campaign)
    operations, marketing, finance = approvers()
    for who, waiting in ((operations, "待推广负责人审批"), (marketing, "待财务审批")):
        campaign = ms.campaign_decide(actor=who, campaign=campaign, approve=True)
        with pytest.raises(Conflict) as err:
            prs.offer_set_status(actor=ACTOR, offer=offer, status="active")
        assert waiting in str(err.value.message)
    ms.campaign_decide(actor=finance, campaign=campaign, approve=True)
    assert prs.offer_set_status(actor=ACTOR, offer=offer, status="active").status == "active"


def test_promo_05_offers_without_a_campaign_are_not_held(store):
    offer = _offer(store)
    assert prs.offer_set_status(actor=ACTOR, offer=offer, status="active").status == "active"


def test_promo_05_reject_pauses_the_plans_active_offers(store, today, make_user):
    # an offer already running is linked to a new plan, which the operations lead rejects
    offer = _offer(store)
    prs.offer_set_status(actor=ACTOR, offer=offer, status="active")
    campaign = a_campaign(store, today + dt.timedelta(days=10), offer_ids=[offer.pk])
    ms.campaign_submit(actor=ACTOR, campaign=campaign)
    operations, _marketing, _finance = approvers()
    ms.campaign_decide(actor=operations, campaign=campaign, approve=False, comment="让利过大")
    assert _status(offer) == "paused"
    assert AuditEntry.objects.filter(action="offer.paused", object_id=str(offer.pk)).exists()
    # and it stays off while the plan is a draft again
    with pytest.raises(Conflict):
        prs.offer_set_status(actor=ACTOR, offer=offer, status="active")


def test_promo_05_cancel_pauses_offers_no_other_approved_campaign_runs(store, today):
    own, shared = _offer(store, "九折"), _offer(store, "满减")
    campaign = an_approved_campaign(store, today + dt.timedelta(days=10), offer_ids=[own.pk, shared.pk])
    an_approved_campaign(store, today + dt.timedelta(days=20), theme="年货节", offer_ids=[shared.pk])
    for offer in (own, shared):
        prs.offer_set_status(actor=ACTOR, offer=offer, status="active")
    ms.campaign_cancel(actor=ACTOR, campaign=campaign, comment="改期")
    assert _status(own) == "paused"
    assert _status(shared) == "active"  # 年货节 is approved and still runs it


def test_promo_05_the_api_refuses_activation_with_a_409_naming_the_campaign(store, today, make_user):
    offer = _offer(store)
    a_campaign(store, today + dt.timedelta(days=10), theme="618年中大促", offer_ids=[offer.pk])
    client = Client()
    client.force_login(make_user(Role.OPERATIONS))
    response = client.patch(
        f"/api/v1/promotions/{store.pk}/offers/{offer.pk}",
        {"status": "active"},
        content_type="application/json",
    )
    assert response.status_code == 409, response.content
    body = response.json()
    assert body["code"] == "campaign_not_approved"
    assert "618年中大促" in body["message"]
    assert _status(offer) == "draft"


def test_promo_05_console_offer_page_names_the_campaign_and_offers_no_activation(store, today, make_user):
    offer = _offer(store)
    campaign = a_campaign(store, today + dt.timedelta(days=10), theme="618年中大促", offer_ids=[offer.pk])
    client = Client()
    client.force_login(make_user(Role.OPERATIONS))
    page = client.get(f"/promotions/offers/{offer.pk}/").content.decode()
    assert "618年中大促" in page
    assert "（草稿）" in page
    assert "活动「618年中大促」完成审批（运营负责人 → 推广负责人 → 财务）后才能启用该优惠" in page
    assert 'value="active"' not in page
    # a posted activation anyway is refused with the reason, nothing changes
    refused = client.post(f"/promotions/offers/{offer.pk}/status/", {"status": "active"}, follow=True)
    assert "须完成审批" in refused.content.decode()
    assert _status(offer) == "draft"
    # once the campaign is approved, the button is back
    ms.campaign_submit(actor=ACTOR, campaign=campaign)
    for who in approvers():
        campaign = ms.campaign_decide(actor=who, campaign=campaign, approve=True)
    assert 'value="active"' in client.get(f"/promotions/offers/{offer.pk}/").content.decode()
