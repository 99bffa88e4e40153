"""Who a campaign reaches, read from the apps that know: lifecycle segments (MEM-04, the
analytics app's daily snapshot) and favourites (the behaviour app's events)."""

from __future__ import annotations

import datetime as dt

from storeops.stores.models import Store


def segment_choices() -> list[tuple[str, str]]:
    return []  # wired at the merge with the analytics segments


def segment_codes() -> set[str]:
    return {code for code, _ in segment_choices()}


def segment_customers(store: Store, code: str) -> list[str]:
    return []  # wired at the merge with the analytics segments


def favourited_by(store: Store, *, product_id: int, until: dt.datetime) -> set[str]:
    return set()  # wired at the merge with the behaviour events
