"""SOP PROMO-02: a single-use coupon is redeemed exactly once, even by concurrent checkouts.

Real threads, each with its own database connection, on SQLite (CI default) and PostgreSQL
(``DATABASE_URL``).
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from storeops.core.errors import Conflict
from storeops.promotions import services
from storeops.promotions.models import IssuedCoupon
from tests.catalog.db_builders import ACTOR

THREADS = 20


@pytest.mark.django_db(transaction=True)
def test_promo_02_twenty_concurrent_redemptions_of_one_coupon_succeed_exactly_once(store):
    # given one single-use coupon held by customer c1
    template = services.coupon_template_create(
        actor=ACTOR, store=store, name="满200减30", kind="store_threshold", threshold="200", amount="30"
    )
    code = services.coupon_issue(actor=ACTOR, template=template, customer_ref="c1").code
    barrier = threading.Barrier(THREADS)
    wins: list[str] = []
    refusals: list[Conflict] = []
    others: list[BaseException] = []
    lock = threading.Lock()

    def checkout(n: int) -> None:
        try:
            barrier.wait()
            services.coupon_redeem(actor=ACTOR, coupon_code=code, customer="c1", order_ref=f"SO{n:03d}")
        except Conflict as exc:
            with lock:
                refusals.append(exc)
        except BaseException as exc:
            with lock:
                others.append(exc)
        else:
            with lock:
                wins.append(f"SO{n:03d}")
        finally:
            connection.close()

    # when 20 checkouts redeem it at the same moment
    threads = [threading.Thread(target=checkout, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    # then exactly one succeeds and the other 19 get a clear Chinese conflict
    assert others == []
    assert len(wins) == 1
    assert len(refusals) == THREADS - 1
    assert {r.code for r in refusals} == {"coupon_already_redeemed"}
    assert all(str(r.message).startswith("优惠券已被使用") for r in refusals)
    row = IssuedCoupon.objects.get(code=code)
    assert (row.status, row.order_ref) == ("redeemed", wins[0])
