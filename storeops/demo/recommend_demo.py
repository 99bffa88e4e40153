"""Demo recommendations (REC-01): the similar/complementary table learnt from the demo's paid
orders, so the recommendation page and the add-on API have something to show at once."""

from __future__ import annotations

from storeops.core.context import Actor
from storeops.recommend.services import neighbours_rebuild
from storeops.stores.models import Store


def load_recommend_demo(*, store: Store, actor: Actor) -> None:
    neighbours_rebuild(actor=actor, store=store)
