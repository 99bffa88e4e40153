"""Reads for stores, channels, qualifications and playbooks."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from storeops.core.errors import ValidationError
from storeops.core.queries import get_or_not_found
from storeops.stores import playbook as pb
from storeops.stores.models import (
    Channel,
    ChannelKind,
    KpiMetric,
    LaunchPlan,
    LaunchStep,
    PlatformRuleChange,
    Playbook,
    Qualification,
    RuleChangeStatus,
    Store,
)


def store_list(*, active_only: bool = True) -> QuerySet[Store]:
    qs = Store.objects.all()
    return qs.filter(is_active=True) if active_only else qs


def channel_list(*, store: Store | None = None, active_only: bool = False) -> QuerySet[Channel]:
    qs = Channel.objects.select_related("store")
    if store is not None:
        qs = qs.filter(store=store)
    return qs.filter(is_active=True) if active_only else qs


def playbook_layers(*, store: Store, channel: Channel | None = None) -> tuple[dict, dict]:
    return _layers(store.pk, channel.pk if channel is not None else None)


def _layers(store_id: int, channel_id: int | None) -> tuple[dict, dict]:
    wanted = (
        Q(channel__isnull=True) | Q(channel_id=channel_id)
        if channel_id is not None
        else Q(channel__isnull=True)
    )
    rows = dict(Playbook.objects.filter(wanted, store_id=store_id).values_list("channel_id", "values"))
    store_values = rows.get(None, {})
    channel_values = rows.get(channel_id, {}) if channel_id is not None else {}
    return store_values, channel_values


def playbooks_by_channel(*, store_id: int) -> dict[int | None, pb.PlaybookSettings]:
    """The effective playbook of the store (key ``None``) and of each of its channels that
    overrides something (key: the channel's id), all from one query. A channel without a key
    follows the store's: look up with ``books.get(channel_id) or books[None]``."""
    rows = dict(Playbook.objects.filter(store_id=store_id).values_list("channel_id", "values"))
    store_values = rows.pop(None, {})
    books: dict[int | None, pb.PlaybookSettings] = {None: pb.resolve(store_values)}
    for channel_id, channel_values in rows.items():
        if channel_values:
            books[channel_id] = pb.resolve(store_values, channel_values)
    return books


def playbook_get(*, store: Store, channel: Channel | None = None) -> pb.PlaybookSettings:
    """The effective playbook: defaults ← store overrides ← channel overrides."""
    store_values, channel_values = playbook_layers(store=store, channel=channel)
    return pb.resolve(store_values, channel_values)


def playbook_get_by_id(*, store_id: int, channel_id: int | None = None) -> pb.PlaybookSettings:
    """:func:`playbook_get` when only the ids are at hand (no store or channel row needed).
    Read from the database on every call: nothing is cached, so a change applies at once."""
    return pb.resolve(*_layers(store_id, channel_id))


def qualification_list(*, store: Store) -> QuerySet[Qualification]:
    """Soonest to expire first; documents valid for good last (on every database), then by id
    (a stable order to page through)."""
    return Qualification.objects.filter(store=store).order_by(F("valid_to").asc(nulls_last=True), "pk")


def qualifications_expiring(*, store: Store, today: dt.date, warn_days: int) -> QuerySet[Qualification]:
    """Qualifications that expire within ``warn_days`` from ``today`` or have expired."""
    return Qualification.objects.filter(
        store=store, valid_to__isnull=False, valid_to__lte=today + dt.timedelta(days=warn_days)
    )


def qualification_kinds_valid(*, store: Store, day: dt.date) -> set[str]:
    """The qualification kinds the store holds a valid document for on ``day`` (STORE-02/03)."""
    return set(
        Qualification.objects.filter(store=store, valid_from__lte=day)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=day))
        .values_list("kind", flat=True)
    )


def channel_get(*, store: Store, channel_id: int) -> Channel:
    return get_or_not_found(Channel.objects.all(), gettext_lazy("渠道不存在"), store=store, pk=channel_id)


def store_get(*, store_id: int) -> Store | None:
    return Store.objects.filter(pk=store_id).first()


PLATFORM_CHOICES = ChannelKind.choices
RULE_CHANGE_STATUS_CHOICES = RuleChangeStatus.choices


