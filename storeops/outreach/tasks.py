"""Outreach jobs (huey): due and unfinished campaigns every minute; price-drop alerts to the
customers who favourited an item every 10 minutes; conversion attribution hourly. Idempotent;
they call services."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from storeops.outreach import services
from storeops.stores.selectors import store_list


@db_periodic_task(crontab(minute="*"))  # type: ignore[untyped-decorator]
@lock_task("mem-06-campaigns")  # type: ignore[untyped-decorator]
def run_campaigns() -> int:
    return services.campaigns_run_due()


@db_periodic_task(crontab(minute="*/10"))  # type: ignore[untyped-decorator]
@lock_task("mem-06-price-drops")  # type: ignore[untyped-decorator]
def price_drop_alerts() -> int:
    since = timezone.now() - dt.timedelta(days=1)
    return sum(len(services.price_drop_alerts(store=s, since=since)) for s in store_list())


@db_periodic_task(crontab(minute="20"))  # type: ignore[untyped-decorator]
@lock_task("mem-06-conversions")  # type: ignore[untyped-decorator]
def attribute_conversions() -> int:
    return sum(services.conversions_attribute(store=s) for s in store_list())
