"""Background work runs on huey with the configured storage: SQLite under STOREOPS_VAR_DIR by
default, Redis when REDIS_URL is set (CI runs the suite a second time against PostgreSQL and
Redis). The SOP checks are registered as periodic tasks."""

from __future__ import annotations

import datetime as dt
import os
import uuid
import zoneinfo
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import caches
from django.utils.module_loading import autodiscover_modules
from huey import RedisHuey, SqliteHuey
from huey.contrib.djhuey import HUEY

from storeops.backups.tasks import backup_daily
from storeops.sop.tasks import run_daily_checks, run_frequent_checks, run_hourly_checks

REDIS_URL = os.environ.get("REDIS_URL", "")
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="REDIS_URL is not set (the SQLite run)")
needs_sqlite = pytest.mark.skipif(bool(REDIS_URL), reason="REDIS_URL is set (the Redis run)")


@HUEY.task()
def multiply_for_queue_test(a: int, b: int) -> int:
    return a * b


@pytest.fixture
def queued_mode() -> Iterator[None]:
    """Tasks go through the real storage (not huey's immediate, in-memory mode)."""
    was_immediate = HUEY.immediate
    HUEY.immediate = False
    yield
    HUEY.immediate = was_immediate


def _run_one(task_id: str) -> None:
    """Dequeue until our task comes up and execute it; anything else is put back untouched."""
    others = []
    try:
        for _ in range(1000):
            task = HUEY.dequeue()
            assert task is not None, "the enqueued task was not in the queue"
            if task.id == task_id:
                HUEY.execute(task)
                return
            others.append(task)
        pytest.fail("the enqueued task was not found among 1000 queued tasks")
    finally:
        for other in others:
            HUEY.enqueue(other)


# ---- storage ---------------------------------------------------------------------------------


@needs_sqlite
def test_without_redis_huey_keeps_its_queue_in_sqlite_under_the_var_dir():
    # given the default settings (no REDIS_URL)
    var_dir = Path(os.environ.get("STOREOPS_VAR_DIR", Path.cwd() / "var")).resolve()

    # when / then
    assert type(HUEY) is SqliteHuey
    assert HUEY.name == "storeops"
    assert Path(HUEY.storage.filename) == var_dir / "huey.sqlite3"
    assert Path(HUEY.storage.filename).parent == settings.VAR_DIR


@needs_sqlite
def test_without_redis_the_cache_is_local_memory():
    # when / then
    assert settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"


@needs_redis
def test_with_redis_url_huey_is_redis_huey_on_that_server():
    # when
    kwargs = HUEY.storage.conn.connection_pool.connection_kwargs

    # then
    assert type(HUEY) is RedisHuey
    assert HUEY.name == "storeops"
    expected = settings.HUEY["url"]
    assert f"redis://{kwargs['host']}:{kwargs['port']}/{kwargs.get('db', 0)}" == expected


@needs_redis
def test_with_redis_url_the_django_cache_is_django_redis_and_keeps_values():
    # given
    cache = caches["default"]
    key = f"test-queue-{uuid.uuid4().hex}"

    # when
    cache.set(key, {"amount": "12.30", "store": "杭州旗舰店"}, timeout=30)
    stored = cache.get(key)
    cache.delete(key)

    # then
    assert settings.CACHES["default"]["BACKEND"] == "django_redis.cache.RedisCache"
    assert settings.CACHES["default"]["LOCATION"] == REDIS_URL
    assert type(cache).__module__ == "django_redis.cache"
    assert stored == {"amount": "12.30", "store": "杭州旗舰店"}
    assert cache.get(key) is None


def test_huey_is_not_in_immediate_mode_unless_asked():
    # given the suite runs without HUEY_IMMEDIATE=1 (as the Makefile and CI run it)
    assert os.environ.get("HUEY_IMMEDIATE", "0") == "0"

    # when / then
    assert HUEY.immediate is False
    assert settings.HUEY["immediate"] is False


# ---- a real round trip through the configured storage --------------------------------------


def test_a_task_goes_through_the_configured_queue_and_its_result_is_stored(queued_mode):
    # given
    result = multiply_for_queue_test(6, 7)

    # when a worker takes it from the queue and runs it
    _run_one(result.id)

    # then the result is in the result store, read once
    assert HUEY.result(result.id) == 42
    assert HUEY.result(result.id) is None


def test_a_task_enqueued_by_hand_runs_with_its_arguments(queued_mode):
    # given
    task = multiply_for_queue_test.s(-3, 5)
    HUEY.enqueue(task)

    # when
    _run_one(task.id)

    # then
    assert HUEY.result(task.id) == -15


def test_a_queued_task_is_not_run_before_a_worker_takes_it(queued_mode):
    # given
    result = multiply_for_queue_test(2, 2)

    # when nothing has dequeued it yet
    before = HUEY.result(result.id)
    _run_one(result.id)

    # then
    assert before is None
    assert HUEY.result(result.id) == 4


# ---- the schedule --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "task",
    [run_daily_checks, run_hourly_checks, run_frequent_checks, backup_daily],
    ids=["daily", "hourly", "frequent", "backup"],
)
def test_the_scheduled_jobs_are_registered_with_huey_as_periodic_tasks(task):
    # given the consumer discovers every app's tasks module (as `run_huey` does)
    autodiscover_modules("tasks")

    # when
    periodic = {type(t) for t in HUEY._registry.periodic_tasks}

    # then
    assert task.task_class in periodic
    assert HUEY._registry.string_to_task(HUEY._registry.task_to_string(task.task_class)) is task.task_class


@pytest.mark.parametrize(
    ("task", "due", "not_due"),
    [
        (run_frequent_checks, [(9, 0), (9, 5), (23, 55)], [(9, 1), (9, 4), (23, 59)]),
        (run_hourly_checks, [(0, 7), (13, 7)], [(13, 0), (13, 8)]),
        (run_daily_checks, [(6, 0)], [(6, 1), (5, 0), (18, 0)]),
        (backup_daily, [(2, 30)], [(2, 31), (14, 30)]),
    ],
    ids=["frequent", "hourly", "daily", "backup"],
)
def test_the_scheduled_jobs_fire_at_their_crontab_times(task, due, not_due):
    # given huey's clock readings on one day
    instance = task.task_class()

    # when / then
    for hour, minute in due:
        assert instance.validate_datetime(dt.datetime(2026, 3, 15, hour, minute)), (hour, minute)
    for hour, minute in not_due:
        assert not instance.validate_datetime(dt.datetime(2026, 3, 15, hour, minute)), (hour, minute)


def _consumer_clock(moment: dt.datetime) -> dt.datetime:
    """The naive timestamp huey's consumer hands to ``read_periodic`` at ``moment``: UTC when
    ``HUEY.utc`` (huey's default), the process's local time (Django sets TZ=TIME_ZONE) otherwise."""
    if HUEY.utc:
        return moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment.astimezone().replace(tzinfo=None)


@pytest.mark.parametrize(
    ("task", "hour", "minute"),
    [(run_daily_checks, 6, 0), (backup_daily, 2, 30)],
    ids=["daily-checks", "backup"],
)
def test_the_daily_jobs_fire_at_their_time_on_the_shop_clock(task, hour, minute):
    # given the moment it is hour:minute in the shop's time zone
    moment = dt.datetime(2026, 3, 15, hour, minute, tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE))

    # when the consumer asks huey which periodic tasks are due
    due = {type(t) for t in HUEY.read_periodic(_consumer_clock(moment))}

    # then
    assert task.task_class in due
