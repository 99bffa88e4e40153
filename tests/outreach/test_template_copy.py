"""LIST-02 for outreach: a message template's subject and body are checked against the store's
banned-word list when created (service and API) and when enabled again, and the daily re-scan
covers active templates."""

from __future__ import annotations

import pytest

from storeops.accounts.roles import Role
from storeops.catalog import services as catalog_services
from storeops.core.context import Actor
from storeops.core.errors import ValidationError
from storeops.outreach import services
from storeops.outreach.models import MessageTemplate
from storeops.sop.models import Finding
from storeops.sop.services import checks_run

pytestmark = pytest.mark.django_db


def _open():
    return Finding.objects.filter(rule_id="LIST-02", status="open")


ACTOR = Actor.system("cli")


@pytest.fixture
def banned(store):
    catalog_services.banned_words_update(actor=ACTOR, store=store, words="最\n第一\n")


def test_list_02_a_template_with_a_banned_word_is_refused_naming_subject_and_body(store, banned):
    with pytest.raises(ValidationError) as err:
        services.template_create(
            actor=ACTOR,
            store=store,
            code="push1",
            name="推送",
            channel="push",
            subject="销量第一",
            body="{product}今天最划算",
        )
    assert err.value.fields == {"subject": "含广告法禁用词：第一", "body": "含广告法禁用词：最"}
    assert not MessageTemplate.objects.exists()


def test_list_02_the_template_api_answers_422_naming_the_body(store, banned, api_as):
    response = api_as(Role.MARKETING).post(
        f"/outreach/{store.pk}/templates",
        {"code": "sms1", "name": "短信", "channel": "sms", "body": "全网第一好价"},
    )
    assert response.status_code == 422
    assert response.json()["fields"] == {"body": "含广告法禁用词：第一"}


def test_list_02_rescan_flags_active_templates_and_a_flagged_one_cannot_be_enabled_again(store, banned):
    # given an active and a disabled template saved while 狂欢 was allowed
    active = services.template_create(
        actor=ACTOR, store=store, code="a", name="A", channel="sms", body="{store}会员狂欢日"
    )
    disabled = services.template_create(
        actor=ACTOR, store=store, code="b", name="B", channel="sms", body="{store}狂欢返场"
    )
    services.template_set_active(actor=ACTOR, template=disabled, active=False)

    # when 狂欢 joins the list and the re-scan runs
    catalog_services.banned_words_update(actor=ACTOR, store=store, words="最\n第一\n狂欢\n")
    checks_run(rule="LIST-02", store=store, notify=False)

    # then the active template is a finding, and the disabled one is not enabled again
    keys = list(_open().values_list("subject_key", flat=True))
    assert keys == [f"outreach.messagetemplate:{active.pk}:banned_words"]
    with pytest.raises(ValidationError) as err:
        services.template_set_active(actor=ACTOR, template=disabled, active=True)
    disabled.refresh_from_db()
    assert err.value.fields == {"body": "含广告法禁用词：狂欢"}
    assert disabled.is_active is False
