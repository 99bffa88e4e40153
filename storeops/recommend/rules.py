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
* **Tags (SEL-04).** With product tags (category, price band, style, scene tags), a similar
  pair's score is raised by ``tag_boost`` × the pair's tag overlap (Jaccard: shared tags ÷ tags
  of either), ``score × (1 + tag_boost × overlap)``, at most 1: a bounded boost that reorders
  neighbours with similar evidence but never creates a pair. An item left without similar
  neighbours (no co-occurrence data: a new product) gets the same-category candidates that share
  tags with it, scored ``tag_fallback_score × overlap`` (so below learnt scores), support 0.
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
from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
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
    tag_boost: float = 0.0  # SEL-04: 0 = tags do not change learnt scores
    tag_fallback_score: float = 0.0  # SEL-04: 0 = no tag-based neighbours for cold items

    def __post_init__(self) -> None:
        if self.k < 1:
            raise ValueError("k must be at least 1")
        if self.min_support < 1:
            raise ValueError("min_support must be at least 1")
        if self.shrinkage < 0:
            raise ValueError("shrinkage must not be negative")
        if min(self.weight_view, self.weight_fav, self.weight_cart, self.weight_buy) < 0:
            raise ValueError("interaction weights must not be negative")
        if not (0 <= self.tag_boost <= 1 and 0 <= self.tag_fallback_score <= 1):
            raise ValueError("tag boost and fallback score must be in [0, 1]")

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


# --- tags (SEL-04) -------------------------------------------------------------------------------

_FALLBACK_CELLS = 2_000_000  # candidate pairs scored at once by the tag fallback (bounds memory)


def _tag_matrix(items: Sequence[ItemId], tags: Mapping[ItemId, Collection[Hashable]]) -> sparse.csr_matrix:
    """Items × tags, 1 where the item has the tag (an item without tags: an empty row)."""
    vocab = _index(t for item in items for t in tags.get(item, ()))
    cells = {(n, vocab[t]) for n, item in enumerate(items) for t in tags.get(item, ())}
    r = np.fromiter((c[0] for c in cells), dtype=np.int64, count=len(cells))
    c = np.fromiter((c[1] for c in cells), dtype=np.int64, count=len(cells))
    m = sparse.csr_matrix((np.ones(len(cells)), (r, c)), shape=(len(items), max(len(vocab), 1)))
    m.sort_indices()
    return m


def tag_overlap(matrix: sparse.csr_matrix, rows: IntArray, cols: IntArray) -> FloatArray:
    """Jaccard overlap of the tag rows ``rows[n]`` and ``cols[n]`` of ``matrix``: shared tags ÷
    tags of either (0 when neither has tags)."""
    if not rows.size:
        return np.zeros(0)
    shared = np.asarray(matrix[rows].multiply(matrix[cols]).sum(axis=1)).ravel()
    sizes = np.diff(matrix.indptr)
    union = sizes[rows] + sizes[cols] - shared
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(union > 0, shared / union, 0.0)


def tag_boosted(
    pairs: PairScores,
    mask: npt.NDArray[np.bool_],
    tags: Mapping[ItemId, Collection[Hashable]],
    boost: float,
) -> PairScores:
    """The pairs with the ``mask``ed ones' scores raised to ``score × (1 + boost × overlap)``,
    at most 1 (still symmetric: the overlap is)."""
    if not mask.any():
        return pairs
    matrix = _tag_matrix(pairs.items, tags)
    scores = pairs.scores.copy()
    overlap = tag_overlap(matrix, pairs.rows[mask], pairs.cols[mask])
    scores[mask] = np.round(np.minimum(scores[mask] * (1 + boost * overlap), 1.0), 6)
    return PairScores(
        items=pairs.items, rows=pairs.rows, cols=pairs.cols, scores=scores, support=pairs.support
    )


