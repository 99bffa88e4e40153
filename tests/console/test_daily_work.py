"""Daily work done through the console forms, as each role does it (helper "flows"): the
refusals, labels and confirmations a person meets on the way, in both languages."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import translation

from storeops.accounts.roles import Role
from storeops.accounts.services import api_token_create
from storeops.console.views import error_text
from storeops.core.context import Actor
from storeops.core.errors import InvalidTransition, ValidationError
from storeops.outreach import services as outreach
from storeops.stores.selectors import playbook_get
from tests.orders.builders import ACTOR

pytestmark = pytest.mark.django_db


def _client(make_user, role, **kwargs):
    client = Client()
    client.force_login(make_user(role, **kwargs))
    return client


def _messages(response) -> str:
    return " ".join(str(m) for m in response.context["messages"])


def test_error_text_punctuates_in_the_readers_language_and_hides_state_values():
    refused = ValidationError("工单信息有误，未保存", fields={"subject": "主题为 1–200 个字符"})
    assert error_text(refused) == "工单信息有误，未保存（主题为 1–200 个字符）"
    with translation.override("en"):
        assert error_text(refused) == "工单信息有误，未保存 (主题为 1–200 个字符)"
    # an invalid transition's fields are the state for API clients ("resolved"), not words
    assert error_text(InvalidTransition("不能执行此操作", fields={"status": "resolved"})) == "不能执行此操作"


@pytest.mark.parametrize(
    ("language", "shown", "hidden"),
    [("zh-hans", "请输入数字", "must be a number"), ("en", "must be a number", "请输入数字")],
)
def test_playbook_error_is_in_the_readers_language_and_nothing_is_saved(
    store, make_user, language, shown, hidden
):
    client = _client(make_user, Role.OPERATIONS, username=f"ops_{language}", language=language)
    response = client.post(
        "/playbook/", {"qualification_warn_days": "45", "refund_auto_approve_below": "abc"}
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert shown in html
    assert hidden not in html  # was "请输入数字 / must be a number" for every reader
    assert 'value="45"' in html  # what was typed stays in the form
    assert playbook_get(store=store).qualification_warn_days == 30


def test_playbook_cross_field_error_is_in_the_readers_language(store, make_user):
    client = _client(make_user, Role.OPERATIONS, username="ops_en2", language="en")
    html = client.post("/playbook/", {"title_min_chars": "70"}).content.decode()
    assert "title_min_chars must not exceed title_max_chars" in html
    assert "标题最少字数不能大于最多字数" not in html


def test_tokens_list_names_the_role_and_revoking_asks_first(store, owner, make_user):
    token, _secret = api_token_create(actor=Actor(user=owner), name="erp", role=Role.CUSTOMER_SERVICE)
    html = _client(make_user, Role.OWNER).get("/tokens/").content.decode()
    assert "<td>客服</td>" in html  # was the key "customer_service"
    revoke = html.split(f'action="/tokens/{token.pk}/revoke/"')[1].split(">")[0]
    assert "return confirm(this.dataset.confirm)" in revoke


def test_outreach_create_button_and_send_confirmation(store, make_user):
    template = outreach.template_create(
        actor=ACTOR, store=store, code="hello", name="问候", channel="sms", body="{store}会员日"
    )
    campaign = outreach.campaign_create(
        actor=ACTOR, store=store, name="会员日", template=template, audience_kind="list", customer_refs=["c1"]
    )
    client = _client(make_user, Role.MARKETING, username="mkt_en", language="en")
    assert 'type="submit">Create</button>' in client.get("/outreach/").content.decode()  # was "Created"
    html = client.get(f"/outreach/{campaign.pk}/").content.decode()
    send = html.split(f'action="/outreach/{campaign.pk}/send/"')[1].split(">")[0]
    assert "return confirm(this.dataset.confirm)" in send


def test_experiments_page_links_to_profitability_like_its_sibling_pages(store, make_user):
    html = _client(make_user, Role.ANALYST).get("/experiments/").content.decode()
    assert 'href="/profitability/"' in html


@pytest.mark.parametrize(
    ("language", "shown", "hidden"),
    [("zh-hans", "满200减30", "30 off 200"), ("en", "30 off 200", "满200减30")],
)
def test_promo_01_offer_titles_are_in_the_readers_language(store, make_user, language, shown, hidden):
    from storeops.promotions import services as prs

    offer = prs.offer_create(
        actor=ACTOR,
        store=store,
        kind="tiered_reduction",
        title_zh="满200减30",
        title_en="30 off 200",
        params={"tiers": [{"threshold": "200", "amount": "30"}]},
    )
    client = _client(make_user, Role.OPERATIONS, username=f"ops_t_{language}", language=language)
    for path in ("/promotions/offers/", f"/promotions/offers/{offer.pk}/"):
        html = client.get(path).content.decode()
        assert shown in html, path
        assert hidden not in html, path
