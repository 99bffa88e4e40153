"""SOP INV-02: a campaign's expected demand uplift (the multiplier its stock cover is checked
against), set in the plan through the API and the console form, validated 1–50, empty meaning
the playbook's ``promo_default_uplift``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client

from storeops.accounts.roles import Role
from storeops.audit.models import AuditEntry
from storeops.core.errors import ValidationError
from storeops.marketing import selectors
from storeops.marketing.models import Campaign
from storeops.stores.services import playbook_update
from tests.marketing.builders import ACTOR, a_campaign

pytestmark = pytest.mark.django_db


def _api_plan(starts_on: dt.date, **overrides):
    data = {
        "theme": "双11备货",
        "kind": "big_promotion",
        "starts_on": starts_on.isoformat(),
        "ends_on": (starts_on + dt.timedelta(days=3)).isoformat(),
    }
    data.update(overrides)
    return data


def test_inv_02_campaign_uplift_is_the_campaigns_else_the_playbooks(store, today):
    own = a_campaign(store, today + dt.timedelta(days=20), expected_uplift="4.5")
    plain = a_campaign(store, today + dt.timedelta(days=20))
    assert own.expected_uplift == Decimal("4.5")
    assert selectors.campaign_uplift(own) == Decimal("4.5")
    assert plain.expected_uplift is None
    assert selectors.campaign_uplift(plain) == Decimal("2.0")
    playbook_update(actor=ACTOR, store=store, values={"promo_default_uplift": "3"})
    assert selectors.campaign_uplift(plain) == Decimal("3")
    # the creation is audited with the uplift
    entry = AuditEntry.objects.filter(action="campaign.create", object_id=str(own.pk)).get()
    assert Decimal(entry.after["expected_uplift"]) == Decimal("4.5")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0.5", "预计销量倍数须在 1 到 50 之间"),
        ("51", "预计销量倍数须在 1 到 50 之间"),
        ("abc", "预计销量倍数须在 1 到 50 之间"),
        ("2.125", "预计销量倍数最多两位小数"),
    ],
)
def test_inv_02_campaign_uplift_outside_1_to_50_is_refused(store, today, value, message):
    with pytest.raises(ValidationError) as refused:
        a_campaign(store, today + dt.timedelta(days=20), expected_uplift=value)
    assert refused.value.fields == {"expected_uplift": message}
    assert not Campaign.objects.exists()


def test_inv_02_api_sets_and_shows_the_campaign_uplift(store, today, api_as):
    client = api_as(Role.MARKETING)
    url = f"/marketing/{store.pk}/campaigns"
    created = client.post(url, _api_plan(today + dt.timedelta(days=20), expected_uplift="3.5"))
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["expected_uplift"], body["uplift_in_force"]) == ("3.50", "3.50")
    # cleared on edit: the playbook's default is in force
    edited = client.put(f"{url}/{body['id']}", _api_plan(today + dt.timedelta(days=20), expected_uplift=None))
    assert edited.status_code == 200, edited.content
    assert (edited.json()["expected_uplift"], edited.json()["uplift_in_force"]) == (None, "2.0")
    # bad input: a 422 naming the field, nothing written
    bad = client.post(url, _api_plan(today + dt.timedelta(days=20), theme="坏", expected_uplift="60"))
    assert bad.status_code == 422
    assert bad.json()["fields"] == {"expected_uplift": "预计销量倍数须在 1 到 50 之间"}
    assert not Campaign.objects.filter(theme="坏").exists()


def _form(start: dt.date, **overrides):
    data = {
        "theme": "618年中大促",
        "kind": "big_promotion",
        "starts_on": start.isoformat(),
        "ends_on": (start + dt.timedelta(days=5)).isoformat(),
        "target_gmv": "500000",
        "target_new_users": "2000",
        "expected_uplift": "",
        "stock": "",
    }
    data.update(overrides)
    return data


def test_inv_02_console_form_edits_the_campaign_uplift(store, today, make_user):
    client = Client()
    client.force_login(make_user(Role.MARKETING))
    page = client.get("/marketing/campaigns/new/").content.decode()
    assert 'name="expected_uplift"' in page
    assert "留空则使用运营手册的默认值 2 倍" in page
    start = today + dt.timedelta(days=50)
    response = client.post("/marketing/campaigns/new/", _form(start, expected_uplift="6"))
    assert response.status_code == 302
    campaign = Campaign.objects.get(theme="618年中大促")
    assert campaign.expected_uplift == Decimal("6")
    detail = client.get(f"/marketing/campaigns/{campaign.pk}/").content.decode()
    assert "<p>预计销量倍数：6</p>" in detail
    edit = client.get(f"/marketing/campaigns/{campaign.pk}/edit/").content.decode()
    assert 'name="expected_uplift" value="6"' in edit
    # out of range: shown again with the error, nothing changed
    refused = client.post(
        f"/marketing/campaigns/{campaign.pk}/edit/",
        _form(start, expected_uplift="80"),
    )
    assert refused.status_code == 422
    campaign.refresh_from_db()
    assert campaign.expected_uplift == Decimal("6")
    # cleared: the playbook's default, marked as such
    client.post(f"/marketing/campaigns/{campaign.pk}/edit/", _form(start))
    campaign.refresh_from_db()
    assert campaign.expected_uplift is None
    detail = client.get(f"/marketing/campaigns/{campaign.pk}/").content.decode()
    assert '<p>预计销量倍数：2 <small class="muted">（运营手册默认）</small></p>' in detail
