"""SOP RISK-03: platform rule changes are tracked and adjusted to within 24 h (a playbook
setting): services, the hourly check, the API and the console page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from storeops.accounts.roles import Role
from storeops.audit.models import AuditEntry
from storeops.core.errors import Conflict, ValidationError
from storeops.sop.models import Finding
from storeops.sop.services import checks_run
from storeops.stores import services as st
from storeops.stores.models import PlatformRuleChange

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 6, 1, 10, 0, tzinfo=dt.UTC)


def _change(store, system, *, hours_ago=1, platform="tmall", title="天猫调整虚假宣传处罚规则"):
    return st.rule_change_record(
        actor=system,
        store=store,
        platform=platform,
        title=title,
        summary="功效类宣传需附检测报告，违规扣 6 分",
        url="https://rule.tmall.com/notice/1",
        announced_at=NOW - dt.timedelta(hours=hours_ago),
        effective_on=dt.date(2026, 6, 15),
        now=NOW,
    )


def _findings():
    return list(Finding.objects.filter(rule_id="RISK-03").order_by("id"))


def test_risk_03_an_open_change_is_a_finding_due_24_hours_after_it_was_known(store, system):
    change = _change(store, system, hours_ago=2)
    checks_run(rule="RISK-03", store=store, now=NOW, notify=False)
    (finding,) = _findings()
    assert finding.severity == "warning"
    assert finding.due_at == change.announced_at + dt.timedelta(hours=24)
    assert "天猫调整虚假宣传处罚规则" in finding.title
    assert "待评估" in finding.title
    # past the 24 hours, the same finding becomes critical
    checks_run(rule="RISK-03", store=store, now=NOW + dt.timedelta(hours=23), notify=False)
    (finding,) = _findings()
    assert finding.severity == "critical"
    assert "已超过 24 小时未完成整改" in finding.title


def test_risk_03_the_adjustment_window_is_a_playbook_setting(store, system):
    st.playbook_update(actor=system, store=store, values={"compliance_adjust_hours": 4})
    _change(store, system, hours_ago=5)
    checks_run(rule="RISK-03", store=store, now=NOW, notify=False)
    (finding,) = _findings()
    assert finding.severity == "critical"
    assert "4 小时" in finding.title


def test_risk_03_assess_then_complete_closes_it_and_resolves_the_finding(store, system):
    change = _change(store, system)
    checks_run(rule="RISK-03", store=store, now=NOW, notify=False)
    with pytest.raises(ValidationError) as missing:
        st.rule_change_assess(actor=system, change=change, applies=True, assessment=" ")
    assert "assessment" in missing.value.fields
    change = st.rule_change_assess(actor=system, change=change, applies=True, assessment="3 个商品详情页需改")
    assert change.status == "adjusting"
    assert change.assessed_at is not None
    with pytest.raises(Conflict):  # assessed once only
        st.rule_change_assess(actor=system, change=change, applies=False, assessment="again")
    checks_run(rule="RISK-03", store=store, now=NOW, notify=False)
    assert "整改中" in _findings()[0].title
    change = st.rule_change_complete(actor=system, change=change, actions="删除 3 处功效宣传，补检测报告")
    assert (change.status, change.closed_by) == ("done", system.label)
    checks_run(rule="RISK-03", store=store, now=NOW, notify=False)
    assert _findings()[0].status == "resolved"
    with pytest.raises(Conflict):
        st.rule_change_complete(actor=system, change=change, actions="again")
    assert AuditEntry.objects.filter(action__startswith="rule_change.").count() == 3


def test_risk_03_a_change_that_does_not_apply_is_closed_with_its_reason(store, system):
    change = _change(store, system, platform="jd", title="京东调整生鲜类目规则")
    change = st.rule_change_assess(actor=system, change=change, applies=False, assessment="本店不售生鲜")
    assert change.status == "not_applicable"
    assert change.closed_at is not None
    checks_run(rule="RISK-03", store=store, now=NOW, notify=False)
    assert _findings() == []


def test_risk_03_bad_input_is_refused_and_writes_nothing(store, system):
    with pytest.raises(ValidationError) as bad:
        st.rule_change_record(
            actor=system,
            store=store,
            platform="nowhere",
            title="x",
            url="ftp://x",
            announced_at=NOW + dt.timedelta(days=1),
            now=NOW,
        )
    assert set(bad.value.fields) == {"platform", "url", "announced_at"}
    with pytest.raises(ValidationError):
        st.rule_change_record(actor=system, store=store, platform="jd", title=" ", announced_at=NOW, now=NOW)
    assert not PlatformRuleChange.objects.exists()


def test_risk_03_api_records_lists_assesses_and_completes(store, api_as):
    ops = api_as(Role.OPERATIONS)
    base = f"/stores/{store.pk}/rule-changes"
    announced = (timezone.now() - dt.timedelta(hours=1)).isoformat()
    created = ops.post(
        base, {"platform": "douyin", "title": "抖音直播间禁用极限词", "announced_at": announced}
    )
    assert created.status_code == 201, created.content
    change = created.json()
    assert change["status"] == "new"
    bad = ops.post(base, {"platform": "x", "title": "y", "announced_at": announced})
    assert bad.status_code == 422
    assert "platform" in bad.json()["fields"]
    assert ops.get(base, status="open").json()["total"] == 1
    assert ops.get(base, platform="jd").json()["total"] == 0
    assert ops.get(base, status="nope").status_code == 422
    # finance may not record or change them
    finance = api_as(Role.FINANCE)
    assert finance.post(base, {"platform": "jd", "title": "z", "announced_at": announced}).status_code == 403
    assessed = ops.post(f"{base}/{change['id']}/assess", {"applies": True, "assessment": "主播话术需改"})
    assert assessed.status_code == 200
    assert assessed.json()["status"] == "adjusting"
    done = ops.post(f"{base}/{change['id']}/complete", {"actions": "更新话术库"})
    assert done.status_code == 200
    assert done.json()["status"] == "done"
    again = ops.post(f"{base}/{change['id']}/complete", {"actions": "again"})
    assert again.status_code == 409
    assert ops.post(f"{base}/999999/complete", {"actions": "x"}).status_code == 404


def test_risk_03_console_page_records_assesses_and_completes(store, make_user):
    client = Client()
    client.force_login(make_user(Role.OPERATIONS))
    page = client.get("/rule-changes/")
    assert page.status_code == 200
    assert "没有规则变更" in page.content.decode()
    response = client.post(
        "/rule-changes/record/",
        {"platform": "pinduoduo", "title": "拼多多调整发货时效", "announced_at": "2026-06-01T09:00"},
        follow=True,
    )
    assert "已登记规则变更" in response.content.decode()
    change = PlatformRuleChange.objects.get()
    assert change.announced_at == timezone.make_aware(dt.datetime(2026, 6, 1, 9, 0))
    html = client.get("/rule-changes/").content.decode()
    assert "拼多多调整发货时效" in html
    assert "已超时" in html
    response = client.post(
        f"/rule-changes/{change.pk}/assess/", {"applies": "yes", "assessment": ""}, follow=True
    )
    assert "请填写必填项" in response.content.decode()
    client.post(
        f"/rule-changes/{change.pk}/assess/", {"applies": "yes", "assessment": "48 小时发货改 24 小时"}
    )
    client.post(f"/rule-changes/{change.pk}/complete/", {"actions": "运营手册发货时限改为 24 小时"})
    change.refresh_from_db()
    assert change.status == "done"
    assert "拼多多调整发货时效" in client.get("/rule-changes/?status=done").content.decode()
    bad = client.post(
        "/rule-changes/record/", {"platform": "jd", "title": "x", "announced_at": "昨天"}, follow=True
    )
    assert "请填写获知时间" in bad.content.decode()
    # customer service does not see the page
    cs = Client()
    cs.force_login(make_user(Role.CUSTOMER_SERVICE))
    assert cs.get("/rule-changes/").status_code == 403


@pytest.mark.django_db
def test_risk_03_refused_new_rule_change_keeps_what_was_typed_and_saves_nothing(store, make_user):
    client = Client()
    client.force_login(make_user(Role.OPERATIONS))
    response = client.post(
        "/rule-changes/record/",
        {
            "platform": "jd",
            "title": "京东调整退货规则",
            "summary": "七天无理由退货扩大到生鲜",
            "url": "ftp://jd.example/notice",  # not an http(s) link
            "announced_at": "2026-06-01T09:00",
            "effective_on": "2026-07-01",
        },
    )
    assert response.status_code == 422  # was a redirect to an empty form
    html = response.content.decode()
    assert 'value="京东调整退货规则"' in html
    assert ">七天无理由退货扩大到生鲜</textarea>" in html
    assert 'value="ftp://jd.example/notice"' in html
    assert 'value="2026-06-01T09:00"' in html
    assert 'value="2026-07-01"' in html
    assert '<option value="jd" selected' in html
    assert '<span class="err">请填写 http(s) 链接</span>' in html
    assert not PlatformRuleChange.objects.exists()


def test_risk_03_refused_assessment_or_adjustment_comes_back_in_its_row_as_typed(store, system, make_user):
    change = _change(store, system)
    other = _change(store, system, platform="jd", title="京东调整发票规则")
    client = Client()
    client.force_login(make_user(Role.OPERATIONS))
    # no "applies" button (Enter in the box): refused, the assessment typed is kept
    response = client.post(
        f"/rule-changes/{change.pk}/assess/?status=open&platform=tmall&page=1",
        {"assessment": "影响主图文案，需要改 12 个商品"},
    )
    assert response.status_code == 422  # was a redirect to an empty form
    html = response.content.decode()
    assert 'value="影响主图文案，需要改 12 个商品"><span class="err">必填</span>' in html  # "applies"
    assert "请选择是否适用" in html
    assert "京东调整发票规则" not in html  # the list's filter kept
    response = client.post(f"/rule-changes/{other.pk}/complete/", {"actions": "   "})
    assert response.status_code == 422
    row = (
        response.content.decode().split(f'action="/rule-changes/{other.pk}/complete/')[1].split("</form>")[0]
    )
    assert '<span class="err">' in row
    for c in (change, other):
        c.refresh_from_db()
        assert (c.status, c.assessment, c.actions) == ("new", "", "")


def test_risk_03_a_refused_filter_is_shown_and_the_list_falls_back_to_open_changes(store, system, make_user):
    # given an open change and a done one, both matching the search
    _change(store, system, title="天猫调整发货规则")
    done = _change(store, system, platform="jd", title="京东调整发货规则")
    st.rule_change_assess(actor=system, change=done, applies=False, assessment="不适用", now=NOW)
    client = Client()
    client.force_login(make_user(Role.OPERATIONS))

    # when the platform filter is unknown
    page = client.get("/rule-changes/?status=done&platform=taobao-x&q=发货")

    # then the refusal is shown and the list is the open changes, the search kept
    html = page.content.decode()
    assert page.status_code == 200
    assert "平台筛选无效" in html
    assert "天猫调整发货规则" in html
    assert "京东调整发货规则" not in html
    assert 'value="发货"' in html
