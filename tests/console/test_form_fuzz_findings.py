"""What scripts/fuzz_console.py found in the console's forms: a well-shaped but impossible date
("2026-13-45", "2026-02-30T25:61") made Django's ``parse_date`` / ``parse_datetime`` raise, a
500 on six forms; a huge token lifetime overflowed the date and a huge points adjustment the
database integer (500s); a refused new count sheet with a long note came back through a
redirect too long to send (a 400). Each is now a 422 with the form as typed, the message next
to the field, and nothing written."""

from __future__ import annotations

import pytest
from django.test import Client

from storeops.accounts.models import ApiToken
from storeops.accounts.roles import Role
from storeops.analytics.models import CustomerSnapshot, OperationsReport
from storeops.audit.models import AuditEntry
from storeops.inventory.models import CountSheet
from storeops.members.models import LedgerEntry
from storeops.outreach import services as outreach_services
from storeops.outreach.models import Campaign
from storeops.service.models import Incident
from storeops.stores.models import PlatformRuleChange
from tests.members.builders import a_member
from tests.orders.builders import ACTOR, World

pytestmark = pytest.mark.django_db


def _client(make_user, role):
    client = Client()
    client.force_login(make_user(role))
    return client


def _refused(response, typed: str, message: str) -> str:
    assert response.status_code == 422  # was a 500
    html = response.content.decode()
    assert f'value="{typed}"' in html
    assert f'<span class="err">{message}</span>' in html
    return html


@pytest.mark.parametrize("when", ["2026-02-30T10:00", "2026-12-01T25:61"])
def test_mem_06_new_campaign_at_an_impossible_time_is_refused_as_typed(store, make_user, when):
    sms = outreach_services.template_create(
        actor=ACTOR, store=store, code="hello", name="问候", channel="sms", body="{store}会员日"
    )
    client = _client(make_user, Role.MARKETING)
    entries = AuditEntry.objects.count()
    response = client.post(
        "/outreach/new/",
        {
            "name": "双十二会员日",
            "template": sms.pk,
            "audience_kind": "list",
            "customer_refs": "c1",
            "scheduled_at": when,
        },
    )
    html = _refused(response, when, "时间格式有误")
    assert 'value="双十二会员日"' in html
    assert not Campaign.objects.exists()
    assert AuditEntry.objects.count() == entries


@pytest.mark.parametrize(
    ("field", "typed", "message"),
    [
        ("announced_at", "2026-13-45T09:00", "请填写获知时间"),
        ("effective_on", "2026-13-45", "日期格式应为 YYYY-MM-DD"),
    ],
)
def test_risk_03_rule_change_with_an_impossible_date_is_refused_as_typed(
    store, make_user, field, typed, message
):
    form = {"platform": "jd", "title": "京东调整退货规则", "announced_at": "2026-06-01T09:00", field: typed}
    client = _client(make_user, Role.OPERATIONS)
    entries = AuditEntry.objects.count()
    response = client.post("/rule-changes/record/", form)
    html = _refused(response, typed, message)
    assert 'value="京东调整退货规则"' in html
    assert not PlatformRuleChange.objects.exists()
    assert AuditEntry.objects.count() == entries


def test_risk_04_incident_started_at_an_impossible_time_is_refused_as_typed(store, make_user):
    client = _client(make_user, Role.OPERATIONS)
    entries = AuditEntry.objects.count()
    response = client.post(
        "/service/incidents/open/", {"title": "网店宕机", "started_at": "2026-02-30T25:61"}
    )
    html = _refused(response, "2026-02-30T25:61", "时间格式有误")
    assert 'value="网店宕机"' in html
    assert not Incident.objects.exists()
    assert AuditEntry.objects.count() == entries


def test_data_06_report_of_an_impossible_day_is_refused_as_typed(store, make_user):
    client = _client(make_user, Role.OWNER)
    entries = AuditEntry.objects.count()
    response = client.post("/reports/generate/", {"kind": "weekly", "day": "2026-13-45"})
    html = _refused(response, "2026-13-45", "日期格式应为 YYYY-MM-DD")
    assert '<option value="weekly" selected>' in html
    assert "日期格式有误" in html  # the message on top
    assert not OperationsReport.objects.exists()
    assert AuditEntry.objects.count() == entries


