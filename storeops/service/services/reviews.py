"""Reviews and review invitations (LOG-02): a review with photos earns the playbook's reward
coupon; :func:`review_invitations_send` is the idempotent periodic sweep."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from storeops.audit.services import audit_record, snapshot
from storeops.core.context import Actor
from storeops.core.errors import Conflict, NotFound, ValidationError
from storeops.fulfilment.selectors import delivered_times, shipment_order_numbers, shipments_delivered_between
from storeops.orders import selectors as order_selectors
from storeops.promotions import selectors as promo_selectors
from storeops.promotions import services as promo_services
from storeops.service import rules
from storeops.service.models import Review, ReviewInvitation, ServiceNotification
from storeops.service.notify import customer_notifiers
from storeops.service.services.attacks import review_attack_detect
from storeops.stores.models import Channel, Store
from storeops.stores.playbook import PlaybookSettings
from storeops.stores.selectors import playbook_get, store_list

log = logging.getLogger("storeops.service")


# A failed invitation is retried by later sweeps this many times in all.
INVITATION_MAX_ATTEMPTS = 3
# Deliveries older than the invitation delay plus this are not scanned any more.
INVITATION_LOOKBACK = dt.timedelta(days=7)
MAX_IMAGES = 9
_URL = re.compile(r"^https?://\S{3,500}$")

# ---- LOG-02: reviews and invitations ------------------------------------------------------------


def _reward_template(store: Store, channel: Channel, book: PlaybookSettings | None = None) -> Any:
    """The active reward coupon template of the playbook (``book``: the channel's, when the
    caller has read it), or None (no reward, no promise)."""
    book = book or playbook_get(store=store, channel=channel)
    template_id = book.review_reward_coupon_template
    if not template_id:
        return None
    try:
        template = promo_selectors.coupon_template_get(store=store, template_id=template_id)
    except NotFound:
        return None
    return template if template.is_active else None


def review_create(
    *,
    actor: Actor,
    store: Store,
    channel: Channel,
    order_ref: str,
    sku_code: str,
    customer_ref: str,
    rating: int,
    text: str = "",
    images: Iterable[str] = (),
    created_at: dt.datetime | None = None,
) -> Review:
    """Record a customer's review. One per order and SKU. A review with photos earns the
    playbook's reward coupon (晒图评价送券), once per order; if the coupon cannot be issued
    (exhausted, limit reached) the review is kept and the reason recorded. A negative review
    may complete (or join) a mass negative-review attack (RISK-02, :mod:`.attacks`)."""
    order_ref, sku_code, customer_ref = order_ref.strip(), sku_code.strip(), customer_ref.strip()
    image_list = [str(u).strip() for u in images if str(u).strip()]
    errors: dict[str, str] = {}
    if channel.store_id != store.pk:
        errors["channel"] = _("渠道不属于该店铺")
    if not order_ref or len(order_ref) > 64:
        errors["order_ref"] = _("订单号为 1–64 个字符")
    if not sku_code or len(sku_code) > 64:
        errors["sku_code"] = _("SKU编码为 1–64 个字符")
    if not customer_ref or len(customer_ref) > 64:
        errors["customer_ref"] = _("顾客编号为 1–64 个字符")
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        errors["rating"] = _("评分为 1–5 的整数")
    if len(text) > 2000:
        errors["text"] = _("最多 2000 个字符")
    if len(image_list) > MAX_IMAGES or any(not _URL.match(u) for u in image_list):
        errors["images"] = _("最多 9 张图片，须为 http(s) 地址")
    if errors:
        raise ValidationError(_("评价信息有误，未保存"), fields=errors)
    with transaction.atomic():
        if Review.objects.filter(channel=channel, order_ref=order_ref, sku_code=sku_code).exists():
            raise Conflict(_("该订单商品已评价"), fields={"order_ref": _("已评价")})
        review = Review.objects.create(
            store=store,
            channel=channel,
            order_ref=order_ref,
            sku_code=sku_code,
            customer_ref=customer_ref,
            rating=rating,
            text=text.strip(),
            images=image_list,
            created_at=created_at or timezone.now(),
        )
        template = _reward_template(store, channel)
        if rules.earns_photo_reward(image_count=len(image_list), reward_configured=template is not None):
            _photo_reward(actor, review, template)
        audit_record(
            actor=actor, action="review.create", obj=review, store_id=store.pk, after=snapshot(review)
        )
        if review.rating <= playbook_get(store=store).review_attack_max_rating:
            review_attack_detect(actor=actor, store=store, around=review.created_at)  # RISK-02
    return review


def _photo_reward(actor: Actor, review: Review, template: Any) -> None:
    """Issue the photo-review coupon (晒图评价送券) once per order; a refusal is noted."""
    try:
        coupon = promo_services.coupon_issue(
            actor=actor,
            template=template,
            customer_ref=review.customer_ref,
            source="review_reward",  # promotions IssueRule.REVIEW_REWARD
            issue_key=f"review:{review.channel_id}:{review.order_ref}"[:64],
        )
    except Conflict as exc:
        review.reward_note = str(exc.message)[:200]
    else:
        review.reward_coupon = coupon.code
        review.reward_note = _("晒图奖励：%(name)s") % {"name": template.name}
    review.save(update_fields=["reward_coupon", "reward_note"])


@dataclass(slots=True)
class InvitationResult:
    sent: int = 0
    failed: int = 0
    not_due: int = 0


def _invitation_text(order_ref: str, template: Any, survey_url: str = "") -> str:
    """The invitation: the review, the photo-review coupon when one is promised, and the
    playbook's NPS survey link (DATA-01) with the order number in it when it asks for one."""
    text = _("亲，您的订单 %(order)s 已签收，期待您的评价！") % {"order": order_ref}
    if template is not None:
        text += _("晒图评价送%(coupon)s。") % {"coupon": template.name}
    if survey_url:
        link = survey_url.replace("{order}", quote(order_ref, safe=""))
        text += _("您有多大可能把本店推荐给朋友？请打分（0–10）：%(url)s") % {"url": link}
    return text


