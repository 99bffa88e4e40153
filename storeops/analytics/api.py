"""Analytics API (/api/v1/analytics). TEAM-01: the KPIs of each role."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Router, Schema

from storeops.accounts.access import perm
from storeops.analytics import selectors
from storeops.stores.models import Store

router = Router(tags=["analytics"])


class KpiOut(Schema):
    role: str
    code: str
    label: str
    unit: str  # cny / ratio / minutes / rating / count
    value: Decimal | None
    previous: Decimal | None
    change: Decimal | None  # relative change from the previous period
    target: Decimal | None
    better: str  # higher / lower: whether the target is a floor or a ceiling
    ok: bool | None  # None: no target, or nothing to measure


class AgentOut(Schema):
    username: str
    tickets: int
    responded: int
    median_response_minutes: float | None
    resolved: int


class TeamKpisOut(Schema):
    since: dt.datetime
    until: dt.datetime
    previous_since: dt.datetime
    kpis: list[KpiOut]
    agents: list[AgentOut]


@router.get("/{store_id}/team-kpis", response=TeamKpisOut, auth=perm("sop.view_finding"))
def team_kpis(
    request: HttpRequest, store_id: int, days: int | None = None, until: dt.datetime | None = None
) -> Any:
    """The KPIs of operations, tech and customer service over ``days`` (default: the playbook's
    ``kpi_period_days``) before ``until`` (default: now), with the period before and the
    playbook's targets; customer service per agent."""
    team = selectors.team_kpis(store=get_object_or_404(Store, pk=store_id), until=until, days=days)
    return {
        "since": team.since,
        "until": team.until,
        "previous_since": team.previous_since,
        "kpis": [
            {
                "role": k.role,
                "code": k.code,
                "label": _(selectors.KPI_LABELS[k.code]),
                "unit": k.unit,
                "value": k.value,
                "previous": k.previous,
                "change": k.change,
                "target": k.target,
                "better": str(k.better),
                "ok": k.ok,
            }
            for k in team.kpis
        ],
        "agents": team.agents,
    }