def test_data_06_refused_report_kind_shows_the_list_again_not_a_redirect(store, make_user):
    response = _client(make_user, Role.OWNER).post("/reports/generate/", {"kind": "hourly", "day": ""})
    assert response.status_code == 422  # was a redirect that lost the form
    assert '<span class="err">只能是 daily / weekly / monthly / quarterly</span>' in response.content.decode()
    assert not OperationsReport.objects.exists()


def test_mem_04_snapshot_of_an_impossible_day_is_refused_as_typed(store, make_user):
    client = _client(make_user, Role.OWNER)
    entries = AuditEntry.objects.count()
    response = client.post("/segments/snapshot/", {"day": "2026-13-45"})
    _refused(response, "2026-13-45", "日期格式应为 YYYY-MM-DD")
    response = client.post("/segments/snapshot/", {"day": "2999-01-01"})  # the service's refusal
    _refused(response, "2999-01-01", "不能晚于今天")
    assert not CustomerSnapshot.objects.exists()
    assert AuditEntry.objects.count() == entries


def test_an_impossible_day_in_a_page_filter_is_ignored_not_a_500(store, make_user):
    client = _client(make_user, Role.OWNER)
    assert client.get("/segments/", {"day": "2026-13-45"}).status_code == 200
    assert client.get("/team-kpis/", {"until": "2026-02-30"}).status_code == 200


@pytest.mark.parametrize("days", ["99999999999", "1E+30", "0", "-1", "3651", "abc"])
def test_token_lifetime_out_of_range_is_refused_as_typed(make_user, days):
    owner = make_user(Role.OWNER)
    response = _client(make_user, Role.OWNER).post(
        "/tokens/", {"name": "ERP", "role": "operations", "user_id": owner.pk, "expires_in_days": days}
    )
    html = _refused(response, days, "有效天数应为 1 到 3650 之间的整数")
    assert 'value="ERP"' in html
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize("user_id", ["abc", "99999999999999999999999"])
def test_token_for_an_unknown_user_is_refused_next_to_the_user(make_user, user_id):
    response = _client(make_user, Role.OWNER).post(
        "/tokens/", {"name": "ERP", "role": "operations", "user_id": user_id}
    )
    assert response.status_code == 422
    assert '<span class="err">用户不存在或已停用</span>' in response.content.decode()
    assert not ApiToken.objects.exists()


def test_token_with_a_role_that_is_not_one_is_refused_next_to_the_role(make_user):
    response = _client(make_user, Role.OWNER).post("/tokens/", {"name": "ERP", "role": "root"})
    assert response.status_code == 422
    assert '<span class="err">请选择角色</span>' in response.content.decode()
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize("field", ["points", "growth"])
def test_mem_02_points_adjustment_beyond_a_billion_is_refused_as_typed(store, make_user, field):
    member = a_member(store, "fuzz-1")
    client = _client(make_user, Role.OWNER)  # no per-adjustment limit from the playbook
    entries = AuditEntry.objects.count()
    huge = "99999999999999999999999"  # overflowed the database integer: a 500
    response = client.post(f"/members/{member.pk}/adjust/", {field: huge, "reason": "补偿"})
    assert response.status_code == 422
    html = response.content.decode()
    assert f'name="{field}" value="{huge}"' in html
    assert '<span class="err">一次最多调整 1,000,000,000</span>' in html
    assert not LedgerEntry.objects.filter(member=member).exists()
    assert AuditEntry.objects.count() == entries


def test_inv_05_refused_new_count_sheet_with_a_long_note_is_shown_again_not_a_400(store, channel, make_user):
    world = World(store, channel)
    client = _client(make_user, Role.WAREHOUSE)
    note = "盘点" * 5000  # the refused form rode back in a redirect's query string: over 16 KB, a 400
    response = client.post(
        "/inventory/counts/new/",
        {"warehouse": world.gz.pk, "scope": "skus", "sku_codes": "NOPE", "note": note},
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "找不到这些 SKU：NOPE" in html
    assert 'value="NOPE"' in html
    assert note in html
    assert not CountSheet.objects.exists()
