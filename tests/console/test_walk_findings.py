"""What a walk through the console as each role, in Chinese and in English, found: a link a
page offers opens for the role that sees it (no 403 behind it), offers are named in the
reader's language wherever the console lists them (they have an English title), and a list
that only grows is paged."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import translation

from storeops.accounts.roles import Role
from storeops.console.views import PAGE_SIZE
from storeops.marketing import services as mks
from storeops.orders import services as svc
from storeops.orders.groups import GroupRequest
from storeops.orders.models import Order, OrderImport
from storeops.promotions import services as prs
from storeops.promotions.services import CartItem, Shopper
from tests.fulfilment.builders import a_shipment, at
from tests.orders.builders import ACTOR, ADDRESS, T0, World
from tests.orders.import_files import TMALL_HEADER, csv_bytes, tmall_rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(store, channel):
    return World(store, channel)


@pytest.fixture
def group_offer(world):
    made = prs.offer_create(
        actor=ACTOR,
        store=world.store,
        kind="group_buy",
        params={"price": "70.00", "group_size": 2, "time_limit_hours": 24},
        product_ids=[world.sku_s.product_id],
        title_zh="三人团",
        title_en="Group of three",
    )
    return prs.offer_set_status(actor=ACTOR, offer=made, status="active")


def _client(make_user, role: Role, language: str = "zh-hans", username: str | None = None) -> Client:
    user = make_user(role, username)
    client = Client()
    client.force_login(user)
    if language != "zh-hans":
        assert client.post("/language/", {"language": language}).status_code == 302
    return client


def _offer_link(offer) -> str:
    return f'href="/promotions/offers/{offer.pk}/"'


@pytest.mark.parametrize(
    ("role", "linked"), [(Role.OPERATIONS, True), (Role.CUSTOMER_SERVICE, False), (Role.WAREHOUSE, False)]
)
def test_the_group_buy_list_links_its_offer_only_for_a_role_that_may_open_offers(
    world, group_offer, make_user, role, linked
):
    svc.order_place(
        actor=ACTOR,
        store=world.store,
        channel=world.channel,
        customer=Shopper(customer_ref="leader"),
        lines=[CartItem("P1-S", 1)],
        address=ADDRESS,
        group=GroupRequest(offer_id=group_offer.pk),
        now=T0,
    )
    client = _client(make_user, role)
    page = client.get("/orders/groups/").content.decode()
    assert "三人团" in page  # the offer is still named
    assert (_offer_link(group_offer) in page) is linked
    assert client.get(f"/promotions/offers/{group_offer.pk}/").status_code == (200 if linked else 403)


@pytest.mark.parametrize(
    ("role", "linked"), [(Role.OPERATIONS, True), (Role.MARKETING, False), (Role.WAREHOUSE, False)]
)
def test_the_product_page_links_a_sku_to_the_price_suggester_only_for_a_role_that_may_open_it(
    world, make_user, role, linked
):
    client = _client(make_user, role)
    page = client.get(f"/catalog/products/{world.sku_s.product_id}/").content.decode()
    assert "P1-S" in page
    assert ('href="/pricing/suggester/?sku=P1-S"' in page) is linked
    assert client.get("/pricing/suggester/?sku=P1-S").status_code == (200 if linked else 403)


def test_the_campaign_form_and_page_name_offers_in_english_for_an_english_reader(
    world, group_offer, make_user
):
    campaign = mks.campaign_create(
        actor=ACTOR,
        store=world.store,
        theme="双十二",
        kind="regular",
        starts_on=dt.date(2026, 12, 10),
        ends_on=dt.date(2026, 12, 12),
        offer_ids=[group_offer.pk],
    )
    english = _client(make_user, Role.MARKETING, "en")
    form = english.get("/marketing/campaigns/new/").content.decode()
    assert f"#{group_offer.pk} Group of three" in form
    assert "三人团" not in form
    page = english.get(f"/marketing/campaigns/{campaign.pk}/").content.decode()
    assert "Group of three" in page
    assert "三人团" not in page
    chinese = _client(make_user, Role.OWNER)
    assert f"#{group_offer.pk} 三人团" in chinese.get("/marketing/campaigns/new/").content.decode()
    assert "三人团" in chinese.get(f"/marketing/campaigns/{campaign.pk}/").content.decode()


def test_the_logistics_exception_list_is_paged_and_its_export_keeps_every_parcel(store, channel, make_user):
    # returned and lost parcels stay on the list for good: it grew without bound on one page
    for i in range(PAGE_SIZE + 2):
        a_shipment(store, channel, f"X{i:03d}", created_at=at(-1000 + i))
    client = _client(make_user, Role.WAREHOUSE)
    first = client.get("/fulfilment/exceptions/").content.decode()
    assert first.count("<td>X0") == PAGE_SIZE
    assert "X000" in first
    assert f"X{PAGE_SIZE:03d}" not in first
    assert "?&page=2" in first
    second = client.get("/fulfilment/exceptions/?page=2").content.decode()
    assert second.count("<td>X0") == 2
    assert f"X{PAGE_SIZE + 1:03d}" in second
    export = client.get("/fulfilment/exceptions/?format=csv").content.decode("utf-8-sig").splitlines()
    assert len(export) == PAGE_SIZE + 3  # the header and every parcel


def test_a_refused_order_import_shows_the_form_again_with_the_channel_and_dry_run_as_chosen(world, make_user):
    # a refusal redirected to an empty form: channel, mapping and dry run had to be picked again
    client = _client(make_user, Role.OPERATIONS)
    selected = f'<option value="{world.channel.pk}" selected>'
    checked = 'name="dry_run" value="1" checked'
    rows = [r[:] for r in tmall_rows()]
    rows[0][6] = "NOPE-1"  # an unknown merchant SKU code: a dry run's row error
    refusals = [
        {"channel": world.channel.pk, "dry_run": "1"},  # no file
        {"channel": world.channel.pk, "dry_run": "1", "file": SimpleUploadedFile("x.csv", b"a,b\n1,2\n")},
        {
            "channel": world.channel.pk,
            "dry_run": "1",
            "file": SimpleUploadedFile("t.csv", csv_bytes(TMALL_HEADER, rows)),
        },
    ]
    for data in refusals:
        response = client.post("/orders/imports/upload/", data)
        assert response.status_code == 422
        html = response.content.decode()
        assert selected in html
        assert checked in html
        assert list(response.context["messages"])
    assert not Order.objects.exists()
    assert not OrderImport.objects.exists()
    plain = client.get("/orders/imports/").content.decode()
    assert selected not in plain
    assert checked not in plain


def always_risky(_signals) -> int:
    return 100


def test_an_automatic_review_held_for_two_reasons_lists_them_in_the_readers_language(
    world, make_user, settings
):
    # the reasons were joined with "、" whatever the reader's language
    settings.STOREOPS_FRAUD_SCORER = f"{__name__}.always_risky"
    bad_phone = svc.AddressIn(
        receiver="李四", phone="123", province="浙江省", city="杭州市", address="文一路200号"
    )
    order = world.place(1, address=bad_phone)
    world.pay(order)
    client = _client(make_user, Role.OPERATIONS, "en")
    response = client.post(f"/orders/{order.pk}/review/", {"decision": "auto"}, follow=True)
    notes = " ".join(str(m) for m in response.context["messages"])
    assert "Address problem, Risky order" in notes
    assert "、" not in notes


def test_a_persona_lists_its_categories_and_regions_with_the_readers_separator():
    from decimal import Decimal

    from storeops.analytics.segments import PersonaView
    from storeops.console.segments_views import _persona_rows

    persona = PersonaView(
        subject="new", customers=2, orders=3, paid=Decimal("300"), orders_per_month=None, aov=None,
        discount_depth=None, discounted_share=None, price_sensitive=None,
        categories=[("瑜伽", Decimal("0.6")), ("咖啡", Decimal("0.4"))],
        regions=[("浙江省 杭州市", Decimal("0.5")), ("北京市 北京市", Decimal("0.5"))],
        segment="", rfm="", since=dt.date(2026, 11, 1), until=dt.date(2026, 11, 30),
    )  # fmt: skip
    with translation.override("en"):
        rows = _persona_rows(persona)
    assert rows["categories"] == "瑜伽 60.0%, 咖啡 40.0%"  # was "瑜伽 60.0%、咖啡 40.0%"
    assert rows["regions"] == "浙江省 杭州市 50.0%, 北京市 北京市 50.0%"
    with translation.override("zh-hans"):
        assert _persona_rows(persona)["categories"] == "瑜伽 60.0%、咖啡 40.0%"


def test_an_imported_orders_timeline_names_its_events_instead_of_their_codes(store, channel, make_user):
    World(store, channel, stock_sh=0, stock_gz=0)  # the SKUs of the file, no stock to hold
    client = _client(make_user, Role.OPERATIONS)
    upload = SimpleUploadedFile("tmall.csv", csv_bytes(TMALL_HEADER, tmall_rows()), content_type="text/csv")
    assert client.post("/orders/imports/upload/", {"channel": channel.pk, "file": upload}).status_code == 302
    order = Order.objects.order_by("pk").first()
    page = client.get(f"/orders/{order.pk}/").content.decode()
    assert "<td>渠道导入</td>" in page  # was "imported"
    assert "<td>缺货未预占</td>" in page  # was "stock_short"
    english = _client(make_user, Role.OWNER, "en").get(f"/orders/{order.pk}/").content.decode()
    assert "<td>Channel import</td>" in english
    assert "<td>imported</td>" not in english
    assert "<td>stock_short</td>" not in english


def test_the_operation_log_names_where_each_change_came_from(store, make_user):
    from storeops.audit.services import audit_record
    from storeops.core.context import Actor

    for via in ("task", "cli", "console", "somewhere"):
        audit_record(
            actor=Actor.system(via), action=f"x.{via}", store_id=store.pk, object_type="x", object_id=via
        )
    chinese = _client(make_user, Role.OWNER).get("/audit/").content.decode()
    for label in ("<td>定时任务</td>", "<td>命令行</td>", "<td>控制台</td>", "<td>somewhere</td>"):
        assert label in chinese  # was <td>task</td>, <td>cli</td> …
    english = _client(make_user, Role.OWNER, "en", "owner_en").get("/audit/").content.decode()
    for label in ("<td>Scheduled task</td>", "<td>Command line</td>", "<td>Console</td>"):
        assert label in english
    assert "<td>task</td>" not in english


def test_an_import_refused_counts_its_errors_in_english_singular_and_plural(world, make_user):
    rows = [r[:] for r in tmall_rows()]
    rows[0][6] = "NOPE-1"
    client = _client(make_user, Role.OPERATIONS, "en")
    upload = SimpleUploadedFile("t.csv", csv_bytes(TMALL_HEADER, rows), content_type="text/csv")
    response = client.post(
        "/orders/imports/upload/", {"channel": world.channel.pk, "file": upload}, follow=True
    )
    notes = [str(m) for m in response.context["messages"]]
    assert notes[0].startswith("1 error; no orders were imported.")  # was "1 errors"
    rows[1][6] = "NOPE-2"
    upload = SimpleUploadedFile("t.csv", csv_bytes(TMALL_HEADER, rows), content_type="text/csv")
    response = client.post(
        "/orders/imports/upload/", {"channel": world.channel.pk, "file": upload}, follow=True
    )
    assert str(next(iter(response.context["messages"]))).startswith("2 errors; no orders were imported.")
