"""The fulfilment routes in the permission matrix (tests/test_permission_matrix.py) added with
the LOG-03 carrier rules. ``fulfilment_rules_world`` adds carrier ZTO with a rule (it does not
deliver to Tibet, so the matrix's orders to Shanghai and Zhejiang still ship)."""

from __future__ import annotations

from storeops.fulfilment import services
from tests.fulfilment.builders import ACTOR, a_carrier

_R = "/fulfilment/{store}/carrier-rules"

FULFILMENT_API_CASES = {
    ("GET", "/fulfilment/{store_id}/carrier-rules"): (_R, None),
    ("PUT", "/fulfilment/{store_id}/carrier-rules/{carrier_code}"): (
        _R + "/SF",
        {"max_weight_kg": "30", "max_items": 20, "excluded_provinces": ["新疆"], "fragile": "prefer"},
    ),
    ("DELETE", "/fulfilment/{store_id}/carrier-rules/{carrier_code}"): (_R + "/ZTO", None),
}


def fulfilment_rules_world(store) -> dict[str, int]:
    rule = services.carrier_rule_set(
        actor=ACTOR, store=store, carrier=a_carrier("ZTO"), excluded_provinces=["西藏"]
    )
    return {"carrier_rule": rule.pk}
