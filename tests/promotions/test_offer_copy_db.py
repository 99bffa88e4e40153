"""LIST-02 for offers: an offer's titles (Chinese and English) are checked against the store's
banned-word list when created or edited (service, API, console form), and the daily re-scan
covers enabled offers."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from storeops.accounts.roles import Role
from storeops.catalog import services as catalog_services
from storeops.core.context import Actor
from storeops.core.errors import ValidationError
from storeops.promotions import services
from storeops.promotions.models import Offer
from storeops.sop.models import Finding
from storeops.sop.services import checks_run

pytestmark = pytest.mark.django_db


def _open():
    return Finding.objects.filter(rule_id="LIST-02", status="open")


ACTOR = Actor.system("cli")


@pytest.fixture
def banned(store):
    catalog_services.banned_words_update(actor=ACTOR, store=store, words="最\n第一\nNO.1\n")


def _offer(store, **overrides):
    data = {"kind": "percentage", "params": {"rate": "0.9"}, "title_zh": "夏日9折"}
    data.update(overrides)
    return services.offer_create(actor=ACTOR, store=store, **data)


def test_list_02_an_offer_title_with_a_banned_word_is_refused_naming_each_title(store, banned):
    # when both titles carry a banned word (English matched without case or width: ｎｏ.1)
    with pytest.raises(ValidationError) as err:
        _offer(store, title_zh="全网最低9折", title_en="Summer ｎｏ.1 deal")

    # then both are named with the word, and nothing is saved
    assert err.value.fields == {"title_zh": "含广告法禁用词：最", "title_en": "含广告法禁用词：NO.1"}
    assert not Offer.objects.exists()


def test_list_02_editing_an_offer_title_to_a_banned_word_is_refused_and_nothing_changes(store, banned):
    offer = _offer(store)
    with pytest.raises(ValidationError) as err:
        services.offer_update(actor=ACTOR, offer=offer, title_zh="销量第一9折")
    offer.refresh_from_db()
    assert err.value.fields == {"title_zh": "含广告法禁用词：第一"}
    assert offer.title_zh == "夏日9折"


def test_list_02_the_offer_api_answers_422_naming_the_title(store, banned, api_as):
    api = api_as(Role.OPERATIONS)
    created = api.post(f"/promotions/{store.pk}/offers", {"kind": "percentage", "params": {"rate": "0.9"}})
    patched = api.patch(f"/promotions/{store.pk}/offers/{created.json()['id']}", {"title_zh": "最后一天"})
    assert created.status_code == 201
    assert patched.status_code == 422
    assert patched.json()["fields"] == {"title_zh": "含广告法禁用词：最"}


def test_list_02_the_console_offer_form_shows_the_banned_word_next_to_the_title(store, banned, make_user):
    client = Client()
    client.force_login(make_user(Role.OPERATIONS))
    refused = client.post(
        "/promotions/offers/new/",
        {"kind": "percentage", "title_zh": "第一好价", "params": '{"rate": "0.9"}', "priority": "0"},
    )
    assert refused.status_code == 422
    assert "含广告法禁用词：第一" in refused.content.decode()
    assert not Offer.objects.exists()


def test_list_02_the_rescan_flags_enabled_offers_only(store, banned):
    # given an enabled offer, a draft and an enabled offer already past its end, all titled 狂欢
    now = timezone.now()
    enabled = _offer(store, title_zh="狂欢9折")
    services.offer_set_status(actor=ACTOR, offer=enabled, status="active")
    _offer(store, title_zh="狂欢草稿")
    past = _offer(
        store, title_zh="狂欢已过", starts_at=now - dt.timedelta(days=3), ends_at=now - dt.timedelta(days=1)
    )
    services.offer_set_status(actor=ACTOR, offer=past, status="active")

    # when 狂欢 joins the list and the re-scan runs
    catalog_services.banned_words_update(actor=ACTOR, store=store, words="最\n第一\n狂欢\n")
    checks_run(rule="LIST-02", store=store, notify=False)

    # then only the offer shoppers can see is a finding
    findings = list(_open().values_list("subject_key", "detail"))
    assert findings == [
        (
            f"promotions.offer:{enabled.pk}:banned_words",
            {"words": {"title_zh": ["狂欢"]}, "word_list_version": findings[0][1]["word_list_version"]},
        )
    ]

    # and the finding resolves itself once the title is fixed
    services.offer_update(actor=ACTOR, offer=enabled, title_zh="夏日9折")
    checks_run(rule="LIST-02", store=store, notify=False)
    assert not Finding.objects.filter(rule_id="LIST-02", status="open").exists()
