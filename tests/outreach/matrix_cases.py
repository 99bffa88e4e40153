"""The outreach routes and pages (MEM-06) in the permission matrix (tests/test_permission_matrix.py)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from storeops.core.context import Actor
from storeops.outreach import services

ACTOR = Actor.system("cli")
_O = "/outreach/{store}"

OUTREACH_API_CASES = {
    ("GET", "/outreach/{store_id}/templates"): (_O + "/templates", None),
    ("POST", "/outreach/{store_id}/templates"): (
        _O + "/templates",
        {"code": "new-one", "name": "新模板", "channel": "sms", "body": "{store}上新了"},
    ),
    ("PUT", "/outreach/{store_id}/templates/{template_id}/active"): (
        _O + "/templates/{or_template}/active",
        {"is_active": True},
    ),
    ("GET", "/outreach/{store_id}/consents"): (_O + "/consents?channel=sms", None),
    ("POST", "/outreach/{store_id}/consents"): (
        _O + "/consents",
        {"customer_ref": "c77", "channel": "sms", "opted_in": False, "source": "reply"},
    ),
    ("GET", "/outreach/{store_id}/campaigns"): (_O + "/campaigns?status=draft", None),
    ("POST", "/outreach/{store_id}/campaigns"): (
        _O + "/campaigns",
        {"name": "回访", "template_id": "{or_template}", "audience_kind": "list", "customer_refs": ["c1"]},
    ),
    ("GET", "/outreach/{store_id}/campaigns/{campaign_id}"): (_O + "/campaigns/{or_campaign}", None),
    ("POST", "/outreach/{store_id}/campaigns/{campaign_id}/send"): (_O + "/campaigns/{or_campaign}/send", {}),
    ("POST", "/outreach/{store_id}/campaigns/{campaign_id}/cancel"): (
        _O + "/campaigns/{or_draft}/cancel",
        {},
    ),
    ("GET", "/outreach/{store_id}/campaigns/{campaign_id}/messages"): (
        _O + "/campaigns/{or_sent}/messages",
        None,
    ),
    ("POST", "/outreach/{store_id}/receipts"): (
        _O + "/receipts",
        {"message_id": "{or_message}", "delivered": True},
    ),
}

OUTREACH_CONSOLE_CASES = {
    "console:outreach_campaigns": ("GET", "/outreach/?status=sent", None),
    "console:outreach_campaign_create": (
        "POST",
        "/outreach/new/",
        {"name": "回访", "template": "{or_template}", "audience_kind": "list", "customer_refs": "c1\nc2"},
    ),
    "console:outreach_campaign": ("GET", "/outreach/{or_sent}/", None),
    "console:outreach_campaign_action": ("POST", "/outreach/{or_draft}/cancel/", {}),
    "console:outreach_templates": ("GET", "/outreach/templates/", None),
    "console:outreach_template_create": (
        "POST",
        "/outreach/templates/new/",
        {"code": "n2", "name": "新", "channel": "sms", "body": "上新"},
    ),
    "console:outreach_template_toggle": ("POST", "/outreach/templates/{or_template}/toggle/", {}),
    "console:outreach_consents": ("GET", "/outreach/consents/?q=c1", None),
    "console:outreach_consent_set": (
        "POST",
        "/outreach/consents/set/",
        {"customer_ref": "c78", "channel": "sms", "opted_in": "no", "source": "console"},
    ),
}


def outreach_world(store):
    """A template, a draft campaign, one to send, and one sent to an opted-in customer."""
    template = services.template_create(
        actor=ACTOR, store=store, code="news", name="上新通知", channel="sms", body="{store}上新了"
    )
    services.consent_set(
        actor=ACTOR,
        store=store,
        customer_ref="c1",
        channel="sms",
        opted_in=True,
        source="signup",
        address="13800000001",
    )
    day = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time(11)))

    def campaign(name):
        return services.campaign_create(
            actor=ACTOR, store=store, name=name, template=template, audience_kind="list", customer_refs=["c1"]
        )

    draft, to_send, sent = campaign("草稿"), campaign("待发送"), campaign("已发送")
    services.campaign_start(actor=ACTOR, campaign=sent, now=day)
    return {
        "or_template": template.pk,
        "or_draft": draft.pk,
        "or_campaign": to_send.pk,
        "or_sent": sent.pk,
        "or_message": sent.messages.get().pk,
    }
