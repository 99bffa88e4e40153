"""Item-to-item collaborative filtering (SOP REC-01) and add-on ranking (REC-02), without Django.

Input is a stream of :class:`Interaction` (who did what to which item, when, in which basket);
output is a :class:`Neighbours` table: for every item its top-K **similar** items (co-viewed /
co-interacted items of the same category: substitutes) and its top-K **complementary** items
(bought together in one basket, in another category: coffee machine → coffee beans).

How the scores are made (all numbers come from :class:`Policy`, i.e. the playbook):

* **Similar.** A user × item matrix holds, per user and item, the strongest interaction weight
  (view < fav < cart < buy). The score of two items is the cosine of their columns, shrunk
  towards 0 for small counts: ``cos(i, j) × n / (n + shrinkage)``, where ``n`` is the number of
  users who interacted with both (the pair's *support*). Only pairs of the same category.
* **Complementary.** A basket × item matrix of purchases (one row per order; a purchase
  without a basket counts as the user's own basket). The score is the cosine of the binary
  columns, ``c_ij / sqrt(c_i × c_j)`` (the geometric mean of the two confidences
  ``P(j|i)`` and ``P(i|j)``), with the same shrinkage; ``n`` is the number of baskets with both.
  Only pairs of different categories (or of unknown category: a catalogue without categories
  yields complements only).
* A pair with a support below ``min_support`` gets no score at all ("not enough evidence").
* The scores are symmetric (``score(i, j) == score(j, i)``, bit for bit: the same sums in the
  same order) and an item is never its own neighbour. Each item keeps its ``k`` best
  neighbours per relation, ties broken by the neighbour's id, so the result does not depend
  on the order of the input.

Items are ``int`` or ``str`` ids (product ids in the shop, item ids / stock codes in the
benchmarks); users and baskets are strings.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse

ItemId = int | str
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class Kind(enum.StrEnum):
    """What a customer did with an item, weakest signal first."""

    VIEW = "view"
    FAV = "fav"
    CART = "cart"
    BUY = "buy"


class Relation(enum.StrEnum):
    SIMILAR = "similar"
    COMPLEMENTARY = "complementary"


@dataclass(frozen=True, slots=True)
class Interaction:
    user: str
    item: ItemId
    kind: Kind
    at: float = 0.0  # unix seconds; only the benchmarks' splits use it
    basket: str = ""  # the order / invoice of a purchase; "" = the user's whole history


@dataclass(frozen=True, slots=True)
class Policy:
    """The playbook's REC-01 numbers."""

    k: int = 10
    min_support: int = 2
    shrinkage: float = 5.0
    weight_view: float = 1.0
    weight_fav: float = 2.0
    weight_cart: float = 3.0
    weight_buy: float = 4.0

    def __post_init__(self) -> None:
        if self.k < 1:
            raise ValueError("k must be at least 1")
        if self.min_support < 1:
            raise ValueError("min_support must be at least 1")
        if self.shrinkage < 0:
            raise ValueError("shrinkage must not be negative")
        if min(self.weight_view, self.weight_fav, self.weight_cart, self.weight_buy) < 0:
            raise ValueError("interaction weights must not be negative")

    def weight(self, kind: Kind) -> float:
        return {
            Kind.VIEW: self.weight_view,
            Kind.FAV: self.weight_fav,
            Kind.CART: self.weight_cart,
            Kind.BUY: self.weight_buy,
        }[kind]


@dataclass(frozen=True, slots=True)
class Neighbour:
    item: ItemId
    neighbour: ItemId
    relation: Relation
    score: float  # in (0, 1]
    support: int  # users (similar) or baskets (complementary) with both items
    rank: int  # 1 = best


@dataclass(frozen=True, slots=True)
class PairScores:
    """Scores of every pair with enough support, as parallel arrays over ``items`` indices
    (both directions of each pair are present)."""

    items: tuple[ItemId, ...]
    rows: IntArray
    cols: IntArray
    scores: FloatArray
    support: IntArray

    def as_dict(self) -> dict[tuple[ItemId, ItemId], tuple[float, int]]:
        return {
            (self.items[r], self.items[c]): (float(s), int(n))
            for r, c, s, n in zip(self.rows, self.cols, self.scores, self.support, strict=True)
        }


@dataclass(frozen=True, slots=True)
class Neighbours:
    """The fitted table: per relation, each item's neighbours, best first."""

    similar: Mapping[ItemId, tuple[Neighbour, ...]]
    complementary: Mapping[ItemId, tuple[Neighbour, ...]]
    stats: Mapping[str, int] = field(default_factory=dict)

    def of(self, relation: Relation) -> Mapping[ItemId, tuple[Neighbour, ...]]:
        return self.similar if relation == Relation.SIMILAR else self.complementary

    def rows(self) -> list[Neighbour]:
        """Every neighbour row, similar first, in item then rank order."""
        out: list[Neighbour] = []
        for table in (self.similar, self.complementary):
            for item in sorted(table, key=item_key):
                out.extend(table[item])
        return out


