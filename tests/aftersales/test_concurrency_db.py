"""AS-04: concurrent requests cannot ask for (and so refund) more units than were bought.

Real threads, each with its own database connection (SQLite by default, PostgreSQL with
``DATABASE_URL``): the order row is locked while a case is validated and written."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from storeops.aftersales import services
from storeops.aftersales.models import AfterSale
from storeops.core.errors import ValidationError
from tests.aftersales.builders import ASKED, delivered_order
from tests.orders.builders import ACTOR, World

THREADS = 6


@pytest.mark.django_db(transaction=True)
def test_as_04_concurrent_requests_for_the_last_units_open_only_what_was_bought(store, channel):
    # given a delivered order of 2 units
    order = delivered_order(World(store, channel), 2)
    line_id = order.lines.get().pk
    barrier = threading.Barrier(THREADS)
    wins: list[str] = []
    refusals: list[ValidationError] = []
    others: list[BaseException] = []
    lock = threading.Lock()

    def ask() -> None:
        try:
            barrier.wait()
            case = services.case_request(
                actor=ACTOR, order=order, kind="return", reason="no_reason", units={line_id: 1}, now=ASKED
            )
        except ValidationError as exc:
            with lock:
                refusals.append(exc)
        except BaseException as exc:
            with lock:
                others.append(exc)
        else:
            with lock:
                wins.append(case.number)
        finally:
            connection.close()

    # when 6 customers' retries each ask for one unit at the same moment
    threads = [threading.Thread(target=ask) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    # then exactly two cases open and the others are told how many are left
    assert others == []
    assert len(wins) == 2
    assert len(refusals) == THREADS - 2
    assert AfterSale.objects.count() == 2
    assert all(r.fields == {f"lines.{line_id}": "最多可申请 0 件"} for r in refusals)
