"""SOP RISK-04: the system-failure playbook — failover, a notice to the customers the failure
touched, a compensation coupon, close with a post-mortem; the check that keeps it moving
(notice within ``incident_notice_minutes``), the API and the console pages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from storeops.accounts.roles import Role
from storeops.core.errors import Conflict, ValidationError
from storeops.orders.models import CustomerNotification
from storeops.promotions import services as promo
from storeops.promotions.models import IssuedCoupon
from storeops.service import services as svc
from storeops.service.models import Incident
from storeops.sop.models import Finding
from storeops.sop.services import checks_run
from storeops.stores import services as st
from tests.orders.builders import ACTOR, World

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(store, channel):
    return World(store, channel)


def _template(store, name="故障补偿券 10 元"):
    return promo.coupon_template_create(actor=ACTOR, store=store, name=name, kind="no_threshold", amount="10")


def _orders(world, start):
    """c1 orders twice during the failure, c2 once; c3 ordered before it began."""
    world.place(1, customer="c3", now=start - dt.timedelta(hours=2))
    world.place(1, customer="c1", now=start + dt.timedelta(minutes=5))
    world.place(1, customer="c1", now=start + dt.timedelta(minutes=20))
    world.place(1, customer="c2", now=start + dt.timedelta(minutes=30))


def test_risk_04_playbook_notice_and_compensation_reach_each_touched_customer_once(world, store):
    start = timezone.now() - dt.timedelta(hours=1)
    _orders(world, start)
    incident = svc.incident_open(actor=ACTOR, store=store, title="支付回调中断", started_at=start)
    assert sorted(o.customer_ref for o in svc.incident_affected_orders(incident)) == ["c1", "c2"]
    svc.incident_failover(actor=ACTOR, incident=incident, note="切换备用支付通道")
    told = svc.incident_notify(actor=ACTOR, incident=incident, text="抱歉，支付故障已恢复")
    assert told == 2
    # a customer touched later is told when the notice runs again; nobody twice
    world.place(1, customer="c4", now=timezone.now() - dt.timedelta(minutes=1))
    assert svc.incident_notify(actor=ACTOR, incident=incident, text="抱歉，支付故障已恢复") == 1
    notes = CustomerNotification.objects.filter(purpose=f"incident:{incident.pk}")
    assert sorted(n.order.customer_ref for n in notes) == ["c1", "c2", "c4"]
    template = _template(store)
    assert svc.incident_compensate(actor=ACTOR, incident=incident, template_id=template.pk) == 3
    assert svc.incident_compensate(actor=ACTOR, incident=incident, template_id=template.pk) == 0
    assert sorted(IssuedCoupon.objects.filter(template=template).values_list("customer_ref", flat=True)) == [
        "c1",
        "c2",
        "c4",
    ]
    incident.refresh_from_db()
    assert (incident.noticed_count, incident.compensated_count) == (3, 3)
    # closing needs the recovery first, and a post-mortem
    with pytest.raises(Conflict):
        svc.incident_close(actor=ACTOR, incident=incident, note="原因：证书过期")
    svc.incident_recover(actor=ACTOR, incident=incident, ended_at=timezone.now())
    with pytest.raises(ValidationError):
        svc.incident_close(actor=ACTOR, incident=incident, note=" ")
    closed = svc.incident_close(actor=ACTOR, incident=incident, note="原因：证书过期；改进：到期提醒")
    assert closed.status == "closed"
    assert [s.kind for s in closed.steps.all()] == [
        "open",
        "failover",
        "notice",
        "notice",
        "compensate",
        "compensate",
        "recover",
        "close",
    ]
    with pytest.raises(Conflict):  # nothing more once closed
        svc.incident_notify(actor=ACTOR, incident=incident, text="again")


def test_risk_04_only_the_affected_channels_and_window_count(world, store, channel, system):
    other = st.channel_create(actor=system, store=store, kind="jd", code="jd9", name="京东店")
    start = timezone.now() - dt.timedelta(hours=3)
    _orders(world, start)
    incident = svc.incident_open(
        actor=ACTOR, store=store, title="京东订单同步中断", started_at=start, channel_ids=[other.pk]
    )
    assert svc.incident_affected_orders(incident) == []
    incident = svc.incident_open(actor=ACTOR, store=store, title="网店宕机", started_at=start)
    incident = svc.incident_recover(actor=ACTOR, incident=incident, ended_at=start + dt.timedelta(minutes=10))
    assert [o.customer_ref for o in svc.incident_affected_orders(incident)] == ["c1"]


def test_risk_04_check_raises_critical_when_customers_are_not_told_in_time(world, store, system):
    start = timezone.now() - dt.timedelta(minutes=30)
    _orders(world, start)
    incident = svc.incident_open(actor=ACTOR, store=store, title="网店宕机", started_at=start)
    checks_run(rule="RISK-04", store=store, notify=False)
    (finding,) = Finding.objects.filter(rule_id="RISK-04")
    assert finding.severity == "warning"
    assert finding.due_at == start + dt.timedelta(minutes=60)
    assert set(finding.detail["missing"]) == {"failover", "notice", "compensate", "close"}
    # the notice window is a playbook setting: 20 minutes have passed already
    st.playbook_update(actor=system, store=store, values={"incident_notice_minutes": 20})
    checks_run(rule="RISK-04", store=store, notify=False)
    finding.refresh_from_db()
    assert finding.severity == "critical"
    assert "已超过 20 分钟未通知受影响顾客（2 位）" in finding.title
    svc.incident_notify(actor=ACTOR, incident=incident, text="抱歉")
    svc.incident_recover(actor=ACTOR, incident=incident, ended_at=timezone.now())
    svc.incident_close(actor=ACTOR, incident=incident, note="已复盘")
    checks_run(rule="RISK-04", store=store, notify=False)
    finding.refresh_from_db()
    assert finding.status == "resolved"


def test_risk_04_compensation_uses_the_playbook_template_and_bad_input_is_refused(world, store, system):
    start = timezone.now() - dt.timedelta(hours=1)
    _orders(world, start)
    incident = svc.incident_open(actor=ACTOR, store=store, title="网店宕机", started_at=start)
    with pytest.raises(ValidationError) as missing:
        svc.incident_compensate(actor=ACTOR, incident=incident)
    assert "template_id" in missing.value.fields
    template = _template(store)
    st.playbook_update(
        actor=system, store=store, values={"incident_compensation_coupon_template": template.pk}
    )
    assert svc.incident_compensate(actor=ACTOR, incident=incident) == 2
    with pytest.raises(ValidationError):
        svc.incident_open(
            actor=ACTOR, store=store, title="x", started_at=timezone.now() + dt.timedelta(days=1)
        )
    with pytest.raises(ValidationError):
        svc.incident_open(actor=ACTOR, store=store, title=" ", started_at=start)
    with pytest.raises(ValidationError):
        svc.incident_open(actor=ACTOR, store=store, title="x", started_at=start, channel_ids=[999999])
    with pytest.raises(ValidationError):
        svc.incident_recover(actor=ACTOR, incident=incident, ended_at=start - dt.timedelta(minutes=1))
    with pytest.raises(ValidationError):
        svc.incident_notify(actor=ACTOR, incident=incident, text="抱歉", channel="pigeon")
    assert Incident.objects.count() == 1


def test_risk_04_api(world, store, api_as):
    ops = api_as(Role.OPERATIONS)
    base = f"/service/{store.pk}/incidents"
    start = (timezone.now() - dt.timedelta(hours=1)).isoformat()
    created = ops.post(base, {"title": "支付回调中断", "started_at": start})
    assert created.status_code == 201, created.content
    incident = created.json()
    assert incident["status"] == "ongoing"
    assert incident["steps"][0]["kind"] == "open"
    world.place(1, customer="api-1", now=timezone.now() - dt.timedelta(minutes=5))
    url = f"{base}/{incident['id']}"
    assert ops.get(url).json()["customers_touched"] == 1
    assert ops.post(f"{url}/failover", {"note": "切换备用通道"}).status_code == 200
    told = ops.post(f"{url}/notice", {"text": "抱歉，已恢复"})
    assert told.status_code == 200, told.content
    assert told.json()["customers"] == 1
    assert ops.post(f"{url}/notice", {"text": "x", "channel": "pigeon"}).status_code == 422
    template = _template(store)
    paid = ops.post(f"{url}/compensate", {"template_id": template.pk})
    assert paid.json()["customers"] == 1
    assert ops.post(f"{url}/close", {"note": "复盘"}).status_code == 409
    assert ops.post(f"{url}/recover", {"ended_at": timezone.now().isoformat()}).status_code == 200
    closed = ops.post(f"{url}/close", {"note": "复盘：证书过期"})
    assert closed.json()["status"] == "closed"
    assert ops.get(base, status="open").json()["total"] == 0
    assert ops.get(base, status="closed").json()["total"] == 1
    assert ops.get(base, status="nope").status_code == 422
    # finance reads nothing here; warehouse cannot open one
    assert api_as(Role.WAREHOUSE).post(base, {"title": "x", "started_at": start}).status_code == 403


def test_risk_04_console_pages(world, store, make_user):
    client = Client()
    client.force_login(make_user(Role.OPERATIONS))
    assert "没有故障记录" in client.get("/service/incidents/").content.decode()
    started = timezone.localtime(timezone.now() - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        "/service/incidents/open/", {"title": "网店宕机", "started_at": started}, follow=True
    )
    assert "已登记故障" in response.content.decode()
    incident = Incident.objects.get()
    world.place(1, customer="web-1", now=timezone.now() - dt.timedelta(minutes=5))
    html = client.get(f"/service/incidents/{incident.pk}/").content.decode()
    assert "受影响顾客 1 位" in html
    assert "web-1" in html
    response = client.post(f"/service/incidents/{incident.pk}/failover/", {"note": ""}, follow=True)
    assert "请填写必填项" in response.content.decode()
    client.post(f"/service/incidents/{incident.pk}/failover/", {"note": "切换只读模式"})
    response = client.post(
        f"/service/incidents/{incident.pk}/notice/", {"text": "抱歉", "channel": "sms"}, follow=True
    )
    assert "已通知 1 位顾客" in response.content.decode()
    template = _template(store)
    response = client.post(
        f"/service/incidents/{incident.pk}/compensate/", {"template_id": str(template.pk)}, follow=True
    )
    assert "已发放补偿券 1 张" in response.content.decode()
    now_local = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    client.post(f"/service/incidents/{incident.pk}/recover/", {"ended_at": now_local})
    response = client.post(f"/service/incidents/{incident.pk}/close/", {"note": "复盘完成"}, follow=True)
    assert "故障已关闭" in response.content.decode()
    incident.refresh_from_db()
    assert incident.status == "closed"
    html = client.get(f"/service/incidents/{incident.pk}/").content.decode()
    assert "切换只读模式" in html
    assert "复盘完成" in html
    # warehouse staff do not see the pages
    wh = Client()
    wh.force_login(make_user(Role.WAREHOUSE))
    assert wh.get("/service/incidents/").status_code == 403


def test_risk_04_refused_new_incident_keeps_what_was_typed_and_saves_nothing(store, channel, make_user):
    client = Client()
    client.force_login(make_user(Role.OPERATIONS))
    later = timezone.localtime(timezone.now() + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        "/service/incidents/open/",
        {
            "title": "支付回调中断",
            "description": "微信支付回调超时",
            "started_at": later,
            "channels": [channel.pk],
        },
    )
    assert response.status_code == 422  # was a redirect to an empty form
    html = response.content.decode()
    assert 'value="支付回调中断"' in html
    assert ">微信支付回调超时</textarea>" in html
    assert f'value="{later}"' in html
    assert f'name="channels" value="{channel.pk}" checked' in html
    assert '<span class="err">开始时间不能晚于现在</span>' in html
    assert not Incident.objects.exists()


@pytest.mark.django_db
def test_risk_04_refused_incident_steps_keep_what_was_typed_and_save_nothing(store, make_user):
    client = Client()
    client.force_login(make_user(Role.OPERATIONS))
    started = timezone.localtime(timezone.now() - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    client.post("/service/incidents/open/", {"title": "网店宕机", "started_at": started})
    incident = Incident.objects.get()
    before = timezone.localtime(timezone.now() - dt.timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        f"/service/incidents/{incident.pk}/recover/", {"ended_at": before, "note": "数据库主从切回"}
    )
    assert response.status_code == 422  # was a redirect to the current time and an empty note
    html = response.content.decode()
    assert f'value="{before}" required></label><span class="err">恢复时间不能早于开始时间</span>' in html
    assert 'value="数据库主从切回"' in html
    assert "故障信息有误" in html
    # the other forms as new
    assert 'size="28" required value="">' in html
    incident.refresh_from_db()
    assert (incident.status, incident.ended_at) == ("ongoing", None)
    now_local = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    client.post(f"/service/incidents/{incident.pk}/recover/", {"ended_at": now_local})
    response = client.post(f"/service/incidents/{incident.pk}/close/", {"note": "  "})
    assert response.status_code == 422
    html = response.content.decode()
    assert '：原因、改进" required></textarea><span class="err">' in html
    incident.refresh_from_db()
    assert incident.status == "recovered"


def test_risk_04_the_touched_customers_are_paged_not_cut(world, store, make_user, monkeypatch):
    # the incident page listed the first 200 touched customers and said so: the rest were unseen
    from storeops.console import risk_views

    monkeypatch.setattr(risk_views, "PAGE_SIZE", 1)
    start = timezone.now() - dt.timedelta(hours=1)
    _orders(world, start)  # c1 and c2 touched
    incident = svc.incident_open(actor=ACTOR, store=store, title="支付回调中断", started_at=start)
    client = Client()
    client.force_login(make_user(Role.OPERATIONS))
    url = f"/service/incidents/{incident.pk}/"
    first = client.get(url).content.decode()
    second = client.get(f"{url}?page=2").content.decode()
    assert "受影响顾客 2 位" in first
    assert "受影响顾客 2 位" in second
    shown = [{c for c in ("<td>c1</td>", "<td>c2</td>") if c in page} for page in (first, second)]
    assert shown[0] | shown[1] == {"<td>c1</td>", "<td>c2</td>"}
    assert len(shown[0]) == len(shown[1]) == 1
    assert "?&page=2" in first
