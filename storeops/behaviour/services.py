"""Writes of the behaviour app: importing event files (CLI), accepting event batches (API),
recording what a traffic source cost on a day. Each is audited.

Policy for files and batches: **all or nothing**. Every row is validated first; when any row
is bad nothing is written, and the attempt is recorded as a *failed* import with the count
of bad rows, a summary by reason and the first rows in full. A file (by its SHA-256) or a
batch id that was imported already is refused (409), so a retry cannot double the data.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from storeops.audit.services import audit_record
from storeops.behaviour import ingest, rules
from storeops.behaviour.models import (
    BehaviourImport,
    Event,
    ImportKind,
    ImportStatus,
    SourceCost,
    TrafficSource,
)
from storeops.catalog import selectors as catalog_selectors
from storeops.core.context import Actor
from storeops.core.errors import Conflict, ValidationError
from storeops.core.text import clean_text
from storeops.stores.models import Channel, Store
from storeops.stores.selectors import playbook_get

BATCH_SIZE = 2000  # rows per INSERT batch (bulk_create); also the progress granularity
MAX_API_EVENTS = 1000  # events per API batch: larger uploads go through the file import

Progress = Callable[[str, int, int], None]  # (phase, done, total)


def _already(store: Store, fingerprint: str) -> BehaviourImport | None:
    return BehaviourImport.objects.filter(
        store=store, fingerprint=fingerprint, status=ImportStatus.IMPORTED
    ).first()


def _failed(
    *,
    actor: Actor,
    store: Store,
    channel: Channel | None,
    kind: str,
    name: str,
    fmt: str,
    fingerprint: str,
    parsed: ingest.Parsed,
    started: float,
) -> BehaviourImport:
    with transaction.atomic():
        run = BehaviourImport.objects.create(
            store=store,
            channel=channel,
            kind=kind,
            file_name=name[:200],
            file_format=fmt,
            fingerprint=fingerprint,
            status=ImportStatus.FAILED,
            rows=parsed.rows,
            bad_rows=parsed.bad_rows,
            errors=[e.as_dict() for e in parsed.errors],
            error_summary=dict(parsed.summary.most_common(50)),
            seconds=Decimal(f"{time.monotonic() - started:.2f}"),
            created_by=actor.label[:150],
        )
        audit_record(
            actor=actor,
            action="behaviour.import_failed",
            obj=run,
            store_id=store.pk,
            after={"rows": parsed.rows, "bad_rows": parsed.bad_rows},
        )
    return run


def _carry(store: Store, events: Sequence[ingest.ParsedEvent], gap: int) -> dict[str, tuple[int, str]]:
    """Per visitor of ``events``, the latest stored event that a new event could continue:
    (unix time, session id). One cheap EXISTS when nothing stored is recent enough."""
    if not events:
        return {}
    since = dt.datetime.fromtimestamp(min(e.ts for e in events) - gap, tz=dt.UTC)
    recent = Event.objects.filter(store=store, occurred_at__gte=since)
    if not recent.exists():
        return {}
    carry: dict[str, tuple[int, str]] = {}
    visitors = sorted({e.visitor_id for e in events})
    for start in range(0, len(visitors), 500):
        rows = (
            recent.filter(visitor_id__in=visitors[start : start + 500])
            .order_by("occurred_at", "id")
            .values_list("visitor_id", "occurred_at", "session_id")
        )
        for visitor, at, session in rows:
            carry[visitor] = (int(at.timestamp()), session)
    return carry


def _write(
    *,
    run: BehaviourImport,
    store: Store,
    channel: Channel | None,
    events: list[ingest.ParsedEvent],
    progress: Progress | None,
) -> None:
    """Sessionise ``events`` (time order), link them to the catalogue, insert in batches and
    fill the run's counts. Inside the caller's transaction."""
    gap = playbook_get(store=store, channel=channel).behaviour_session_gap_minutes * 60
    events.sort(key=lambda e: e.ts)  # stable: a file's order is kept within one second
    sessions = rules.Sessioniser(gap, _carry(store, events, gap))
    links = catalog_selectors.catalog_links_by_code(
        store=store, codes=[e.item_id for e in events if e.item_id]
    )
    linked = 0
    total = len(events)
    utc = dt.UTC
    from_ts = dt.datetime.fromtimestamp
    for start in range(0, total, BATCH_SIZE):
        objs = []
        for e in events[start : start + BATCH_SIZE]:
            product_id, sku_id = links.get(e.item_id, (None, None)) if e.item_id else (None, None)
            linked += product_id is not None
            objs.append(
                Event(
                    store_id=store.pk,
                    channel_id=channel.pk if channel else None,
                    batch_id=run.pk,
                    visitor_id=e.visitor_id,
                    customer_ref=e.customer_ref,
                    session_id=sessions.session_for(e.visitor_id, e.ts),
                    kind=e.kind,
                    page_type=e.page_type,
                    step=rules.step_of(e.kind, e.page_type),
                    item_id=e.item_id,
                    category_id=e.category_id,
                    product_id=product_id,
                    sku_id=sku_id,
                    source=e.source,
                    occurred_at=from_ts(e.ts, tz=utc),
                    dwell_seconds=e.dwell_seconds,
                    order_ref=e.order_ref,
                    amount=e.amount,
                )
            )
        Event.objects.bulk_create(objs, batch_size=BATCH_SIZE)
        if progress is not None:
            progress("write", min(start + BATCH_SIZE, total), total)
    run.imported = total
    run.sessions = sessions.new_sessions
    run.linked = linked
    if events:
        run.first_at = from_ts(events[0].ts, tz=utc)
        run.last_at = from_ts(events[-1].ts, tz=utc)


def events_import(
    *,
    actor: Actor,
    store: Store,
    path: Path,
    fmt: str = "taobao",
    channel: Channel | None = None,
    source: str = "",
    progress: Progress | None = None,
) -> BehaviourImport:
    """Import one CSV / CSV.gz file of events (see :mod:`storeops.behaviour.ingest` for the
    layouts and the Taobao mapping). Returns the import record: ``imported`` with every row
    written, or ``failed`` with nothing written and the bad rows listed."""
    if fmt not in ingest.FORMATS:
        raise ValidationError(_("格式无效"), fields={"format": _("只能是 taobao 或 generic")})
    if source and source not in TrafficSource.values:
        raise ValidationError(_("流量来源无效"), fields={"source": "、".join(TrafficSource.values)})
    if channel is not None and channel.store_id != store.pk:
        raise ValidationError(_("渠道不属于该店铺"), fields={"channel": _("渠道不属于该店铺")})
    started = time.monotonic()
    fingerprint = ingest.file_fingerprint(path)
    done = _already(store, fingerprint)
    if done is not None:
        raise Conflict(
            _("该文件已于 %(at)s 导入过（导入记录 %(id)s），未重复导入")
            % {"at": f"{done.created_at:%Y-%m-%d %H:%M}", "id": done.pk},
            code="already_imported",
        )
    parsed = ingest.parse_file(
        path, fmt=fmt, source=source, progress=(lambda n: progress("read", n, 0)) if progress else None
    )
    common = {"store": store, "channel": channel, "kind": ImportKind.FILE, "name": path.name, "fmt": fmt}
    if parsed.bad_rows:
        return _failed(actor=actor, fingerprint=fingerprint, parsed=parsed, started=started, **common)
    try:
        with transaction.atomic():
            run = BehaviourImport.objects.create(
                store=store,
                channel=channel,
                kind=ImportKind.FILE,
                file_name=path.name[:200],
                file_format=fmt,
                fingerprint=fingerprint,
                status=ImportStatus.IMPORTED,
                rows=parsed.rows,
                created_by=actor.label[:150],
            )
            _write(run=run, store=store, channel=channel, events=parsed.events, progress=progress)
            run.seconds = Decimal(f"{time.monotonic() - started:.2f}")
            run.save()
            audit_record(
                actor=actor,
                action="behaviour.import",
                obj=run,
                store_id=store.pk,
                after={
                    "file": run.file_name,
                    "format": fmt,
                    "events": run.imported,
                    "sessions": run.sessions,
                },
            )
    except IntegrityError as exc:  # the same file imported concurrently
        raise Conflict(_("该文件正在或已经导入"), code="already_imported") from exc
    return run


def events_post(
    *,
    actor: Actor,
    store: Store,
    events: Sequence[dict[str, Any]],
    channel: Channel | None = None,
    batch_id: str = "",
) -> BehaviourImport:
    """Accept one batch of events from the own web shop (API). All or nothing: any invalid
    event refuses the batch (422, per-event messages) and nothing is stored. ``batch_id``
    (optional, unique per store) makes a retry safe: a batch id accepted before is refused
    with 409 ``already_imported``."""
    if not events:
        raise ValidationError(_("没有事件"), fields={"events": _("至少需要一个事件")})
    if len(events) > MAX_API_EVENTS:
        raise ValidationError(
            _("一批最多 %(n)s 个事件，更多请用文件导入") % {"n": MAX_API_EVENTS},
            fields={"events": _("共 %(n)s 个") % {"n": len(events)}},
        )
    if channel is not None and channel.store_id != store.pk:
        raise ValidationError(_("渠道不属于该店铺"), fields={"channel_id": _("渠道不属于该店铺")})
    batch_id = clean_text(batch_id, "batch_id", limit=70, required=False)
    fingerprint = f"api:{batch_id}" if batch_id else ""
    if fingerprint and _already(store, fingerprint) is not None:
        raise Conflict(_("该批次已上报过，未重复写入"), code="already_imported")
    limit = ingest._now_limit()
    parsed = ingest.Parsed()
    for position, values in enumerate(events, start=1):
        parsed.rows += 1
        event, errors = ingest.validate_event(values, position, limit=limit)
        if event is None:
            parsed.reject(errors)
        else:
            parsed.events.append(event)
    if parsed.bad_rows:
        raise ValidationError(
            _("%(n)s 个事件有误，整批未写入") % {"n": parsed.bad_rows},
            fields={f"events[{e.line}].{e.field}": e.message for e in parsed.errors[:50]},
        )
    started = time.monotonic()
    try:
        with transaction.atomic():
            run = BehaviourImport.objects.create(
                store=store,
                channel=channel,
                kind=ImportKind.API,
                file_name=batch_id or "-",
                file_format="api",
                fingerprint=fingerprint or f"api-anon:{time.time_ns()}",
                status=ImportStatus.IMPORTED,
                rows=parsed.rows,
                created_by=actor.label[:150],
            )
            _write(run=run, store=store, channel=channel, events=parsed.events, progress=None)
            run.seconds = Decimal(f"{time.monotonic() - started:.2f}")
            run.save()
            audit_record(
                actor=actor,
                action="behaviour.events_post",
                obj=run,
                store_id=store.pk,
                after={"batch": batch_id, "events": run.imported},
            )
    except IntegrityError as exc:
        raise Conflict(_("该批次已上报过，未重复写入"), code="already_imported") from exc
    return run


def source_cost_set(
    *,
    actor: Actor,
    store: Store,
    source: str,
    day: dt.date,
    amount: Decimal | str,
    channel: Channel | None = None,
    note: str = "",
) -> SourceCost:
    """Record what ``source`` cost on ``day`` (replacing the figure recorded before). The
    paid source's ad-plan spend comes from marketing's daily stats; record here only what
    those do not hold (e.g. affiliate commissions), or it is counted twice."""
    errors: dict[str, str] = {}
    if source not in TrafficSource.values:
        errors["source"] = _("只能是 %(v)s") % {"v": "、".join(TrafficSource.values)}
    try:
        value = Decimal(str(amount))
    except ArithmeticError:
        value = Decimal(-1)
    if not value.is_finite() or value < 0 or value >= 10**12 or value != value.quantize(Decimal("0.01")):
        errors["amount"] = _("须为不小于 0、最多两位小数的金额")
    if channel is not None and channel.store_id != store.pk:
        errors["channel_id"] = _("渠道不属于该店铺")
    if errors:
        raise ValidationError(_("花费记录有误"), fields=errors)
    note = clean_text(note, "note", limit=200, required=False)
    with transaction.atomic():
        row = (
            SourceCost.objects.select_for_update()
            .filter(store=store, channel=channel, source=source, day=day)
            .first()
        )
        before = None if row is None else {"amount": str(row.amount), "note": row.note}
        if row is None:
            row = SourceCost(store=store, channel=channel, source=source, day=day)
        row.amount, row.note, row.updated_by = value, note, actor.label[:150]
        row.save()
        audit_record(
            actor=actor,
            action="behaviour.source_cost_set",
            obj=row,
            store_id=store.pk,
            before=before,
            after={"amount": str(value), "note": note, "source": source, "day": day.isoformat()},
        )
    return row
