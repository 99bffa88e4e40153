"""Writes of analytics, each audited.

* A/B tests (DATA-07): create an experiment with its control and challenger, record their
  results, decide. Adopting needs the evidence the playbook asks for (significant at
  ``ab_significance`` and a conversion lift of at least ``ab_min_lift``); stopping a test
  (rejecting the challenger) needs only a note.
* MEM-04: the daily customer segment snapshot (the latest one copied onto the member rows
  for the high-value playbook), and a segment's coupon issued to its customers
  once per period (``promotions.services.coupon_issue_batch`` with a per-period issue key).
* DATA-06: generating an operations report (stored once per period), sending it to the
  operations team, and the hourly sweep of the reports that are due."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from storeops.analytics import reports, rules, segments, selectors
from storeops.analytics.models import (
    VARIANT_CODES,
    CustomerSnapshot,
    Experiment,
    ExperimentStatus,
    ExperimentSubject,
    ExperimentVariant,
    OperationsReport,
    ReportDelivery,
    ReportKindChoice,
    SegmentAction,
    SegmentChoice,
)
from storeops.audit.services import audit_record
from storeops.core.context import Actor
from storeops.core.errors import Conflict, ValidationError
from storeops.core.text import clean_text
from storeops.members import services as member_services
from storeops.promotions import selectors as promotion_selectors
from storeops.promotions import services as promotion_services
from storeops.stores.models import Store
from storeops.stores.selectors import playbook_get

log = logging.getLogger("storeops.analytics")


def experiment_create(
    *,
    actor: Actor,
    store: Store,
    name: str,
    subject: str,
    control: str,
    challenger: str,
    hypothesis: str = "",
    now: dt.datetime | None = None,
) -> Experiment:
    if subject not in ExperimentSubject.values:
        raise ValidationError(_("测试对象无效"), fields={"subject": _("只能是横幅、主图、详情页布局或文案")})
    with transaction.atomic():
        experiment = Experiment.objects.create(
            store=store,
            name=clean_text(name, "name", limit=200),
            subject=subject,
            hypothesis=clean_text(hypothesis, "hypothesis", limit=500, required=False),
            started_at=now or timezone.now(),
            created_by=actor.label[:150],
        )
        ExperimentVariant.objects.create(
            experiment=experiment, code="A", description=clean_text(control, "control", limit=300)
        )
        ExperimentVariant.objects.create(
            experiment=experiment, code="B", description=clean_text(challenger, "challenger", limit=300)
        )
        audit_record(
            actor=actor,
            action="experiment.create",
            obj=experiment,
            store_id=store.pk,
            after={"name": experiment.name},
        )
    return experiment


def experiment_record(
    *, actor: Actor, experiment: Experiment, variant: str, visitors: int, conversions: int
) -> ExperimentVariant:
    """Set a variant's results so far (the cumulative figures of the channel statistics)."""
    errors = {}
    if variant not in VARIANT_CODES:
        errors["variant"] = _("只能是 A 或 B")
    if visitors < 0:
        errors["visitors"] = _("不能为负数")
    if conversions < 0 or conversions > visitors:
        errors["conversions"] = _("须在 0 与访客数之间")
    if errors:
        raise ValidationError(_("测试结果有误"), fields=errors)
    with transaction.atomic():
        locked = Experiment.objects.select_for_update().get(pk=experiment.pk)
        if locked.status != ExperimentStatus.RUNNING:
            raise Conflict(_("测试已结束，不能再录入结果"), code="experiment_decided")
        row = ExperimentVariant.objects.get(experiment=locked, code=variant)
        before = {"visitors": row.visitors, "conversions": row.conversions}
        row.visitors, row.conversions = visitors, conversions
        row.save(update_fields=["visitors", "conversions"])
        audit_record(
            actor=actor,
            action="experiment.record",
            obj=locked,
            store_id=locked.store_id,
            before={variant: before},
            after={variant: {"visitors": visitors, "conversions": conversions}},
        )
    return row


def experiment_decide(
    *, actor: Actor, experiment: Experiment, adopt: bool, note: str, now: dt.datetime | None = None
) -> Experiment:
    """Adopt the challenger (only with the evidence the playbook asks for) or keep the control."""
    note = clean_text(note, "note", limit=500)
    with transaction.atomic():
        locked = Experiment.objects.select_for_update().get(pk=experiment.pk)
        if locked.status != ExperimentStatus.RUNNING:
            raise Conflict(_("测试已有结论"), code="experiment_decided")
        result = selectors.experiment_result(locked)
        if adopt and result.decision != "adopt":
            raise ValidationError(
                _("证据不足，不能采纳：需显著（p < %(a)s）且转化提升不低于 %(l)s")
                % {"a": result.alpha, "l": selectors.display(result.min_lift, "ratio")},
                fields={"adopt": _("当前结论：%(d)s") % {"d": selectors.AB_DECISION_LABELS[result.decision]}},
            )
        locked.status = ExperimentStatus.ADOPTED if adopt else ExperimentStatus.REJECTED
        locked.decided_at, locked.decided_by, locked.decision_note = (
            now or timezone.now(),
            actor.label[:150],
            note,
        )
        locked.save(update_fields=["status", "decided_at", "decided_by", "decision_note"])
        audit_record(
            actor=actor,
            action="experiment.decide",
            obj=locked,
            store_id=locked.store_id,
            after={
                "status": locked.status,
                "note": note,
                "p_value": result.p_value,
                "lift": str(result.lift),
            },
        )
    return locked


