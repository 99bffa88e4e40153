"""Where a finding's subject is in the console: the finding page links to it, so an owner goes
from "what is wrong" to the thing itself in one click. Findings name their subject by
``subject_type`` (``app.model``) and ``subject_id`` (a primary key, or a number people read);
a type not listed here (or an id that is not one) gets no link, and neither does a page the
reader may not open (a finance statement for customer service, say)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.urls import Resolver404, resolve, reverse


def _pk(name: str) -> Callable[[str, dict[str, Any]], str | None]:
    def link(subject_id: str, _detail: dict[str, Any]) -> str | None:
        return reverse(name, args=[int(subject_id)]) if subject_id.isdigit() else None

    return link


def _search(name: str) -> Callable[[str, dict[str, Any]], str | None]:
    def link(subject_id: str, _detail: dict[str, Any]) -> str | None:
        return f"{reverse(name)}?{urlencode({'q': subject_id})}" if subject_id else None

    return link


def _statement(_subject_id: str, detail: dict[str, Any]) -> str | None:
    statement = detail.get("statement")
    if isinstance(statement, int):
        return reverse("console:finance_statement", args=[statement])
    day = detail.get("day")  # a statement not imported yet: the ledger of that day
    return f"{reverse('console:finance_ledger')}?{urlencode({'start': day, 'end': day})}" if day else None


def _settlement(_subject_id: str, detail: dict[str, Any]) -> str | None:
    report = detail.get("settlement")
    return reverse("console:finance_settlement", args=[report]) if isinstance(report, int) else None


def _launch_target(_subject_id: str, detail: dict[str, Any]) -> str | None:
    plan = detail.get("plan")
    return reverse("console:launch_plan", args=[plan]) if isinstance(plan, int) else None


def _case(subject_id: str, _detail: dict[str, Any]) -> str | None:
    return reverse("console:aftersales_detail", args=[subject_id]) if subject_id else None


_LINKS: dict[str, Callable[[str, dict[str, Any]], str | None]] = {
    "orders.order": _search("console:orders_list"),  # by number: the list finds it
    "orders.paymentstatement": _statement,
    "orders.settlementreport": _settlement,
    "catalog.product": _pk("console:catalog_product_detail"),
    "marketing.campaign": _pk("console:marketing_campaign_detail"),
    "marketing.adplan": _pk("console:marketing_ad_plan_edit"),
    "service.ticket": _pk("console:service_ticket_detail"),
    "service.reviewattack": _pk("console:service_review_attack"),
    "analytics.experiment": _pk("console:experiment_detail"),
    "outreach.campaign": _pk("console:outreach_campaign"),
    "aftersales.aftersale": _case,
    "stores.launchplan": _pk("console:launch_plan"),
    "stores.launchtarget": _launch_target,
}


def subject_link(
    subject_type: str, subject_id: str, detail: dict[str, Any] | None, user: Any = None
) -> str | None:
    """The console page of a finding's subject, or None; with ``user``, None as well when the
    page's permission (``console_view``'s ``required_permission``) is not one of theirs."""
    link = _LINKS.get(subject_type)
    url = link(subject_id, detail or {}) if link is not None else None
    if url is None or user is None:
        return url
    try:
        match = resolve(urlsplit(url).path)
    except Resolver404:
        return None
    permission = getattr(match.func, "required_permission", None)
    return url if permission is None or user.has_perm(permission) else None
