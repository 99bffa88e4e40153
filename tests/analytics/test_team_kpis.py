"""SOP TEAM-01: the KPIs of each role from the data StoreOps holds — operations (GMV, user
growth, repurchase), tech (failure rate), customer service (response time, satisfaction,
return rate) — against the playbook's targets: pure rules, the selector on real rows, the
daily check, the API and the console page."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st_

from storeops.accounts.roles import Role
from storeops.analytics import rules, selectors
from storeops.service import services as service
from storeops.sop.models import Finding
from storeops.sop.services import checks_run
from storeops.stores import services as st
from tests.orders.builders import ACTOR, World
from tests.service.builders import a_ticket

NOW = dt.datetime(2026, 6, 30, 12, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


# --- pure rules ------------------------------------------------------------------------------


def test_team_01_ratio_growth_and_targets():
    assert rules.ratio(1, 4) == Decimal("0.25")
    assert rules.ratio(1, 0) is None
    assert rules.growth(Decimal("120"), Decimal("100")) == Decimal("0.2")
    assert rules.growth(Decimal("5"), Decimal("0")) is None
    assert rules.meets(Decimal("0.3"), Decimal("0.25"), rules.Better.HIGHER) is True
    assert rules.meets(Decimal("31"), Decimal("30"), rules.Better.LOWER) is False
    assert rules.meets(None, Decimal("1"), rules.Better.LOWER) is None
    kpi = rules.Kpi("tech", "incidents", Decimal(2), Decimal(1), None, rules.Better.LOWER, "count")
    assert kpi.ok is None  # no target: shown, not judged
    assert kpi.change == Decimal("1")


@given(
    st_.decimals(min_value=0, max_value=10**6, places=2),
    st_.decimals(min_value=0, max_value=10**6, places=2),
)
def test_team_01_a_floor_and_a_ceiling_judge_opposite_sides(value, target):
    higher = rules.meets(value, target, rules.Better.HIGHER)
    lower = rules.meets(value, target, rules.Better.LOWER)
    assert higher or lower  # every value meets one of the two
    assert (higher and lower) == (value == target)


# --- on real rows ------------------------------------------------------------------------------


@pytest.fixture
def world(store, channel):
    return World(store, channel, stock_sh=100, stock_gz=0)


def _paid(world, customer, at):
    order = world.place(1, customer=customer, now=at)
    world.pay(order, now=at)
    return order


def _history(world, store, channel):
    """Previous 30 days: a and b buy once. This period: a buys twice (repeat, not new), c and d
    once (new); tickets answered after 10 and 50 minutes; reviews 5, 5, 2; a 72-minute outage."""
    _paid(world, "a", NOW - 40 * DAY)
    _paid(world, "b", NOW - 35 * DAY)
    for customer, days_ago in (("a", 20), ("a", 10), ("c", 5), ("d", 2)):
        _paid(world, customer, NOW - days_ago * DAY)
    for minutes, opened in ((10, NOW - 3 * DAY), (50, NOW - 2 * DAY)):
        ticket = a_ticket(store, channel, opened=opened)
        service.ticket_reply(
            actor=ACTOR, ticket=ticket, body="您好，正在处理", at=opened + dt.timedelta(minutes=minutes)
        )
    for n, rating in enumerate((5, 5, 2)):
        service.review_create(
            actor=ACTOR,
            store=store,
            channel=channel,
            order_ref=f"R{n}",
            sku_code="P1-S",
            customer_ref=f"r{n}",
            rating=rating,
            created_at=NOW - DAY,
        )
    incident = service.incident_open(
        actor=ACTOR, store=store, title="网店宕机", started_at=NOW - 4 * DAY, now=NOW - 4 * DAY
    )
    service.incident_recover(
        actor=ACTOR, incident=incident, ended_at=NOW - 4 * DAY + dt.timedelta(minutes=72), now=NOW
    )


def _kpis(store, **kw):
    team = selectors.team_kpis(store=store, until=NOW, **kw)
    return team, {k.code: k for k in team.kpis}


@pytest.mark.django_db
def test_team_01_each_role_measured_against_the_period_before_and_its_targets(world, store, channel):
    _history(world, store, channel)
    team, k = _kpis(store)
    assert (team.until - team.since).days == 30  # the playbook's kpi_period_days
    # operations: 4 orders of 100.00; buyers a, c, d — c and d new, a bought twice
    assert k["gmv"].value == Decimal("400.00")
    assert k["gmv"].previous == Decimal("200.00")
    assert k["gmv"].target == Decimal("200.00")  # not below the previous period
    assert k["gmv"].ok is True
    assert k["new_customer_share"].value == Decimal("0.6667")
    assert k["repurchase_rate"].value == Decimal("0.3333")
    assert k["repurchase_rate"].ok is True  # ≥ 25%
    # tech: 72 minutes of 30 days
    assert k["failure_rate"].value == Decimal("0.0017")
    assert k["failure_rate"].ok is False  # > 0.1%
    assert k["incidents"].value == 1
    # customer service: median of 10 and 50 minutes; 2 of 3 reviews positive
    assert k["first_response_minutes"].value == Decimal("30.0")
    assert k["first_response_minutes"].ok is True  # ≤ 30
    assert k["positive_review_share"].value == Decimal("0.6667")
    assert k["positive_review_share"].ok is False  # < 90%
    assert k["average_rating"].value == Decimal("4.00")
    assert k["return_rate"].value == Decimal("0")
    assert [(a.tickets, a.responded, a.median_response_minutes) for a in team.agents] == [(2, 2, 30.0)]
    assert {x.code for x in team.missed} == {"failure_rate", "positive_review_share"}


@pytest.mark.django_db
def test_team_01_targets_and_period_are_playbook_settings(world, store, channel, system):
    _history(world, store, channel)
    st.playbook_update(
        actor=system,
        store=store,
        values={
            "kpi_max_failure_rate": "0.01",
            "kpi_min_positive_review_share": "0.6",
            "kpi_first_response_minutes": 20,
            "kpi_period_days": 7,
        },
    )
    team, k = _kpis(store)
    assert (team.until - team.since).days == 7
    assert k["failure_rate"].ok is True
    assert k["positive_review_share"].ok is True
    assert k["first_response_minutes"].ok is False
    assert k["gmv"].value == Decimal("200.00")  # c and d
    with pytest.raises(Exception, match="统计周期"):
        selectors.team_kpis(store=store, days=400)


@pytest.mark.django_db
def test_team_01_check_raises_a_finding_per_missed_kpi_and_resolves_when_met(world, store, channel, system):
    _history(world, store, channel)
    checks_run(rule="TEAM-01", store=store, now=NOW, notify=False)
    findings = {f.subject_key: f for f in Finding.objects.filter(rule_id="TEAM-01")}
    assert set(findings) == {"kpi:failure_rate", "kpi:positive_review_share"}
    assert findings["kpi:positive_review_share"].severity == "info"
    assert "客服绩效未达标：好评率（4–5 分） 66.7%，目标 90.0%" in findings["kpi:positive_review_share"].title
    st.playbook_update(actor=system, store=store, values={"kpi_min_positive_review_share": "0.5"})
    checks_run(rule="TEAM-01", store=store, now=NOW, notify=False)
    assert Finding.objects.get(subject_key="kpi:positive_review_share").status == "resolved"
    assert Finding.objects.get(subject_key="kpi:failure_rate").status == "open"


@pytest.mark.django_db
def test_team_01_api_and_console(world, store, channel, api_as, make_user):
    _history(world, store, channel)
    body = api_as(Role.ANALYST).get(f"/analytics/{store.pk}/team-kpis", days=90, until=NOW.isoformat()).json()
    codes = {k["code"]: k for k in body["kpis"]}
    assert codes["gmv"]["value"] == "600.00"
    assert codes["repurchase_rate"]["label"] == "复购率"
    assert body["agents"][0]["tickets"] == 2
    assert api_as(None).get(f"/analytics/{store.pk}/team-kpis").status_code == 401
    client = Client()
    client.force_login(make_user(Role.OWNER))
    html = client.get("/team-kpis/?days=90&until=2026-06-30").content.decode()
    assert "团队绩效" in html
    assert "¥600.00" in html
    assert "复购率" in html
    assert "近 90 天" in html
    assert "2026-04-02 – 2026-06-30" in html  # the 90 days up to the end of 30 June
    assert client.get("/team-kpis/?days=999").status_code == 200  # an error message, the default period