# --- MEM-04: the daily segment snapshot and the segments' playbook actions -------------------------


@dataclass(frozen=True, slots=True)
class SnapshotResult:
    day: dt.date
    customers: int
    segments: dict[str, int]
    moved: int  # customers whose segment differs from the snapshot before


def segments_snapshot(*, actor: Actor, store: Store, day: dt.date | None = None) -> SnapshotResult:
    """Compute every buyer's segment and RFM scores at the end of ``day`` (default: yesterday,
    the last complete day) and store them as that day's snapshot, replacing one taken earlier
    for the same day (idempotent). Each row keeps the segment of the snapshot before. When it
    is the latest snapshot, the members' ``segment`` follows it (MEM-04: the checkout reads a
    high-value customer there for priority shipping, the service desk for dedicated service)."""
    day = day or timezone.localdate() - dt.timedelta(days=1)
    if day > timezone.localdate():
        raise ValidationError(_("快照日期不能晚于今天"), fields={"day": _("不能晚于今天")})
    computed = segments.segments_compute(store=store, day=day)
    with transaction.atomic():
        previous_day = segments.snapshot_previous_day(store=store, day=day)
        before = (
            dict(
                CustomerSnapshot.objects.filter(store=store, day=previous_day).values_list(
                    "customer_ref", "segment"
                )
            )
            if previous_day
            else {}
        )
        CustomerSnapshot.objects.filter(store=store, day=day).delete()
        rows = [
            CustomerSnapshot(
                store=store,
                day=day,
                customer_ref=c.customer_ref,
                segment=c.segment.value,
                previous_segment=before.get(c.customer_ref, ""),
                recency_days=c.recency_days,
                frequency=c.frequency,
                monetary=c.monetary,
                r_score=c.r_score,
                f_score=c.f_score,
                m_score=c.m_score,
                first_paid_on=c.first_paid,
                last_paid_on=c.last_paid,
            )
            for c in computed
        ]
        CustomerSnapshot.objects.bulk_create(rows, batch_size=2000)
        counts = {s.value: 0 for s in rules.SEGMENTS}
        for c in computed:
            counts[c.segment.value] += 1
        moved = sum(1 for r in rows if r.previous_segment != r.segment)
        after: dict[str, Any] = {"customers": len(rows), "segments": counts, "moved": moved}
        # the latest snapshot's segments go onto the member rows (the high-value playbook:
        # priority shipping at checkout, dedicated service); an earlier day's re-run does not
        if not CustomerSnapshot.objects.filter(store=store, day__gt=day).exists():
            after["members"] = member_services.member_segments_set(
                store=store, segments={r.customer_ref: r.segment for r in rows}
            )
        audit_record(
            actor=actor,
            action="segments.snapshot",
            object_type="analytics.customersnapshot",
            object_id=day.isoformat(),
            object_repr=f"{store.code} {day.isoformat()}",
            store_id=store.pk,
            after=after,
        )
    return SnapshotResult(day=day, customers=len(rows), segments=counts, moved=moved)


def segment_issue_key(segment: str, period_key: str) -> str:
    return f"mem04:{segment}:{period_key}"


def segment_action_run(
    *, actor: Actor, store: Store, segment: str, now: dt.datetime | None = None
) -> SegmentAction:
    """The segment's coupon (playbook ``segment_coupon_<segment>``) issued to every customer of
    the segment on the latest snapshot, once per period (new: once; active: each week;
    high-value and sleeping: each month) — the issue key makes a second run in the same period
    issue only to customers who joined the segment since. Other actions of the segment's
    playbook (flash sales, lottery, dedicated service, messages) are not done here."""
    if segment not in SegmentChoice.values:
        raise ValidationError(_("未知的客户分层"), fields={"segment": _("未知的客户分层")})
    book = playbook_get(store=store)
    setting = segments.SEGMENT_PLAYBOOK[segment]["coupon_setting"]
    template_id = getattr(book, str(setting))
    if not template_id:
        raise ValidationError(
            _("运营手册未配置该分层的优惠券模板（%(s)s）") % {"s": setting},
            fields={"segment": _("请先在运营手册中设置优惠券模板ID")},
        )
    template = promotion_selectors.coupon_template_get(store=store, template_id=template_id)
    now = now or timezone.now()
    day = segments.snapshot_latest_day(store=store)
    if day is None:
        raise Conflict(_("还没有客户分层快照：请先生成"), code="no_snapshot")
    refs = list(
        CustomerSnapshot.objects.filter(store=store, day=day, segment=segment)
        .order_by("customer_ref")
        .values_list("customer_ref", flat=True)
    )
    period = rules.segment_period_key(rules.Segment(segment), timezone.localtime(now).date())
    issued = skipped = 0
    if refs:
        result = promotion_services.coupon_issue_batch(
            actor=actor,
            template=template,
            customer_refs=refs,
            source="manual",
            issue_key=segment_issue_key(segment, period),
            campaign_ref=f"MEM-04 {segment}",
            now=now,
        )
        issued, skipped = len(result.issued), len(result.skipped)
    with transaction.atomic():
        action = SegmentAction.objects.create(
            store=store,
            segment=segment,
            period_key=period,
            snapshot_day=day,
            coupon_template_id=template.pk,
            customers=len(refs),
            issued=issued,
            skipped=skipped,
            actor_label=actor.label[:150],
            created_at=now,
        )
        audit_record(
            actor=actor,
            action="segments.action",
            obj=action,
            store_id=store.pk,
            after={"segment": segment, "period": period, "template": template.pk, "issued": issued},
        )
    return action