def _masked(recipient: str) -> str:
    """Phones are kept out of the notification log (138****0000); order references stay."""
    if recipient.startswith("order:") or len(recipient) < 7:
        return recipient
    return recipient[:3] + "****" + recipient[-4:]


def _send_invitation(invitation: ReviewInvitation) -> bool:
    ok_any = False
    for notifier in customer_notifiers():
        name = type(notifier).__name__
        try:
            ok = bool(notifier.send(phone=invitation.recipient, channel=invitation.via, text=invitation.text))
            error = "" if ok else "refused"
        except Exception as exc:  # one broken gateway must not stop the sweep
            log.exception("customer notifier %s failed", name)
            ok, error = False, str(exc)[:300]
        ServiceNotification.objects.create(
            store_id=invitation.store_id,
            kind=ServiceNotification.Kind.REVIEW_INVITATION,
            invitation=invitation,
            channel=name[:40],
            recipient=_masked(invitation.recipient)[:200],
            ok=ok,
            error=error,
        )
        ok_any = ok_any or ok
    return ok_any


def review_invitations_send(
    *, actor: Actor, now: dt.datetime | None = None, store: Store | None = None
) -> InvitationResult:
    """The LOG-02 sweep: every order whose parcels were all signed for at least
    ``review_invite_hours`` ago gets one review invitation. Idempotent: an order is invited
    once (a unique row per channel and order); a failed send is retried by later sweeps up to
    :data:`INVITATION_MAX_ATTEMPTS` times. The text promises the photo-review coupon only when
    the playbook names an active reward template."""
    now = now or timezone.now()
    result = InvitationResult()
    for s in [store] if store is not None else list(store_list()):
        _invite_store(actor, s, now, result)
    return result


def _invite_store(actor: Actor, store: Store, now: dt.datetime, result: InvitationResult) -> None:
    playbooks: dict[int, PlaybookSettings] = {}
    longest = playbook_get(store=store).review_invite_hours
    shipments = list(
        shipments_delivered_between(
            start=now - dt.timedelta(hours=max(longest, 720)) - INVITATION_LOOKBACK, end=now, store=store
        ).select_related("channel")
    )
    orders: dict[tuple[int, str], Channel] = {}
    carried = shipment_order_numbers(shipment_ids=[s.pk for s in shipments])  # merged parcels: several
    for shipment in shipments:
        for ref in carried.get(shipment.pk, []):
            orders.setdefault((shipment.channel_id, ref), shipment.channel)
    if not orders:
        return
    done = set(
        ReviewInvitation.objects.filter(store=store, sent_at__isnull=False).values_list(
            "channel_id", "order_ref"
        )
    ) | set(
        ReviewInvitation.objects.filter(store=store, attempts__gte=INVITATION_MAX_ATTEMPTS).values_list(
            "channel_id", "order_ref"
        )
    )
    delivered = delivered_times(orders=orders)
    for (channel_id, ref), channel in sorted(orders.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        if (channel_id, ref) in done or (channel_id, ref) not in delivered:
            continue
        if channel_id not in playbooks:
            playbooks[channel_id] = playbook_get(store=store, channel=channel)
        at = delivered[(channel_id, ref)]
        due = rules.invitation_due(at, playbooks[channel_id].review_invite_hours)
        if now < due:
            result.not_due += 1
            continue
        if _invite_order(actor, store, channel, ref, at, due, now, playbooks[channel_id]):
            result.sent += 1
        else:
            result.failed += 1


def _invite_order(
    actor: Actor,
    store: Store,
    channel: Channel,
    order_ref: str,
    delivered_at: dt.datetime,
    due: dt.datetime,
    now: dt.datetime,
    book: PlaybookSettings,
) -> bool:
    template = _reward_template(store, channel, book)
    with transaction.atomic():
        try:
            with transaction.atomic():
                invitation, _created = ReviewInvitation.objects.select_for_update().get_or_create(
                    channel=channel,
                    order_ref=order_ref,
                    defaults={
                        "store": store,
                        "delivered_at": delivered_at,
                        "due_at": due,
                        # the order's phone; for an order StoreOps does not hold (e.g. shipped
                        # for a marketplace order that was not imported) the order reference,
                        # which a marketplace in-app message notifier can address
                        "recipient": (
                            order_selectors.customer_phone(channel_id=channel.pk, number=order_ref)
                            or f"order:{order_ref}"
                        )[:100],
                        "text": _invitation_text(order_ref, template, book.nps_survey_url),
                        "coupon_promised": template is not None,
                        "coupon_template_id": template.pk if template is not None else None,
                    },
                )
        except IntegrityError:  # a concurrent sweep created it first
            return False
        if invitation.sent_at is not None or invitation.attempts >= INVITATION_MAX_ATTEMPTS:
            return False
        ok = _send_invitation(invitation)
        invitation.attempts += 1
        if ok:
            invitation.sent_at = now
        invitation.save(update_fields=["attempts", "sent_at"])
        audit_record(
            actor=actor,
            action="review_invitation.send",
            obj=invitation,
            store_id=store.pk,
            after={
                "order_ref": order_ref,
                "ok": ok,
                "attempts": invitation.attempts,
                "coupon": invitation.coupon_promised,
            },
        )
    return ok
