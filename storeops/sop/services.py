"""Running checks and the findings life cycle: raise → de-duplicate → notify → resolve."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from storeops.audit.services import audit_record
from storeops.core.context import Actor
from storeops.core.errors import Conflict, ValidationError
from storeops.sop.models import CheckRun, Finding, Notification
from storeops.sop.notify import Message, NotificationChannel, configured_channels
from storeops.sop.registry import Check, CheckContext, FindingDraft, Schedule, Severity, all_checks, get_check
from storeops.stores.models import Store
from storeops.stores.playbook import PlaybookSettings
from storeops.stores.selectors import playbook_get, store_list

log = logging.getLogger("storeops.sop")


@dataclass(frozen=True, slots=True)
class RunResult:
    rule: str
    store_id: int
    raised: int
    still_open: int
    resolved: int
    error: str = ""


def _due_at(severity: str, now: dt.datetime, playbook: PlaybookSettings) -> dt.datetime:
    hours = {
        Severity.CRITICAL: playbook.finding_due_hours_critical,
        Severity.WARNING: playbook.finding_due_hours_warning,
        Severity.INFO: playbook.finding_due_hours_info,
    }[Severity(severity)]
    return now + dt.timedelta(hours=hours)


def findings_sync(
    *,
    check: Check,
    store: Store,
    drafts: Iterable[FindingDraft],
    now: dt.datetime,
    playbook: PlaybookSettings,
    playbook_for: Callable[[int | None], PlaybookSettings] | None = None,
) -> tuple[list[Finding], int, int]:
    """Persist one check's current report for one store. A finding's default due time is the
    SLA for its severity in ``playbook_for(draft.channel_id)`` (its channel's playbook), else in
    ``playbook`` (the store's).

    New subjects become open findings; subjects already open are refreshed (last seen,
    occurrences, detail — severity may rise); open findings whose subject is no longer
    reported are resolved automatically. Returns (new findings, refreshed count, resolved count).
    """

    def book(draft: FindingDraft) -> PlaybookSettings:
        return playbook_for(draft.channel_id) if playbook_for is not None else playbook

    drafts_by_key: dict[str, FindingDraft] = {}
    for draft in drafts:
        drafts_by_key.setdefault(draft.subject_key, draft)
    once = [key for key, draft in drafts_by_key.items() if draft.once]
    if once:  # events a person already handled are not raised again
        handled = Finding.objects.filter(
            store=store,
            rule_id=check.rule,
            subject_key__in=once,
            status=Finding.Status.RESOLVED,
            resolution=Finding.Resolution.MANUAL,
        ).values_list("subject_key", flat=True)
        for key in set(handled):
            drafts_by_key.pop(key, None)
    created: list[Finding] = []
    refreshed = 0
    with transaction.atomic():
        existing = {
            f.subject_key: f
            for f in Finding.objects.select_for_update()
            .filter(store=store, rule_id=check.rule)
            .exclude(status=Finding.Status.RESOLVED)
        }
        for key, draft in drafts_by_key.items():
            finding = existing.pop(key, None)
            if finding is None:
                finding = Finding(
                    store=store,
                    channel_id=draft.channel_id,
                    rule_id=check.rule,
                    subject_key=key,
                    subject_type=draft.subject_type,
                    subject_id=draft.subject_id,
                    title=draft.title[:300],
                    title_key=draft.title_key[:300],
                    title_params=draft.title_params,
                    detail=draft.detail,
                    severity=draft.severity,
                    owner_role=check.owner_role,
                    due_at=draft.due_at or _due_at(draft.severity, now, book(draft)),
                    first_seen_at=now,
                    last_seen_at=now,
                )
                try:
                    with transaction.atomic():
                        finding.save()
                except IntegrityError:  # a concurrent run raised it first: refresh instead
                    finding = Finding.objects.exclude(status=Finding.Status.RESOLVED).get(
                        store=store, rule_id=check.rule, subject_key=key
                    )
                else:
                    created.append(finding)
                    audit_record(
                        actor=Actor.system(),
                        action="finding.raise",
                        obj=finding,
                        store_id=store.pk,
                        after={"rule": check.rule, "subject": key, "severity": finding.severity},
                    )
                    continue
            finding.last_seen_at = now
            finding.occurrences += 1
            finding.title = draft.title[:300]
            finding.title_key = draft.title_key[:300]
            finding.title_params = draft.title_params
            finding.detail = draft.detail
            if _rank(draft.severity) > _rank(finding.severity):
                finding.severity = draft.severity
                finding.due_at = min(
                    filter(None, [finding.due_at, _due_at(draft.severity, now, book(draft))])
                )
            finding.save(
                update_fields=[
                    "last_seen_at",
                    "occurrences",
                    "title",
                    "title_key",
                    "title_params",
                    "detail",
                    "severity",
                    "due_at",
                ]
            )
            refreshed += 1
        resolved = 0
        for finding in existing.values():
            finding.status = Finding.Status.RESOLVED
            finding.resolution = Finding.Resolution.AUTO
            finding.resolved_at = now
            finding.save(update_fields=["status", "resolution", "resolved_at"])
            audit_record(
                actor=Actor.system(),
                action="finding.auto_resolve",
                obj=finding,
                store_id=store.pk,
                before={"status": "open"},
                after={"status": "resolved", "resolution": "auto"},
            )
            resolved += 1
    return created, refreshed, resolved


def _rank(severity: str) -> int:
    return [Severity.INFO, Severity.WARNING, Severity.CRITICAL].index(Severity(severity))


def findings_notify(*, findings: list[Finding], channels: list[NotificationChannel] | None = None) -> int:
    """Tell the owner role of each new finding, on every configured channel. Returns messages sent."""
    if not findings:
        return 0
    channels = channels if channels is not None else configured_channels()
    User = get_user_model()  # noqa: N806
    sent = 0
    by_role: dict[str, list] = {}
    for finding in findings:
        if finding.owner_role not in by_role:
            by_role[finding.owner_role] = list(
                User.objects.filter(is_active=True, groups__name=finding.owner_role).distinct()
            )
        users = by_role[finding.owner_role]
        subject = f"[StoreOps {finding.rule_id}] {finding.title}"
        due = timezone.localtime(finding.due_at).strftime("%Y-%m-%d %H:%M") if finding.due_at else "-"
        body = "\n".join(
            [
                finding.title,
                f"{_('规则')}: {finding.rule_id}",
                f"{_('级别')}: {finding.get_severity_display()}",
                f"{_('截止时间')}: {due}",
                f"{_('店铺')}: {finding.store}",
            ]
        )
        for channel in channels:
            recipients = channel.recipients_for(users)
            if not recipients:
                continue
            try:
                channel.send(Message(subject=subject, body=body, recipients=recipients))
                ok, error = True, ""
            except Exception as exc:  # a broken channel must not stop the others
                log.exception("notification channel %s failed", channel.name)
                ok, error = False, str(exc)[:300]
            Notification.objects.bulk_create(
                Notification(finding=finding, channel=channel.name, recipient=r, ok=ok, error=error)
                for r in recipients
            )
            sent += ok
        Finding.objects.filter(pk=finding.pk).update(notified_at=timezone.now())
    return sent


def check_run(
    *, check: Check, store: Store, now: dt.datetime | None = None, notify: bool = True
) -> RunResult:
    """Run one check for one store and persist its findings. Errors are recorded, not raised."""
    now = now or timezone.now()
    playbook = playbook_get(store=store)
    started = time.monotonic()
    try:
        # Titles are stored, so they are written in the store's language whoever runs the check.
        ctx = CheckContext(store=store, playbook=playbook, now=now)
        with translation.override(settings.LANGUAGE_CODE):
            drafts = list(check.fn(ctx))
        created, refreshed, resolved = findings_sync(
            check=check, store=store, drafts=drafts, now=now, playbook=playbook, playbook_for=ctx.playbook_for
        )
        error = ""
    except Exception as exc:
        log.exception("check %s failed for store %s", check.rule, store.code)
        created, refreshed, resolved, error = [], 0, 0, f"{type(exc).__name__}: {exc}"
    CheckRun.objects.create(
        store=store,
        rule_id=check.rule,
        started_at=now,
        duration_ms=int((time.monotonic() - started) * 1000),
        raised=len(created),
        still_open=refreshed,
        resolved=resolved,
        error=error[:2000],
    )
    if notify and created:
        findings_notify(findings=created)
    return RunResult(check.rule, store.pk, len(created), refreshed, resolved, error)


def checks_run(
    *,
    rule: str | None = None,
    store: Store | None = None,
    schedule: Schedule | None = None,
    now: dt.datetime | None = None,
    notify: bool = True,
    progress: Callable[[Check, Store], None] | None = None,
) -> list[RunResult]:
    """Run the registered checks (all, one rule, or one schedule) for one or all active stores."""
    if rule is not None:
        try:
            checks = [get_check(rule)]
        except KeyError:
            raise ValidationError(
                _("没有这条规则的检查：%(rule)s") % {"rule": rule}, fields={"rule": _("未注册")}
            ) from None
    else:
        checks = [c for c in all_checks() if schedule is None or c.schedule == schedule]
    stores = [store] if store is not None else list(store_list())
    results = []
    for st in stores:
        for check in checks:
            if progress is not None:
                progress(check, st)
            results.append(check_run(check=check, store=st, now=now, notify=notify))
    return results


def finding_acknowledge(*, actor: Actor, finding: Finding, note: str = "") -> Finding:
    with transaction.atomic():
        locked = Finding.objects.select_for_update().get(pk=finding.pk)
        if locked.status != Finding.Status.OPEN:
            raise Conflict(_("只有待处理的问题可以认领"))
        locked.status = Finding.Status.ACKNOWLEDGED
        locked.acknowledged_at = timezone.now()
        locked.acknowledged_by = actor.user
        if note:
            locked.resolution_note = note
        locked.save(update_fields=["status", "acknowledged_at", "acknowledged_by", "resolution_note"])
        audit_record(
            actor=actor,
            action="finding.acknowledge",
            obj=locked,
            store_id=locked.store_id,
            before={"status": "open"},
            after={"status": "acknowledged", "note": note},
        )
    return locked


def finding_resolve(*, actor: Actor, finding: Finding, note: str) -> Finding:
    """Close a finding by hand. A note is required: what was done. If the condition persists
    the next check run raises it again as a new finding."""
    if not note.strip():
        raise ValidationError(_("请填写处理说明"), fields={"note": _("必填")})
    with transaction.atomic():
        locked = Finding.objects.select_for_update().get(pk=finding.pk)
        if locked.status == Finding.Status.RESOLVED:
            raise Conflict(_("问题已解决"))
        before = locked.status
        locked.status = Finding.Status.RESOLVED
        locked.resolution = Finding.Resolution.MANUAL
        locked.resolved_at = timezone.now()
        locked.resolved_by = actor.user
        locked.resolution_note = note.strip()
        locked.save(update_fields=["status", "resolution", "resolved_at", "resolved_by", "resolution_note"])
        audit_record(
            actor=actor,
            action="finding.resolve",
            obj=locked,
            store_id=locked.store_id,
            before={"status": before},
            after={"status": "resolved", "note": note.strip()},
        )
    return locked
