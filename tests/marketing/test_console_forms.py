"""Console forms of marketing: create/edit a plan and resubmit after a reject (PROMO-05), hourly
figures (PROMO-06), ad plans with the peak-hour schedule and keywords (ADS-01/03)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from storeops.accounts.roles import Role
from storeops.audit.models import AuditEntry
from storeops.marketing import selectors
from storeops.marketing import services as ms
from storeops.marketing.models import AdPlan, Campaign
from tests.marketing.builders import ACTOR, a_campaign, an_ad_plan, approvers

pytestmark = pytest.mark.django_db


def _client(make_user, role):
    client = Client()
    client.force_login(make_user(role))
    return client


def _form(start: dt.date, **overrides):
    data = {
        "theme": "618年中大促",
        "kind": "big_promotion",
        "starts_on": start.isoformat(),
        "ends_on": (start + dt.timedelta(days=5)).isoformat(),
        "mechanics": "满300减50，第二件半价",
        "target_gmv": "500000",
        "target_new_users": "2000",
        "planned_redemption_rate": "",
        "max_payment_failure_rate": "4",
        "expected_refund_rate": "",
        "phase_preheat_start": start.isoformat(),
        "phase_preheat_end": (start + dt.timedelta(days=1)).isoformat(),
        "phase_burst_start": (start + dt.timedelta(days=2)).isoformat(),
        "phase_burst_end": (start + dt.timedelta(days=3)).isoformat(),
        "budget_discount": "30000",
        "budget_ads": "12000",
        "budget_ads_note": "直通车",
        "stock": "",
    }
    data.update(overrides)
    return data


def test_promo_05_console_creates_a_plan_from_the_form(store, today, make_user):
    # given the marketing head on the new-plan page
    client = _client(make_user, Role.MARKETING)
    page = client.get("/marketing/campaigns/new/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "新建活动方案" in html
    assert "留空则使用运营手册的默认值 20%" in html  # the playbook default is shown
    # when the form is posted
    response = client.post("/marketing/campaigns/new/", _form(today + dt.timedelta(days=50)))
    # then a draft exists with its phases, budget and its own failure line (4% = 0.04)
    campaign = Campaign.objects.get(theme="618年中大促")
    assert response.status_code == 302
    assert response["Location"] == f"/marketing/campaigns/{campaign.pk}/"
    assert campaign.status == "draft"
    assert campaign.kind == "big_promotion"
    assert campaign.max_payment_failure_rate == Decimal("0.0400")
    assert campaign.planned_redemption_rate is None
    assert sorted(p.kind for p in campaign.phases.all()) == ["burst", "preheat"]
    assert {b.kind: (b.planned, b.note) for b in campaign.budget_lines.all()} == {
        "discount": (Decimal("30000.00"), ""),
        "ads": (Decimal("12000.00"), "直通车"),
    }
    assert AuditEntry.objects.filter(action="campaign.create", via="console").count() == 1


def test_promo_05_console_form_shows_service_errors_next_to_the_fields(store, today, make_user):
    # given a plan whose burst phase ends after the campaign and whose stock names an unknown SKU
    start = today + dt.timedelta(days=50)
    data = _form(
        start,
        phase_burst_end=(start + dt.timedelta(days=9)).isoformat(),
        stock="NOPE-1,10\nbad line",
    )
    # when it is posted
    response = _client(make_user, Role.MARKETING).post("/marketing/campaigns/new/", data)
    # then the page comes back with the errors beside the fields, and nothing is saved
    html = response.content.decode()
    assert response.status_code == 422  # refused: shown again as typed (was 200)
    assert "第 2 行格式应为：SKU编码,计划备货量（整数）" in html
    assert not Campaign.objects.exists()
    # and with the stock line fixed, the service's own check lands on the phase field
    data["stock"] = ""
    html = _client(make_user, Role.MARKETING).post("/marketing/campaigns/new/", data).content.decode()
    assert "阶段日期须在活动日期之内" in html
    assert 'id="id_phase_burst_start"' in html
    assert not Campaign.objects.exists()


def test_promo_05_console_unknown_sku_in_the_stock_plan_is_shown_on_the_stock_field(store, today, make_user):
    data = _form(today + dt.timedelta(days=50), stock="NOPE-1,10")
    html = _client(make_user, Role.MARKETING).post("/marketing/campaigns/new/", data).content.decode()
    assert "SKU 不存在" in html
    assert not Campaign.objects.exists()


def test_promo_05_console_rejected_plan_is_edited_and_resubmitted(store, today, make_user):
    # given a plan the operations lead rejected with a comment
    campaign = a_campaign(store, today + dt.timedelta(days=20))
    ms.campaign_submit(actor=ACTOR, campaign=campaign)
    ops = _client(make_user, Role.OPERATIONS)
    ops.post(
        f"/marketing/campaigns/{campaign.pk}/decide/",
        {"decision": "reject", "step": "operations", "comment": "预热期太短"},
    )
    campaign.refresh_from_db()
    assert campaign.status == "draft"
    marketing = _client(make_user, Role.MARKETING)
    # the detail page says why and offers the edit
    detail = marketing.get(f"/marketing/campaigns/{campaign.pk}/").content.decode()
    assert "预热期太短" in detail
    assert f"/marketing/campaigns/{campaign.pk}/edit/" in detail
    # the edit form is filled with the plan as it was
    edit = marketing.get(f"/marketing/campaigns/{campaign.pk}/edit/").content.decode()
    assert 'value="双11狂欢"' in edit
    assert "预热期太短" in edit
    # when the plan is changed and saved
    start = today + dt.timedelta(days=20)
    response = marketing.post(
        f"/marketing/campaigns/{campaign.pk}/edit/",
        _form(start, theme="双11狂欢（延长预热）", kind="regular"),
    )
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.theme == "双11狂欢（延长预热）"
    # then it can be submitted again and goes to the operations lead first
    marketing.post(f"/marketing/campaigns/{campaign.pk}/do/submit/")
    campaign.refresh_from_db()
    assert campaign.status == "pending_operations"


def test_promo_05_console_edit_of_a_submitted_plan_is_refused(store, today, make_user):
    campaign = a_campaign(store, today + dt.timedelta(days=20))
    ms.campaign_submit(actor=ACTOR, campaign=campaign)
    response = _client(make_user, Role.MARKETING).post(
        f"/marketing/campaigns/{campaign.pk}/edit/", _form(today + dt.timedelta(days=20)), follow=True
    )
    assert "只有草稿（含被驳回退回草稿）的活动方案可以修改" in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.theme == "双11狂欢"


def test_promo_05_console_second_step_by_the_same_person_shows_the_reason(store, today, make_user, owner):
    campaign = a_campaign(store, today + dt.timedelta(days=20))
    ms.campaign_submit(actor=ACTOR, campaign=campaign)
    client = Client()
    client.force_login(owner)
    client.post(f"/marketing/campaigns/{campaign.pk}/decide/", {"decision": "approve", "step": "operations"})
    response = client.post(
        f"/marketing/campaigns/{campaign.pk}/decide/",
        {"decision": "approve", "step": "marketing"},
        follow=True,
    )
    assert "同一人不能审批同一活动的两个环节" in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == "pending_marketing"


def test_promo_05_console_approval_buttons_only_for_the_waiting_steps_role(store, today, make_user):
    campaign = a_campaign(store, today + dt.timedelta(days=20))
    ms.campaign_submit(actor=ACTOR, campaign=campaign)
    url = f"/marketing/campaigns/{campaign.pk}/"
    assert 'value="approve"' in _client(make_user, Role.OPERATIONS).get(url).content.decode()
    assert 'value="approve"' not in _client(make_user, Role.FINANCE).get(url).content.decode()
    ms.campaign_decide(actor=approvers()[0], campaign=campaign, approve=True)
    assert 'value="approve"' in _client(make_user, Role.MARKETING).get(url).content.decode()
    assert 'value="approve"' not in _client(make_user, Role.OPERATIONS).get(url).content.decode()


def test_promo_06_console_enters_an_hour_of_figures(store, today, make_user):
    campaign = a_campaign(store, today)
    client = _client(make_user, Role.MARKETING)
    assert client.get(f"/marketing/campaigns/{campaign.pk}/metrics/").status_code == 200
    hour = timezone.localtime().replace(minute=0, second=0, microsecond=0) - dt.timedelta(hours=1)
    data = {
        "hour": hour.strftime("%Y-%m-%dT%H:%M"),
        "exposure": "12000",
        "clicks": "800",
        "coupons_issued": "100",
        "coupon_redemptions": "35",
        "orders": "60",
        "payment_attempts": "70",
        "payment_failures": "3",
        "gmv": "18000.50",
        "new_users": "25",
    }
    response = client.post(f"/marketing/campaigns/{campaign.pk}/metrics/", data)
    assert response.status_code == 302
    (row,) = selectors.campaign_metrics(campaign=campaign)
    assert (row.coupon_redemptions, row.payment_failures, row.gmv) == (35, 3, Decimal("18000.50"))
    # more failures than attempts: the error is next to the failures field, nothing saved
    data["payment_failures"] = "90"
    html = client.post(f"/marketing/campaigns/{campaign.pk}/metrics/", data).content.decode()
    assert "支付失败数不能大于支付次数" in html
    (row,) = selectors.campaign_metrics(campaign=campaign)
    assert row.payment_failures == 3


def test_ads_03_console_creates_a_plan_with_a_peak_hour_schedule(store, make_user):
    client = _client(make_user, Role.MARKETING)
    assert client.get("/marketing/ads/new/").status_code == 200
    data = {
        "name": "连衣裙引流",
        "purpose": "traffic",
        "match_type": "broad",
        "category": "连衣裙",
        "daily_budget": "300",
        "audience_premium": "0",
        "peak_start": "20:00",
        "peak_end": "22:00",
        "peak_uplift": "12",
    }
    response = client.post("/marketing/ads/new/", data)
    plan = AdPlan.objects.get(name="连衣裙引流")
    assert response.status_code == 302
    assert response["Location"] == f"/marketing/ads/{plan.pk}/edit/"
    assert plan.peak_uplift == Decimal("0.1200")
    assert plan.peak_start == dt.time(20, 0)
    # an uplift outside the playbook's 10–15% is refused next to the field
    data.update(name="连衣裙引流2", peak_uplift="30")
    html = client.post("/marketing/ads/new/", data).content.decode()
    assert "高峰加价须在" in html
    assert not AdPlan.objects.filter(name="连衣裙引流2").exists()


def test_ads_01_console_traffic_plan_with_exact_match_is_refused_next_to_the_field(store, make_user):
    data = {"name": "错配", "purpose": "traffic", "match_type": "exact", "daily_budget": "1"}
    refused = _client(make_user, Role.MARKETING).post("/marketing/ads/new/", data)
    assert refused.status_code == 422  # was 200
    html = refused.content.decode()
    assert "引流款计划使用广泛匹配" in html
    assert not AdPlan.objects.exists()


def test_ads_03_console_edits_a_plan_and_sets_keyword_bids(store, make_user):
    # given a profit plan with a 20:00–22:00 +10% schedule
    plan = an_ad_plan(store, peak_start=dt.time(20), peak_end=dt.time(22), peak_uplift="0.10")
    client = _client(make_user, Role.MARKETING)
    # when a keyword is added with a 2.00 bid
    response = client.post(
        f"/marketing/ads/{plan.pk}/keywords/",
        {"keyword": "碎花裙", "bid": "2.00", "rank": "8", "is_core": "on"},
    )
    assert response.status_code == 302
    # then the plan page shows it with its peak bid 2.00 × 1.10 = 2.20
    html = client.get(f"/marketing/ads/{plan.pk}/edit/").content.decode()
    assert "碎花裙" in html
    assert "2.20" in html
    # when the plan is paused and its uplift raised to 15%
    data = {
        "name": plan.name,
        "purpose": "profit",
        "match_type": "exact",
        "category": "连衣裙",
        "daily_budget": "650",
        "audience_premium": "20",
        "peak_start": "20:00",
        "peak_end": "22:00",
        "peak_uplift": "15",
    }
    assert client.post(f"/marketing/ads/{plan.pk}/edit/", data).status_code == 302
    plan.refresh_from_db()
    assert (plan.is_active, plan.peak_uplift, plan.daily_budget) == (
        False,
        Decimal("0.1500"),
        Decimal("650.00"),
    )
    assert plan.audience_premium == Decimal("0.2000")
    # and a negative bid is refused next to the bid field
    refused = client.post(f"/marketing/ads/{plan.pk}/keywords/", {"keyword": "碎花裙", "bid": "-1"})
    assert refused.status_code == 422  # was 200
    html = refused.content.decode()
    assert "确保该值大于或等于0" in html or "大于或等于" in html
    assert plan.keywords.get(keyword="碎花裙").bid == Decimal("2.00")


def test_ads_01_console_uploads_the_platform_csv_from_the_plan_page(store, make_user):
    plan = an_ad_plan(store)
    ms.ad_keyword_set(actor=ACTOR, plan=plan, keyword="连衣裙", bid="2.00")
    client = _client(make_user, Role.MARKETING)
    html = client.get(f"/marketing/ads/{plan.pk}/edit/").content.decode()
    assert 'enctype="multipart/form-data"' in html
    header = "日期,关键词,花费,展现量,点击量,成交笔数,成交金额\n"
    csv = header + f"{timezone.localdate()},连衣裙,50.00,500,20,2,200.00\n"
    upload = SimpleUploadedFile("report.csv", csv.encode("utf-8-sig"), content_type="text/csv")
    client.post(f"/marketing/ads/{plan.pk}/import/", {"file": upload})
    (stats,) = selectors.keyword_stats(plan=plan)
    assert (stats.spend.amount, stats.clicks) == (Decimal("50.00"), 20)


def test_ads_01_console_forms_are_refused_to_roles_without_the_permission(store, make_user):
    plan = an_ad_plan(store)
    client = _client(make_user, Role.CUSTOMER_SERVICE)
    assert client.get("/marketing/ads/new/").status_code == 403
    assert client.post(f"/marketing/ads/{plan.pk}/keywords/", {"keyword": "x", "bid": "1"}).status_code == 403
    ops = _client(make_user, Role.OPERATIONS)  # sees campaigns, does not edit ad plans
    assert ops.get(f"/marketing/ads/{plan.pk}/edit/").status_code == 403


def test_promo_05_campaign_form_offers_every_open_offer_and_keeps_the_campaigns_own(store, today):
    """The form listed the newest 300 offers only: an older open offer could not be linked, and
    editing a campaign linked to one dropped it. Now every offer not ended is offered, and a
    campaign's own offers stay on its form whatever their status."""
    from storeops.console.marketing_views import CampaignForm
    from storeops.promotions.models import Offer

    Offer.objects.bulk_create(
        Offer(store=store, kind="percentage", level="item", title_zh=f"满减{n}", status="active")
        for n in range(301)
    )
    old, ended, linked = Offer.objects.order_by("pk")[0], *Offer.objects.order_by("pk")[1:3]
    Offer.objects.filter(pk__in=[ended.pk, linked.pk]).update(status="ended")
    choices = {pk for pk, _ in CampaignForm(store=store).fields["offers"].choices}
    assert old.pk in choices
    assert len(choices) == 299  # the two ended ones are not offered to a new campaign
    editing = CampaignForm(store=store, initial={"offers": [linked.pk]})
    assert linked.pk in {pk for pk, _ in editing.fields["offers"].choices}
    assert ended.pk not in {pk for pk, _ in editing.fields["offers"].choices}