def item_key(item: Hashable) -> tuple[str, Any]:
    """A total order over mixed ``int`` / ``str`` ids (ints first, then strings)."""
    return (type(item).__name__, item)


# --- matrices ---------------------------------------------------------------------------------


def _index(values: Iterable[Hashable]) -> dict[Any, int]:
    return {v: n for n, v in enumerate(sorted(set(values), key=item_key))}


def _matrix(cells: Mapping[tuple[Any, ItemId], float], items: Mapping[Any, int]) -> sparse.csr_matrix:
    """Rows (users or baskets) × item columns from ``{(row key, item): value}``. One value per
    cell, so the CSR form does not depend on the order of ``cells``."""
    rows = _index(key for key, _item in cells)
    n = len(cells)
    r = np.fromiter((rows[key] for key, _i in cells), dtype=np.int64, count=n)
    c = np.fromiter((items[i] for _k, i in cells), dtype=np.int64, count=n)
    v = np.fromiter(cells.values(), dtype=np.float64, count=n)
    m = sparse.csr_matrix((v, (r, c)), shape=(len(rows), len(items)))
    m.sort_indices()
    return m


def cosine_pairs(matrix: sparse.csr_matrix, *, min_support: int, shrinkage: float) -> PairScores:
    """Shrunk cosine of every pair of columns that share at least ``min_support`` rows.

    ``matrix`` has non-negative values; a row "supports" a pair when it has a positive value in
    both columns. Items of the result are the column indices (the caller maps them back).
    """
    m = sparse.csr_matrix(matrix, dtype=np.float64)
    m.eliminate_zeros()
    m.sum_duplicates()
    binary = m.copy()
    binary.data[:] = 1.0
    counts = (binary.T @ binary).tocsr()
    counts.sum_duplicates()
    counts.sort_indices()
    if np.array_equal(m.data, binary.data):  # 0/1 data (baskets): the dot products are the counts
        dots = counts
    else:
        dots = (m.T @ m).tocsr()
        dots.sum_duplicates()
        dots.sort_indices()
    # all values are positive, so both products have the same sparsity pattern
    if not (np.array_equal(dots.indptr, counts.indptr) and np.array_equal(dots.indices, counts.indices)):
        raise ValueError("co-occurrence and dot-product patterns differ")  # pragma: no cover
    n_items = m.shape[1]
    rows = np.repeat(np.arange(n_items, dtype=np.int64), np.diff(counts.indptr))
    cols = counts.indices.astype(np.int64)
    support = np.rint(counts.data).astype(np.int64)
    keep = (rows != cols) & (support >= min_support)
    rows, cols, support, dot = rows[keep], cols[keep], support[keep], dots.data[keep]
    norms = np.sqrt(dots.diagonal()).astype(np.float64)
    denominator = norms[rows] * norms[cols]
    with np.errstate(divide="ignore", invalid="ignore"):
        cosine = np.where(denominator > 0, dot / denominator, 0.0)
    shrink = support / (support + shrinkage) if shrinkage > 0 else np.ones(support.shape)
    scores = np.round(np.minimum(cosine * shrink, 1.0), 6)
    positive = scores > 0
    return PairScores(
        items=tuple(range(n_items)),
        rows=rows[positive],
        cols=cols[positive],
        scores=scores[positive].astype(np.float64),
        support=support[positive],
    )


def _named(pairs: PairScores, items: Sequence[ItemId]) -> PairScores:
    return PairScores(
        items=tuple(items), rows=pairs.rows, cols=pairs.cols, scores=pairs.scores, support=pairs.support
    )


def similar_pairs(interactions: Iterable[Interaction], policy: Policy) -> PairScores:
    """Shrunk cosine over users' strongest interaction weight per item (any category)."""
    strongest: dict[tuple[str, ItemId], float] = {}
    for event in interactions:
        w = policy.weight(Kind(event.kind))
        if w > 0:
            key = (event.user, event.item)
            strongest[key] = max(strongest.get(key, 0.0), w)
    items = _index(item for _user, item in strongest)
    pairs = cosine_pairs(
        _matrix(strongest, items), min_support=policy.min_support, shrinkage=policy.shrinkage
    )
    return _named(pairs, list(items))


def basket_pairs(interactions: Iterable[Interaction], policy: Policy) -> PairScores:
    """Shrunk cosine of purchase co-occurrence in baskets (any category)."""
    bought: dict[tuple[str, ItemId], float] = {}
    for event in interactions:
        if Kind(event.kind) == Kind.BUY:
            bought[(event.basket or f"user:{event.user}", event.item)] = 1.0
    items = _index(item for _basket, item in bought)
    pairs = cosine_pairs(_matrix(bought, items), min_support=policy.min_support, shrinkage=policy.shrinkage)
    return _named(pairs, list(items))


# --- top-K ------------------------------------------------------------------------------------


