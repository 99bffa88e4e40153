from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Router, Schema, Status

from storeops.accounts.access import perm, principal
from storeops.analytics.selectors import launch_tracking
from storeops.core.api import OneOf, Page, paginate
from storeops.stores import playbook as pb
from storeops.stores import selectors, services
from storeops.stores.models import (
    Channel,
    ChannelKind,
    KpiMetric,
    LaunchPlan,
    LaunchStep,
    LaunchTarget,
    Qualification,
    QualificationKind,
    RuleChangeStatus,
    Store,
)

router = Router(tags=["stores"])


class StoreIn(Schema):
    code: str
    name: str
    legal_name: str = ""
    currency: str = "CNY"


class StoreOut(Schema):
    id: int
    code: str
    name: str
    legal_name: str
    currency: str
    is_active: bool


class ChannelIn(Schema):
    kind: Annotated[str, OneOf(ChannelKind)]
    code: str
    name: str
    external_shop_id: str = ""


class ChannelOut(Schema):
    id: int
    store_id: int
    kind: str
    code: str
    name: str
    is_active: bool
    launched_on: dt.date | None


class QualificationIn(Schema):
    kind: Annotated[str, OneOf(QualificationKind)]
    title: str
    issuer: str
    valid_from: dt.date
    valid_to: dt.date | None = None
    number: str = ""
    scope: str = ""


class QualificationPatch(Schema):
    title: str | None = None
    issuer: str | None = None
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    number: str | None = None
    scope: str | None = None


class QualificationOut(Schema):
    id: int
    store_id: int
    kind: str
    title: str
    number: str
    issuer: str
    scope: str
    valid_from: dt.date
    valid_to: dt.date | None


class PlaybookOut(Schema):
    store_overrides: dict[str, Any]
    channel_overrides: dict[str, Any]
    effective: dict[str, Any]


class PlaybookIn(Schema):
    values: dict[str, Any]
    replace: bool = False


class LaunchPlanIn(Schema):
    channel_id: int
    planned_go_live: dt.date
    market_research: str = ""


class LaunchTargetOut(Schema):
    id: int
    month: int
    metric: str
    target: Decimal
    actual: Decimal | None


class LaunchPlanPatch(Schema):
    planned_go_live: dt.date | None = None  # only before the plan goes live
    market_research: str | None = None


class LaunchPlanOut(Schema):
    id: int
    channel_id: int
    status: str
    planned_go_live: dt.date
    went_live_on: dt.date | None
    market_research: str
    open_steps: list[str]
    targets: list[LaunchTargetOut]

    @staticmethod
    def resolve_open_steps(obj: LaunchPlan) -> list[str]:
        return [i.step for i in obj.items.all() if i.done_at is None]

    @staticmethod
    def resolve_targets(obj: LaunchPlan) -> list[LaunchTarget]:
        return list(obj.targets.all())


class TargetIn(Schema):
    month: int
    metric: Annotated[str, OneOf(KpiMetric)]
    target: Decimal


class TargetsIn(Schema):
    targets: list[TargetIn]


class StepIn(Schema):
    step: Annotated[str, OneOf(LaunchStep)]
    note: str = ""


class ActualIn(Schema):
    actual: Decimal | None  # null: remove the typed actual (the measured one counts again)


class LaunchCellOut(Schema):
    metric: str
    target_id: int | None
    target: Decimal | None
    typed: Decimal | None  # typed in by hand: wins over the measured one
    computed: Decimal | None  # measured from the channel's orders and traffic
    actual: Decimal | None  # typed, else computed
    attainment: Decimal | None  # actual ÷ target
    missing: str  # why computed is null: not_live / not_started / no_visitors
    missed: bool  # an ended month below target by more than launch_target_miss_ratio


class LaunchMonthOut(Schema):
    month: int
    start: dt.date | None
    end: dt.date | None  # exclusive
    state: str  # not_live / future / current (measured to today) / ended
    gmv_paid: Decimal | None
    refunded: Decimal | None
    buyers: int | None
    new_buyers: int | None
    placed: int | None
    paid: int | None
    uv: int | None
    payment_conversion: Decimal | None
    new_members: int | None  # the whole store's
    cells: list[LaunchCellOut]


class LaunchTrackingOut(Schema):
    plan_id: int
    channel_id: int
    went_live_on: dt.date | None
    miss_ratio: Decimal
    months: list[LaunchMonthOut]


