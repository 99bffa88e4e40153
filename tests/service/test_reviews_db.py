"""Reviews and review invitations (LOG-02): invitation exactly review_invite_hours after the
order is delivered, never before, never twice; the photo-review reward coupon."""

from __future__ import annotations

import pytest

from storeops.promotions import services as prs
from storeops.promotions.selectors import coupon_list
from storeops.service import services
from storeops.service.models import ReviewInvitation, ServiceNotification
from storeops.stores import services as st
from tests.fulfilment.builders import a_carrier, a_shipment, scan
from tests.fulfilment.builders import at as f_at
from tests.service.builders import ACTOR

pytestmark = pytest.mark.django_db


class Recorder:
    sent: list[dict] = []

    def send(self, *, phone: str, channel: str, text: str) -> bool:
        Recorder.sent.append({"phone": phone, "channel": channel, "text": text})
        return True


class Broken:
    def send(self, *, phone: str, channel: str, text: str) -> bool:
        raise RuntimeError("gateway down")


@pytest.fixture
def outbox(settings):
    Recorder.sent = []
    settings.STOREOPS_CUSTOMER_NOTIFIERS = ["tests.service.test_reviews_db.Recorder"]
    return Recorder.sent


def _delivered(store, channel, tracking_no, deliver_h=20):
    shipment = a_shipment(store, channel, tracking_no, carrier=a_carrier())
    scan(shipment, (1, "已揽收"), (deliver_h, "已签收"))
    return shipment


def test_log_02_invitation_is_sent_24_hours_after_delivery_not_before_and_never_twice(store, channel, outbox):
    # given an order delivered at +20 h
    _delivered(store, channel, "SF1")
    # when the sweep runs one minute before 24 h have passed
    early = services.review_invitations_send(actor=ACTOR, now=f_at(20 + 24 - 1 / 60))
    assert (early.sent, early.not_due, outbox) == (0, 1, [])
    # when it runs exactly 24 h after delivery
    due = services.review_invitations_send(actor=ACTOR, now=f_at(44))
    # then one invitation went out, recorded with its due time
    assert due.sent == 1
    invitation = ReviewInvitation.objects.get()
    assert (invitation.order_ref, invitation.due_at, invitation.sent_at) == ("O-SF1", f_at(44), f_at(44))
    assert outbox == [{"phone": "order:O-SF1", "channel": "message", "text": invitation.text}]
    # when the sweep runs again (and later), then nothing more is sent
    services.review_invitations_send(actor=ACTOR, now=f_at(45))
    services.review_invitations_send(actor=ACTOR, now=f_at(100))
    assert len(outbox) == 1
    assert ReviewInvitation.objects.count() == 1


def test_log_02_no_coupon_promise_without_a_configured_reward(store, channel, outbox):
    _delivered(store, channel, "SF2")
    services.review_invitations_send(actor=ACTOR, now=f_at(50))
    invitation = ReviewInvitation.objects.get()
    assert invitation.coupon_promised is False
    assert "券" not in invitation.text


def test_log_02_invitation_promises_the_configured_photo_reward(store, channel, outbox, system):
    template = prs.coupon_template_create(
        actor=system, store=store, name="5元无门槛券", kind="no_threshold", amount="5"
    )
    st.playbook_update(actor=system, store=store, values={"review_reward_coupon_template": template.pk})
    _delivered(store, channel, "SF3")
    services.review_invitations_send(actor=ACTOR, now=f_at(50))
    invitation = ReviewInvitation.objects.get()
    assert invitation.coupon_promised is True
    assert "晒图评价送5元无门槛券" in invitation.text


def test_log_02_the_delay_follows_the_playbook_and_undelivered_orders_wait(store, channel, outbox, system):
    st.playbook_update(actor=system, store=store, values={"review_invite_hours": 48})
    _delivered(store, channel, "SF4")
    a_shipment(store, channel, "SF5", carrier=a_carrier())  # never delivered
    assert services.review_invitations_send(actor=ACTOR, now=f_at(50)).sent == 0
    assert services.review_invitations_send(actor=ACTOR, now=f_at(68)).sent == 1
    assert list(ReviewInvitation.objects.values_list("order_ref", flat=True)) == ["O-SF4"]


def test_log_02_a_failed_send_is_recorded_and_retried(store, channel, settings):
    settings.STOREOPS_CUSTOMER_NOTIFIERS = ["tests.service.test_reviews_db.Broken"]
    _delivered(store, channel, "SF6")
    result = services.review_invitations_send(actor=ACTOR, now=f_at(50))
    assert (result.sent, result.failed) == (0, 1)
    invitation = ReviewInvitation.objects.get()
    assert (invitation.sent_at, invitation.attempts) == (None, 1)
    assert ServiceNotification.objects.get().error == "gateway down"
    settings.STOREOPS_CUSTOMER_NOTIFIERS = ["tests.service.test_reviews_db.Recorder"]
    Recorder.sent = []
    assert services.review_invitations_send(actor=ACTOR, now=f_at(51)).sent == 1
    assert len(Recorder.sent) == 1


def test_log_02_review_with_photos_earns_the_reward_once_per_order(store, channel, system):
    template = prs.coupon_template_create(
        actor=system, store=store, name="5元无门槛券", kind="no_threshold", amount="5", per_user_limit=5
    )
    st.playbook_update(actor=system, store=store, values={"review_reward_coupon_template": template.pk})
    photo = ["https://img.example.com/1.jpg"]
    first = services.review_create(
        actor=ACTOR,
        store=store,
        channel=channel,
        order_ref="O-1",
        sku_code="S1",
        customer_ref="c1",
        rating=5,
        text="好看",
        images=photo,
    )
    second = services.review_create(
        actor=ACTOR,
        store=store,
        channel=channel,
        order_ref="O-1",
        sku_code="S2",
        customer_ref="c1",
        rating=4,
        images=photo,
    )
    plain = services.review_create(
        actor=ACTOR,
        store=store,
        channel=channel,
        order_ref="O-2",
        sku_code="S1",
        customer_ref="c1",
        rating=5,
        text="好",
    )
    assert first.reward_coupon
    assert not plain.reward_coupon
    assert second.reward_coupon == ""
    assert second.reward_note == "本次已发放过"
    assert [c.code for c in coupon_list(store=store, customer_ref="c1")] == [first.reward_coupon]


def test_log_02_no_reward_when_none_is_configured(store, channel):
    review = services.review_create(
        actor=ACTOR,
        store=store,
        channel=channel,
        order_ref="O-1",
        sku_code="S1",
        customer_ref="c1",
        rating=5,
        images=["https://img.example.com/1.jpg"],
    )
    assert (review.reward_coupon, list(coupon_list(store=store))) == ("", [])


def test_log_02_invitation_for_a_storeops_order_goes_to_the_buyers_phone(store, channel, outbox):
    from storeops.fulfilment.models import Shipment
    from tests.aftersales.builders import shipped_order
    from tests.orders.builders import World

    # given a web-shop order shipped through StoreOps and signed for at +20 h
    order = shipped_order(World(store, channel), 1)
    scan(Shipment.objects.get(order_ref=order.number), (1, "已揽收"), (20, "已签收"))
    # when the sweep runs 24 h later, the invitation goes to the buyer's phone
    assert services.review_invitations_send(actor=ACTOR, now=f_at(44)).sent == 1
    assert [m["phone"] for m in outbox] == [order.phone]
    # and the notification log keeps the phone masked
    note = ServiceNotification.objects.get()
    assert note.recipient == order.phone[:3] + "****" + order.phone[-4:]