# --- DATA-06: operations reports --------------------------------------------------------------------


def report_generate(
    *,
    actor: Actor,
    store: Store,
    kind: str,
    day: dt.date | None = None,
    notify: bool = True,
    now: dt.datetime | None = None,
) -> OperationsReport:
    """The report of the last complete period of ``kind`` before ``day`` (default: today):
    built, stored, and sent to the operations team. Generating it again for the same period
    rebuilds the figures (data imported late) and sends nothing new."""
    if kind not in ReportKindChoice.values:
        raise ValidationError(
            _("未知的报表类型"), fields={"kind": _("只能是 daily / weekly / monthly / quarterly")}
        )
    now = now or timezone.now()
    day = day or timezone.localtime(now).date()
    start, end = rules.report_period(rules.ReportKind(kind), day)
    data = reports.report_build(store=store, kind=kind, start=start, end=end)
    with transaction.atomic():
        report, created = OperationsReport.objects.select_for_update().get_or_create(
            store=store,
            kind=kind,
            period_start=start,
            defaults={
                "period_end": end,
                "data": data,
                "missed": data["missed"],
                "generated_at": now,
                "generated_by": actor.label[:150],
            },
        )
        if not created:
            report.data, report.missed, report.generated_at = data, data["missed"], now
            report.generated_by = actor.label[:150]
            report.save(update_fields=["data", "missed", "generated_at", "generated_by"])
        audit_record(
            actor=actor,
            action="report.generate",
            obj=report,
            store_id=store.pk,
            after={"kind": kind, "start": start.isoformat(), "missed": data["missed"], "new": created},
        )
    if created and notify:
        report_notify(report=report)
    return report


def report_notify(*, report: OperationsReport, channels: list[Any] | None = None) -> int:
    """Send the report's summary to the operations team (the role that owns the daily report)
    on every notification channel (e-mail, log, the configured others), like findings are
    sent; each send is recorded as a :class:`ReportDelivery`. Returns the channels that sent."""
    from django.contrib.auth import get_user_model

    from storeops.accounts.roles import Role
    from storeops.sop.notify import Message, configured_channels

    channels = channels if channels is not None else configured_channels()
    users = list(
        get_user_model().objects.filter(is_active=True, groups__name=Role.OPERATIONS.value).distinct()
    )
    title = reports.report_title(report)
    lines = [title, ""]
    for section in reports.report_rows(report):
        lines.append(f"【{section['label']}】")
        for r in section["rows"]:
            mark = {True: " ✓", False: " ✗", None: ""}[r["ok"]]
            target = f"（{_('目标')} {r['target']}）" if r["target"] else ""
            lines.append(f"{r['label']}: {r['value']}{target}{mark}")
    lines += ["", _("未达标项：%(n)s") % {"n": report.missed}, f"/reports/{report.pk}/"]
    message_body = "\n".join(lines)
    sent = 0
    for channel in channels:
        recipients = channel.recipients_for(users)
        if not recipients:
            continue
        try:
            channel.send(
                Message(subject=f"[StoreOps DATA-06] {title}", body=message_body, recipients=recipients)
            )
            ok, error = True, ""
        except Exception as exc:  # a broken channel must not stop the others
            log.exception("report notification channel %s failed", channel.name)
            ok, error = False, str(exc)[:300]
        ReportDelivery.objects.bulk_create(
            ReportDelivery(report=report, channel=channel.name, recipient=r, ok=ok, error=error)
            for r in recipients
        )
        sent += ok
    return sent


def reports_due(*, store: Store, now: dt.datetime | None = None) -> list[OperationsReport]:
    """The reports whose time has come and that do not exist yet: from the playbook's
    ``report_daily_hour`` (local time) on, yesterday's daily report and the reviews of the
    last complete week, month and quarter. Run by the hourly task; a missed hour is caught up."""
    now = now or timezone.now()
    local = timezone.localtime(now)
    if local.hour < playbook_get(store=store).report_daily_hour:
        return []
    made = []
    for kind in rules.ReportKind:
        start, _end = rules.report_period(kind, local.date())
        if not reports.report_exists(store=store, kind=kind.value, start=start):
            made.append(report_generate(actor=Actor.system("task"), store=store, kind=kind.value, now=now))
    return made