def _same_category(pairs: PairScores, categories: Mapping[ItemId, Hashable | None]) -> npt.NDArray[np.bool_]:
    cats = [categories.get(item) for item in pairs.items]
    codes = _index(c for c in cats if c is not None)
    code = np.array([codes[c] if c is not None else -1 for c in cats], dtype=np.int64)
    if not pairs.rows.size:
        return np.zeros(0, dtype=bool)
    a, b = code[pairs.rows], code[pairs.cols]
    return np.asarray((a == b) & (a >= 0), dtype=bool)


def top_k(
    pairs: PairScores, mask: npt.NDArray[np.bool_], relation: Relation, k: int
) -> dict[ItemId, tuple[Neighbour, ...]]:
    """Each item's ``k`` best neighbours among the pairs selected by ``mask``: score
    descending, then the neighbour's id; ranks from 1."""
    rows, cols, scores, support = pairs.rows[mask], pairs.cols[mask], pairs.scores[mask], pairs.support[mask]
    if not rows.size:
        return {}
    # one int64 key per pair: row, then score descending (scores have 6 decimals), then the
    # neighbour's column (columns follow item_key order, so that is the id); < 2**63 for up to
    # a million items
    n = np.int64(len(pairs.items))
    micro = np.rint(scores * 1_000_000).astype(np.int64)
    order = np.argsort((rows * np.int64(1_000_001) + (1_000_000 - micro)) * n + cols, kind="stable")
    rows, cols, scores, support = rows[order], cols[order], scores[order], support[order]
    starts = np.r_[0, np.flatnonzero(np.diff(rows)) + 1]
    lengths = np.diff(np.r_[starts, rows.size])
    rank = np.arange(rows.size) - np.repeat(starts, lengths) + 1
    keep = rank <= k
    out: dict[ItemId, list[Neighbour]] = {}
    items = pairs.items
    for r, c, s, n, q in zip(rows[keep], cols[keep], scores[keep], support[keep], rank[keep], strict=True):
        item = items[int(r)]
        out.setdefault(item, []).append(
            Neighbour(
                item=item,
                neighbour=items[int(c)],
                relation=relation,
                score=float(s),
                support=int(n),
                rank=int(q),
            )
        )
    return {item: tuple(ns) for item, ns in out.items()}


def fit(
    interactions: Iterable[Interaction],
    categories: Mapping[ItemId, Hashable | None],
    policy: Policy,
) -> Neighbours:
    """REC-01: the similar and complementary neighbours of every item.

    ``categories`` maps an item to its category (``None`` / missing = unknown). Similar pairs
    need the same known category; complementary pairs need different or unknown categories.
    """
    events = list(interactions)
    result_similar: dict[ItemId, tuple[Neighbour, ...]] = {}
    if any(categories.get(e.item) is not None for e in events):  # else no pair can be "similar"
        similar = similar_pairs(events, policy)
        result_similar = top_k(similar, _same_category(similar, categories), Relation.SIMILAR, policy.k)
    together = basket_pairs(events, policy)
    same_bought = _same_category(together, categories)
    result_complementary = top_k(together, ~same_bought, Relation.COMPLEMENTARY, policy.k)
    users = {e.user for e in events}
    baskets = {e.basket or f"user:{e.user}" for e in events if Kind(e.kind) == Kind.BUY}
    return Neighbours(
        similar=result_similar,
        complementary=result_complementary,
        stats={
            "interactions": len(events),
            "users": len(users),
            "baskets": len(baskets),
            "items": len({e.item for e in events}),
            "similar": sum(len(v) for v in result_similar.values()),
            "complementary": sum(len(v) for v in result_complementary.values()),
        },
    )


# --- using the table ------------------------------------------------------------------------


def suggest(
    neighbours: Mapping[ItemId, Sequence[Neighbour]] | Iterable[Neighbour],
    anchors: Mapping[ItemId, float] | Iterable[ItemId],
    *,
    limit: int,
    exclude: Iterable[ItemId] = (),
) -> list[tuple[ItemId, float]]:
    """Items to show next to ``anchors`` (a cart, a browsing history): the sum over the
    anchors of ``anchor weight × neighbour score``; never an anchor or an excluded item; best
    first, ties by id; at most ``limit``."""
    weights = dict(anchors) if isinstance(anchors, Mapping) else dict.fromkeys(anchors, 1.0)
    if isinstance(neighbours, Mapping):
        rows: Iterable[Neighbour] = (n for item in weights for n in neighbours.get(item, ()))
    else:
        rows = (n for n in neighbours if n.item in weights)
    banned = set(weights) | set(exclude)
    total: dict[ItemId, float] = {}
    for n in rows:
        if n.neighbour not in banned:
            total[n.neighbour] = total.get(n.neighbour, 0.0) + weights[n.item] * n.score
    ranked = sorted(total.items(), key=lambda kv: (-round(kv[1], 9), item_key(kv[0])))
    return [(item, score) for item, score in ranked[: max(limit, 0)] if not math.isnan(score)]