def test_promo_08_the_campaign_page_writes_every_amount_with_the_currency_sign(store, today, make_user):
    # the cash reserve's payouts (the planned budget) showed as "10000.00 CNY" among "¥" amounts
    campaign = a_campaign(store, today + dt.timedelta(days=50))
    html = _client(make_user, Role.MARKETING).get(f"/marketing/campaigns/{campaign.pk}/").content.decode()
    assert "CNY" not in html
    assert "活动支出（预算） ¥10,000.00" in html


def test_promo_06_console_plan_links_coupon_templates_and_the_edit_form_keeps_them(store, today, make_user):
    from storeops.promotions import services as prs

    # given a coupon template of the store
    template = prs.coupon_template_create(
        actor=ACTOR, store=store, name="满100减10", kind="store_threshold", threshold="100", amount="10"
    )
    client = _client(make_user, Role.MARKETING)
    assert f'<option value="{template.pk}">#{template.pk} 满100减10</option>' in (
        client.get("/marketing/campaigns/new/").content.decode()
    )
    # when a plan is saved linking it
    client.post(
        "/marketing/campaigns/new/", _form(today + dt.timedelta(days=50), coupon_templates=[template.pk])
    )
    # then its coupons are the campaign's, and the edit form shows it chosen
    campaign = Campaign.objects.get(theme="618年中大促")
    assert [t.pk for t in campaign.coupon_templates.all()] == [template.pk]
    assert selectors.campaign_counted_fields(campaign)[-2:] == ("coupons_issued", "coupon_redemptions")
    edit = client.get(f"/marketing/campaigns/{campaign.pk}/edit/").content.decode()
    assert f'<option value="{template.pk}" selected>#{template.pk} 满100减10</option>' in edit
