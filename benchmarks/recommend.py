"""Benchmark: REC-01 item-to-item collaborative filtering on two real data sets, against a
popularity baseline measured in the same run.

1. **Similar items from browsing** — Alibaba Tianchi "UserBehavior" (first 110,300 rows of the
   time-sorted file: page views, favourites, add-to-carts, purchases of 2017-11-26 01:00–03:10
   UTC; ``../shared/data/taobao_userbehavior_sample.csv.gz``). Leave-last-out: for every user
   with at least two distinct items, the last new item they touched is held out (all of that
   user's events on it are removed from training); the model is fitted on the rest with the
   playbook's default weights, K, min support and shrinkage. The user's earlier items (the most
   recent weighing most: 1, ½, ¼, …) ask for their **similar** neighbours (same category); a
   hit is the held-out item among the top 10. Baseline: the 10 items most users touched in
   training (minus the user's own items).
2. **Complementary items from baskets** — UCI "Online Retail II" 2009-2010 (CC BY 4.0,
   ``../shared/data/online_retail_ii_2009_2010.csv.gz``). Cancellations (invoice ``C…``,
   negative quantities), zero prices and non-product stock codes (postage, manual, bank
   charges, "adjust bad debt", …: codes that do not start with a digit) are dropped; rows
   without a customer are kept (the invoice is the basket either way). Time split: invoices
   before 2010-11-01 train, later ones test. For every test invoice with at least two distinct
   products one product (chosen by a seeded RNG) is held out; the others ask for their
   **complementary** neighbours (summed scores); a hit is the held-out product in the top 10.
   Baseline: the 10 products in most training baskets (minus the basket's own).

Besides the RESULT figures the Taobao part prints context: the share of held-out items that
occur in training at all, the warm cases alone, a (non-CF) same-category popularity reference,
and the hit rate with a minimum support of 1.

SEL-04 cost: the Taobao fit is run again with product tags (the data set has none, so they are
made up: per item a price band of 5 and one or two styles of 12, seeded by the item id) and the
playbook's tag boost and cold-start fallback, every item a candidate. It reports the time
(``fit_tags_seconds``) and how many similar rows came from tags; its hit rate is not a quality
figure (the tags are random).

The similar/complementary split uses categories: Taobao has them; the retail data has none,
so every co-purchase counts as complementary (see ``storeops/recommend/rules.py``).

    python benchmarks/recommend.py [--quick] [--seed S]

``--quick`` evaluates at most 3,000 held-out cases per data set (training is always on the
full data) and runs in well under a minute. The last line is
``RESULT hit_rate_similar=… hit_rate_popular=… hit_rate_basket=… hit_rate_basket_popular=… fit_seconds=…
fit_tags_seconds=…`` (the Taobao fit with made-up tags).
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import datetime as dt
import gzip
import random
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from storeops.recommend.rules import Interaction, Kind, Policy, fit, suggest
from storeops.stores.playbook import PlaybookSettings

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
if not DATA.exists():  # a worktree under /work/wt/<name>
    DATA = Path("/work/shared/data")
TAOBAO = DATA / "taobao_userbehavior_sample.csv.gz"
RETAIL = DATA / "online_retail_ii_2009_2010.csv.gz"
TOP = 10
QUICK_CASES = 3000
RETAIL_SPLIT = dt.datetime(2010, 11, 1)  # the data set's times are local and naive
KINDS = {"pv": Kind.VIEW, "fav": Kind.FAV, "cart": Kind.CART, "buy": Kind.BUY}


def playbook_policy(*, tags: bool = False) -> Policy:
    """The shipped defaults (what a store gets without overrides); the tag settings only with
    ``tags`` (the data sets have no tags)."""
    p = PlaybookSettings()
    return Policy(
        k=p.rec_neighbours_k,
        min_support=p.rec_min_support,
        shrinkage=float(p.rec_shrinkage),
        weight_view=float(p.rec_weight_view),
        weight_fav=float(p.rec_weight_fav),
        weight_cart=float(p.rec_weight_cart),
        weight_buy=float(p.rec_weight_buy),
        tag_boost=float(p.rec_tag_boost) if tags else 0.0,
        tag_fallback_score=float(p.rec_tag_fallback_score) if tags else 0.0,
    )


def made_up_tags(items: Iterable[int | str]) -> dict[int | str, set[str]]:
    """SEL-04 timing only: a price band of 5 and one or two of 12 styles per item, seeded by its id."""
    out: dict[int | str, set[str]] = {}
    for item in items:
        rng = random.Random(str(item))
        styles = {f"style{rng.randrange(12)}" for _ in range(rng.randint(1, 2))}
        out[item] = {f"band{rng.randrange(5)}", *styles}
    return out


def ranking(counts: Counter[int | str]) -> list[int | str]:
    """Items by count descending, ties by id (deterministic)."""
    return [item for item, _c in sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))]


def popular(ranked: Sequence[int | str], exclude: Iterable[int | str], n: int = TOP) -> list[int | str]:
    banned = set(exclude)
    out: list[int | str] = []
    for item in ranked:
        if item not in banned:
            out.append(item)
            if len(out) == n:
                break
    return out


def _sample(cases: Sequence[tuple], limit: int | None, seed: int) -> Sequence[tuple]:
    if limit is None or len(cases) <= limit:
        return cases
    return random.Random(seed).sample(list(cases), limit)


# --- 1. Taobao: browsing → similar items ------------------------------------------------------------


def taobao(policy: Policy, limit: int | None, seed: int) -> dict[str, float]:
    events: list[Interaction] = []
    categories: dict[int | str, int] = {}
    with gzip.open(TAOBAO, "rt", newline="") as fh:
        for row in csv.DictReader(fh):
            item = int(row["item_id"])
            categories[item] = int(row["category_id"])
            events.append(
                Interaction(row["user_id"], item, KINDS[row["behavior_type"]], float(row["timestamp"]))
            )
    # file order is time order; a stable sort keeps it for equal timestamps
    by_user: dict[str, list[Interaction]] = defaultdict(list)
    for e in sorted(events, key=lambda e: e.at):
        by_user[e.user].append(e)
    held: dict[str, int | str] = {}
    history: dict[str, list[int | str]] = {}
    for user, seq in by_user.items():
        firsts = list(dict.fromkeys(e.item for e in seq))
        if len(firsts) >= 2:
            held[user] = firsts[-1]
            history[user] = firsts[:-1]
    train = [e for e in events if held.get(e.user) != e.item]
    clock = time.perf_counter()
    model = fit(train, categories, policy)
    seconds = time.perf_counter() - clock
    users_per_item = ranking(Counter(item for _u, item in {(e.user, e.item) for e in train}))
    cases = _sample(sorted((u, held[u]) for u in held), limit, seed)
    # reference only (not CF): the most touched items of the last item's category
    in_category: dict[int, Counter[int | str]] = defaultdict(Counter)
    for _u, item in {(e.user, e.item) for e in train}:
        in_category[categories[item]][item] += 1
    category_ranked = {c: ranking(counts) for c, counts in in_category.items()}
    trained = set(users_per_item)
    hits = hits_pop = hits_cat = answered = seen = warm_hits = warm_pop = 0
    for user, target in cases:
        past = history[user]
        anchors = {item: 0.5**age for age, item in enumerate(reversed(past))}
        recs = [item for item, _s in suggest(model.similar, anchors, limit=TOP)]
        pop = target in popular(users_per_item, past)
        answered += bool(recs)
        seen += target in trained
        hits += target in recs
        hits_pop += pop
        if target in trained:  # the warm cases: an item-to-item model can only name known items
            warm_hits += target in recs
            warm_pop += pop
        hits_cat += target in popular(category_ranked.get(categories[past[-1]], []), past)
    n = len(cases)
    print(
        f"taobao: {len(events):,} events, {len(by_user):,} users, {len(categories):,} items; "
        f"{len(held):,} users with a held-out item, {n:,} evaluated; "
        f"{model.stats['similar']:,} similar rows; fit {seconds:.2f} s"
    )
    print(
        f"  similar@{TOP}: hit rate {hits / n:.4f} ({hits}/{n}); answered for {answered / n:.1%} of users; "
        f"popularity@{TOP}: {hits_pop / n:.4f} ({hits_pop}/{n})"
    )
    print(
        f"  context: {seen / n:.1%} of held-out items occur in training at all; reference (not CF) "
        f"most-touched items of the last item's category@{TOP}: {hits_cat / n:.4f} ({hits_cat}/{n})"
    )
    if seen:
        print(
            f"  warm cases only ({seen:,}): similar@{TOP} {warm_hits / seen:.4f}, "
            f"popularity@{TOP} {warm_pop / seen:.4f}"
        )
    if policy.min_support > 1:  # how much the minimum support costs on such a short, sparse log
        loose = fit(train, categories, dataclasses.replace(policy, min_support=1))
        hit1 = sum(
            target
            in [
                i
                for i, _s in suggest(
                    loose.similar, {x: 0.5**a for a, x in enumerate(reversed(history[u]))}, limit=TOP
                )
            ]
            for u, target in cases
        )
        print(
            f"  sensitivity: min_support=1 gives {loose.stats['similar']:,} similar rows and hit rate "
            f"{hit1 / n:.4f} ({hit1}/{n})"
        )
    tags = made_up_tags(categories)
    tagged_policy = dataclasses.replace(
        policy,
        tag_boost=playbook_policy(tags=True).tag_boost,
        tag_fallback_score=playbook_policy(tags=True).tag_fallback_score,
    )
    clock = time.perf_counter()
    tagged = fit(train, categories, tagged_policy, tags=tags)
    tag_seconds = time.perf_counter() - clock
    print(
        f"  SEL-04 tags (made up, {len(tags):,} items): fit {tag_seconds:.2f} s against {seconds:.2f} s "
        f"without; {tagged.stats['similar_from_tags']:,} of {tagged.stats['similar']:,} similar rows "
        "from tags"
    )
    return {"hit": hits / n, "popular": hits_pop / n, "seconds": seconds, "tag_seconds": tag_seconds}


# --- 2. Online Retail II: baskets → complementary items ---------------------------------------------


def retail(policy: Policy, limit: int | None, seed: int) -> dict[str, float]:
    train: list[Interaction] = []
    test: dict[str, set[int | str]] = defaultdict(set)
    dropped = Counter[str]()
    invoices: set[str] = set()
    no_customer: set[str] = set()
    with gzip.open(RETAIL, "rt", newline="") as fh:
        for row in csv.DictReader(fh):
            invoice, code = row["Invoice"], row["StockCode"].strip().upper()
            if invoice.startswith("C") or int(row["Quantity"]) <= 0:
                dropped["cancellation or negative quantity"] += 1
                continue
            if float(row["Price"]) <= 0:
                dropped["zero price"] += 1
                continue
            if not code[:1].isdigit():
                dropped["non-product stock code"] += 1
                continue
            invoices.add(invoice)
            customer = row["Customer ID"].strip()
            if not customer:
                no_customer.add(invoice)
            when = dt.datetime.fromisoformat(row["InvoiceDate"])
            if when < RETAIL_SPLIT:
                user = customer or f"invoice:{invoice}"
                train.append(Interaction(user, code, Kind.BUY, when.timestamp(), basket=invoice))
            else:
                test[invoice].add(code)
    clock = time.perf_counter()
    model = fit(train, {}, policy)
    seconds = time.perf_counter() - clock
    baskets_per_item = ranking(Counter(item for _b, item in {(e.basket, e.item) for e in train}))
    rng = random.Random(seed)
    cases = []
    for invoice in sorted(test):
        items = sorted(test[invoice])
        if len(items) >= 2:
            target = rng.choice(items)
            cases.append((invoice, target, tuple(i for i in items if i != target)))
    cases = list(_sample(cases, limit, seed))
    hits = hits_pop = answered = 0
    for _invoice, target, given in cases:
        recs = [item for item, _s in suggest(model.complementary, given, limit=TOP)]
        answered += bool(recs)
        hits += target in recs
        hits_pop += target in popular(baskets_per_item, given)
    n = len(cases)
    print(
        f"retail: {len(invoices):,} product invoices kept ({len(no_customer):,} without a customer), "
        f"dropped lines: {dict(dropped)}; train {len({e.basket for e in train}):,} invoices before "
        f"{RETAIL_SPLIT:%Y-%m-%d}, {len(test):,} test invoices, {n:,} evaluated; "
        f"{model.stats['complementary']:,} complementary rows; fit {seconds:.2f} s"
    )
    print(
        f"  complementary@{TOP}: hit rate {hits / n:.4f} ({hits}/{n}); answered for {answered / n:.1%}; "
        f"popularity@{TOP}: {hits_pop / n:.4f} ({hits_pop}/{n})"
    )
    return {"hit": hits / n, "popular": hits_pop / n, "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help=f"evaluate at most {QUICK_CASES} cases per data set"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--min-support", type=int, help="override the playbook default (sensitivity runs)")
    parser.add_argument("--shrinkage", type=float, help="override the playbook default (sensitivity runs)")
    args = parser.parse_args()
    limit = QUICK_CASES if args.quick else None
    policy = playbook_policy()
    if args.min_support is not None or args.shrinkage is not None:
        policy = dataclasses.replace(
            policy,
            min_support=policy.min_support if args.min_support is None else args.min_support,
            shrinkage=policy.shrinkage if args.shrinkage is None else args.shrinkage,
        )
    print(
        f"policy: k={policy.k} min_support={policy.min_support} shrinkage={policy.shrinkage} "
        f"weights view/fav/cart/buy={policy.weight_view}/{policy.weight_fav}/"
        f"{policy.weight_cart}/{policy.weight_buy}"
    )
    started = time.perf_counter()
    similar = taobao(policy, limit, args.seed)
    basket = retail(policy, limit, args.seed)
    print(f"total {time.perf_counter() - started:.1f} s")
    print(
        f"RESULT hit_rate_similar={similar['hit']:.4f} hit_rate_popular={similar['popular']:.4f} "
        f"hit_rate_basket={basket['hit']:.4f} hit_rate_basket_popular={basket['popular']:.4f} "
        f"fit_seconds={similar['seconds'] + basket['seconds']:.2f} "
        f"fit_tags_seconds={similar['tag_seconds']:.2f}"
    )


if __name__ == "__main__":
    main()
