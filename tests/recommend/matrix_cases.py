"""The recommendation routes and pages in the permission matrix (tests/test_permission_matrix.py).
They use the matrix world's store, channel and catalogue (``{draft}`` product, ``OK-S`` SKU)."""

from __future__ import annotations

RECOMMEND_API_CASES = {
    ("POST", "/recommend/shop/{store_id}/add-ons"): (
        "/recommend/shop/{store}/add-ons",
        {"channel_id": "{channel}", "customer": {"ref": "c1"}, "lines": [{"sku": "OK-S", "quantity": 1}]},
    ),
    ("GET", "/recommend/shop/{store_id}/products/{product_id}"): (
        "/recommend/shop/{store}/products/{draft}",
        None,
    ),
    ("GET", "/recommend/{store_id}/products/{product_id}/neighbours"): (
        "/recommend/{store}/products/{draft}/neighbours",
        None,
    ),
    ("GET", "/recommend/{store_id}/builds"): ("/recommend/{store}/builds", None),
    ("POST", "/recommend/{store_id}/builds"): ("/recommend/{store}/builds", {}),
}

RECOMMEND_CONSOLE_CASES = {
    "console:recommend_overview": ("GET", "/recommend/?q=OK&cart=OK-S", None),
    "console:recommend_product": ("GET", "/recommend/products/{draft}/", None),
    "console:recommend_rebuild": ("POST", "/recommend/rebuild/", {}),
}
