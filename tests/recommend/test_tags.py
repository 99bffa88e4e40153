"""SOP SEL-04 in recommendations: product tags give similar pairs a bounded boost and give
products without co-occurrence data (new products) tag-based similar products."""

from __future__ import annotations

import pytest

from storeops.catalog import services as catalog_services
from storeops.recommend import selectors, services
from storeops.recommend.rules import Interaction, Kind, Policy, fit
from storeops.stores import services as store_services
from tests.catalog.db_builders import a_live_product
from tests.recommend.builders import ACTOR, Shop

V = Kind.VIEW
CATS = {"a": "裙", "b": "裙", "c": "裙", "new": "裙", "draft": "裙", "mug": "杯"}


def _viewed_together(*pairs: tuple[str, str], users: int = 3) -> list[Interaction]:
    return [Interaction(f"{x}{y}{n}", item, V) for x, y in pairs for n in range(users) for item in (x, y)]


def test_sel_04_shared_tags_raise_a_similar_score_within_the_bound():
    # given a co-viewed as often with b as with c; a shares two of its three tags with b
    events = _viewed_together(("a", "b"), ("a", "c"))
    tags = {"a": {"法式", "碎花", "度假"}, "b": {"法式", "碎花"}, "c": {"通勤"}}
    plain = fit(events, CATS, Policy(k=5, shrinkage=0))
    boosted = fit(events, CATS, Policy(k=5, shrinkage=0, tag_boost=0.2), tags=tags)
    # then without tags b and c tie (broken by id); with tags b's score is raised by 20 % × 2/3
    base = {n.neighbour: n.score for n in plain.similar["a"]}
    assert base["b"] == base["c"]
    scores = {n.neighbour: n.score for n in boosted.similar["a"]}
    assert scores["b"] == pytest.approx(round(base["b"] * (1 + 0.2 * 2 / 3), 6))
    assert scores["c"] == base["c"]  # no shared tag, no boost
    assert [n.neighbour for n in boosted.similar["a"]] == ["b", "c"]
    # symmetric, never above 1, and a pair without co-occurrence is never created by a boost
    assert {n.neighbour: n.score for n in boosted.similar["b"]}["a"] == scores["b"]
    full = fit(events, CATS, Policy(k=5, shrinkage=0, tag_boost=1), tags={k: {"x"} for k in CATS})
    assert max(n.score for ns in full.similar.values() for n in ns) <= 1
    assert "c" not in {n.neighbour for n in boosted.similar["b"]}


def test_sel_04_a_product_without_co_occurrence_gets_tag_based_similar_products():
    # given a new product no one has seen yet, tagged like a (2 of 3 tags) and c (1 of 4)
    events = _viewed_together(("a", "b"))
    tags = {
        "a": {"法式", "碎花"},
        "b": {"简约"},
        "c": {"法式", "通勤", "职场"},
        "new": {"法式", "碎花", "度假"},
        "draft": {"法式", "碎花", "度假"},
        "mug": {"法式", "碎花", "度假"},
    }
    policy = Policy(k=5, shrinkage=0, tag_fallback_score=0.1)
    model = fit(events, CATS, policy, tags=tags, candidates=["a", "b", "c", "new", "mug"])
    # then it gets the candidates of its category sharing tags, scored 0.1 × overlap, support 0:
    # not the draft (not a candidate), not the mug (another category), not b (no shared tag)
    got = [(n.neighbour, n.score, n.support, n.rank) for n in model.similar["new"]]
    assert got == [("a", round(0.1 * 2 / 3, 6), 0, 1), ("c", round(0.1 * 1 / 5, 6), 0, 2)]
    # c, never seen either, gets a (1 of 4 tags) before the new product (1 of 5); the draft, not
    # recommended itself, gets its own; the learnt items keep their learnt rows only
    assert [n.neighbour for n in model.similar["c"]] == ["a", "new"]
    assert [n.neighbour for n in model.similar["draft"]] == ["new", "a", "c"]
    assert [(n.neighbour, n.support) for n in model.similar["a"]] == [("b", 3)]
    assert "mug" not in model.similar  # no other candidate of its category
    assert model.stats["similar_from_tags"] == 2 + 2 + 3
    # without a fallback score there are none
    assert "new" not in fit(events, CATS, Policy(k=5, shrinkage=0), tags=tags).similar


