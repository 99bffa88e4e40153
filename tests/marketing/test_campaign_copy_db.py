"""LIST-02 for campaign copy: a campaign's theme and mechanics are checked against the store's
banned-word list when saved (service and API), and the daily re-scan covers campaigns whose
copy is out (under approval, approved, running)."""

from __future__ import annotations

import datetime as dt

import pytest

from storeops.accounts.roles import Role
from storeops.catalog import services as catalog_services
from storeops.core.errors import ValidationError
from storeops.marketing import services as ms
from storeops.marketing.models import Campaign
from storeops.sop.models import Finding
from storeops.sop.services import checks_run
from tests.marketing.builders import ACTOR, a_campaign, an_approved_campaign

pytestmark = pytest.mark.django_db


def _open():
    return Finding.objects.filter(rule_id="LIST-02", status="open")


@pytest.fixture
def banned(store):
    """The store's edited list: 最 and 第一 only."""
    catalog_services.banned_words_update(actor=ACTOR, store=store, words="最\n第一\n")


def test_list_02_a_campaign_with_a_banned_word_in_its_theme_and_mechanics_is_refused(store, today, banned):
    # when a plan says 第一 in its theme and 最 in its mechanics
    with pytest.raises(ValidationError) as err:
        a_campaign(
            store, today + dt.timedelta(days=10), theme="销量第一狂欢节", mechanics="全年最低价，满300减50"
        )

    # then both fields are named with their words, in Chinese, and nothing is saved
    assert err.value.fields == {"theme": "含广告法禁用词：第一", "mechanics": "含广告法禁用词：最"}
    assert not Campaign.objects.exists()


def test_list_02_the_words_are_the_stores_editable_list(store, today, banned):
    # given the store's list has no 顶级 (the bundled default list does)
    campaign = a_campaign(store, today + dt.timedelta(days=10), theme="顶级好物节")

    # then it is saved; once 顶级 is added, the same copy is refused on edit and nothing changes
    assert campaign.theme == "顶级好物节"
    catalog_services.banned_words_update(actor=ACTOR, store=store, words="最\n第一\n顶级\n")
    with pytest.raises(ValidationError) as err:
        ms.campaign_update(
            actor=ACTOR,
            campaign=campaign,
            theme="顶级好物节（修改）",
            kind="regular",
            starts_on=campaign.starts_on,
            ends_on=campaign.ends_on,
            mechanics="满200减20",
        )
    campaign.refresh_from_db()
    assert err.value.fields == {"theme": "含广告法禁用词：顶级"}
    assert (campaign.theme, campaign.mechanics) == ("顶级好物节", "")


def test_list_02_the_api_answers_422_naming_the_field_and_the_word(store, today, banned, api_as):
    starts_on = today + dt.timedelta(days=20)
    response = api_as(Role.MARKETING).post(
        f"/marketing/{store.pk}/campaigns",
        {
            "theme": "开学季",
            "kind": "regular",
            "mechanics": "最划算的一周",
            "starts_on": starts_on.isoformat(),
            "ends_on": (starts_on + dt.timedelta(days=3)).isoformat(),
        },
    )
    assert response.status_code == 422
    assert response.json()["fields"] == {"mechanics": "含广告法禁用词：最"}
    assert not Campaign.objects.exists()


def test_list_02_the_rescan_flags_approved_campaigns_not_drafts(store, today, banned):
    # given an approved campaign and a draft, both saved while 狂欢 was allowed
    approved = an_approved_campaign(store, today + dt.timedelta(days=10), theme="双11狂欢")
    a_campaign(store, today + dt.timedelta(days=30), theme="年货狂欢")

    # when 狂欢 joins the list (the change re-runs the LIST-02 scan at once)
    catalog_services.banned_words_update(actor=ACTOR, store=store, words="最\n第一\n狂欢\n")
    checks_run(rule="LIST-02", store=store, notify=False)

    # then only the approved campaign, whose copy can no longer be edited, is a finding
    open_keys = list(_open().values_list("subject_key", "title"))
    assert open_keys == [
        (f"marketing.campaign:{approved.pk}:banned_words", "营销活动「双11狂欢」文案含广告法禁用词：狂欢")
    ]
