"""Console forms to create and edit offers (SOP PROMO-01), errors next to the fields."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from storeops.accounts.roles import Role
from storeops.promotions.models import Offer
from tests.catalog.db_builders import a_dress_category

pytestmark = pytest.mark.django_db


def _client(make_user, role):
    client = Client()
    client.force_login(make_user(role))
    return client


def test_promo_01_console_creates_a_threshold_percentage_offer_on_a_category(store, make_user):
    dress = a_dress_category(store, required_qualifications=[])
    client = _client(make_user, Role.OPERATIONS)
    page = client.get("/promotions/offers/new/").content.decode()
    assert "适用类目（含下级类目）" in page
    response = client.post(
        "/promotions/offers/new/",
        {
            "kind": "threshold_percentage",
            "title_zh": "满300打9折",
            "params": '{"threshold": "300", "rate": "0.9"}',
            "category_ids": [str(dress.pk)],
            "priority": "0",
        },
    )
    offer = Offer.objects.get(title_zh="满300打9折")
    assert response.status_code == 302
    assert response["Location"] == f"/promotions/offers/{offer.pk}/"
    assert (offer.status, offer.level, offer.all_items) == ("draft", "store", False)
    assert [i.category_id for i in offer.scope_items.all()] == [dress.pk]


def test_promo_01_console_offer_form_shows_bad_params_next_to_the_field(store, make_user):
    client = _client(make_user, Role.OPERATIONS)
    refused = client.post(
        "/promotions/offers/new/", {"kind": "percentage", "params": "{rate: 0.9", "priority": "0"}
    )
    assert refused.status_code == 422  # was 200
    html = refused.content.decode()
    assert "不是合法的 JSON" in html
    html = client.post(
        "/promotions/offers/new/", {"kind": "percentage", "params": "{}", "priority": "0"}
    ).content.decode()
    assert "params.rate" in html  # the engine's parser names the missing key
    assert not Offer.objects.exists()


def test_promo_01_console_edits_an_offer(store, make_user):
    client = _client(make_user, Role.OPERATIONS)
    client.post(
        "/promotions/offers/new/", {"kind": "percentage", "params": '{"rate": "0.9"}', "priority": "0"}
    )
    offer = Offer.objects.get()
    form = client.get(f"/promotions/offers/{offer.pk}/edit/").content.decode()
    assert "0.9" in form
    response = client.post(
        f"/promotions/offers/{offer.pk}/edit/",
        {"kind": "percentage", "params": '{"rate": "0.85"}', "priority": "2", "title_zh": "全店85折"},
    )
    assert response.status_code == 302
    offer.refresh_from_db()
    assert (offer.params, offer.priority, offer.title_zh) == ({"rate": "0.85"}, 2, "全店85折")


def test_promo_01_console_offer_forms_need_the_promotion_permissions(store, make_user):
    assert _client(make_user, Role.CUSTOMER_SERVICE).get("/promotions/offers/new/").status_code == 403
    assert _client(make_user, Role.FINANCE).get("/promotions/offers/new/").status_code == 403


def test_promo_01_console_activates_pauses_and_ends_an_offer(store, make_user):
    client = _client(make_user, Role.OPERATIONS)
    client.post(
        "/promotions/offers/new/", {"kind": "percentage", "params": '{"rate": "0.9"}', "priority": "0"}
    )
    offer = Offer.objects.get()
    status_url = f"/promotions/offers/{offer.pk}/status/"
    page = client.get(f"/promotions/offers/{offer.pk}/").content.decode()
    assert 'value="active"' in page  # a draft can be activated (or ended), not paused
    assert 'value="paused"' not in page
    for status in ("active", "paused", "active", "ended"):
        response = client.post(status_url, {"status": status}, follow=True)
        offer.refresh_from_db()
        assert offer.status == status
        assert "优惠状态已改为" in response.content.decode()
    # an ended offer cannot come back: a clear message, nothing changes
    response = client.post(status_url, {"status": "active"}, follow=True)
    offer.refresh_from_db()
    assert offer.status == "ended"
    assert "不能从" in response.content.decode()
    # customer service may look but not switch offers
    cs = _client(make_user, Role.CUSTOMER_SERVICE)
    assert cs.post(status_url, {"status": "paused"}).status_code == 403


def test_promo_01_offer_and_coupon_forms_offer_every_category_of_the_store(store):
    """The category pickers listed the first 500 categories (by code): an offer or coupon could
    not be scoped to the rest, and editing one scoped to them failed."""
    from storeops.catalog.models import Category
    from storeops.console.promotions_views import CouponTemplateForm, OfferForm

    Category.objects.bulk_create(Category(store=store, code=f"c{n:04d}", name=f"类目{n}") for n in range(501))
    last = Category.objects.get(code="c0500")
    for form in (OfferForm(store=store), CouponTemplateForm(store=store)):
        choices = dict(form.fields["category_ids"].choices)
        assert len(choices) == 501
        assert last.pk in choices


def test_promo_01_an_enabled_offer_shows_running_only_between_its_dates(store, make_user, api_as):
    # an offer enabled ahead of a promotion is not running yet: the quote does not apply it,
    # so neither the console nor the API may call it 进行中 (running)
    now = timezone.now()
    windows = {
        "预热": (now + dt.timedelta(days=2), now + dt.timedelta(days=5)),
        "当前": (now - dt.timedelta(hours=1), now + dt.timedelta(days=1)),
        "过期": (now - dt.timedelta(days=3), now - dt.timedelta(days=1)),
    }
    for title, (starts, ends) in windows.items():
        Offer.objects.create(
            store=store,
            kind="percentage",
            params={"rate": "0.9"},
            all_items=True,
            title_zh=title,
            status="active",
            starts_at=starts,
            ends_at=ends,
        )
    html = _client(make_user, Role.OPERATIONS).get("/promotions/offers/").content.decode()
    rows = {title: html[html.index(title) : html.index("</tr>", html.index(title))] for title in windows}
    assert "已启用·未开始" in rows["预热"]
    assert "进行中" not in rows["预热"]
    assert "进行中" in rows["当前"]
    assert "已过期" in rows["过期"]

    listed = api_as(Role.OPERATIONS).get(f"/promotions/{store.pk}/offers").json()
    items = listed["items"] if isinstance(listed, dict) else listed
    assert {o["title_zh"]: o["phase"] for o in items} == {
        "预热": "scheduled",
        "当前": "running",
        "过期": "expired",
    }
