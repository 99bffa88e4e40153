"""Console pages of marketing: the approval timeline and actions (PROMO-05), the post-mortem
page and its Excel export (PROMO-07), and the ads page (ADS-01)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from storeops.accounts.roles import Role
from storeops.marketing import exports
from storeops.marketing import services as ms
from tests.marketing.builders import ACTOR, a_campaign, an_ad_plan, an_approved_campaign

pytestmark = pytest.mark.django_db


def _client(make_user, role):
    client = Client()
    client.force_login(make_user(role))
    return client


def test_promo_05_console_operations_lead_approves_and_the_timeline_shows_it(store, today, make_user):
    # given a submitted plan
    campaign = a_campaign(store, today + dt.timedelta(days=20))
    ms.campaign_submit(actor=ACTOR, campaign=campaign)
    client = _client(make_user, Role.OPERATIONS)
    # when the operations lead approves it in the console
    response = client.post(
        f"/marketing/campaigns/{campaign.pk}/decide/",
        {"decision": "approve", "step": "operations", "comment": "可以"},
    )
    # then it waits for marketing, and the detail page shows the decision on the timeline
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == "pending_marketing"
    page = client.get(f"/marketing/campaigns/{campaign.pk}/").content.decode()
    assert "运营负责人" in page
    assert "可以" in page
    assert "推广负责人" in page  # the step it now waits for


def test_promo_05_console_activation_before_approval_shows_the_reason(store, today, make_user):
    campaign = a_campaign(store, today + dt.timedelta(days=20))
    client = _client(make_user, Role.MARKETING)
    response = client.post(f"/marketing/campaigns/{campaign.pk}/do/activate/", follow=True)
    assert "活动未完成审批（运营负责人 → 推广负责人 → 财务），不能上线" in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == "draft"


def _ended_with_postmortem(store):
    """An ended campaign with 2,000 of GMV and 500 spent on ads, its post-mortem generated."""
    start = timezone.localdate() - dt.timedelta(days=6)
    campaign = ms.campaign_activate(actor=ACTOR, campaign=an_approved_campaign(store, start))
    ms.campaign_end(actor=ACTOR, campaign=campaign)
    ms.campaign_metrics_record(
        actor=ACTOR,
        campaign=campaign,
        rows=[{"hour": timezone.now() - dt.timedelta(days=5), "gmv": "2000.00"}],
    )
    ms.campaign_budget_actual_set(actor=ACTOR, campaign=campaign, kind="ads", actual="500")
    ms.campaign_postmortem_generate(actor=ACTOR, campaign=campaign)
    return campaign


def test_promo_07_excel_export_shows_figures_and_new_members(store, owner, make_user):
    # given an ended campaign with 2,000 of GMV and 500 spent on ads
    campaign = _ended_with_postmortem(store)
    # when finance exports it
    response = _client(make_user, Role.FINANCE).get(f"/marketing/campaigns/{campaign.pk}/postmortem.xlsx")
    # then the workbook has ROI (2000 − 500) ÷ 500 = 3.00, the empty service sections, and no
    # new members (a count, not text)
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = {r[0]: r[1] for r in sheet.iter_rows(min_row=3, values_only=True)}
    assert rows["ROI =（销售额 − 成本）÷ 成本"] == 3  # numbers, not text: finance sums them
    assert rows["GMV"] == 2000
    assert rows["客服高频问题"] == "活动期间没有工单"  # built, and empty for this campaign
    assert rows["评价关键词"] == "活动以来没有评价"
    assert rows["新用户转会员"] == 0


def test_promo_07_postmortem_page_writes_amounts_with_the_money_filter(store, make_user):
    # given an ended campaign with 2,000 of GMV and 500 spent on ads (the page showed 2000.00)
    campaign = _ended_with_postmortem(store)
    # when the post-mortem page is read
    page = _client(make_user, Role.FINANCE).get(f"/marketing/campaigns/{campaign.pk}/postmortem/")
    # then GMV, cost and the budget lines are amounts; ROI and counts are not
    rows = {
        cells[0]: cells[1:]
        for cells in (
            [c.split(">", 1)[1].split("<")[0] for c in tr.split("<td")[1:]]
            for tr in page.content.decode().split("<tr>")[1:]
        )
        if cells
    }
    assert rows["GMV"][0] == "¥2,000.00"
    assert rows["花费 / 预算"][0] == "¥500.00"
    assert rows["预算·广告"][0] == "¥500.00"
    assert rows["ROI =（销售额 − 成本）÷ 成本"] == ["3.00", ""]
    assert rows["订单数"][0] == "0"


def test_promo_07_a_report_generated_before_new_members_were_counted_says_so(store):
    # given a report stored when the members module did not exist yet
    start = timezone.localdate() - dt.timedelta(days=6)
    campaign = ms.campaign_activate(actor=ACTOR, campaign=an_approved_campaign(store, start))
    report = {**ms.postmortem_figures(campaign), "unavailable": ["new_members"]}
    del report["new_members"], report["new_members_pct"]
    # when its rows are shown, then the section is named as unavailable, not counted as 0
    rows = {label: value for label, value, _plan, _money in exports.postmortem_rows(campaign, report)}
    assert rows["新用户转会员"] == "暂无数据（模块尚未建设）"


def test_ads_01_console_imports_a_csv_and_shows_keyword_stats(store, make_user):
    plan = an_ad_plan(store)
    ms.ad_keyword_set(actor=ACTOR, plan=plan, keyword="连衣裙", bid="2.00", rank=12, is_core=True)
    client = _client(make_user, Role.MARKETING)
    header = "date,keyword,spend,impressions,clicks,conversions,ad sales\n"
    csv = header + f"{timezone.localdate()},连衣裙,88.00,900,44,2,300.00\n"
    client.post(f"/marketing/ads/{plan.pk}/import/", {"csv": csv})
    page = client.get("/marketing/ads/").content.decode()
    assert "88.00" in page
    assert "341%" in page  # ROI 300 ÷ 88, a percentage as everywhere in the console


def test_promo_05_console_list_filters_by_status_and_offers_the_statuses(store, today, make_user):
    # given a draft and a submitted plan
    a_campaign(store, today + dt.timedelta(days=20), theme="草稿活动")
    ms.campaign_submit(
        actor=ACTOR, campaign=a_campaign(store, today + dt.timedelta(days=20), theme="待审活动")
    )
    # when the list is filtered to drafts
    page = _client(make_user, Role.MARKETING).get("/marketing/campaigns/?status=draft")
    # then only the draft is listed, and the filter offers the approval states
    body = page.content.decode()
    assert "草稿活动" in body
    assert "待审活动" not in body
    assert "待财务审批" in body


def test_campaign_and_ad_plan_lists_are_paginated(store, today, make_user):
    # given 26 campaigns (one more than a page) and 11 ad plans (one more than a page of plans)
    for i in range(26):
        a_campaign(store, today + dt.timedelta(days=10 + i), theme=f"活动{i:02d}")
    for i in range(11):
        an_ad_plan(store, name=f"计划{i:02d}")
    client = _client(make_user, Role.OWNER)
    # the campaign list shows the newest 25, and the oldest on page 2
    first = client.get("/marketing/campaigns/").content.decode()
    assert "活动25" in first
    assert "活动00" not in first
    assert "page=2" in first
    assert "活动00" in client.get("/marketing/campaigns/?page=2").content.decode()
    # the ads page shows 10 plans per page, by name
    first = client.get("/marketing/ads/").content.decode()
    assert "计划09" in first
    assert "计划10" not in first
    assert "计划10" in client.get("/marketing/ads/?page=2").content.decode()


# --- daily work through the console forms (helper "flows") ---------------------------------------


def test_promo_05_each_campaign_action_says_what_happened(store, today, make_user):
    campaign = a_campaign(store, today + dt.timedelta(days=20))
    client = _client(make_user, Role.MARKETING)
    response = client.post(f"/marketing/campaigns/{campaign.pk}/do/submit/", follow=True)
    text = " ".join(str(m) for m in response.context["messages"])
    assert text == "已提交审批，等待运营负责人审批"  # was "操作成功" for every action
    html = response.content.decode()
    cancel = html.split(f'action="/marketing/campaigns/{campaign.pk}/do/cancel/"')[1].split(">")[0]
    assert "return confirm(this.dataset.confirm)" in cancel
    response = client.post(f"/marketing/campaigns/{campaign.pk}/do/cancel/", follow=True)
    assert " ".join(str(m) for m in response.context["messages"]) == "活动已取消"


def test_promo_05_english_approver_sees_a_reject_button(store, today, make_user):
    campaign = a_campaign(store, today + dt.timedelta(days=20))
    ms.campaign_submit(actor=ACTOR, campaign=campaign)
    client = Client()
    client.force_login(make_user(Role.OPERATIONS, username="ops_en", language="en"))
    html = client.get(f"/marketing/campaigns/{campaign.pk}/").content.decode()
    assert 'value="reject">Reject</button>' in html  # was "Rejected"


def test_promo_05_refused_decision_keeps_the_comment_typed_and_decides_nothing(store, today, make_user):
    campaign = a_campaign(store, today + dt.timedelta(days=20))
    ms.campaign_submit(actor=ACTOR, campaign=campaign)
    client = _client(make_user, Role.OPERATIONS)
    # a page left open on a step that has moved on: the comment typed is kept
    response = client.post(
        f"/marketing/campaigns/{campaign.pk}/decide/",
        {"decision": "reject", "step": "finance", "comment": "满减门槛偏低，毛利不够"},
    )
    assert response.status_code == 422  # was a redirect to an empty box
    html = response.content.decode()
    assert 'value="满减门槛偏低，毛利不够"' in html
    assert "活动当前等待的审批环节是" in html
    response = client.post(
        f"/marketing/campaigns/{campaign.pk}/decide/",
        {"decision": "reject", "step": "operations", "comment": " "},
    )
    assert response.status_code == 422
    assert 'value=""><span class="err">必填</span>' in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == "pending_operations"
    assert not campaign.approvals.exclude(step="").exists()