def rule_changes(
    *, store: Store, status: str = "", platform: str = "", q: str = ""
) -> QuerySet[PlatformRuleChange]:
    """Platform rule changes of ``store``, newest first. ``status``: a status, or ``open``
    (new or adjusting)."""
    qs = PlatformRuleChange.objects.filter(store=store)
    if status == "open":
        qs = qs.filter(status__in=(RuleChangeStatus.NEW, RuleChangeStatus.ADJUSTING))
    elif status:
        if status not in RuleChangeStatus.values:
            raise ValidationError(_("状态筛选无效"), fields={"status": _("未知的状态")})
        qs = qs.filter(status=status)
    if platform:
        if platform not in ChannelKind.values:
            raise ValidationError(_("平台筛选无效"), fields={"platform": _("未知的平台")})
        qs = qs.filter(platform=platform)
    if q.strip():
        qs = qs.filter(Q(title__icontains=q.strip()) | Q(summary__icontains=q.strip()))
    return qs.order_by("-announced_at", "-id")


def rule_change_get(*, store: Store, change_id: int) -> PlatformRuleChange:
    return get_or_not_found(
        PlatformRuleChange.objects.all(), gettext_lazy("规则变更不存在"), store=store, pk=change_id
    )


def rule_changes_open(*, store: Store) -> QuerySet[PlatformRuleChange]:
    return PlatformRuleChange.objects.filter(
        store=store, status__in=(RuleChangeStatus.NEW, RuleChangeStatus.ADJUSTING)
    ).order_by("announced_at", "id")


# --- launch plans (STORE-07) ---------------------------------------------------------------------

LAUNCH_STATUS_CHOICES = LaunchPlan.Status.choices
LAUNCH_METRICS = KpiMetric.values  # the order of a month's targets: GMV, new users, conversion
LAUNCH_METRIC_LABELS = dict(KpiMetric.choices)
FULL_CHAIN_STEPS = (
    LaunchStep.TEST_REGISTER,
    LaunchStep.TEST_BROWSE,
    LaunchStep.TEST_ORDER,
    LaunchStep.TEST_PAY,
    LaunchStep.TEST_AFTERSALES,
)


def launch_plans(*, store: Store, status: str = "") -> QuerySet[LaunchPlan]:
    """The store's launch plans with their channel, checklist and targets: the ones still
    being prepared first, then the latest to go live; ``status`` one of the plan statuses."""
    qs = LaunchPlan.objects.filter(store=store)
    if status:
        if status not in LaunchPlan.Status.values:
            raise ValidationError(_("状态筛选无效"), fields={"status": _("未知的状态")})
        qs = qs.filter(status=status)
    return (
        qs.select_related("channel")
        .prefetch_related("items", "targets")
        .order_by("-status", F("went_live_on").desc(nulls_first=True), "planned_go_live", "pk")
    )


def launch_plan_get(*, store: Store, plan_id: int) -> LaunchPlan:
    return get_or_not_found(
        LaunchPlan.objects.select_related("channel", "store").prefetch_related("items", "targets"),
        gettext_lazy("上线计划不存在"),
        store=store,
        pk=plan_id,
    )


def launch_channels_without_plan(*, store: Store) -> QuerySet[Channel]:
    """The store's channels a new launch plan may be made for (one plan per channel)."""
    return Channel.objects.filter(store=store, launch_plan__isnull=True).order_by("code")


@dataclass(frozen=True, slots=True)
class LaunchStepRow:
    step: str
    label: str
    full_chain: bool  # one of the full-chain test's steps (register → … → after-sales)
    done_at: dt.datetime | None
    done_by: str
    note: str


def launch_steps(plan: LaunchPlan) -> list[LaunchStepRow]:
    """The plan's checklist in the order of :class:`LaunchStep` with who ticked each, and when."""
    items = {i.step: i for i in plan.items.all()}
    rows = []
    for step in LaunchStep:
        item = items.get(step.value)
        rows.append(
            LaunchStepRow(
                step=step.value,
                label=str(step.label),
                full_chain=step in FULL_CHAIN_STEPS,
                done_at=item.done_at if item else None,
                done_by=item.done_by if item else "",
                note=item.note if item else "",
            )
        )
    return rows


def launch_kpi_months(plan: LaunchPlan) -> int:
    """The months the plan's targets cover: the channel's ``launch_kpi_months``, or more when
    targets were set for more months before the setting was lowered."""
    months = playbook_get_by_id(store_id=plan.store_id, channel_id=plan.channel_id).launch_kpi_months
    return max([months, *(t.month for t in plan.targets.all())])
