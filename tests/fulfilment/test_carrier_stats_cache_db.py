"""LOG-03: the carrier statistics are read through Django's cache, keyed by the store's
statistics version. A write through the services (new shipment, tracking events) renews the
version after its commit, so the suggestion changes; carrier rules are read on every call.
Writes run inside ``django_capture_on_commit_callbacks(execute=True)``: a test's transaction
never commits, so without it no version is made and the statistics are read uncached."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from storeops.fulfilment import selectors, services
from storeops.fulfilment.models import CarrierStatsVersion, Shipment
from tests.fulfilment.builders import ACTOR, a_carrier, a_shipment, delivered, scan

pytestmark = pytest.mark.django_db

RECENT = timezone.now() - dt.timedelta(days=3)


@pytest.fixture
def stats_world(store, channel, django_capture_on_commit_callbacks):
    """SF (24 h, 20.00) and ZTO (48 h, 10.00), three deliveries each to Zhejiang: SF is best."""
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(3):
            for code, hours, cost in (("SF", 24, "20.00"), ("ZTO", 48, "10.00")):
                delivered(
                    store,
                    channel,
                    f"{code}-C{i}",
                    carrier=a_carrier(code),
                    pickup_h=1,
                    deliver_h=1 + hours,
                    cost=cost,
                    created_at=RECENT,
                )
    return store


def _suggest(store):
    stats = selectors.carrier_stats_cached(store=store)
    return selectors.carrier_suggest(store=store, province="浙江省", weight_kg=Decimal("1"), stats=stats)


def _token(store) -> str:
    return CarrierStatsVersion.objects.get(store=store).token


def test_log_03_cached_statistics_are_served_until_the_version_changes(stats_world, channel):
    store = stats_world
    first = _suggest(store)
    assert first.best_code == "SF"
    # a row written past the services (no new version) is not seen: the figures came from the cache
    Shipment.objects.filter(tracking_no="SF-C0").update(shipping_cost=Decimal("500.00"))
    assert _suggest(store).best.estimated_cost == first.best.estimated_cost
    # the same statistics as computed without the cache
    uncached = selectors.carrier_suggest(
        store=store,
        province="浙江省",
        weight_kg=Decimal("1"),
        since=selectors.carrier_stats_since(store=store),
    )
    assert uncached.best.estimated_cost != first.best.estimated_cost  # it reads the 500.00


def test_log_03_cache_renewed_by_a_new_shipment_so_the_suggestion_changes(
    stats_world, channel, django_capture_on_commit_callbacks
):
    store = stats_world
    before, token = _suggest(store), _token(store)
    assert before.best_code == "SF"
    assert before.best.estimated_cost == Decimal("20.00")
    with django_capture_on_commit_callbacks(execute=True):
        a_shipment(store, channel, "SF-NEW", carrier=a_carrier("SF"), cost="80.00", created_at=RECENT)
    assert _token(store) != token
    after = _suggest(store)
    sf = next(s for s in after.ranked if s.carrier_code == "SF")
    assert sf.estimated_cost == Decimal("35.00")  # (3 × 20 + 80) / 4
    assert after.best_code == "ZTO"  # SF is now dearer


def test_log_03_cache_renewed_by_tracking_events_so_the_suggestion_changes(
    stats_world, channel, django_capture_on_commit_callbacks
):
    store = stats_world
    with django_capture_on_commit_callbacks(execute=True):
        slow = a_shipment(store, channel, "SF-SLOW", carrier=a_carrier("SF"), cost="20.00", created_at=RECENT)
    before, token = _suggest(store), _token(store)
    assert before.best_code == "SF"
    with django_capture_on_commit_callbacks(execute=True):
        scan(slow, (1, "已揽收"), (400, "已签收"))  # 399 h: SF's P90 jumps
    assert _token(store) != token
    after = _suggest(store)
    sf = next(s for s in after.ranked if s.carrier_code == "SF")
    assert sf.estimated_hours > before.best.estimated_hours
    assert after.best_code == "ZTO"


def test_log_03_rule_change_applies_at_once_with_the_cache_warm(stats_world):
    store = stats_world
    assert _suggest(store).best_code == "SF"
    services.carrier_rule_set(actor=ACTOR, store=store, carrier=a_carrier("SF"), excluded_provinces=["浙江"])
    after = _suggest(store)
    assert after.best_code == "ZTO"
    assert "SF" in after.excluded_reasons()


def test_log_03_statistics_changed_in_an_open_transaction_are_read_past_the_cache(stats_world, channel):
    store = stats_world
    _suggest(store)  # warm
    with transaction.atomic():
        a_shipment(store, channel, "SF-TX", carrier=a_carrier("SF"), cost="80.00", created_at=RECENT)
        inside = _suggest(store)
        sf = next(s for s in inside.ranked if s.carrier_code == "SF")
        assert sf.estimated_cost == Decimal("35.00")  # its own uncommitted parcel counts
        transaction.set_rollback(True)
    # rolled back: nothing of it was cached
    sf = next(s for s in _suggest(store).ranked if s.carrier_code == "SF")
    assert sf.estimated_cost == Decimal("20.00")


def test_log_03_no_version_yet_reads_without_the_cache(store, channel):
    a_shipment(store, channel, "SF-1", carrier=a_carrier("SF"), created_at=RECENT)  # never committed
    assert not CarrierStatsVersion.objects.filter(store=store).exists()
    assert selectors.carrier_stats_cached(store=store).overall[0].shipments == 1
    a_shipment(store, channel, "SF-2", carrier=a_carrier("SF"), created_at=RECENT)
    assert selectors.carrier_stats_cached(store=store).overall[0].shipments == 2


def test_log_03_window_start_is_rounded_to_the_cache_bucket():
    start = dt.datetime(2026, 9, 9, 10, 17, 31, tzinfo=dt.UTC)
    assert selectors.carrier_stats_bucket(start) == dt.datetime(2026, 9, 9, 10, 10, tzinfo=dt.UTC)
