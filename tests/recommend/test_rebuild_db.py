"""REC-01 in the product: the neighbour table learnt from paid orders, rebuilt atomically by the
service, the nightly task and the CLI."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from storeops.audit.models import AuditEntry
from storeops.orders import services as order_services
from storeops.promotions.services import CartItem, Shopper
from storeops.recommend import selectors, services, tasks
from storeops.recommend.models import BuildStatus, ItemNeighbour, NeighbourBuild
from storeops.recommend.rules import Interaction, Kind
from storeops.stores import services as store_services
from tests.orders.builders import ADDRESS
from tests.recommend.builders import ACTOR, Shop


@pytest.fixture
def shop(store, channel):
    return Shop(store, channel)


def _codes(store, product, kind):
    return [n.neighbour.code for n in selectors.neighbours_of(store=store, product_id=product.pk, kind=kind)]


def test_rec_01_rebuild_learns_complements_and_similar_products_from_paid_orders(shop, store):
    # given paid orders: coffee machine M1 with beans three times, M1 and M2 bought by the same customers
    shop.history()
    # when the table is rebuilt
    build = services.neighbours_rebuild(actor=ACTOR, store=store)
    # then the machine's complement is the beans and its similar product the other machine
    m1, y1, l1 = shop.products["M1"], shop.products["Y1"], shop.products["L1"]
    assert _codes(store, m1, "complementary") == ["B1"]
    assert _codes(store, m1, "similar") == ["M2"]
    assert _codes(store, y1, "complementary") == ["W1"]  # yoga mat → yoga wear
    assert _codes(store, l1, "complementary") == ["R1"]
    # M2 was bought with beans only once (< min support 2): not a complement
    assert _codes(store, shop.products["M2"], "complementary") == []
    row = selectors.neighbours_of(store=store, product_id=m1.pk, kind="complementary")[0]
    assert (row.support, row.rank, row.built_at) == (3, 1, build.built_at)
    # and the build records what it learnt from
    assert (build.status, build.baskets, build.products) == (BuildStatus.CURRENT, 10, 7)
    assert build.settings["min_support"] == 2
    assert AuditEntry.objects.filter(action="recommend.rebuild", object_id=str(build.pk)).exists()


def test_rec_01_unpaid_cancelled_and_old_orders_are_not_learnt(shop, store):
    # given machine+beans orders that were never paid, paid then cancelled, or paid too long ago
    for customer in ("c5", "c6"):
        order_services.order_place(
            actor=ACTOR,
            store=store,
            channel=shop.channel,
            customer=Shopper(customer_ref=customer),
            lines=[CartItem("M1-S", 1), CartItem("B1-S", 1)],
            address=ADDRESS,
        )
    old = timezone.now() - dt.timedelta(days=400)
    shop.paid("c1", "M1", "B1", at=old)
    shop.paid("c2", "M1", "B1", at=old)
    for customer in ("c3", "c4"):
        order = shop.paid(customer, "Y1", "W1")
        order_services.order_cancel(actor=ACTOR, order=order, reason="顾客取消")
    # when rebuilt (history: the playbook's 180 days)
    build = services.neighbours_rebuild(actor=ACTOR, store=store)
    # then nothing was learnt
    assert (build.baskets, build.complementary_rows, build.similar_rows) == (0, 0, 0)
    # while a longer history finds the old orders
    store_services.playbook_update(actor=ACTOR, store=store, values={"rec_history_days": 500})
    services.neighbours_rebuild(actor=ACTOR, store=store)
    assert _codes(store, shop.products["M1"], "complementary") == ["B1"]


def test_rec_01_k_and_min_support_are_playbook_settings(shop, store):
    shop.history()
    store_services.playbook_update(actor=ACTOR, store=store, values={"rec_min_support": 3})
    services.neighbours_rebuild(actor=ACTOR, store=store)
    # only M1-B1 was bought together three times
    assert _codes(store, shop.products["M1"], "complementary") == ["B1"]
    assert _codes(store, shop.products["Y1"], "complementary") == []
    store_services.playbook_update(
        actor=ACTOR, store=store, values={"rec_min_support": 1, "rec_neighbours_k": 1}
    )
    services.neighbours_rebuild(actor=ACTOR, store=store)
    # B1 now has two complements (M1, M2) but K = 1 keeps the best
    assert _codes(store, shop.products["B1"], "complementary") == ["M1"]


def test_rec_01_a_rebuild_replaces_the_table_and_readers_never_see_half_of_one(shop, store, monkeypatch):
    # given a current table
    shop.history()
    first = services.neighbours_rebuild(actor=ACTOR, store=store)
    before = _codes(store, shop.products["M1"], "complementary")
    # when a second rebuild writes its rows one per transaction, and a reader looks in between
    shop.paid("c9", "M1", "W1")
    shop.paid("c10", "M1", "W1")
    monkeypatch.setattr(services, "BATCH", 1)
    seen = []
    real = ItemNeighbour.objects.bulk_create

    def spy(rows, *args, **kwargs):
        created = real(rows, *args, **kwargs)
        seen.append(_codes(store, shop.products["M1"], "complementary"))
        return created

    monkeypatch.setattr(ItemNeighbour.objects, "bulk_create", spy)
    second = services.neighbours_rebuild(actor=ACTOR, store=store)
    # then every reader saw the whole old table while the new one was written ...
    assert len(seen) > 1
    assert all(codes == before for codes in seen)
    # ... and now sees the whole new one; the old build is superseded and its rows gone
    assert _codes(store, shop.products["M1"], "complementary") == ["B1", "W1"]
    first.refresh_from_db()
    assert (first.status, second.status) == (BuildStatus.SUPERSEDED, BuildStatus.CURRENT)
    assert not ItemNeighbour.objects.filter(build=first).exists()
    assert NeighbourBuild.objects.filter(store=store, status=BuildStatus.CURRENT).count() == 1


def test_rec_01_a_failed_rebuild_keeps_the_current_table(shop, store):
    shop.history()
    services.neighbours_rebuild(actor=ACTOR, store=store)

    def broken():
        yield Interaction("c1", shop.pk("M1"), Kind.BUY, basket="x")
        raise RuntimeError("event stream lost")

    with pytest.raises(RuntimeError):
        services.neighbours_rebuild(actor=ACTOR, store=store, interactions=broken())
    failed = NeighbourBuild.objects.get(status=BuildStatus.FAILED)
    assert "event stream lost" in failed.error
    assert _codes(store, shop.products["M1"], "complementary") == ["B1"]


def test_rec_01_any_interaction_stream_can_feed_the_table(shop, store):
    # given browsing events (views and carts of another stream, e.g. a behaviour app) and a
    # product id that is not the store's
    m1, m2, w1 = shop.pk("M1"), shop.pk("M2"), shop.pk("W1")
    events = [Interaction(f"v{n}", item, Kind.VIEW) for n in range(3) for item in (m1, m2)]
    events += [Interaction("v1", 999_999, Kind.CART), Interaction("v1", w1, Kind.CART)]
    # when the table is built from them
    build = services.neighbours_rebuild(actor=ACTOR, store=store, interactions=events)
    # then co-viewed machines are similar; nothing is bought together
    assert _codes(store, shop.products["M1"], "similar") == ["M2"]
    assert (build.complementary_rows, build.users) == (0, 3)


def test_rec_01_nightly_task_and_cli_rebuild_every_store(shop, store, capsys):
    shop.history()
    assert tasks.rebuild_neighbours.call_local() == 1
    assert _codes(store, shop.products["M1"], "complementary") == ["B1"]
    call_command("recommend", "rebuild", "--store", store.code)
    assert "complementary" in capsys.readouterr().out
    assert NeighbourBuild.objects.filter(store=store).values_list("via", flat=True).distinct().count() == 2