@router.get("/", response=Page[StoreOut], auth=perm("stores.view_store"))
def store_list(request: HttpRequest, page: int = 1, page_size: int = 50, q: str = "") -> dict[str, Any]:
    qs = selectors.store_list(active_only=False)
    if q:
        qs = qs.filter(name__icontains=q) | qs.filter(code__icontains=q)
    return paginate(qs.order_by("code"), page, page_size)


@router.post("/", response={201: StoreOut}, auth=perm("stores.add_store"))
def store_create(request: HttpRequest, payload: StoreIn) -> Status:
    return Status(201, services.store_create(actor=principal(request).actor, **payload.dict()))


@router.get("/{store_id}", response=StoreOut, auth=perm("stores.view_store"))
def store_detail(request: HttpRequest, store_id: int) -> Store:
    return get_object_or_404(Store, pk=store_id)


@router.get("/{store_id}/channels", response=list[ChannelOut], auth=perm("stores.view_channel"))
def channel_list(request: HttpRequest, store_id: int) -> list[Channel]:
    return list(selectors.channel_list(store=get_object_or_404(Store, pk=store_id)))


@router.post("/{store_id}/channels", response={201: ChannelOut}, auth=perm("stores.add_channel"))
def channel_create(request: HttpRequest, store_id: int, payload: ChannelIn) -> Status:
    store = get_object_or_404(Store, pk=store_id)
    return Status(201, services.channel_create(actor=principal(request).actor, store=store, **payload.dict()))


@router.get(
    "/{store_id}/qualifications", response=Page[QualificationOut], auth=perm("stores.view_qualification")
)
def qualification_list(
    request: HttpRequest, store_id: int, page: int = 1, page_size: int = 50
) -> dict[str, Any]:
    """Soonest to expire first, documents valid for good last (renewals leave the expired ones
    behind: every document ever held is on the list)."""
    return paginate(
        selectors.qualification_list(store=get_object_or_404(Store, pk=store_id)), page, page_size
    )


@router.post(
    "/{store_id}/qualifications", response={201: QualificationOut}, auth=perm("stores.add_qualification")
)
def qualification_create(request: HttpRequest, store_id: int, payload: QualificationIn) -> Status:
    store = get_object_or_404(Store, pk=store_id)
    return Status(
        201, services.qualification_create(actor=principal(request).actor, store=store, **payload.dict())
    )


@router.patch(
    "/{store_id}/qualifications/{qualification_id}",
    response=QualificationOut,
    auth=perm("stores.change_qualification"),
)
def qualification_update(
    request: HttpRequest, store_id: int, qualification_id: int, payload: QualificationPatch
) -> Qualification:
    q = get_object_or_404(Qualification, pk=qualification_id, store_id=store_id)
    return services.qualification_update(
        actor=principal(request).actor, qualification=q, **payload.dict(exclude_unset=True)
    )


def _playbook_out(store: Store, channel: Channel | None) -> dict[str, Any]:
    store_values, channel_values = selectors.playbook_layers(store=store, channel=channel)
    effective = pb.resolve(store_values, channel_values)
    return {
        "store_overrides": store_values,
        "channel_overrides": channel_values,
        "effective": effective.model_dump(mode="json"),
    }


@router.get("/{store_id}/playbook", response=PlaybookOut, auth=perm("stores.view_playbook"))
def playbook_get(request: HttpRequest, store_id: int, channel_id: int | None = None) -> dict[str, Any]:
    store = get_object_or_404(Store, pk=store_id)
    channel = get_object_or_404(Channel, pk=channel_id, store=store) if channel_id else None
    return _playbook_out(store, channel)


@router.patch("/{store_id}/playbook", response=PlaybookOut, auth=perm("stores.change_playbook"))
def playbook_update(
    request: HttpRequest, store_id: int, payload: PlaybookIn, channel_id: int | None = None
) -> dict[str, Any]:
    store = get_object_or_404(Store, pk=store_id)
    channel = get_object_or_404(Channel, pk=channel_id, store=store) if channel_id else None
    services.playbook_update(
        actor=principal(request).actor,
        store=store,
        channel=channel,
        values=payload.values,
        replace=payload.replace,
    )
    return _playbook_out(store, channel)


def _plan(store_id: int, plan_id: int) -> LaunchPlan:
    return get_object_or_404(
        LaunchPlan.objects.prefetch_related("items", "targets"), pk=plan_id, store_id=store_id
    )


