"""Deleting an ad keyword (SOP ADS-02: drop the words that waste spend), through the API and
the ad plan page; audited, and only within the caller's store and plan."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from storeops.accounts.roles import Role
from storeops.audit.models import AuditEntry
from storeops.marketing import services as ms
from storeops.marketing.models import AdKeyword, AdKeywordDailyStat
from storeops.stores import services as store_services
from tests.marketing.builders import ACTOR, an_ad_plan

pytestmark = pytest.mark.django_db

CSV = "日期,关键词,花费,展现量,点击量,成交笔数,成交金额\n{day},连衣裙,50.00,500,20,0,0\n"


def _client(make_user, role):
    client = Client()
    client.force_login(make_user(role))
    return client


def _plan_with_keywords(store):
    plan = an_ad_plan(store)
    waste = ms.ad_keyword_set(actor=ACTOR, plan=plan, keyword="连衣裙", bid="2.00")
    keep = ms.ad_keyword_set(actor=ACTOR, plan=plan, keyword="碎花裙", bid="1.50")
    ms.ad_stats_import_csv(actor=ACTOR, plan=plan, text=CSV.format(day=timezone.localdate()))
    return plan, waste, keep


def test_ads_02_keyword_delete_service_is_audited_and_removes_the_stats(store):
    plan, waste, _keep = _plan_with_keywords(store)
    ms.ad_keyword_delete(actor=ACTOR, keyword=waste)
    assert list(plan.keywords.values_list("keyword", flat=True)) == ["碎花裙"]
    assert not AdKeywordDailyStat.objects.filter(keyword_id=waste.pk).exists()
    entry = AuditEntry.objects.get(action="ad_keyword.delete")
    assert (entry.object_type, entry.object_id, entry.object_repr) == (
        "marketing.adkeyword",
        str(waste.pk),
        "连衣裙",
    )
    assert entry.store_id == store.pk
    assert entry.before["bid"] == "2.00"
    assert entry.before["stats_days"] == 1


def test_ads_02_keyword_delete_via_the_api(store, api_as):
    plan, waste, _keep = _plan_with_keywords(store)
    url = f"/marketing/{store.pk}/ad-plans/{plan.pk}/keywords/{waste.pk}"
    # a role without the ads permission is refused and nothing changes
    assert api_as(Role.OPERATIONS).call("DELETE", url).status_code == 403
    assert AdKeyword.objects.filter(pk=waste.pk).exists()
    # the marketing role deletes it
    response = api_as(Role.MARKETING).call("DELETE", url)
    assert response.status_code == 204
    assert list(AdKeyword.objects.values_list("keyword", flat=True)) == ["碎花裙"]
    # a second delete finds nothing
    assert api_as(Role.MARKETING).call("DELETE", url).status_code == 404


def test_ads_02_keyword_delete_of_another_stores_keyword_is_not_found(store, api_as, system):
    plan, _waste, _keep = _plan_with_keywords(store)
    other = store_services.store_create(actor=system, code="s2", name="另一家店")
    foreign_plan = an_ad_plan(other, name="别家计划")
    foreign = ms.ad_keyword_set(actor=ACTOR, plan=foreign_plan, keyword="外套", bid="1.00")
    client = api_as(Role.MARKETING)
    # the other store's keyword under our plan, and the other store's plan under our store
    assert (
        client.call("DELETE", f"/marketing/{store.pk}/ad-plans/{plan.pk}/keywords/{foreign.pk}").status_code
        == 404
    )
    mixed = f"/marketing/{store.pk}/ad-plans/{foreign_plan.pk}/keywords/{foreign.pk}"
    assert client.call("DELETE", mixed).status_code == 404
    assert AdKeyword.objects.filter(pk=foreign.pk).exists()
    assert not AuditEntry.objects.filter(action="ad_keyword.delete").exists()


def test_ads_02_keyword_delete_from_the_ad_plan_page(store, make_user):
    plan, waste, keep = _plan_with_keywords(store)
    client = _client(make_user, Role.MARKETING)
    url = f"/marketing/ads/{plan.pk}/keywords/{waste.pk}/delete/"
    # the plan page has a delete button per keyword
    html = client.get(f"/marketing/ads/{plan.pk}/edit/").content.decode()
    assert url in html
    assert f"/marketing/ads/{plan.pk}/keywords/{keep.pk}/delete/" in html
    # GET deletes nothing
    assert client.get(url).status_code == 405
    # POST deletes and goes back to the plan page
    response = client.post(url, follow=True)
    assert response.redirect_chain[-1][0] == f"/marketing/ads/{plan.pk}/edit/"
    assert "关键词“连衣裙”已删除" in [str(m) for m in response.context["messages"]]
    assert list(plan.keywords.values_list("keyword", flat=True)) == ["碎花裙"]
    assert AuditEntry.objects.filter(action="ad_keyword.delete", via="console").count() == 1


def test_ads_02_keyword_delete_on_the_console_needs_the_permission_and_the_store(store, make_user, system):
    plan, waste, _keep = _plan_with_keywords(store)
    url = f"/marketing/ads/{plan.pk}/keywords/{waste.pk}/delete/"
    # operations (read-only on ads) and analysts may not delete
    for role in (Role.OPERATIONS, Role.ANALYST):
        assert _client(make_user, role).post(url).status_code == 403
    assert AdKeyword.objects.filter(pk=waste.pk).exists()
    # another store's keyword is not found under our plan
    other = store_services.store_create(actor=system, code="s2", name="另一家店")
    foreign = ms.ad_keyword_set(actor=ACTOR, plan=an_ad_plan(other), keyword="外套", bid="1.00")
    client = _client(make_user, Role.MARKETING)
    client.get("/marketing/ads/?store=s1")
    assert client.post(f"/marketing/ads/{plan.pk}/keywords/{foreign.pk}/delete/").status_code == 404
    assert client.post(f"/marketing/ads/{foreign.plan_id}/keywords/{foreign.pk}/delete/").status_code == 404
    assert AdKeyword.objects.filter(pk=foreign.pk).exists()
