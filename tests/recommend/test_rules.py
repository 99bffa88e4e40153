"""REC-01 / REC-02 pure core: item-to-item scores, the similar/complementary split, top-K and
the add-on ranking (storeops/recommend/rules.py). No database."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from itertools import combinations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storeops.recommend.rules import (
    Interaction,
    Kind,
    Neighbour,
    Policy,
    Relation,
    basket_pairs,
    fit,
    similar_pairs,
    suggest,
)

B, V, C, F = Kind.BUY, Kind.VIEW, Kind.CART, Kind.FAV
CATS = {"machine1": "咖啡机", "machine2": "咖啡机", "beans": "咖啡豆", "mat": "瑜伽垫", "wear": "瑜伽服"}


def _basket(n: int, *items: str, user: str | None = None) -> list[Interaction]:
    return [Interaction(user or f"c{n}", item, B, basket=f"o{n}") for item in items]


def test_rec_01_coffee_machine_gets_beans_as_complement_and_the_other_machine_as_similar():
    # given three orders with a coffee machine and beans, two with a yoga mat and yoga wear,
    # and shoppers who browsed both coffee machines
    events = [
        *_basket(1, "machine1", "beans"),
        *_basket(2, "machine1", "beans"),
        *_basket(3, "machine2", "beans"),
        *_basket(4, "mat", "wear"),
        *_basket(5, "mat", "wear"),
    ]
    events += [Interaction(f"v{n}", item, V) for n in range(3) for item in ("machine1", "machine2")]
    # when the neighbours are fitted
    model = fit(events, CATS, Policy(k=5, min_support=2, shrinkage=0))
    # then the machine's complement is the beans (other category, bought together) ...
    assert [n.neighbour for n in model.complementary["machine1"]] == ["beans"]
    assert [n.neighbour for n in model.complementary["mat"]] == ["wear"]
    # ... and its similar item is the other machine (same category, co-browsed)
    assert [n.neighbour for n in model.similar["machine1"]] == ["machine2"]
    # beans and the machine are never "similar": different categories
    assert "beans" not in model.similar
    # exact values: beans in 3 baskets, machine1 in 2, together in 2 -> 2 / sqrt(2 * 3)
    beans = model.complementary["machine1"][0]
    assert (beans.score, beans.support, beans.rank) == (round(2 / math.sqrt(6), 6), 2, 1)


def test_rec_01_similar_score_is_a_weighted_cosine_with_shrinkage():
    # given u1 bought A and viewed B, u2 viewed both (weights view 1, buy 4), shrinkage 2
    events = [
        Interaction("u1", "A", B),
        Interaction("u1", "A", V),  # the strongest interaction counts once
        Interaction("u1", "B", V),
        Interaction("u2", "A", V),
        Interaction("u2", "B", V),
    ]
    policy = Policy(min_support=2, shrinkage=2, weight_view=1, weight_buy=4)
    # when scored
    pairs = similar_pairs(events, policy).as_dict()
    # then cos = (4·1 + 1·1) / (sqrt(16 + 1) · sqrt(2)), times 2 / (2 + 2)
    expected = round(5 / (math.sqrt(17) * math.sqrt(2)) * 2 / 4, 6)
    assert pairs[("A", "B")] == (expected, 2)
    assert pairs[("B", "A")] == (expected, 2)


def test_rec_01_a_zero_weight_ignores_that_kind_of_interaction():
    events = [Interaction(u, i, V) for u in ("u1", "u2") for i in ("A", "B")]
    assert similar_pairs(events, Policy(weight_view=0)).as_dict() == {}


def test_rec_01_fewer_baskets_than_the_minimum_support_give_nothing():
    # given beans bought with the machine once
    events = _basket(1, "machine1", "beans")
    # when min support is 2 there is no pair; with 1 there is
    assert fit(events, CATS, Policy(min_support=2)).complementary == {}
    assert fit(events, CATS, Policy(min_support=1)).complementary["beans"][0].neighbour == "machine1"


def test_rec_01_purchases_without_a_basket_count_as_the_customers_own_basket():
    events = [Interaction(f"c{n}", item, B) for n in range(2) for item in ("machine1", "beans")]
    assert [n.neighbour for n in fit(events, CATS, Policy()).complementary["machine1"]] == ["beans"]


def test_rec_01_without_categories_every_co_purchase_is_complementary():
    events = _basket(1, "x", "y") + _basket(2, "x", "y")
    model = fit(events, {}, Policy())
    assert model.similar == {}
    assert [n.neighbour for n in model.complementary["x"]] == ["y"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"k": 0}, "k must"),
        ({"min_support": 0}, "min_support"),
        ({"shrinkage": -1}, "shrinkage"),
        ({"weight_cart": -1}, "weights"),
    ],
)
def test_rec_01_policy_refuses_impossible_numbers(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Policy(**kwargs)


def test_rec_02_suggest_sums_scores_over_the_cart_and_skips_what_is_in_it():
    rows = [
        Neighbour("lipstick", "remover", Relation.COMPLEMENTARY, 0.5, 3, 1),
        Neighbour("lipstick", "mirror", Relation.COMPLEMENTARY, 0.4, 3, 2),
        Neighbour("cream", "mirror", Relation.COMPLEMENTARY, 0.3, 2, 1),
        Neighbour("cream", "lipstick", Relation.COMPLEMENTARY, 0.9, 2, 2),
    ]
    # mirror: 0.4 + 0.3 beats remover 0.5; lipstick is in the cart
    assert suggest(rows, ["lipstick", "cream"], limit=5) == [
        ("mirror", pytest.approx(0.7)),
        ("remover", 0.5),
    ]
    assert suggest(rows, ["lipstick"], limit=1, exclude=["mirror"]) == [("remover", 0.5)]
    assert suggest(rows, ["unknown"], limit=3) == []


# --- invariants ---------------------------------------------------------------------------------

ITEMS = [f"i{n}" for n in range(7)]
CATEGORY_OF = {item: f"cat{n % 3}" for n, item in enumerate(ITEMS)}

events_strategy = st.lists(
    st.builds(
        Interaction,
        user=st.sampled_from([f"u{n}" for n in range(6)]),
        item=st.sampled_from(ITEMS),
        kind=st.sampled_from(list(Kind)),
        basket=st.sampled_from(["", "o1", "o2", "o3", "o4"]),
    ),
    max_size=60,
)
policy_strategy = st.builds(
    Policy,
    k=st.integers(1, 4),
    min_support=st.integers(1, 3),
    shrinkage=st.sampled_from([0.0, 1.0, 5.0]),
    weight_view=st.sampled_from([0.0, 1.0]),
    weight_fav=st.just(2.0),
    weight_cart=st.just(3.0),
    weight_buy=st.just(4.0),
)


def _brute_support(events, policy):
    """Users (similar) and baskets (bought together) holding each pair, counted by hand."""
    users, baskets = defaultdict(set), defaultdict(set)
    for e in events:
        if policy.weight(e.kind) > 0:
            users[e.user].add(e.item)
        if e.kind == Kind.BUY:
            baskets[e.basket or f"user:{e.user}"].add(e.item)
    counts = []
    for groups in (users, baskets):
        c = defaultdict(int)
        for items in groups.values():
            for a, b in combinations(sorted(items), 2):
                c[(a, b)] += 1
                c[(b, a)] += 1
        counts.append(c)
    return counts


@settings(max_examples=150, deadline=None)
@given(events=events_strategy, policy=policy_strategy)
def test_rec_01_scores_are_symmetric_and_supported(events, policy):
    user_support, basket_support = _brute_support(events, policy)
    for pairs, support in (
        (similar_pairs(events, policy), user_support),
        (basket_pairs(events, policy), basket_support),
    ):
        table = pairs.as_dict()
        for (a, b), (score, n) in table.items():
            # symmetric where defined, never an item with itself, in (0, 1]
            assert table[(b, a)] == (score, n)
            assert a != b
            assert 0 < score <= 1
            # the support is the true co-occurrence count, and never below the minimum
            assert n == support[(a, b)] >= policy.min_support
        # every pair with enough support and a positive score is there
        assert {p for p, n in support.items() if n >= policy.min_support} >= set(table)


@settings(max_examples=150, deadline=None)
@given(events=events_strategy, policy=policy_strategy)
def test_rec_01_top_k_lists_respect_k_category_and_never_the_item_itself(events, policy):
    model = fit(events, CATEGORY_OF, policy)
    for relation, table in ((Relation.SIMILAR, model.similar), (Relation.COMPLEMENTARY, model.complementary)):
        for item, neighbours in table.items():
            assert 1 <= len(neighbours) <= policy.k
            assert [n.rank for n in neighbours] == list(range(1, len(neighbours) + 1))
            assert [n.score for n in neighbours] == sorted((n.score for n in neighbours), reverse=True)
            for n in neighbours:
                assert n.item == item != n.neighbour
                assert n.relation == relation
                assert n.support >= policy.min_support
                same = CATEGORY_OF[item] == CATEGORY_OF[n.neighbour]
                assert same if relation == Relation.SIMILAR else not same


@settings(max_examples=60, deadline=None)
@given(events=events_strategy, policy=policy_strategy, seed=st.integers(0, 10**6))
def test_rec_01_the_result_does_not_depend_on_the_order_of_the_input(events, policy, seed):
    shuffled = list(events)
    random.Random(seed).shuffle(shuffled)
    assert fit(events, CATEGORY_OF, policy).rows() == fit(shuffled, CATEGORY_OF, policy).rows()


@settings(max_examples=60, deadline=None)
@given(events=events_strategy)
def test_rec_01_below_the_minimum_support_nothing_is_recommended(events):
    # given a minimum support above any possible co-occurrence count
    policy = Policy(min_support=len(events) + 1)
    model = fit(events, CATEGORY_OF, policy)
    assert model.similar == {}
    assert model.complementary == {}
    assert suggest(model.complementary, ITEMS[:3], limit=5) == []


@settings(max_examples=100, deadline=None)
@given(events=events_strategy, policy=policy_strategy, cart=st.sets(st.sampled_from(ITEMS), min_size=1))
def test_rec_02_suggestions_never_repeat_the_cart_and_respect_the_limit(events, policy, cart):
    model = fit(events, CATEGORY_OF, policy)
    out = suggest(model.complementary, cart, limit=3)
    assert len(out) <= 3
    assert not {item for item, _s in out} & cart
    assert [s for _i, s in out] == sorted((s for _i, s in out), reverse=True)
