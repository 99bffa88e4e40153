"""A/B tests (DATA-07): create an experiment with its control and challenger, record their
results, decide. Adopting needs the evidence the playbook asks for (significant at
``ab_significance`` and a conversion lift of at least ``ab_min_lift``); stopping a test
(rejecting the challenger) needs only a note. Every change is audited."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from storeops.analytics import selectors
from storeops.analytics.models import Experiment, ExperimentStatus, ExperimentSubject, ExperimentVariant
from storeops.audit.services import audit_record
from storeops.core.context import Actor
from storeops.core.errors import Conflict, ValidationError
from storeops.core.text import clean_text
from storeops.stores.models import Store


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
    if variant not in ("A", "B"):
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
