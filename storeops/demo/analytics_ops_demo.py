"""Demo rows for MEM-04 / DATA-06: yesterday's and today's customer segment snapshots of the demo orders and
yesterday's daily operations report (not sent: the demo has no mailbox)."""

from __future__ import annotations

import datetime as dt

from storeops.analytics import services as analytics
from storeops.core.context import Actor
from storeops.stores.models import Store


def load_segments_and_reports_demo(*, store: Store, today: dt.date, actor: Actor) -> None:
    analytics.segments_snapshot(actor=actor, store=store, day=today - dt.timedelta(days=1))
    analytics.segments_snapshot(actor=actor, store=store, day=today)
    analytics.report_generate(actor=actor, store=store, kind="daily", day=today, notify=False)
