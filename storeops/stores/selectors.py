"""Reads for stores, channels, qualifications and playbooks."""

from __future__ import annotations

import datetime as dt

from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from storeops.core.errors import ValidationError
from storeops.core.queries import get_or_not_found
from storeops.stores import playbook as pb
from storeops.stores.models import (
    Channel,
    ChannelKind,
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


def launch_targets_between(*, store: Store, start: dt.date, end: dt.date) -> list[dict[str, object]]:
    """STORE-07 launch targets of live channels whose month after go-live overlaps
    ``[start, end)``: channel, month, metric, target and the recorded actual (DATA-06 reviews)."""
    import calendar

    from storeops.stores.models import KpiMetric, LaunchTarget

    def add_months(day: dt.date, months: int) -> dt.date:
        index = day.month - 1 + months
        year, month = day.year + index // 12, index % 12 + 1
        return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))

    out: list[dict[str, object]] = []
    rows = (
        LaunchTarget.objects.filter(plan__store=store, plan__went_live_on__isnull=False)
        .select_related("plan__channel")
        .order_by("plan__channel__name", "month", "metric")
    )
    for t in rows:
        live = t.plan.went_live_on
        assert live is not None
        month_start, month_end = add_months(live, t.month - 1), add_months(live, t.month)
        if month_start < end and month_end > start:
            out.append(
                {
                    "channel": t.plan.channel.name,
                    "month": t.month,
                    "metric": t.metric,
                    "metric_label": str(KpiMetric(t.metric).label),
                    "from": month_start,
                    "to": month_end,
                    "target": t.target,
                    "actual": t.actual,
                }
            )
    return out
