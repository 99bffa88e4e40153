"""The marketing routes and pages in the permission matrix (tests/test_permission_matrix.py)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from storeops.marketing import services as ms
from tests.marketing.builders import ACTOR, a_campaign, an_ad_plan, approvers

_C = "/marketing/{store}/campaigns"
_METRIC = {"rows": [{"hour": "2030-01-01T20:00:00+08:00", "coupons_issued": 10, "coupon_redemptions": 3}]}
_DECISION = {"approve": True, "comment": "同意"}
_CSV = "日期,关键词,花费,展现量,点击量,成交笔数,成交金额\n2030-01-01,连衣裙,10.00,100,5,1,50.00\n"

MARKETING_API_CASES = {
    ("GET", "/marketing/{store_id}/campaigns"): (_C, None),
    ("POST", "/marketing/{store_id}/campaigns"): (
        _C,
        {
            "theme": "年货节",
            "starts_on": "2030-01-10",
            "ends_on": "2030-01-12",
            "budget": [{"kind": "ads", "planned": "100"}],
        },
    ),
    ("GET", "/marketing/{store_id}/campaigns/{campaign_id}"): (_C + "/{mk_draft}", None),
    ("PUT", "/marketing/{store_id}/campaigns/{campaign_id}"): (
        _C + "/{mk_draft}",
        {"theme": "年货节（改）", "starts_on": "2030-01-10", "ends_on": "2030-01-12"},
    ),
    ("POST", "/marketing/{store_id}/campaigns/{campaign_id}/submit"): (_C + "/{mk_draft}/submit", {}),
    ("POST", "/marketing/{store_id}/campaigns/{campaign_id}/approvals/operations"): (
        _C + "/{mk_pending_operations}/approvals/operations",
        _DECISION,
    ),
    ("POST", "/marketing/{store_id}/campaigns/{campaign_id}/approvals/marketing"): (
        _C + "/{mk_pending_marketing}/approvals/marketing",
        _DECISION,
    ),
    ("POST", "/marketing/{store_id}/campaigns/{campaign_id}/approvals/finance"): (
        _C + "/{mk_pending_finance}/approvals/finance",
        _DECISION,
    ),
    ("POST", "/marketing/{store_id}/campaigns/{campaign_id}/activate"): (
        _C + "/{mk_approved}/activate",
        None,
    ),
    ("POST", "/marketing/{store_id}/campaigns/{campaign_id}/end"): (_C + "/{mk_active}/end", None),
    ("PUT", "/marketing/{store_id}/campaigns/{campaign_id}/budget/{kind}/actual"): (
        _C + "/{mk_active}/budget/ads/actual",
        {"actual": "80.00"},
    ),
    ("GET", "/marketing/{store_id}/campaigns/{campaign_id}/metrics"): (_C + "/{mk_active}/metrics", None),
    ("POST", "/marketing/{store_id}/campaigns/{campaign_id}/metrics"): (_C + "/{mk_active}/metrics", _METRIC),
    ("POST", "/marketing/{store_id}/campaigns/{campaign_id}/metrics/recount"): (
        _C + "/{mk_active}/metrics/recount",
        None,
    ),
    ("GET", "/marketing/{store_id}/campaigns/{campaign_id}/postmortem"): (
        _C + "/{mk_ended}/postmortem",
        None,
    ),
    ("POST", "/marketing/{store_id}/campaigns/{campaign_id}/postmortem"): (
        _C + "/{mk_ended}/postmortem",
        {"conclusions": "预热期偏短"},
    ),
    ("GET", "/marketing/{store_id}/campaigns/{campaign_id}/cash-reserve"): (
        _C + "/{mk_draft}/cash-reserve",
        None,
    ),
    ("GET", "/marketing/{store_id}/ad-plans"): ("/marketing/{store}/ad-plans", None),
    ("POST", "/marketing/{store_id}/ad-plans"): (
        "/marketing/{store}/ad-plans",
        {"name": "引流计划", "purpose": "traffic", "match_type": "broad"},
    ),
    ("GET", "/marketing/{store_id}/ad-plans/{plan_id}"): ("/marketing/{store}/ad-plans/{mk_adplan}", None),
    ("PUT", "/marketing/{store_id}/ad-plans/{plan_id}"): (
        "/marketing/{store}/ad-plans/{mk_adplan}",
        {"name": "连衣裙精准", "purpose": "profit", "match_type": "exact", "is_active": False},
    ),
    ("POST", "/marketing/{store_id}/ad-plans/{plan_id}/keywords"): (
        "/marketing/{store}/ad-plans/{mk_adplan}/keywords",
        {"keyword": "碎花裙", "bid": "1.20"},
    ),
    ("DELETE", "/marketing/{store_id}/ad-plans/{plan_id}/keywords/{keyword_id}"): (
        "/marketing/{store}/ad-plans/{mk_adplan}/keywords/{mk_keyword}",
        None,
    ),
    ("POST", "/marketing/{store_id}/ad-plans/{plan_id}/stats/import"): (
        "/marketing/{store}/ad-plans/{mk_adplan}/stats/import",
        {"csv": _CSV},
    ),
    ("GET", "/marketing/{store_id}/ad-plans/{plan_id}/keywords/{keyword_id}/bid"): (
        "/marketing/{store}/ad-plans/{mk_adplan}/keywords/{mk_keyword}/bid?at=20:30",
        None,
    ),
    ("POST", "/marketing/{store_id}/cpc-benchmarks"): (
        "/marketing/{store}/cpc-benchmarks",
        {"keyword": "连衣裙", "average_cpc": "2.50"},
    ),
}

_P = "/marketing/campaigns/"
MARKETING_CONSOLE_CASES = {
    "console:marketing_campaigns": ("GET", _P + "?status=draft", None),
    "console:marketing_campaign_detail": ("GET", _P + "{mk_active}/", None),
    "console:marketing_campaign_decide": (
        "POST",
        _P + "{mk_pending_operations}/decide/",
        {"decision": "approve", "step": "operations"},
    ),
    "console:marketing_campaign_action": ("POST", _P + "{mk_approved}/do/activate/", {}),
    "console:marketing_postmortem": ("GET", _P + "{mk_ended}/postmortem/", None),
    "console:marketing_postmortem_generate": (
        "POST",
        _P + "{mk_ended}/postmortem/generate/",
        {"conclusions": "ok"},
    ),
    "console:marketing_postmortem_export": ("GET", _P + "{mk_ended}/postmortem.xlsx", None),
    "console:marketing_ads": ("GET", "/marketing/ads/", None),
    "console:marketing_ads_import": ("POST", "/marketing/ads/{mk_adplan}/import/", {"csv": _CSV}),
    "console:marketing_campaign_create": ("GET", _P + "new/", None),
    "console:marketing_campaign_edit": ("GET", _P + "{mk_draft}/edit/", None),
    "console:marketing_campaign_metrics": ("GET", _P + "{mk_active}/metrics/", None),
    "console:marketing_campaign_recount": ("POST", _P + "{mk_active}/metrics/recount/", {}),
    "console:marketing_ad_plan_create": ("GET", "/marketing/ads/new/", None),
    "console:marketing_ad_plan_edit": ("GET", "/marketing/ads/{mk_adplan}/edit/", None),
    "console:marketing_ad_keyword_set": (
        "POST",
        "/marketing/ads/{mk_adplan}/keywords/",
        {"keyword": "连衣裙", "bid": "2.50"},
    ),
    "console:marketing_ad_keyword_delete": (
        "POST",
        "/marketing/ads/{mk_adplan}/keywords/{mk_keyword}/delete/",
        {},
    ),
}


def marketing_world(store, _owner):
    """A campaign in each state the routes need, and an ad plan with one keyword."""
    today = timezone.localdate()
    chain = approvers()  # one person per step (PROMO-05)

    def at_step(steps, start=today + dt.timedelta(days=20)):
        c = a_campaign(store, start)
        if steps >= 0:
            c = ms.campaign_submit(actor=ACTOR, campaign=c)
        for who in chain[: max(steps, 0)]:
            c = ms.campaign_decide(actor=who, campaign=c, approve=True)
        return c

    active = ms.campaign_activate(actor=ACTOR, campaign=at_step(3, today))
    ended = ms.campaign_activate(actor=ACTOR, campaign=at_step(3, today - dt.timedelta(days=10)))
    ended = ms.campaign_end(actor=ACTOR, campaign=ended)
    plan = an_ad_plan(store)
    keyword = ms.ad_keyword_set(actor=ACTOR, plan=plan, keyword="连衣裙", bid="2.00", rank=12, is_core=True)
    return {
        "mk_draft": at_step(-1).pk,
        "mk_pending_operations": at_step(0).pk,
        "mk_pending_marketing": at_step(1).pk,
        "mk_pending_finance": at_step(2).pk,
        "mk_approved": at_step(3).pk,
        "mk_active": active.pk,
        "mk_ended": ended.pk,
        "mk_adplan": plan.pk,
        "mk_keyword": keyword.pk,
    }