@router.get("/{store_id}/launch-plans", response=list[LaunchPlanOut], auth=perm("stores.view_launchplan"))
def launch_plan_list(request: HttpRequest, store_id: int) -> list[LaunchPlan]:
    return list(LaunchPlan.objects.filter(store_id=store_id).prefetch_related("items", "targets"))


@router.post("/{store_id}/launch-plans", response={201: LaunchPlanOut}, auth=perm("stores.add_launchplan"))
def launch_plan_create(request: HttpRequest, store_id: int, payload: LaunchPlanIn) -> Status:
    channel = get_object_or_404(Channel, pk=payload.channel_id, store_id=store_id)
    plan = services.launch_plan_create(
        actor=principal(request).actor,
        channel=channel,
        planned_go_live=payload.planned_go_live,
        market_research=payload.market_research,
    )
    return Status(201, _plan(store_id, plan.pk))


@router.patch(
    "/{store_id}/launch-plans/{plan_id}", response=LaunchPlanOut, auth=perm("stores.change_launchplan")
)
def launch_plan_update(
    request: HttpRequest, store_id: int, plan_id: int, payload: LaunchPlanPatch
) -> LaunchPlan:
    """Change the planned go-live date (before go-live) or the market research conclusions."""
    services.launch_plan_update(
        actor=principal(request).actor, plan=_plan(store_id, plan_id), **payload.dict(exclude_unset=True)
    )
    return _plan(store_id, plan_id)


@router.get(
    "/{store_id}/launch-plans/{plan_id}/tracking",
    response=LaunchTrackingOut,
    auth=perm("stores.view_launchplan"),
)
def launch_plan_tracking(request: HttpRequest, store_id: int, plan_id: int) -> dict[str, Any]:
    """Each month's targets against the actuals: typed in, else measured from the channel's
    orders (GMV paid less refunded, new buyers) and traffic (conversion = buyers ÷ visitors)."""
    plan = _plan(store_id, plan_id)
    tracking = launch_tracking(plan, today=timezone.localdate())
    months = []
    for m in tracking.months:
        sales = m.sales
        months.append(
            {
                "month": m.month,
                "start": m.start,
                "end": m.end,
                "state": m.state,
                "gmv_paid": sales.gmv if sales else None,
                "refunded": sales.refunded if sales else None,
                "buyers": sales.buyers if sales else None,
                "new_buyers": sales.new_buyers if sales else None,
                "placed": sales.placed if sales else None,
                "paid": sales.paid if sales else None,
                "uv": sales.uv if sales else None,
                "payment_conversion": sales.payment_conversion if sales else None,
                "new_members": m.new_members,
                "cells": [
                    {
                        "metric": c.metric,
                        "target_id": c.target_id,
                        "target": c.target,
                        "typed": c.typed,
                        "computed": c.computed,
                        "actual": c.actual,
                        "attainment": c.attainment,
                        "missing": c.missing,
                        "missed": c.missed(tracking.miss_ratio),
                    }
                    for c in m.cells
                ],
            }
        )
    return {
        "plan_id": plan.pk,
        "channel_id": plan.channel_id,
        "went_live_on": plan.went_live_on,
        "miss_ratio": tracking.miss_ratio,
        "months": months,
    }


@router.put(
    "/{store_id}/launch-plans/{plan_id}/targets",
    response=LaunchPlanOut,
    auth=perm("stores.change_launchplan"),
)
def launch_targets_set(request: HttpRequest, store_id: int, plan_id: int, payload: TargetsIn) -> LaunchPlan:
    plan = _plan(store_id, plan_id)
    months = selectors.playbook_get(store=plan.store, channel=plan.channel).launch_kpi_months
    services.launch_targets_set(
        actor=principal(request).actor,
        plan=plan,
        months=months,
        targets={(t.month, t.metric): t.target for t in payload.targets},
    )
    return _plan(store_id, plan_id)


@router.post(
    "/{store_id}/launch-plans/{plan_id}/steps", response=LaunchPlanOut, auth=perm("stores.change_launchplan")
)
def launch_step_complete(request: HttpRequest, store_id: int, plan_id: int, payload: StepIn) -> LaunchPlan:
    plan = _plan(store_id, plan_id)
    services.launch_step_complete(
        actor=principal(request).actor, plan=plan, step=payload.step, note=payload.note
    )
    return _plan(store_id, plan_id)


