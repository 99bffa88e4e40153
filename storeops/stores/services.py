"""Every change to stores, channels, qualifications, launch plans and playbooks.

Each function is atomic, validates before writing and appends to the operation log.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from storeops.audit.services import audit_record, snapshot
from storeops.core.context import Actor
from storeops.core.errors import Conflict, ValidationError
from storeops.core.text import clean_text
from storeops.stores import playbook as pb
from storeops.stores.models import (
    Channel,
    ChannelKind,
    KpiMetric,
    LaunchChecklistItem,
    LaunchPlan,
    LaunchStep,
    LaunchTarget,
    PlatformRuleChange,
    Playbook,
    Qualification,
    QualificationKind,
    RuleChangeStatus,
    Store,
)
from storeops.stores.selectors import playbook_layers


def store_create(*, actor: Actor, code: str, name: str, legal_name: str = "", currency: str = "CNY") -> Store:
    if not code or not name:
        raise ValidationError(_("请填写店铺编码和名称"), fields={"code": _("必填"), "name": _("必填")})
    if Store.objects.filter(code=code).exists():
        raise ValidationError(_("店铺编码已存在"), fields={"code": _("店铺编码已存在")})
    with transaction.atomic():
        store = Store.objects.create(code=code, name=name, legal_name=legal_name, currency=currency)
        audit_record(actor=actor, action="store.create", obj=store, store_id=store.pk, after=snapshot(store))
    return store


def channel_create(
    *, actor: Actor, store: Store, kind: str, code: str, name: str, external_shop_id: str = ""
) -> Channel:
    if kind not in ChannelKind.values:
        raise ValidationError(_("未知的渠道类型"), fields={"kind": _("未知的渠道类型")})
    if Channel.objects.filter(store=store, code=code).exists():
        raise ValidationError(_("该店铺下渠道编码已存在"), fields={"code": _("渠道编码已存在")})
    with transaction.atomic():
        channel = Channel.objects.create(
            store=store, kind=kind, code=code, name=name, external_shop_id=external_shop_id
        )
        audit_record(
            actor=actor, action="channel.create", obj=channel, store_id=store.pk, after=snapshot(channel)
        )
    return channel


def channel_set_active(*, actor: Actor, channel: Channel, active: bool) -> Channel:
    with transaction.atomic():
        before = snapshot(channel)
        channel.is_active = active
        channel.save(update_fields=["is_active"])
        audit_record(
            actor=actor,
            action="channel.activate" if active else "channel.deactivate",
            obj=channel,
            store_id=channel.store_id,
            before=before,
            after=snapshot(channel),
        )
    return channel


_QUALIFICATION_FIELDS = ("kind", "title", "number", "issuer", "scope", "valid_from", "valid_to")


def _qualification_validate(data: dict[str, Any]) -> None:
    errors: dict[str, str] = {}
    if data.get("kind") not in QualificationKind.values:
        errors["kind"] = _("未知的资质类型")
    for required in ("title", "issuer", "valid_from"):
        if not data.get(required):
            errors[required] = _("必填")
    for text in ("number", "scope"):  # optional texts: may be empty, never null
        if text in data and data[text] is None:
            errors[text] = _("不能为 null，留空请传空字符串")
    vf, vt = data.get("valid_from"), data.get("valid_to")
    if isinstance(vf, dt.date) and isinstance(vt, dt.date) and vt < vf:
        errors["valid_to"] = _("到期日期不能早于生效日期")
    if errors:
        raise ValidationError(_("资质信息有误"), fields=errors)


def qualification_create(*, actor: Actor, store: Store, **data: Any) -> Qualification:
    unknown = set(data) - {*_QUALIFICATION_FIELDS, "document"}
    if unknown:
        raise ValidationError(_("未知字段"), fields={k: _("未知字段") for k in unknown})
    _qualification_validate(data)
    with transaction.atomic():
        q = Qualification.objects.create(store=store, **data)
        audit_record(actor=actor, action="qualification.create", obj=q, store_id=store.pk, after=snapshot(q))
    return q


def qualification_update(*, actor: Actor, qualification: Qualification, **changes: Any) -> Qualification:
    unknown = set(changes) - {*_QUALIFICATION_FIELDS, "document"}
    if unknown:
        raise ValidationError(_("未知字段"), fields={k: _("未知字段") for k in unknown})
    merged = {f: getattr(qualification, f) for f in _QUALIFICATION_FIELDS} | changes
    _qualification_validate(merged)
    with transaction.atomic():
        locked = Qualification.objects.select_for_update().get(pk=qualification.pk)
        before = snapshot(locked)
        for key, value in changes.items():
            setattr(locked, key, value)
        locked.save()
        audit_record(
            actor=actor,
            action="qualification.update",
            obj=locked,
            store_id=locked.store_id,
            before=before,
            after=snapshot(locked),
        )
    return locked


def playbook_update(
    *,
    actor: Actor,
    store: Store,
    values: dict[str, Any],
    channel: Channel | None = None,
    replace: bool = False,
) -> pb.PlaybookSettings:
    """Change playbook overrides for a store (or one channel of it).

    ``values`` maps setting name → new value; ``None`` removes an override (back to the
    inherited value). The merged result is validated as a whole; a bad value raises
    :class:`ValidationError` with a message per field and nothing is saved.
    """
    if channel is not None and channel.store_id != store.pk:
        raise ValidationError(_("渠道不属于该店铺"), fields={"channel": _("渠道不属于该店铺")})
    store_values, channel_values = playbook_layers(store=store, channel=channel)
    current = dict(channel_values if channel is not None else store_values)
    new_layer = {} if replace else dict(current)
    for key, value in values.items():
        if value is None or value == "":
            new_layer.pop(key, None)
        else:
            new_layer[key] = value
    try:
        cleaned = pb.clean_overrides(new_layer)
        effective = pb.resolve(store_values, cleaned) if channel is not None else pb.resolve(cleaned)
    except pb.PlaybookInvalid as exc:
        raise ValidationError(_("运营手册设置有误，未保存"), fields=exc.errors) from exc
    with transaction.atomic():
        row, _created = Playbook.objects.select_for_update().get_or_create(store=store, channel=channel)
        row.values = cleaned
        row.save()
        audit_record(
            actor=actor, action="playbook.update", obj=row, store_id=store.pk, before=current, after=cleaned
        )
        if channel is None and current.get("tag_price_band_edges") != cleaned.get("tag_price_band_edges"):
            # SEL-04: new price band edges re-band every product now (catalog imports stores)
            from storeops.catalog.services import price_bands_refresh

            price_bands_refresh(actor=actor, store=store)
    return effective


# ---- launch plans (STORE-07) ------------------------------------------------------------


def launch_plan_create(
    *, actor: Actor, channel: Channel, planned_go_live: dt.date, market_research: str = ""
) -> LaunchPlan:
    market_research = clean_text(market_research, "market_research", limit=4000, required=False)
    if LaunchPlan.objects.filter(channel=channel).exists():
        raise Conflict(_("该渠道已有上线计划"))
    with transaction.atomic():
        plan = LaunchPlan.objects.create(
            store=channel.store,
            channel=channel,
            planned_go_live=planned_go_live,
            market_research=market_research,
        )
        LaunchChecklistItem.objects.bulk_create(
            LaunchChecklistItem(plan=plan, step=s) for s in LaunchStep.values
        )
        audit_record(
            actor=actor, action="launch_plan.create", obj=plan, store_id=plan.store_id, after=snapshot(plan)
        )
    return plan


def launch_plan_update(
    *,
    actor: Actor,
    plan: LaunchPlan,
    planned_go_live: dt.date | None = None,
    market_research: str | None = None,
) -> LaunchPlan:
    """Change the planned go-live date (only before the plan goes live) or the market research
    conclusions; ``None`` leaves a field as it is."""
    if planned_go_live is not None and plan.status != LaunchPlan.Status.PREPARING:
        raise ValidationError(
            _("已上线的计划不能修改计划上线日期"), fields={"planned_go_live": _("计划已上线")}
        )
    changes: dict[str, Any] = {}
    if planned_go_live is not None:
        changes["planned_go_live"] = planned_go_live
    if market_research is not None:
        changes["market_research"] = clean_text(
            market_research, "market_research", limit=4000, required=False
        )
    if not changes:
        return plan
    with transaction.atomic():
        locked = LaunchPlan.objects.select_for_update().get(pk=plan.pk)
        before = snapshot(locked)
        for name, value in changes.items():
            setattr(locked, name, value)
        locked.save(update_fields=list(changes))
        audit_record(
            actor=actor,
            action="launch_plan.update",
            obj=locked,
            store_id=locked.store_id,
            before=before,
            after=snapshot(locked),
        )
    return locked


def launch_targets_set(
    *, actor: Actor, plan: LaunchPlan, targets: dict[tuple[int, str], Any], months: int
) -> list[LaunchTarget]:
    """Set SMART targets: ``{(month, metric): value}`` for each of the first ``months`` months
    (the playbook's ``launch_kpi_months``) and each metric (GMV, new users, conversion)."""
    errors: dict[str, str] = {}
    clean: dict[tuple[int, str], Decimal] = {}
    for (month, metric), raw in targets.items():
        key = f"m{month}.{metric}"
        if metric not in KpiMetric.values:
            errors[key] = _("未知指标")
            continue
        if not 1 <= month <= months:
            errors[key] = _("月份必须在 1 到 %(n)s 之间") % {"n": months}
            continue
        value = _kpi_value(raw)
        if value is None:
            errors[key] = _("请输入数字")
            continue
        if not _kpi_in_range(metric, value):
            errors[key] = _("数值超出范围")
            continue
        clean[(month, metric)] = value
    missing = [f"m{m}.{k}" for m in range(1, months + 1) for k in KpiMetric.values if (m, k) not in clean]
    for key in missing:
        errors.setdefault(key, _("缺少目标"))
    if errors:
        raise ValidationError(_("KPI目标不完整或有误，未保存"), fields=errors)
    with transaction.atomic():
        existing = {
            (t.month, t.metric): t for t in LaunchTarget.objects.select_for_update().filter(plan=plan)
        }
        before = {f"m{m}.{k}": str(t.target) for (m, k), t in existing.items()}
        # update in place: an actual typed in on a target is kept when its target changes
        LaunchTarget.objects.filter(pk__in=[t.pk for key, t in existing.items() if key not in clean]).delete()
        changed = []
        for key, value in clean.items():
            if key in existing and existing[key].target != value:
                existing[key].target = value
                changed.append(existing[key])
        LaunchTarget.objects.bulk_update(changed, ["target"])
        LaunchTarget.objects.bulk_create(
            LaunchTarget(plan=plan, month=m, metric=k, target=v)
            for (m, k), v in sorted(clean.items())
            if (m, k) not in existing
        )
        rows = list(LaunchTarget.objects.filter(plan=plan).order_by("month", "metric"))
        if not plan.items.filter(step=LaunchStep.KPI_TARGETS, done_at__isnull=False).exists():
            _step_mark(plan, LaunchStep.KPI_TARGETS, actor)
        audit_record(
            actor=actor,
            action="launch_plan.set_targets",
            obj=plan,
            store_id=plan.store_id,
            before=before,
            after={f"m{m}.{k}": str(v) for (m, k), v in clean.items()},
        )
    return rows


_KPI_MAX = Decimal("1e12")  # the columns hold 16 digits, 4 of them decimals


def _kpi_value(raw: Any) -> Decimal | None:
    """A target or actual as a Decimal to 4 places; None when it is not a finite number."""
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        return None
    if not value.is_finite():
        return None
    return value.quantize(Decimal("0.0001")) if abs(value) < _KPI_MAX else value


def _kpi_in_range(metric: str, value: Decimal) -> bool:
    return 0 <= value < _KPI_MAX and (metric != KpiMetric.CONVERSION or value <= 1)


def _step_mark(
    plan: LaunchPlan, step: str, actor: Actor, note: str = "", now: dt.datetime | None = None
) -> None:
    LaunchChecklistItem.objects.filter(plan=plan, step=step).update(
        done_at=now or timezone.now(), done_by=actor.label[:150], note=note[:300]
    )


def launch_step_complete(
    *, actor: Actor, plan: LaunchPlan, step: str, note: str = "", now: dt.datetime | None = None
) -> None:
    """Tick a checklist step: who (the actor) and when (``now``) are recorded with the note."""
    if step not in LaunchStep.values:
        raise ValidationError(_("未知的检查项"), fields={"step": _("未知的检查项")})
    if step == LaunchStep.KPI_TARGETS and not plan.targets.exists():
        raise Conflict(_("请先设定KPI目标"))
    with transaction.atomic():
        _step_mark(plan, step, actor, note, now)
        audit_record(
            actor=actor,
            action="launch_plan.complete_step",
            obj=plan,
            store_id=plan.store_id,
            after={"step": step, "note": note},
        )


def launch_go_live(*, actor: Actor, plan: LaunchPlan, today: dt.date) -> LaunchPlan:
    """Go live only when every checklist step is done (incl. the full-chain test)."""
    open_steps = list(plan.items.filter(done_at__isnull=True).values_list("step", flat=True))
    if open_steps:
        labels = ", ".join(str(LaunchStep(s).label) for s in open_steps)
        raise Conflict(_("以下检查项未完成，不能上线：%(steps)s") % {"steps": labels})
    with transaction.atomic():
        before = snapshot(plan)
        plan.status = LaunchPlan.Status.LIVE
        plan.went_live_on = today
        plan.save(update_fields=["status", "went_live_on"])
        Channel.objects.filter(pk=plan.channel_id, launched_on__isnull=True).update(launched_on=today)
        audit_record(
            actor=actor,
            action="launch_plan.go_live",
            obj=plan,
            store_id=plan.store_id,
            before=before,
            after=snapshot(plan),
        )
    return plan


def launch_target_record_actual(
    *, actor: Actor, target: LaunchTarget, actual: Decimal | str | None
) -> LaunchTarget:
    """Type in a month's actual by hand: it wins over the one measured from StoreOps' data
    (e.g. a marketplace's own figures); ``None`` removes it (back to the measured one)."""
    if actual is not None:
        value = _kpi_value(actual)
        if value is None:
            raise ValidationError(_("请输入数字"), fields={"actual": _("请输入数字")})
        if value < 0:
            raise ValidationError(_("实际值不能为负"), fields={"actual": _("实际值不能为负")})
        if not _kpi_in_range(target.metric, value):
            raise ValidationError(_("数值超出范围"), fields={"actual": _("数值超出范围")})
        actual = value
    with transaction.atomic():
        before = {"actual": str(target.actual) if target.actual is not None else None}
        target.actual = actual
        target.save(update_fields=["actual"])
        audit_record(
            actor=actor,
            action="launch_target.record_actual",
            obj=target.plan,
            store_id=target.plan.store_id,
            before=before,
            after={
                "actual": str(actual) if actual is not None else None,
                "month": target.month,
                "metric": target.metric,
            },
        )
    return target


# --- platform rule changes (RISK-03) ---------------------------------------------------------------


def rule_change_record(
    *,
    actor: Actor,
    store: Store,
    platform: str,
    title: str,
    announced_at: dt.datetime,
    summary: str = "",
    url: str = "",
    effective_on: dt.date | None = None,
    now: dt.datetime | None = None,
) -> PlatformRuleChange:
    """Record a platform's rule change (RISK-03). The adjustment clock starts at
    ``announced_at`` (when the store learned of it), which cannot be in the future."""
    now = now or timezone.now()
    errors: dict[str, str] = {}
    if platform not in ChannelKind.values:
        errors["platform"] = _("未知的平台")
    if announced_at > now + dt.timedelta(minutes=5):
        errors["announced_at"] = _("获知时间不能晚于现在")
    url = (url or "").strip()
    if url and not url.startswith(("http://", "https://")):
        errors["url"] = _("请填写 http(s) 链接")
    if errors:
        raise ValidationError(_("规则变更信息有误"), fields=errors)
    change = PlatformRuleChange(
        store=store,
        platform=platform,
        title=clean_text(title, "title", limit=200),
        summary=clean_text(summary, "summary", limit=4000, required=False),
        url=clean_text(url, "url", limit=500, required=False),
        announced_at=announced_at,
        effective_on=effective_on,
        recorded_by=actor.label,
    )
    with transaction.atomic():
        change.save()
        audit_record(
            actor=actor, action="rule_change.record", obj=change, store_id=store.pk, after=snapshot(change)
        )
    return change


def rule_change_assess(
    *,
    actor: Actor,
    change: PlatformRuleChange,
    applies: bool,
    assessment: str,
    now: dt.datetime | None = None,
) -> PlatformRuleChange:
    """Assess a new change: it applies to the store (→ adjusting, the adjustment still due) or
    it does not (→ not applicable, closed). The assessment text is required either way."""
    now = now or timezone.now()
    assessment = clean_text(assessment, "assessment", limit=1000)
    target = RuleChangeStatus.ADJUSTING if applies else RuleChangeStatus.NOT_APPLICABLE
    closed = {} if applies else {"closed_by": actor.label, "closed_at": now}
    return _rule_change_move(
        actor,
        change,
        allowed=(RuleChangeStatus.NEW,),
        target=target,
        action="rule_change.assess",
        assessment=assessment,
        assessed_by=actor.label,
        assessed_at=now,
        **closed,
    )


def rule_change_complete(
    *, actor: Actor, change: PlatformRuleChange, actions: str, now: dt.datetime | None = None
) -> PlatformRuleChange:
    """The store has adjusted to the change: what was done (listings, prices, service scripts…)."""
    now = now or timezone.now()
    actions = clean_text(actions, "actions", limit=1000)
    return _rule_change_move(
        actor,
        change,
        allowed=(RuleChangeStatus.NEW, RuleChangeStatus.ADJUSTING),
        target=RuleChangeStatus.DONE,
        action="rule_change.complete",
        actions=actions,
        closed_by=actor.label,
        closed_at=now,
        # completing straight from "new" counts as its assessment too
        **({"assessed_by": actor.label, "assessed_at": now} if change.status == RuleChangeStatus.NEW else {}),
    )


def _rule_change_move(
    actor: Actor,
    change: PlatformRuleChange,
    *,
    allowed: tuple[str, ...],
    target: str,
    action: str,
    **fields: Any,
) -> PlatformRuleChange:
    with transaction.atomic():
        locked = PlatformRuleChange.objects.select_for_update().get(pk=change.pk)
        if locked.status not in allowed:
            raise Conflict(
                _("规则变更当前为“%(s)s”，不能执行此操作") % {"s": locked.get_status_display()},
                code="invalid_transition",
            )
        before = {"status": locked.status}
        for name, value in {"status": target, **fields}.items():
            setattr(locked, name, value)
        locked.save(update_fields=["status", *fields])
        audit_record(
            actor=actor,
            action=action,
            obj=locked,
            store_id=locked.store_id,
            before=before,
            after={"status": target, **{k: v for k, v in fields.items() if k in ("assessment", "actions")}},
        )
    return locked
