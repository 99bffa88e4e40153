"""Reads for stores, channels, qualifications and playbooks."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy

from storeops.core.queries import get_or_not_found
from storeops.stores import playbook as pb
from storeops.stores.models import Channel, Playbook, Qualification, Store


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


def playbook_get(*, store: Store, channel: Channel | None = None) -> pb.PlaybookSettings:
    """The effective playbook: defaults ← store overrides ← channel overrides."""
    store_values, channel_values = playbook_layers(store=store, channel=channel)
    return pb.resolve(store_values, channel_values)


def playbook_get_by_id(*, store_id: int, channel_id: int | None = None) -> pb.PlaybookSettings:
    """:func:`playbook_get` when only the ids are at hand (no store or channel row needed).
    Read from the database on every call: nothing is cached, so a change applies at once."""
    return pb.resolve(*_layers(store_id, channel_id))


def qualification_list(*, store: Store) -> QuerySet[Qualification]:
    return Qualification.objects.filter(store=store).order_by("valid_to")


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