@pytest.mark.django_db
def test_sel_04_rebuild_uses_the_stores_tags_and_a_new_product_gets_similar_ones(store, channel):
    # given the shop's paid orders, two coffee machines tagged alike and a new machine never sold
    shop = Shop(store, channel)
    shop.history()
    category = shop.products["M1"].category
    new = a_live_product(
        store,
        category,
        channel,
        "M3",
        core_word="咖啡机",
        title="2025新款咖啡机温和日常家用正品旗舰店官方授权品质保证包邮送礼佳品",
        skus=[{"code": "M3-S", "price": "599.00", "cost": "200.00"}],
    )
    for code, tags in (("M1", ["意式", "家用"]), ("M2", ["美式"]), ("M3", ["意式", "家用", "小型"])):
        product = shop.products.get(code, new)
        catalog_services.product_tags_set(actor=ACTOR, product=product, tags={"style": tags})
    # when the table is rebuilt
    build = services.neighbours_rebuild(actor=ACTOR, store=store)
    # then the new machine's similar product is M1 (2 of 3 tags shared; M2 shares none), from tags
    rows = selectors.neighbours_of(store=store, product_id=new.pk, kind="similar")
    assert [(r.neighbour.code, r.support, r.score) for r in rows] == [("M1", 0, round(0.1 * 2 / 3, 6))]
    assert (build.settings["tag_boost"], build.settings["tag_fallback_score"]) == (0.2, 0.1)
    # and with the playbook's fallback score at 0 it gets none
    store_services.playbook_update(actor=ACTOR, store=store, values={"rec_tag_fallback_score": "0"})
    services.neighbours_rebuild(actor=ACTOR, store=store)
    assert selectors.neighbours_of(store=store, product_id=new.pk, kind="similar") == []


def _naive_fallback(cold, candidates, categories, tags, policy):
    out = {}
    for item in cold:
        scored = []
        for other in candidates:
            if other == item or categories.get(other) != categories.get(item):
                continue
            shared = len(tags[item] & tags[other])
            union = len(tags[item] | tags[other])
            score = round(policy.tag_fallback_score * shared / union, 6) if union else 0
            if score > 0:
                scored.append((-score, other, score))
        scored.sort()
        if scored:
            out[item] = [(other, score) for _s, other, score in scored[: policy.k]]
    return out


@pytest.mark.parametrize("seed", range(6))
def test_sel_04_tag_fallback_matches_a_plain_computation(seed, monkeypatch):
    import random

    from storeops.recommend import rules

    # given random items in three categories with random tags, scored in blocks of a few cells
    monkeypatch.setattr(rules, "_FALLBACK_CELLS", 7)
    rng = random.Random(seed)
    items = list(range(40))
    categories = {i: rng.choice("xyz") for i in items}
    tags = {i: {rng.choice("abcdefg") for _ in range(rng.randint(1, 3))} for i in items}
    cold = rng.sample(items, 15)
    candidates = rng.sample(items, 25)
    policy = Policy(k=4, tag_fallback_score=0.3)
    # when the fallback is computed, then it is the plain computation (ties by id)
    got = rules.tag_fallback(cold, candidates, categories, tags, policy)
    assert {i: [(n.neighbour, n.score) for n in ns] for i, ns in got.items()} == _naive_fallback(
        cold, candidates, categories, tags, policy
    )
    assert all([n.rank for n in ns] == list(range(1, len(ns) + 1)) for ns in got.values())