@router.post(
    "/{store_id}/launch-plans/{plan_id}/go-live",
    response=LaunchPlanOut,
    auth=perm("stores.change_launchplan"),
)
def launch_go_live(request: HttpRequest, store_id: int, plan_id: int) -> LaunchPlan:
    services.launch_go_live(
        actor=principal(request).actor, plan=_plan(store_id, plan_id), today=timezone.localdate()
    )
    return _plan(store_id, plan_id)


@router.put(
    "/{store_id}/launch-plans/{plan_id}/targets/{target_id}/actual",
    response=LaunchTargetOut,
    auth=perm("stores.change_launchplan"),
)
def launch_target_actual(
    request: HttpRequest, store_id: int, plan_id: int, target_id: int, payload: ActualIn
) -> Any:
    plan = _plan(store_id, plan_id)
    target = get_object_or_404(plan.targets, pk=target_id)
    return services.launch_target_record_actual(
        actor=principal(request).actor, target=target, actual=payload.actual
    )


# --- platform rule changes (RISK-03) ---------------------------------------------------------------


class RuleChangeIn(Schema):
    platform: Annotated[str, OneOf(ChannelKind)]  # the platform, as a channel kind
    title: str
    announced_at: dt.datetime  # when the store learned of it: the adjustment clock starts here
    summary: str = ""
    url: str = ""
    effective_on: dt.date | None = None


class AssessIn(Schema):
    applies: bool
    assessment: str


class CompleteIn(Schema):
    actions: str


class RuleChangeOut(Schema):
    id: int
    platform: str
    title: str
    summary: str
    url: str
    announced_at: dt.datetime
    effective_on: dt.date | None
    status: str
    assessment: str
    actions: str
    recorded_by: str
    assessed_by: str
    assessed_at: dt.datetime | None
    closed_by: str
    closed_at: dt.datetime | None


@router.get(
    "/{store_id}/rule-changes", response=Page[RuleChangeOut], auth=perm("stores.view_platformrulechange")
)
def rule_change_list(
    request: HttpRequest,
    store_id: int,
    status: Annotated[str, OneOf([*RuleChangeStatus.values, "open"], blank=True)] = "",
    platform: Annotated[str, OneOf(ChannelKind, blank=True)] = "",
    q: str = "",
    page: int = 1,
    page_size: int = 50,
) -> dict[str, Any]:
    """Platform rule changes, newest first; ``status`` a status or ``open`` (new + adjusting)."""
    store = get_object_or_404(Store, pk=store_id)
    return paginate(
        selectors.rule_changes(store=store, status=status, platform=platform, q=q), page, page_size
    )


@router.post(
    "/{store_id}/rule-changes",
    response={201: RuleChangeOut},
    auth=perm("stores.add_platformrulechange"),
)
def rule_change_record(request: HttpRequest, store_id: int, payload: RuleChangeIn) -> Any:
    """Record a rule change; it must be adjusted to within ``compliance_adjust_hours`` (RISK-03)."""
    store = get_object_or_404(Store, pk=store_id)
    change = services.rule_change_record(actor=principal(request).actor, store=store, **payload.dict())
    return Status(201, change)


@router.post(
    "/{store_id}/rule-changes/{change_id}/assess",
    response=RuleChangeOut,
    auth=perm("stores.change_platformrulechange"),
)
def rule_change_assess(request: HttpRequest, store_id: int, change_id: int, payload: AssessIn) -> Any:
    """It applies (→ adjusting) or not (→ not applicable, closed)."""
    change = selectors.rule_change_get(store=get_object_or_404(Store, pk=store_id), change_id=change_id)
    return services.rule_change_assess(
        actor=principal(request).actor, change=change, applies=payload.applies, assessment=payload.assessment
    )


@router.post(
    "/{store_id}/rule-changes/{change_id}/complete",
    response=RuleChangeOut,
    auth=perm("stores.change_platformrulechange"),
)
def rule_change_complete(request: HttpRequest, store_id: int, change_id: int, payload: CompleteIn) -> Any:
    """The adjustment is done: what was changed."""
    change = selectors.rule_change_get(store=get_object_or_404(Store, pk=store_id), change_id=change_id)
    return services.rule_change_complete(
        actor=principal(request).actor, change=change, actions=payload.actions
    )
