"""The best combination for the customer under the stacking levels (SOP PROMO-03).

Stacking model
--------------
1. **Item level.** Item offers do not stack: each line is priced by at most one item offer
   (flash sale, group price, member-tier price, time slot, percentage, Nth item, presale,
   add-on). A *limited* offer (flash sale per-buyer limit / stock, add-on per anchor) prices
   only its cap of units; the line's other units may then take one unlimited item offer
   (the *fallback*) or the list price. Exclusive groups do not matter at this level: one
   price per line already excludes the rest.
2. **Store level.** 满减 and 满赠 compute on the post-item-level subtotal of their in-scope
   lines. At most one offer per ``exclusive_group``; offers without a group combine freely.
   Reductions are applied in offer-id order, each capped at what its lines still cost and
   apportioned to them (largest remainder), so no line goes below zero.
3. **Coupons.** A coupon's threshold is checked on its in-scope amount *after* store level.
   One coupon per order, except that ``stackable`` coupons combine (one per exclusive group).

The payable is the minimum over every valid combination. Choosing the lowest item price per
line is *not* always optimal: a 9.5折 member price can drop a line below a 满200 threshold,
and a store reduction can drop the amount below a coupon's threshold. So:

* per line the item options are generated once, deduplicated and sorted by price;
* a depth-first branch-and-bound walks only the lines some threshold can see, cheapest
  option first (the first leaf is the greedy all-lowest answer). Two bounds prune it, both
  from the monotonicity of 满减 and coupon values in spend: a *raise budget* (how much more
  than the all-cheapest item total can still pay off, from the thresholds reachable with
  that much more spend), and per node ``fixed + cheapest rest − upper bound of every
  reduction still reachable``. A store-wide coupon's bound accounts for its threshold
  being checked after store level, and a single coupon whose ``threshold − amount``
  exceeds the best payable found is never worth raising prices for;
* at each leaf the store choice is enumerated per exclusive group over the offers that
  actually reach a threshold (unreached offers and "none" beside a reached gift are
  dominated and skipped), combinations are tried largest store reduction first with the
  same bound, and coupons are scored directly (one coupon: one subtraction).

Ties are broken by: lower payable, then more gifts, then fewer coupons used (don't burn a
coupon that saves nothing), then the enumeration order, which is deterministic.

Modules
-------
This module is the optimiser's public face; the work is split by stage:

* :mod:`.items`: item level, a line's options (:func:`line_options`, :func:`item_option`);
* :mod:`.problem`: :func:`build_problem`, everything precomputed once per quote, in 分;
* :mod:`.combination`: pricing one combination (:func:`price_order`, apportionment);
* :mod:`.bounds`: the reduction bounds and the raise budget that prune the search;
* :mod:`.search`: the branch and bound itself (:func:`optimise`).

``Money`` is never built inside the search: amounts are ``int`` minor units from
:func:`build_problem` until :mod:`.quote` assembles the answer.
"""

from __future__ import annotations

from .combination import OrderResult, apportion_units, plan_key, price_order
from .items import ItemOption, applicable_item_offers, item_option, line_options
from .problem import CouponTerm, Problem, StoreTerm, build_problem
from .search import Plan, optimise

__all__ = [
    "CouponTerm",
    "ItemOption",
    "OrderResult",
    "Plan",
    "Problem",
    "StoreTerm",
    "applicable_item_offers",
    "apportion_units",
    "build_problem",
    "item_option",
    "line_options",
    "optimise",
    "plan_key",
    "price_order",
]
