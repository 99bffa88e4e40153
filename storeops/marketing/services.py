"""Every change to campaigns (PROMO-05..07) and paid ads (ADS-01..03).

Each function validates first, then changes rows inside one transaction and appends to the
operation log. Campaign status changes follow the transition table in :mod:`.rules`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from storeops.audit.services import audit_record, snapshot
from storeops.catalog.selectors import banned_word_errors, sku_get_by_code
from storeops.core.context import Actor
from storeops.core.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationError
from storeops.core.money import Money
from storeops.marketing import rules, selectors
from storeops.marketing.models import (
    AdKeyword,
    AdKeywordDailyStat,
    AdPlan,
    AdPurpose,
    ApprovalDecision,
    BudgetKind,
    Campaign,
    CampaignApproval,
    CampaignBudgetLine,
    CampaignKind,
    CampaignMetricHourly,
    CampaignPhase,
    CampaignPostmortem,
    CampaignStockLine,
    IndustryCpcBenchmark,
    MatchType,
    PhaseKind,
)
from storeops.members import selectors as member_selectors
from storeops.orders import selectors as order_selectors
from storeops.promotions import selectors as promotion_selectors
from storeops.promotions.selectors import coupon_template_list, offer_list
from storeops.promotions.services import offer_set_status
from storeops.service import selectors as service_selectors
from storeops.stores.models import Channel, Store
from storeops.stores.selectors import playbook_get

State, Event = rules.CampaignState, rules.CampaignEvent
log = logging.getLogger("storeops.marketing")


def _decimal(
    value: Any,
    field: str,
    errors: dict[str, str],
    *,
    low: Decimal | None = Decimal(0),
    high: Decimal | None = None,
) -> Decimal:
    try:
        result = Decimal(str(value)) if not isinstance(value, Decimal) else value
        if not result.is_finite():
            raise InvalidOperation
    except (InvalidOperation, ValueError, TypeError):
        errors[field] = _("请输入数字")
        return Decimal(0)
    if (low is not None and result < low) or (high is not None and result > high):
        errors[field] = _("数值超出范围")
    return result


# ---- PROMO-05: plans ------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _CleanPlan:
    """A validated campaign plan, ready to be written."""

    fields: dict[str, Any]
    phases: list[CampaignPhase]
    budget: list[CampaignBudgetLine]
    stock: list[CampaignStockLine]
    offers: list[Any]
    coupon_templates: list[Any]


def _optional_rate(value: Any, field: str, errors: dict[str, str]) -> Decimal | None:
    """A campaign's own threshold (0..1), or None to use the playbook's (PROMO-06/08)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return _decimal(value, field, errors, high=Decimal(1))


UPLIFT_MIN, UPLIFT_MAX = Decimal(1), Decimal(50)


