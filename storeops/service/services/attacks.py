"""RISK-02: mass negative-review attacks (恶意差评攻击) and their playbook.

An attack is opened when a negative review (rating at most ``review_attack_max_rating``)
completes a burst of ``review_attack_count`` within ``review_attack_window_hours``; later
negative reviews within the window of an attack still being handled join it as evidence.
Its three steps are recorded in order — preserve evidence → appeal to the platform →
communicate — each with who, when and a note; the RISK-02 finding stays open until the third
is recorded."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from storeops.audit.services import audit_record
from storeops.core.context import Actor
from storeops.core.errors import Conflict, InvalidTransition, ValidationError
from storeops.service import rules
from storeops.service.models import AttackStep, Review, ReviewAttack, ReviewAttackStep
from storeops.stores.models import Store
from storeops.stores.selectors import playbook_get


def review_attack_detect(*, actor: Actor, store: Store, around: dt.datetime) -> ReviewAttack | None:
    """Link the unlinked negative reviews within the window of ``around`` to the attack being
    handled that they are near, or open a new attack when they form a burst. Idempotent: run
    again, it finds nothing new. Returns the attack a review joined or that was opened."""
    pb = playbook_get(store=store)
    window = dt.timedelta(hours=pb.review_attack_window_hours)
    touched: ReviewAttack | None = None
    with transaction.atomic():
        # one detection per store at a time, and the reviews read after the lock: two negative
        # reviews saved in the same instant each see the other (the second waits for the first
        # to commit), so together they complete a burst and never open two attacks
        Store.objects.select_for_update().filter(pk=store.pk).values_list("pk").first()
        unlinked = list(
            Review.objects.filter(
                store=store,
                rating__lte=pb.review_attack_max_rating,
                created_at__gte=around - window,
                created_at__lte=around + window,
                attacks__isnull=True,
            )
            .order_by("created_at", "id")
            .values_list("id", "created_at")
        )
        if not unlinked:
            return None
        for attack in ReviewAttack.objects.select_for_update().filter(store=store, closed_at__isnull=True):
            near = [
                (pk, at)
                for pk, at in unlinked
                if attack.first_review_at - window <= at <= attack.last_review_at + window
            ]
            if near:
                _link(attack, near)
                unlinked = [item for item in unlinked if item not in near]
                touched = attack
        burst = rules.attack_burst(unlinked, window=window, count=pb.review_attack_count)
        if burst:
            times = [at for pk, at in unlinked if pk in burst]
            attack = ReviewAttack.objects.create(
                store=store, first_review_at=min(times), last_review_at=max(times), detected_at=timezone.now()
            )
            attack.reviews.set(burst)
            audit_record(
                actor=actor,
                action="review_attack.open",
                obj=attack,
                store_id=store.pk,
                after={"reviews": burst, "threshold": pb.review_attack_count},
            )
            touched = attack
    return touched


def _link(attack: ReviewAttack, items: list[tuple[int, dt.datetime]]) -> None:
    attack.reviews.add(*[pk for pk, _at in items])
    times = [at for _pk, at in items]
    attack.first_review_at = min(attack.first_review_at, *times)
    attack.last_review_at = max(attack.last_review_at, *times)
    attack.save(update_fields=["first_review_at", "last_review_at"])


def review_attack_step(
    *, actor: Actor, attack: ReviewAttack, step: str, note: str, at: dt.datetime | None = None
) -> ReviewAttack:
    """Record one playbook step (``evidence``, ``appeal``, ``communicate``) with a note: where
    the evidence is kept, the platform's appeal number, what was said publicly. Steps go in
    order and each is recorded once; the third closes the attack (its finding resolves)."""
    note = note.strip()
    errors: dict[str, str] = {}
    if step not in AttackStep.values:
        errors["step"] = _("未知的处置步骤")
    if not note:
        errors["note"] = _("请填写说明")
    elif len(note) > 1000:
        errors["note"] = _("最多 1000 个字符")
    if errors:
        raise ValidationError(_("处置步骤信息有误，未保存"), fields=errors)
    now = at or timezone.now()
    with transaction.atomic():
        locked = ReviewAttack.objects.select_for_update().get(pk=attack.pk)
        done = list(locked.steps.values_list("step", flat=True))
        if step in done:
            raise Conflict(
                _("「%(step)s」已记录") % {"step": AttackStep(step).label}, code="attack_step_done"
            )
        missing = rules.attack_steps_missing(done)
        if missing[0] != step:
            raise InvalidTransition(
                _("请先完成「%(step)s」") % {"step": AttackStep(missing[0]).label},
                fields={"step": _("处置顺序：保全证据 → 平台申诉 → 对外沟通")},
            )
        ReviewAttackStep.objects.create(
            attack=locked, step=step, note=note, actor_label=actor.label[:150], at=now
        )
        if len(missing) == 1:
            locked.closed_at = now
            locked.save(update_fields=["closed_at"])
        audit_record(
            actor=actor,
            action=f"review_attack.{step}",
            obj=locked,
            store_id=locked.store_id,
            after={"step": step, "note": note[:300], "closed": locked.closed_at is not None},
        )
    return locked