def tag_fallback(
    cold: Iterable[ItemId],
    candidates: Iterable[ItemId],
    categories: Mapping[ItemId, Hashable | None],
    tags: Mapping[ItemId, Collection[Hashable]],
    policy: Policy,
) -> dict[ItemId, tuple[Neighbour, ...]]:
    """Similar neighbours from tags alone for the ``cold`` items: the ``candidates`` of the
    same category sharing at least one tag, scored ``tag_fallback_score × overlap``; top K,
    ties by the neighbour's id; support 0.

    Per category, a block of cold items × the category's candidates at a time (at most
    ``_FALLBACK_CELLS`` cells): shared tags by one sparse product, the overlap and each row's
    best K in numpy."""
    cold, candidates = list(cold), list(candidates)
    if not cold or not candidates:
        return {}
    index = _index([*cold, *candidates])
    items = list(index)  # item_key order: a smaller index is a smaller id
    matrix = _tag_matrix(items, tags)
    sizes = np.diff(matrix.indptr).astype(np.int64)
    pools: dict[Hashable, set[int]] = {}
    for item in candidates:
        pools.setdefault(categories.get(item), set()).add(index[item])
    anchors_of: dict[Hashable, set[int]] = {}
    for item in cold:
        anchors_of.setdefault(categories.get(item), set()).add(index[item])
    out: dict[ItemId, tuple[Neighbour, ...]] = {}
    for category, anchor_set in anchors_of.items():
        if category is None or category not in pools:
            continue
        pool = np.array(sorted(pools[category]), dtype=np.int64)
        pool_tags = matrix[pool].T.tocsr()
        anchors = np.array(sorted(anchor_set), dtype=np.int64)
        take = min(policy.k, pool.size)
        # ties: the smaller column (the smaller id) ranks first
        tiebreak = np.arange(pool.size - 1, -1, -1, dtype=np.int64)
        step = max(1, _FALLBACK_CELLS // pool.size)
        scale = policy.tag_fallback_score * 1_000_000
        for start in range(0, anchors.size, step):
            chunk = anchors[start : start + step]
            shared = (matrix[chunk] @ pool_tags).toarray()
            union = sizes[chunk][:, None] + sizes[pool][None, :] - shared
            # the score in millionths: tag_fallback_score × overlap rounded to 6 decimals
            micro = np.rint(shared * scale / np.maximum(union, 1)).astype(np.int64)
            at = np.searchsorted(pool, chunk)  # never itself
            own = np.flatnonzero(pool[np.minimum(at, pool.size - 1)] == chunk)
            micro[own, at[own]] = 0
            key = micro * (pool.size + 1) + tiebreak[None, :]
            best = np.argpartition(-key, take - 1, axis=1)[:, :take]
            order = np.argsort(-np.take_along_axis(key, best, axis=1), axis=1, kind="stable")
            best = np.take_along_axis(best, order, axis=1)
            picked = np.take_along_axis(micro, best, axis=1) / 1_000_000
            counts = (picked > 0).sum(axis=1).tolist()  # best first: the positive ones lead
            # plain lists from here: numpy scalars are slow one by one
            rows = zip(chunk.tolist(), pool[best].tolist(), picked.tolist(), counts, strict=True)
            for row, cols, row_scores, n in rows:
                if n:
                    item = items[row]
                    out[item] = tuple(
                        Neighbour(item, items[c], Relation.SIMILAR, sc, 0, rank)
                        for rank, c, sc in zip(range(1, n + 1), cols, row_scores, strict=False)
                    )
    return out


def fit(
    interactions: Iterable[Interaction],
    categories: Mapping[ItemId, Hashable | None],
    policy: Policy,
    tags: Mapping[ItemId, Collection[Hashable]] | None = None,
    candidates: Collection[ItemId] | None = None,
) -> Neighbours:
    """REC-01: the similar and complementary neighbours of every item.

    ``categories`` maps an item to its category (``None`` / missing = unknown). Similar pairs
    need the same known category; complementary pairs need different or unknown categories.
    ``tags`` (SEL-04) maps an item to its tags: similar scores get the policy's tag boost, and
    items of ``tags`` without similar neighbours get tag-based ones among ``candidates`` (the
    items that may be recommended; default: every tagged item).
    """
    events = list(interactions)
    tags = {item: ts for item, ts in (tags or {}).items() if ts}
    result_similar: dict[ItemId, tuple[Neighbour, ...]] = {}
    if any(categories.get(e.item) is not None for e in events):  # else no pair can be "similar"
        similar = similar_pairs(events, policy)
        same = _same_category(similar, categories)
        if tags and policy.tag_boost > 0:
            similar = tag_boosted(similar, same, tags, policy.tag_boost)
        result_similar = top_k(similar, same, Relation.SIMILAR, policy.k)
    from_tags: dict[ItemId, tuple[Neighbour, ...]] = {}
    if tags and policy.tag_fallback_score > 0:
        cold = [item for item in tags if item not in result_similar and categories.get(item) is not None]
        pool = tags.keys() if candidates is None else [c for c in candidates if c in tags]
        from_tags = tag_fallback(cold, pool, categories, tags, policy)
        result_similar = {**result_similar, **from_tags}
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
            "similar_from_tags": sum(len(v) for v in from_tags.values()),
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
