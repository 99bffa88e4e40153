"""REC-01: rebuild a store's neighbour table (similar and complementary products).

:func:`neighbours_rebuild` learns from an iterable of :class:`~storeops.recommend.rules.Interaction`.
By default that is ``selectors.training_interactions``: the store's paid orders of the last
``rec_history_days`` (one basket per order, read through ``orders.selectors.paid_basket_lines``).
Browsing events (view / fav / cart) are added by chaining them there, or a caller passes any
stream itself; the pure core weighs each kind by the playbook's ``rec_weight_*`` settings.

Atomic for readers: the rows are written under a new ``building`` build (in batches, so a
long rebuild never holds a long write transaction other writers would wait for) that no
reader looks at; one short transaction then makes it the store's ``current`` build and
retires the previous one, whose rows are deleted afterwards. A failed rebuild is recorded
(``failed``, with its error) and leaves the current table untouched.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from storeops.audit.services import audit_record
from storeops.catalog import selectors as catalog_selectors
from storeops.core.context import Actor
from storeops.recommend import rules, selectors
from storeops.recommend.models import BuildStatus, ItemNeighbour, NeighbourBuild
from storeops.stores.models import Store
from storeops.stores.selectors import playbook_get

BATCH = 5000  # rows per INSERT transaction


def neighbours_rebuild(
    *,
    actor: Actor,
    store: Store,
    interactions: Iterable[rules.Interaction] | None = None,
    now: dt.datetime | None = None,
) -> NeighbourBuild:
    """Fit the neighbours of every product and make them the store's current table."""
    now = now or timezone.now()
    playbook = playbook_get(store=store)
    policy = selectors.policy(playbook)
    if interactions is None:
        interactions = selectors.training_interactions(
            store=store, since=now - dt.timedelta(days=playbook.rec_history_days), until=now
        )
    build = NeighbourBuild.objects.create(
        store=store,
        started_at=now,
        via=actor.via,
        actor_label=actor.label[:150],
        settings={
            "k": policy.k,
            "min_support": policy.min_support,
            "shrinkage": policy.shrinkage,
            "weights": {k.value: policy.weight(k) for k in rules.Kind},
            "history_days": playbook.rec_history_days,
            "tag_boost": policy.tag_boost,
            "tag_fallback_score": policy.tag_fallback_score,
        },
    )
    clock = time.perf_counter()
    try:
        categories = catalog_selectors.product_category_ids(store=store)
        # only the store's own products (a foreign event stream may name others)
        events = [e for e in interactions if isinstance(e.item, int) and e.item in categories]
        # SEL-04: tags boost similar scores; a product without similar ones gets on-sale products
        # of its category sharing its tags
        tags: dict[int, frozenset[int]] = {}
        candidates: set[int] = set()
        if policy.tag_boost > 0 or policy.tag_fallback_score > 0:
            tags = catalog_selectors.product_tag_ids(store=store)
            candidates = (
                catalog_selectors.live_product_ids(store=store) if policy.tag_fallback_score > 0 else set()
            )
        fitted = rules.fit(events, categories, policy, tags=tags, candidates=candidates)
        built_at = timezone.now()
        rows = [
            ItemNeighbour(
                build=build,
                store=store,
                product_id=int(n.item),
                neighbour_id=int(n.neighbour),
                kind=n.relation.value,
                score=n.score,
                support=n.support,
                rank=n.rank,
                built_at=built_at,
            )
            for n in fitted.rows()
        ]
        for start in range(0, len(rows), BATCH):
            ItemNeighbour.objects.bulk_create(rows[start : start + BATCH])
    except Exception as exc:
        ItemNeighbour.objects.filter(build=build).delete()
        NeighbourBuild.objects.filter(pk=build.pk).update(
            status=BuildStatus.FAILED,
            seconds=round(time.perf_counter() - clock, 3),
            error=f"{type(exc).__name__}: {exc}"[:500],
        )
        raise
    stats = fitted.stats
    with transaction.atomic():
        # lock the store's builds so two rebuilds flip one after the other
        old = list(
            NeighbourBuild.objects.select_for_update()
            .filter(store=store, status=BuildStatus.CURRENT)
            .values_list("pk", flat=True)
        )
        NeighbourBuild.objects.filter(pk__in=old).update(status=BuildStatus.SUPERSEDED)
        build.status = BuildStatus.CURRENT
        build.built_at = built_at
        build.interactions = stats["interactions"]
        build.users = stats["users"]
        build.baskets = stats["baskets"]
        build.products = stats["items"]
        build.similar_rows = stats["similar"]
        build.complementary_rows = stats["complementary"]
        build.seconds = round(time.perf_counter() - clock, 3)
        build.save()
        audit_record(
            actor=actor,
            action="recommend.rebuild",
            obj=build,
            store_id=store.pk,
            after={
                "products": build.products,
                "baskets": build.baskets,
                "similar": build.similar_rows,
                "similar_from_tags": stats["similar_from_tags"],
                "complementary": build.complementary_rows,
                "replaced": old,
            },
        )
    # the old rows are unreachable from here on (no current build points at them)
    ItemNeighbour.objects.filter(build_id__in=old).delete()
    return build
