"""TEAM-01: the KPIs of each role over a period, from the data StoreOps already holds, each
with the same measure over the period before and the playbook's target.

* Operations — GMV (paid in the period; target: the previous period's GMV grown by
  ``kpi_gmv_min_growth``), user growth as the share of buyers who are new customers
  (``target_new_customer_share``), repurchase rate: buyers with two or more paid orders in
  the period (``target_repurchase_rate``).
* Tech — failure rate: the share of the period some incident (RISK-04) was open
  (``kpi_max_failure_rate``), and the number of incidents.
* Customer service — median first response of the tickets opened in the period
  (``kpi_first_response_minutes``), satisfaction as the share of 4–5 star reviews
  (``kpi_min_positive_review_share``) and the average rating, the return rate of the orders
  paid in the period (``kpi_max_return_rate``); and the same per agent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from storeops.aftersales import selectors as aftersales_selectors
from storeops.analytics.rules import Better, Kpi, ratio
from storeops.core.errors import ValidationError
from storeops.orders import selectors as order_selectors
from storeops.service import selectors as service_selectors
from storeops.stores.models import Store
from storeops.stores.selectors import playbook_get

ROLES = ("operations", "tech", "customer_service")
ROLE_LABELS = {
    "operations": gettext_lazy("运营"),
    "tech": gettext_lazy("技术"),
    "customer_service": gettext_lazy("客服"),
}
# untranslated (gettext_noop): finding titles keep the key and render it for each reader
KPI_LABELS = {
    "gmv": gettext_noop("成交额（GMV）"),
    "new_customer_share": gettext_noop("新客占比（用户增长）"),
    "repurchase_rate": gettext_noop("复购率"),
    "failure_rate": gettext_noop("故障时长占比"),
    "incidents": gettext_noop("故障次数"),
    "first_response_minutes": gettext_noop("首次响应时长（中位数）"),
    "positive_review_share": gettext_noop("好评率（4–5 分）"),
    "average_rating": gettext_noop("平均评分"),
    "return_rate": gettext_noop("退货率"),
}


def display(value: Decimal | None, unit: str) -> str:
    """A KPI value as people read it: ¥ amounts, percentages, minutes."""
    if value is None:
        return "-"
    if unit == "cny":
        return f"¥{value:,.2f}"
    if unit == "ratio":
        return f"{value * 100:.1f}%"
    if unit == "minutes":
        return _("%(n)s 分钟") % {"n": f"{value:.1f}"}
    if unit == "rating":
        return f"{value:.2f}"
    return f"{value:.0f}"


@dataclass(frozen=True, slots=True)
class TeamKpis:
    since: dt.datetime
    until: dt.datetime
    previous_since: dt.datetime
    kpis: list[Kpi]
    agents: list[service_selectors.AgentRow]

    def by_role(self, role: str) -> list[Kpi]:
        return [k for k in self.kpis if k.role == role]

    @property
    def missed(self) -> list[Kpi]:
        return [k for k in self.kpis if k.ok is False]


def _dec(value: float | None, places: str = "0.1") -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal(places))


def _measures(
    store: Store, since: dt.datetime, until: dt.datetime
) -> tuple[dict[str, Decimal | None], list[service_selectors.AgentRow]]:
    sales = order_selectors.sales_summary(store, since=since, until=until)
    svc = service_selectors.service_summary(store=store, since=since, until=until)
    returns = aftersales_selectors.return_stats(store=store, since=since, until=until)
    return {
        "gmv": sales.gmv,
        "new_customer_share": ratio(sales.new_buyers, sales.buyers),
        "repurchase_rate": ratio(sales.repeat_buyers, sales.buyers),
        "failure_rate": ratio(svc.downtime_minutes, (until - since).total_seconds() / 60),
        "incidents": Decimal(svc.incidents),
        "first_response_minutes": _dec(svc.median_response_minutes),
        "positive_review_share": ratio(svc.positive_reviews, svc.reviews),
        "average_rating": _dec(svc.average_rating, "0.01"),
        "return_rate": returns.rate,
    }, svc.agents


def team_kpis(*, store: Store, until: dt.datetime | None = None, days: int | None = None) -> TeamKpis:
    """The KPIs over the ``days`` (default: the playbook's ``kpi_period_days``) before ``until``
    (default: now), next to the period before."""
    book = playbook_get(store=store)
    days = days or book.kpi_period_days
    if not 1 <= days <= 366:
        raise ValidationError(_("统计周期无效"), fields={"days": _("1–366 天")})
    until = until or timezone.now()
    since = until - dt.timedelta(days=days)
    previous_since = since - dt.timedelta(days=days)
    now, agents = _measures(store, since, until)
    before, _agents = _measures(store, previous_since, since)
    gmv_target = (
        (before["gmv"] * (1 + book.kpi_gmv_min_growth)).quantize(Decimal("0.01")) if before["gmv"] else None
    )
    spec: list[tuple[str, str, Decimal | None, Better, str]] = [
        ("operations", "gmv", gmv_target, Better.HIGHER, "cny"),
        ("operations", "new_customer_share", book.target_new_customer_share, Better.HIGHER, "ratio"),
        ("operations", "repurchase_rate", book.target_repurchase_rate, Better.HIGHER, "ratio"),
        ("tech", "failure_rate", book.kpi_max_failure_rate, Better.LOWER, "ratio"),
        ("tech", "incidents", None, Better.LOWER, "count"),
        (
            "customer_service",
            "first_response_minutes",
            Decimal(book.kpi_first_response_minutes),
            Better.LOWER,
            "minutes",
        ),
        (
            "customer_service",
            "positive_review_share",
            book.kpi_min_positive_review_share,
            Better.HIGHER,
            "ratio",
        ),
        ("customer_service", "average_rating", None, Better.HIGHER, "rating"),
        ("customer_service", "return_rate", book.kpi_max_return_rate, Better.LOWER, "ratio"),
    ]
    kpis = [
        Kpi(
            role=role,
            code=code,
            value=now[code],
            previous=before[code],
            target=target,
            better=better,
            unit=unit,
        )
        for role, code, target, better, unit in spec
    ]
    return TeamKpis(since=since, until=until, previous_since=previous_since, kpis=kpis, agents=agents)