def _optional_uplift(value: Any, errors: dict[str, str]) -> Decimal | None:
    """INV-02: the campaign's expected demand multiplier (1–50, two decimals), or None to use
    the playbook's ``promo_default_uplift``."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    before = len(errors)
    uplift = _decimal(value, "expected_uplift", errors, low=UPLIFT_MIN, high=UPLIFT_MAX)
    if len(errors) > before:
        errors["expected_uplift"] = _("预计销量倍数须在 1 到 50 之间")
        return None
    if uplift != uplift.quantize(Decimal("0.01")):
        errors["expected_uplift"] = _("预计销量倍数最多两位小数")
        return None
    return uplift


def _plan_clean(  # noqa: PLR0912, PLR0915  (one validation pass over the whole plan)
    *,
    store: Store,
    theme: str,
    kind: str,
    starts_on: dt.date,
    ends_on: dt.date,
    mechanics: str,
    channel: Channel | None,
    target_gmv: Decimal | str | int,
    target_new_users: int,
    planned_redemption_rate: Decimal | str | None,
    max_payment_failure_rate: Decimal | str | None,
    expected_refund_rate: Decimal | str | None,
    expected_uplift: Decimal | str | None,
    phases: Iterable[Mapping[str, Any]],
    budget: Iterable[Mapping[str, Any]],
    stock: Iterable[Mapping[str, Any]],
    offer_ids: Iterable[int],
    coupon_template_ids: Iterable[int],
) -> _CleanPlan:
    errors: dict[str, str] = {}
    if not theme.strip():
        errors["theme"] = _("必填")
    if kind not in CampaignKind.values:
        errors["kind"] = _("未知的活动类型")
    dates_ok = isinstance(starts_on, dt.date) and isinstance(ends_on, dt.date)
    if not isinstance(starts_on, dt.date):
        errors["starts_on"] = _("请填写日期")
    if not isinstance(ends_on, dt.date):
        errors["ends_on"] = _("请填写日期")
    elif dates_ok and ends_on < starts_on:
        errors["ends_on"] = _("结束日期不能早于开始日期")
    if channel is not None and channel.store_id != store.pk:
        errors["channel"] = _("渠道不属于该店铺")
    gmv = _decimal(target_gmv, "target_gmv", errors)
    if not isinstance(target_new_users, int) or target_new_users < 0:
        errors["target_new_users"] = _("数值超出范围")
    rates = {
        name: _optional_rate(value, name, errors)
        for name, value in (
            ("planned_redemption_rate", planned_redemption_rate),
            ("max_payment_failure_rate", max_payment_failure_rate),
            ("expected_refund_rate", expected_refund_rate),
        )
    }
    uplift = _optional_uplift(expected_uplift, errors)
    phase_rows = []
    for i, p in enumerate(phases):
        if p.get("kind") not in PhaseKind.values:
            errors[f"phases.{i}.kind"] = _("未知的活动阶段")
            continue
        p_start, p_end = p.get("starts_on"), p.get("ends_on")
        if not isinstance(p_start, dt.date) or not isinstance(p_end, dt.date) or p_end < p_start:
            errors[f"phases.{i}"] = _("阶段日期有误")
            continue
        if dates_ok and (p_start < starts_on or p_end > ends_on):
            errors[f"phases.{i}"] = _("阶段日期须在活动日期之内")
        phase_rows.append(CampaignPhase(kind=p["kind"], starts_on=p_start, ends_on=p_end))
    if len({p.kind for p in phase_rows}) != len(phase_rows):
        errors["phases"] = _("每个阶段只能设置一次")
    budget_rows = []
    for i, b in enumerate(budget):
        if b.get("kind") not in BudgetKind.values:
            errors[f"budget.{i}.kind"] = _("未知的预算类型")
            continue
        amount = _decimal(b.get("planned"), f"budget.{i}.planned", errors)
        budget_rows.append(
            CampaignBudgetLine(kind=b["kind"], planned=amount, note=str(b.get("note", ""))[:200])
        )
    if len({b.kind for b in budget_rows}) != len(budget_rows):
        errors["budget"] = _("每种预算只能设置一次")
    stock_rows = []
    for i, s in enumerate(stock):
        sku = sku_get_by_code(store=store, code=str(s.get("sku_code", "")))
        qty = s.get("planned_qty")
        if sku is None:
            errors[f"stock.{i}.sku_code"] = _("SKU 不存在：%(c)s") % {"c": s.get("sku_code", "")}
        elif not isinstance(qty, int) or isinstance(qty, bool) or qty <= 0:
            errors[f"stock.{i}.planned_qty"] = _("计划备货量须为正整数")
        else:
            stock_rows.append(CampaignStockLine(sku=sku, planned_qty=qty))
    if len({s.sku_id for s in stock_rows}) != len(stock_rows):
        errors["stock"] = _("每个 SKU 只能设置一次")
    wanted = {int(o) for o in offer_ids}
    offers = list(offer_list(store=store).filter(pk__in=wanted)) if wanted else []
    if len(offers) != len(wanted):
        errors["offer_ids"] = _("优惠不存在：%(ids)s") % {
            "ids": ", ".join(str(i) for i in sorted(wanted - {o.pk for o in offers}))
        }
    wanted = {int(t) for t in coupon_template_ids}
    templates = list(coupon_template_list(store=store).filter(pk__in=wanted)) if wanted else []
    if len(templates) != len(wanted):
        errors["coupon_template_ids"] = _("优惠券模板不存在：%(ids)s") % {
            "ids": ", ".join(str(i) for i in sorted(wanted - {t.pk for t in templates}))
        }
    # LIST-02: the campaign copy against the store's banned-word list (catalog's scanner)
    errors.update(banned_word_errors(store=store, texts={"theme": theme, "mechanics": mechanics}))
    if errors:
        raise ValidationError(_("活动方案有误，未保存"), fields=errors)
    return _CleanPlan(
        fields={
            "channel": channel,
            "theme": theme.strip(),
            "kind": kind,
            "mechanics": mechanics,
            "starts_on": starts_on,
            "ends_on": ends_on,
            "target_gmv": gmv,
            "target_new_users": target_new_users,
            **rates,
            "expected_uplift": uplift,
        },
        phases=phase_rows,
        budget=budget_rows,
        stock=stock_rows,
        offers=offers,
        coupon_templates=templates,
    )


def _plan_snapshot(campaign: Campaign) -> dict[str, Any]:
    return {
        **snapshot(campaign),
        "phases": [(p.kind, p.starts_on, p.ends_on) for p in campaign.phases.all()],
        "budget": [(b.kind, b.planned) for b in campaign.budget_lines.all()],
        "stock": [(s.sku_id, s.planned_qty) for s in campaign.stock_lines.all()],
        "offers": sorted(o.pk for o in campaign.offers.all()),
        "coupon_templates": sorted(t.pk for t in campaign.coupon_templates.all()),
    }


def campaign_create(
    *,
    actor: Actor,
    store: Store,
    theme: str,
    kind: str,
    starts_on: dt.date,
    ends_on: dt.date,
    mechanics: str = "",
    channel: Channel | None = None,
    target_gmv: Decimal | str | int = 0,
    target_new_users: int = 0,
    planned_redemption_rate: Decimal | str | None = None,
    max_payment_failure_rate: Decimal | str | None = None,
    expected_refund_rate: Decimal | str | None = None,
    expected_uplift: Decimal | str | None = None,
    phases: Iterable[Mapping[str, Any]] = (),
    budget: Iterable[Mapping[str, Any]] = (),
    stock: Iterable[Mapping[str, Any]] = (),
    offer_ids: Iterable[int] = (),
    coupon_template_ids: Iterable[int] = (),
) -> Campaign:
    """Create a campaign plan in draft: phases, budget lines, stock plan, targets, offers, and
    the coupon templates whose coupons are the campaign's (PROMO-06 counts their redemption).

    A threshold left as None (planned redemption rate, payment-failure alert line, expected
    refund rate) follows the playbook's ``campaign_*`` setting (PROMO-06/08).
    ``expected_uplift`` (INV-02: demand multiplier during the campaign, 1–50) left as None
    follows the playbook's ``promo_default_uplift``.
    """
    plan = _plan_clean(
        store=store,
        theme=theme,
        kind=kind,
        starts_on=starts_on,
        ends_on=ends_on,
        mechanics=mechanics,
        channel=channel,
        target_gmv=target_gmv,
        target_new_users=target_new_users,
        planned_redemption_rate=planned_redemption_rate,
        max_payment_failure_rate=max_payment_failure_rate,
        expected_refund_rate=expected_refund_rate,
        expected_uplift=expected_uplift,
        phases=phases,
        budget=budget,
        stock=stock,
        offer_ids=offer_ids,
        coupon_template_ids=coupon_template_ids,
    )
    with transaction.atomic():
        campaign = Campaign.objects.create(
            store=store,
            created_by=actor.user if actor.user is not None and actor.user.pk else None,
            **plan.fields,
        )
        for row in (*plan.phases, *plan.budget, *plan.stock):
            row.campaign = campaign
            row.save()
        campaign.offers.set(plan.offers)
        campaign.coupon_templates.set(plan.coupon_templates)
        audit_record(
            actor=actor,
            action="campaign.create",
            obj=campaign,
            store_id=store.pk,
            after=_plan_snapshot(campaign),
        )
    return campaign


def campaign_update(
    *,
    actor: Actor,
    campaign: Campaign,
    theme: str,
    kind: str,
    starts_on: dt.date,
    ends_on: dt.date,
    mechanics: str = "",
    channel: Channel | None = None,
    target_gmv: Decimal | str | int = 0,
    target_new_users: int = 0,
    planned_redemption_rate: Decimal | str | None = None,
    max_payment_failure_rate: Decimal | str | None = None,
    expected_refund_rate: Decimal | str | None = None,
    expected_uplift: Decimal | str | None = None,
    phases: Iterable[Mapping[str, Any]] = (),
    budget: Iterable[Mapping[str, Any]] = (),
    stock: Iterable[Mapping[str, Any]] = (),
    offer_ids: Iterable[int] = (),
    coupon_template_ids: Iterable[int] = (),
) -> Campaign:
    """Replace a draft plan (a new one, or one sent back by a reject) as a whole.

    Only drafts change: a plan under approval or approved is what the approvers saw. Phases,
    budget lines, stock lines, offers and coupon templates become exactly the ones given; a
    budget line kept keeps its recorded actual spend.
    """
    plan = _plan_clean(
        store=campaign.store,
        theme=theme,
        kind=kind,
        starts_on=starts_on,
        ends_on=ends_on,
        mechanics=mechanics,
        channel=channel,
        target_gmv=target_gmv,
        target_new_users=target_new_users,
        planned_redemption_rate=planned_redemption_rate,
        max_payment_failure_rate=max_payment_failure_rate,
        expected_refund_rate=expected_refund_rate,
        expected_uplift=expected_uplift,
        phases=phases,
        budget=budget,
        stock=stock,
        offer_ids=offer_ids,
        coupon_template_ids=coupon_template_ids,
    )
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if locked.status != State.DRAFT:
            raise InvalidTransition(
                _("只有草稿（含被驳回退回草稿）的活动方案可以修改"),
                fields={"status": locked.get_status_display()},
            )
        before = _plan_snapshot(locked)
        for name, value in plan.fields.items():
            setattr(locked, name, value)
        locked.save()
        actuals = {b.kind: b.actual for b in locked.budget_lines.all()}
        locked.phases.all().delete()
        locked.budget_lines.all().delete()
        locked.stock_lines.all().delete()
        for line in plan.budget:
            line.actual = actuals.get(line.kind, Decimal(0))
        for row in (*plan.phases, *plan.budget, *plan.stock):
            row.campaign = locked
            row.save()
        locked.offers.set(plan.offers)
        locked.coupon_templates.set(plan.coupon_templates)
        audit_record(
            actor=actor,
            action="campaign.update",
            obj=locked,
            store_id=locked.store_id,
            before=before,
            after=_plan_snapshot(locked),
        )
    return locked


_REFUSALS = {
    Event.SUBMIT: lambda: _("只有草稿状态的活动可以提交审批"),
    Event.APPROVE: lambda: _("活动当前不在待审批状态"),
    Event.REJECT: lambda: _("活动当前不在待审批状态"),
    Event.ACTIVATE: lambda: _("活动未完成审批（运营负责人 → 推广负责人 → 财务），不能上线"),
    Event.END: lambda: _("只有进行中的活动可以结束"),
    Event.CANCEL: lambda: _("该状态的活动不能取消"),
}


def _transition(
    *, actor: Actor, campaign: Campaign, event: rules.CampaignEvent, comment: str = "", step: str = ""
) -> Campaign:
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        state = rules.CampaignState(locked.status)
        new = rules.next_state(state, event)
        if new is None:
            raise InvalidTransition(_REFUSALS[event](), fields={"status": locked.get_status_display()})
        if event in (Event.APPROVE, Event.REJECT):
            expected = rules.PENDING_STEP[state]
            if step and step != expected:
                raise InvalidTransition(
                    _("活动当前等待的审批环节是：%(step)s") % {"step": _step_label(expected)}
                )
            permission = rules.STEP_PERMISSION[expected]
            if actor.user is None or not actor.user.has_perm(permission):
                raise PermissionDenied(_("没有审批该环节的权限（需要 %(perm)s）") % {"perm": permission})
            if event == Event.APPROVE:
                _separation_of_duties(locked, actor)
            step = expected.value
        if event == Event.REJECT and not comment.strip():
            raise ValidationError(_("驳回时请填写意见"), fields={"comment": _("必填")})
        before = snapshot(locked, ["status", "submitted_at", "approved_at"])
        now = timezone.now()
        locked.status = new.value
        if event == Event.SUBMIT:
            locked.submitted_at = now
        if new == State.APPROVED:
            locked.approved_at = now
        if event == Event.REJECT:
            locked.approved_at = None
        if event == Event.ACTIVATE:
            locked.activated_at = now
        locked.save(update_fields=["status", "submitted_at", "approved_at", "activated_at"])
        decision = {
            Event.SUBMIT: ApprovalDecision.SUBMITTED,
            Event.APPROVE: ApprovalDecision.APPROVED,
            Event.REJECT: ApprovalDecision.REJECTED,
        }.get(event)
        if decision is not None:
            CampaignApproval.objects.create(
                campaign=locked,
                step=step,
                decision=decision,
                user=actor.user if actor.user is not None and actor.user.pk else None,
                actor_label=actor.label[:150],
                comment=comment,
                at=now,
            )
        audit_record(
            actor=actor,
            action=f"campaign.{event.value}",
            obj=locked,
            store_id=locked.store_id,
            before=before,
            after={**snapshot(locked, ["status", "submitted_at", "approved_at"]), "step": step},
            note=comment,
        )
        if event in (Event.REJECT, Event.CANCEL):
            _pause_offers(actor, locked)
    return locked


def _pause_offers(actor: Actor, campaign: Campaign) -> None:
    """PROMO-05: a rejected or cancelled plan does not run: its active offers are paused
    (each audited), except those another approved or live campaign still runs."""
    for offer in selectors.campaign_offers_to_pause(campaign):
        offer_set_status(actor=actor, offer=offer, status="paused")


def _separation_of_duties(campaign: Campaign, actor: Actor) -> None:
    """PROMO-05: the three approvals are three different people. One user may not approve two
    steps of the same submission (an approval of an earlier, rejected submission does not count:
    the resubmitted plan goes through the whole chain again)."""
    last_submit = (
        CampaignApproval.objects.filter(campaign=campaign, decision=ApprovalDecision.SUBMITTED)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )
    earlier = (
        CampaignApproval.objects.filter(
            campaign=campaign, decision=ApprovalDecision.APPROVED, user=actor.user, pk__gt=last_submit or 0
        )
        .order_by("pk")
        .first()
    )
    if earlier is not None:
        label = _step_label(rules.ApprovalStep(earlier.step))
        raise PermissionDenied(
            _("同一人不能审批同一活动的两个环节：您已审批过「%(step)s」环节，请由其他负责人审批")
            % {"step": label},
            fields={"step": label},
            code="separation_of_duties",
        )


def _step_label(step: rules.ApprovalStep) -> str:
    return {
        rules.ApprovalStep.OPERATIONS: _("运营负责人"),
        rules.ApprovalStep.MARKETING: _("推广负责人"),
        rules.ApprovalStep.FINANCE: _("财务"),
    }[step]


def campaign_submit(*, actor: Actor, campaign: Campaign, comment: str = "") -> Campaign:
    return _transition(actor=actor, campaign=campaign, event=Event.SUBMIT, comment=comment)


def campaign_decide(
    *, actor: Actor, campaign: Campaign, approve: bool, comment: str = "", step: str = ""
) -> Campaign:
    """Approve or reject the step the campaign waits for. The actor must hold that step's
    permission; a reject sends the plan back to draft with the comment."""
    event = Event.APPROVE if approve else Event.REJECT
    return _transition(actor=actor, campaign=campaign, event=event, comment=comment, step=step)


def campaign_activate(*, actor: Actor, campaign: Campaign) -> Campaign:
    return _transition(actor=actor, campaign=campaign, event=Event.ACTIVATE)


def campaign_end(*, actor: Actor, campaign: Campaign) -> Campaign:
    return _transition(actor=actor, campaign=campaign, event=Event.END)


def campaign_cancel(*, actor: Actor, campaign: Campaign, comment: str = "") -> Campaign:
    return _transition(actor=actor, campaign=campaign, event=Event.CANCEL, comment=comment)


def campaign_budget_actual_set(
    *, actor: Actor, campaign: Campaign, kind: str, actual: Decimal | str
) -> CampaignBudgetLine:
    errors: dict[str, str] = {}
    if kind not in BudgetKind.values:
        errors["kind"] = _("未知的预算类型")
    amount = _decimal(actual, "actual", errors)
    if errors:
        raise ValidationError(_("预算数据有误"), fields=errors)
    with transaction.atomic():
        line, _created = CampaignBudgetLine.objects.select_for_update().get_or_create(
            campaign=campaign, kind=kind, defaults={"planned": Decimal(0)}
        )
        before = snapshot(line)
        line.actual = amount
        line.save(update_fields=["actual"])
        audit_record(
            actor=actor,
            action="campaign.budget_actual",
            obj=line,
            store_id=campaign.store_id,
            before=before,
            after=snapshot(line),
        )
    return line


# ---- PROMO-06: hourly figures ---------------------------------------------------------------
_METRIC_COUNTS = (
    "exposure",
    "clicks",
    "coupons_issued",
    "coupon_redemptions",
    "orders",
    "payment_attempts",
    "payment_failures",
    "new_users",
)


@dataclass(frozen=True, slots=True)
class MetricsRecorded:
    count: int  # hours recorded
    kept_counted: tuple[str, ...]  # figures typed for hours StoreOps counted: kept as counted


def campaign_metrics_record(
    *, actor: Actor, campaign: Campaign, rows: Iterable[Mapping[str, Any]]
) -> MetricsRecorded:
    """Insert or replace hourly figures (keyed by the hour, truncated to the hour; a figure not
    given is 0). All or nothing. Of an hour StoreOps counted (the hourly job, a recount), the
    counted figures are kept: ``kept_counted`` names those given with another value, unused."""
    errors: dict[str, str] = {}
    cleaned: list[dict[str, Any]] = []
    given: list[set[str]] = []
    for i, row in enumerate(rows):
        given.append(set(row))
        hour = row.get("hour")
        if not isinstance(hour, dt.datetime):
            errors[f"{i}.hour"] = _("请填写小时（日期时间）")
            continue
        if timezone.is_naive(hour):
            hour = timezone.make_aware(hour)
        values: dict[str, Any] = {"hour": hour.replace(minute=0, second=0, microsecond=0)}
        for name in _METRIC_COUNTS:
            value = row.get(name, 0)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                errors[f"{i}.{name}"] = _("须为非负整数")
            values[name] = value
        values["gmv"] = _decimal(row.get("gmv", 0), f"{i}.gmv", errors)
        if isinstance(values["payment_failures"], int) and isinstance(values["payment_attempts"], int):  # noqa: SIM102
            if values["payment_failures"] > values["payment_attempts"]:
                errors[f"{i}.payment_failures"] = _("支付失败数不能大于支付次数")
        cleaned.append(values)
    if errors:
        raise ValidationError(_("小时数据有误，未导入"), fields=errors)
    kept: set[str] = set()
    with transaction.atomic():
        existing = {
            m.hour: m
            for m in CampaignMetricHourly.objects.select_for_update().filter(
                campaign=campaign, hour__in=[v["hour"] for v in cleaned]
            )
        }
        for values, sent in zip(cleaned, given, strict=True):
            row = existing.get(values["hour"]) or CampaignMetricHourly(campaign=campaign, hour=values["hour"])
            counted = set(row.counted_fields or ())
            for name, value in values.items():
                if name not in counted:
                    setattr(row, name, value)
                elif name in sent and value != getattr(row, name):
                    kept.add(name)
            row.save()
            existing[row.hour] = row
        audit_record(
            actor=actor,
            action="campaign.metrics_record",
            obj=campaign,
            store_id=campaign.store_id,
            after={"hours": [v["hour"] for v in cleaned], "kept_counted": sorted(kept)},
        )
    return MetricsRecorded(count=len(cleaned), kept_counted=tuple(sorted(kept)))


@dataclass(frozen=True, slots=True)
class MetricsCounted:
    hours: tuple[dt.datetime, ...]  # the hours counted (none: nothing to count yet)
    counted_fields: tuple[str, ...]


def campaign_metrics_count(
    *, actor: Actor, campaign: Campaign, now: dt.datetime | None = None, recount: bool = False
) -> MetricsCounted:
    """PROMO-06: count a campaign's hourly figures from StoreOps' own rows, replacing the
    counted figures of each hour (the others, exposure, clicks and new users, stay as typed or
    imported): orders placed on its channel (every channel without one), the GMV paid,
    payment attempts and failures, and the copies of its coupon templates issued and redeemed
    (copies issued before its first hour count in that hour). A few grouped queries, whatever
    the number of hours.

    The hourly job counts the hours that ended since the campaign's first day and were not
    counted yet, or were counted before their payments settled (``payment_pending_minutes``
    after the hour): running it twice changes nothing. ``recount`` counts every hour so far
    again (orders imported late, say), for a campaign that is approved, live or ended."""
    now = timezone.localtime(now or timezone.now())
    if recount and campaign.status not in selectors.CAMPAIGN_RECOUNT_STATES:
        raise Conflict(
            _("只有已审批、进行中或已结束的活动可以重新统计"),
            fields={"status": campaign.get_status_display()},
            code="campaign_not_running",
        )
    hours = selectors.campaign_hours(campaign, now=now)
    if recount and not hours:
        raise Conflict(_("活动尚未开始，还没有可统计的小时"), code="campaign_not_started")
    fields = selectors.campaign_counted_fields(campaign)
    if not hours:
        return MetricsCounted(hours=(), counted_fields=fields)
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)  # one count at a time
        existing = {  # only what decides; the counted fields are all set below
            m.hour: m
            for m in CampaignMetricHourly.objects.filter(
                campaign=locked, hour__gte=hours[0], hour__lte=hours[-1]
            ).only("pk", "hour", "counted_at")
        }
        if recount:
            todo = hours
        else:
            settle = dt.timedelta(minutes=selectors.campaign_playbook(campaign).payment_pending_minutes)
            todo = rules.hours_to_count(hours, {h: m.counted_at for h, m in existing.items()}, settle)
        if not todo:
            return MetricsCounted(hours=(), counted_fields=fields)
        figures = _hour_figures(locked, todo, first_hour=hours[0], fields=fields)
        created, updated = [], []
        for hour in todo:
            row = existing.get(hour)
            if row is None:
                row = CampaignMetricHourly(campaign=locked, hour=hour)
                created.append(row)
            else:
                updated.append(row)
            for name, value in figures[hour].items():
                setattr(row, name, value)
            row.counted_fields, row.counted_at = list(fields), now
        CampaignMetricHourly.objects.bulk_create(created)
        CampaignMetricHourly.objects.bulk_update(updated, [*fields, "counted_fields", "counted_at"])
        audit_record(
            actor=actor,
            action="campaign.metrics_recount" if recount else "campaign.metrics_count",
            obj=locked,
            store_id=locked.store_id,
            after={"from": todo[0], "to": todo[-1], "hours": len(todo), "counted_fields": list(fields)},
        )
    return MetricsCounted(hours=tuple(todo), counted_fields=fields)


def _hour_figures(
    campaign: Campaign, hours: list[dt.datetime], *, first_hour: dt.datetime, fields: tuple[str, ...]
) -> dict[dt.datetime, dict[str, Any]]:
    """The counted figures of each of ``hours`` (from StoreOps' orders, payments, coupons)."""
    since, until = hours[0], hours[-1] + rules.HOUR
    sales = order_selectors.hourly_sales(
        campaign.store_id, since=since, until=until, channel_id=campaign.channel_id
    )
    coupons: dict[dt.datetime, tuple[int, int]] = {}
    issued_before = 0
    if "coupons_issued" in fields:
        template_ids = list(campaign.coupon_templates.values_list("pk", flat=True))
        coupons = promotion_selectors.coupon_hourly_counts(
            template_ids=template_ids, since=since, until=until
        )
        if hours[0] == first_hour:
            issued_before = promotion_selectors.coupons_issued_before(
                template_ids=template_ids, before=first_hour
            )
    empty = order_selectors.HourSales()
    result = {}
    for hour in hours:
        s = sales.get(hour, empty)
        values: dict[str, Any] = {
            "orders": s.orders,
            "gmv": s.gmv,
            "payment_attempts": s.payment_attempts,
            "payment_failures": s.payment_failures,
        }
        if "coupons_issued" in fields:
            issued, redeemed = coupons.get(hour, (0, 0))
            values["coupons_issued"] = issued + (issued_before if hour == first_hour else 0)
            values["coupon_redemptions"] = redeemed
        result[hour] = values
    return result


def campaigns_metrics_count(*, actor: Actor, now: dt.datetime | None = None) -> int:
    """The hourly job (PROMO-06): count every store's approved or live campaigns (see
    :func:`campaign_metrics_count`). One campaign's failure does not stop the others.
    Returns the hours counted."""
    now = timezone.localtime(now or timezone.now())
    done = 0
    for campaign in selectors.campaigns_to_count(today=now.date()):
        try:
            done += len(campaign_metrics_count(actor=actor, campaign=campaign, now=now).hours)
        except Exception:
            log.exception("PROMO-06 hourly count failed for campaign %s", campaign.pk)
    return done


# ---- PROMO-07: post-mortem ------------------------------------------------------------------
def postmortem_figures(campaign: Campaign) -> dict[str, Any]:
    """The report as data: targets vs actuals, ROI, budget; unavailable sections named."""
    currency = campaign.store.currency
    metrics = list(selectors.campaign_metrics(campaign=campaign))
    gmv = Money(sum((m.gmv for m in metrics), Decimal(0)), currency)
    new_users = sum(m.new_users for m in metrics)
    lines = list(campaign.budget_lines.all())
    result = rules.postmortem(
        rules.PostmortemFigures(
            gmv=gmv,
            gmv_target=Money(campaign.target_gmv, currency),
            new_users=new_users,
            new_users_target=campaign.target_new_users,
            budget=tuple(
                rules.BudgetFigures(
                    kind=b.kind, planned=Money(b.planned, currency), actual=Money(b.actual, currency)
                )
                for b in lines
            ),
        )
    )

    def amt(m: Money) -> str:
        return str(m.quantize().amount)

    def pct(d: Decimal | None) -> str | None:
        return None if d is None else str((d * 100).quantize(Decimal("0.1")))

    return {
        "currency": currency,
        "gmv": amt(gmv),
        "gmv_target": amt(Money(campaign.target_gmv, currency)),
        "gmv_attainment_pct": pct(result.gmv_attainment),
        "new_users": new_users,
        "new_users_target": campaign.target_new_users,
        "new_users_attainment_pct": pct(result.new_users_attainment),
        "cost": amt(result.cost),
        "planned_cost": amt(result.planned_cost),
        "budget_used_pct": pct(result.budget_used),
        "roi": None if result.roi is None else str(result.roi.quantize(Decimal("0.01"))),
        "budget": [{"kind": b.kind, "planned": str(b.planned), "actual": str(b.actual)} for b in lines],
        "orders": sum(m.orders for m in metrics),
        "hours_recorded": len(metrics),
        **_new_members(campaign, new_users),
        **_service_voice(campaign),
        "unavailable": list(selectors.UNAVAILABLE_SECTIONS),
    }


def _new_members(campaign: Campaign, new_users: int) -> dict[str, Any]:
    """New users moved into membership (PROMO-07): the customers who became members during the
    campaign (its first day to its last, local time), and their share of the campaign's new
    users (None without new users)."""
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(campaign.starts_on, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(campaign.ends_on + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    joined = member_selectors.joined_count(store=campaign.store, start=start, end=end)
    share = None if not new_users else str((Decimal(joined) * 100 / new_users).quantize(Decimal("0.1")))
    return {"new_members": joined, "new_members_pct": share}


def _service_voice(campaign: Campaign) -> dict[str, Any]:
    """What customers asked (tickets from the campaign's start to a week after its end) and
    what they wrote in reviews (from the start until now: reviews follow delivery)."""
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(campaign.starts_on, dt.time.min, tzinfo=tz)
    tail = campaign.ends_on + dt.timedelta(days=selectors.POSTMORTEM_QUESTIONS_TAIL_DAYS + 1)
    now = timezone.now()
    questions_end = min(now, dt.datetime.combine(tail, dt.time.min, tzinfo=tz))
    return {
        "top_service_questions": service_selectors.top_questions(
            store=campaign.store, start=start, end=questions_end
        ),
        "review_keywords": service_selectors.review_keywords(store=campaign.store, start=start, end=now),
    }


def campaign_postmortem_generate(
    *, actor: Actor, campaign: Campaign, conclusions: str = ""
) -> CampaignPostmortem:
    """Generate (or regenerate) the post-mortem of a campaign that has ended."""
    today = timezone.localdate()
    if campaign.status not in (State.ACTIVE, State.ENDED) or (
        campaign.status == State.ACTIVE and campaign.ends_on >= today
    ):
        raise InvalidTransition(_("活动结束后才能生成复盘报告"))
    report = postmortem_figures(campaign)
    with transaction.atomic():
        row, created = CampaignPostmortem.objects.update_or_create(
            campaign=campaign,
            defaults={"report": report, "generated_at": timezone.now(), "conclusions": conclusions},
        )
        audit_record(
            actor=actor,
            action="campaign.postmortem_generate" if created else "campaign.postmortem_regenerate",
            obj=row,
            store_id=campaign.store_id,
            after=report,
        )
    return row


# ---- ADS ------------------------------------------------------------------------------------
def _ad_plan_clean(  # noqa: PLR0912  (one validation pass over the plan)
    *,
    store: Store,
    name: str,
    purpose: str,
    match_type: str,
    category: str,
    daily_budget: Decimal | str,
    audience_premium: Decimal | str,
    channel: Channel | None,
    peak_start: dt.time | None,
    peak_end: dt.time | None,
    peak_uplift: Decimal | str | None,
    plan: AdPlan | None = None,
) -> dict[str, Any]:
    errors: dict[str, str] = {}
    others = AdPlan.objects.filter(store=store, name=name.strip())
    if plan is not None:
        others = others.exclude(pk=plan.pk)
    if not name.strip():
        errors["name"] = _("必填")
    elif others.exists():
        errors["name"] = _("计划名称已存在")
    if purpose not in AdPurpose.values:
        errors["purpose"] = _("未知的计划用途")
    if match_type not in MatchType.values:
        errors["match_type"] = _("未知的匹配方式")
    elif purpose == AdPurpose.TRAFFIC and match_type != MatchType.BROAD:
        errors["match_type"] = _("引流款计划使用广泛匹配")
    elif purpose == AdPurpose.PROFIT and match_type != MatchType.EXACT:
        errors["match_type"] = _("利润款计划使用精准匹配")
    if channel is not None and channel.store_id != store.pk:
        errors["channel"] = _("渠道不属于该店铺")
    budget = _decimal(daily_budget, "daily_budget", errors)
    premium = _decimal(audience_premium, "audience_premium", errors, high=Decimal(10))
    uplift = None
    if peak_uplift is not None or peak_start is not None or peak_end is not None:
        if peak_uplift is None or peak_start is None or peak_end is None:
            errors["peak_uplift"] = _("高峰时段需同时填写开始、结束时间和加价比例")
        elif peak_start == peak_end:
            errors["peak_end"] = _("高峰结束时间不能与开始时间相同")
        else:
            uplift = _decimal(peak_uplift, "peak_uplift", errors)
            pb = playbook_get(store=store, channel=channel)
            try:
                rules.peak_uplift_validate(
                    uplift, low=pb.ads_peak_bid_uplift_min, high=pb.ads_peak_bid_uplift_max
                )
            except rules.UpliftOutOfRange:
                errors["peak_uplift"] = _("高峰加价须在 %(low)s%% 到 %(high)s%% 之间（运营手册 ADS-03）") % {
                    "low": pb.ads_peak_bid_uplift_min * 100,
                    "high": pb.ads_peak_bid_uplift_max * 100,
                }
    if errors:
        raise ValidationError(_("推广计划有误，未保存"), fields=errors)
    return {
        "channel": channel,
        "name": name.strip(),
        "purpose": purpose,
        "match_type": match_type,
        "category": category.strip(),
        "daily_budget": budget,
        "audience_premium": premium,
        "peak_start": peak_start if uplift is not None else None,
        "peak_end": peak_end if uplift is not None else None,
        "peak_uplift": uplift,
    }


def ad_plan_create(
    *,
    actor: Actor,
    store: Store,
    name: str,
    purpose: str,
    match_type: str,
    category: str = "",
    daily_budget: Decimal | str = "0",
    audience_premium: Decimal | str = "0",
    channel: Channel | None = None,
    peak_start: dt.time | None = None,
    peak_end: dt.time | None = None,
    peak_uplift: Decimal | str | None = None,
) -> AdPlan:
    """An ad plan (ADS-01): traffic plans match broadly, profit plans exactly; the optional
    peak-hour schedule raises every bid by an uplift within the playbook's range (ADS-03)."""
    data = _ad_plan_clean(
        store=store,
        name=name,
        purpose=purpose,
        match_type=match_type,
        category=category,
        daily_budget=daily_budget,
        audience_premium=audience_premium,
        channel=channel,
        peak_start=peak_start,
        peak_end=peak_end,
        peak_uplift=peak_uplift,
    )
    with transaction.atomic():
        plan = AdPlan.objects.create(store=store, **data)
        audit_record(actor=actor, action="ad_plan.create", obj=plan, store_id=store.pk, after=snapshot(plan))
    return plan


def ad_plan_update(
    *,
    actor: Actor,
    plan: AdPlan,
    name: str,
    purpose: str,
    match_type: str,
    category: str = "",
    daily_budget: Decimal | str = "0",
    audience_premium: Decimal | str = "0",
    channel: Channel | None = None,
    peak_start: dt.time | None = None,
    peak_end: dt.time | None = None,
    peak_uplift: Decimal | str | None = None,
    is_active: bool = True,
) -> AdPlan:
    """Change an ad plan as a whole (same rules as :func:`ad_plan_create`), or pause it."""
    data = _ad_plan_clean(
        store=plan.store,
        name=name,
        purpose=purpose,
        match_type=match_type,
        category=category,
        daily_budget=daily_budget,
        audience_premium=audience_premium,
        channel=channel,
        peak_start=peak_start,
        peak_end=peak_end,
        peak_uplift=peak_uplift,
        plan=plan,
    )
    with transaction.atomic():
        locked = AdPlan.objects.select_for_update().get(pk=plan.pk)
        before = snapshot(locked)
        for field, value in {**data, "is_active": bool(is_active)}.items():
            setattr(locked, field, value)
        locked.save()
        audit_record(
            actor=actor,
            action="ad_plan.update",
            obj=locked,
            store_id=locked.store_id,
            before=before,
            after=snapshot(locked),
        )
    return locked


def ad_keyword_set(
    *,
    actor: Actor,
    plan: AdPlan,
    keyword: str,
    bid: Decimal | str,
    rank: int | None = None,
    is_core: bool = False,
) -> AdKeyword:
    """Add a keyword to a plan, or change its bid, rank and core flag."""
    errors: dict[str, str] = {}
    if not keyword.strip():
        errors["keyword"] = _("必填")
    amount = _decimal(bid, "bid", errors)
    if rank is not None and rank < 1:
        errors["rank"] = _("排名须为正整数")
    if errors:
        raise ValidationError(_("关键词有误，未保存"), fields=errors)
    with transaction.atomic():
        row = AdKeyword.objects.select_for_update().filter(plan=plan, keyword=keyword.strip()).first()
        before = snapshot(row) if row else None
        if row is None:
            row = AdKeyword(plan=plan, keyword=keyword.strip())
        row.bid, row.rank, row.is_core = amount, rank, is_core
        row.save()
        audit_record(
            actor=actor,
            action="ad_keyword.set",
            obj=row,
            store_id=plan.store_id,
            before=before,
            after=snapshot(row),
        )
    return row


def ad_keyword_delete(*, actor: Actor, keyword: AdKeyword) -> None:
    """Remove a keyword from its plan (ADS-02: drop words that waste spend). Its imported
    daily stats go with it; the audit entry keeps the keyword, its bid and the stats count."""
    with transaction.atomic():
        locked = AdKeyword.objects.select_for_update().filter(pk=keyword.pk).first()
        if locked is None:  # deleted meanwhile
            raise NotFound(_("关键词不存在"))
        before = {**snapshot(locked), "stats_days": locked.stats.count()}
        pk, store_id, text = locked.pk, keyword.plan.store_id, locked.keyword
        locked.delete()
        audit_record(
            actor=actor,
            action="ad_keyword.delete",
            object_type="marketing.adkeyword",
            object_id=pk,
            object_repr=text,
            store_id=store_id,
            before=before,
            after={},
        )


# Column names of ad-platform exports, Chinese or English → our field.
CSV_HEADERS: dict[str, str] = {
    "日期": "day",
    "date": "day",
    "关键词": "keyword",
    "keyword": "keyword",
    "花费": "spend",
    "消耗": "spend",
    "spend": "spend",
    "cost": "spend",
    "展现量": "impressions",
    "展现": "impressions",
    "impressions": "impressions",
    "点击量": "clicks",
    "点击": "clicks",
    "clicks": "clicks",
    "成交笔数": "conversions",
    "转化数": "conversions",
    "conversions": "conversions",
    "成交金额": "ad_sales",
    "ad sales": "ad_sales",
    "ad_sales": "ad_sales",
    "sales": "ad_sales",
}
_REQUIRED_COLUMNS = ("day", "keyword", "spend", "impressions", "clicks", "conversions", "ad_sales")


def ad_stats_import_csv(*, actor: Actor, plan: AdPlan, text: str) -> int:
    """Import daily keyword stats from an ad-platform CSV export (Chinese or English headers).

    Rows are keyed by (keyword, day): importing the same file twice changes nothing. Unknown
    keywords or bad values refuse the whole file, with the row numbers.
    """
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader, None)
    if not header:
        raise ValidationError(_("文件为空"), fields={"file": _("文件为空")})
    columns = [CSV_HEADERS.get(h.strip().lower(), CSV_HEADERS.get(h.strip(), "")) for h in header]
    missing = [c for c in _REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise ValidationError(
            _("缺少列：%(cols)s") % {"cols": ", ".join(missing)}, fields={"file": ", ".join(missing)}
        )
    keywords = {k.keyword: k for k in AdKeyword.objects.filter(plan=plan)}
    errors: dict[str, str] = {}
    rows: list[dict[str, Any]] = []
    for line_no, raw in enumerate(reader, start=2):
        if not any(cell.strip() for cell in raw):
            continue
        data = {col: cell.strip() for col, cell in zip(columns, raw, strict=False) if col}
        kw = keywords.get(data.get("keyword", ""))
        if kw is None:
            errors[f"row{line_no}.keyword"] = _("计划中没有该关键词")
            continue
        try:
            day = dt.date.fromisoformat(data.get("day", "").replace("/", "-"))
        except ValueError:
            errors[f"row{line_no}.day"] = _("日期格式应为 YYYY-MM-DD")
            continue
        values: dict[str, Any] = {"keyword": kw, "day": day}
        for name in ("impressions", "clicks", "conversions"):
            try:
                values[name] = int(data.get(name, "0").replace(",", "") or 0)
                if values[name] < 0:
                    raise ValueError
            except ValueError:
                errors[f"row{line_no}.{name}"] = _("须为非负整数")
        for name in ("spend", "ad_sales"):
            values[name] = _decimal(
                data.get(name, "0").replace(",", "") or "0", f"row{line_no}.{name}", errors
            )
        rows.append(values)
    if errors:
        raise ValidationError(_("导入文件有误，未导入"), fields=errors)
    with transaction.atomic():
        for values in rows:
            AdKeywordDailyStat.objects.update_or_create(
                keyword=values["keyword"],
                day=values["day"],
                defaults={k: v for k, v in values.items() if k not in ("keyword", "day")},
            )
        audit_record(
            actor=actor, action="ad_stats.import", obj=plan, store_id=plan.store_id, after={"rows": len(rows)}
        )
    return len(rows)


def industry_cpc_record(
    *,
    actor: Actor,
    store: Store,
    average_cpc: Decimal | str,
    keyword: str = "",
    category: str = "",
    as_of: dt.date | None = None,
) -> IndustryCpcBenchmark:
    errors: dict[str, str] = {}
    if not keyword.strip() and not category.strip():
        errors["keyword"] = _("请填写关键词或类目")
    amount = _decimal(average_cpc, "average_cpc", errors)
    if amount <= 0:
        errors["average_cpc"] = _("须大于 0")
    if errors:
        raise ValidationError(_("行业基准有误，未保存"), fields=errors)
    with transaction.atomic():
        row = IndustryCpcBenchmark.objects.create(
            store=store,
            keyword=keyword.strip(),
            category=category.strip(),
            average_cpc=amount,
            as_of=as_of or timezone.localdate(),
        )
        audit_record(
            actor=actor, action="industry_cpc.record", obj=row, store_id=store.pk, after=snapshot(row)
        )
    return row


def ad_bid_at(*, keyword: AdKeyword, at: dt.time) -> Money:
    """The bid for ``keyword`` at time ``at`` under its plan's peak-hour schedule (ADS-03)."""
    plan = keyword.plan
    return rules.bid_at(Money(keyword.bid, plan.store.currency), at, selectors.ad_peak_schedule(plan))
