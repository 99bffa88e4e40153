"""The catalog's SEL-04 tag routes and pages and the LIST-07 launch tracking in the permission
matrix (tests/test_permission_matrix.py). They use the matrix world's ``{draft}`` product, its
``{channel}`` and the ``{tag}`` made by :func:`catalog_tags_world`."""

from __future__ import annotations

CATALOG_API_CASES = {
    ("GET", "/catalog/{store_id}/tags"): ("/catalog/{store}/tags?kind=style", None),
    ("POST", "/catalog/{store_id}/tags"): ("/catalog/{store}/tags", {"kind": "scene", "name": "露营"}),
    ("PATCH", "/catalog/{store_id}/tags/{tag_id}"): ("/catalog/{store}/tags/{tag}", {"name": "法式复古"}),
    ("DELETE", "/catalog/{store_id}/tags/{tag_id}"): ("/catalog/{store}/tags/{tag}", None),
    ("GET", "/catalog/{store_id}/launch-tracking"): (  # LIST-07
        "/catalog/{store}/launch-tracking?channel_id={channel}&days=7",
        None,
    ),
}

CATALOG_CONSOLE_CASES = {
    "console:catalog_tags": ("GET", "/catalog/tags/?kind=style", None),
    "console:catalog_tag_create": ("POST", "/catalog/tags/new/", {"kind": "scene", "name": "露营"}),
    "console:catalog_tag_update": ("POST", "/catalog/tags/{tag}/", {"kind": "style", "name": "法式复古"}),
    "console:catalog_tag_delete": ("POST", "/catalog/tags/{tag}/delete/", {}),
    "console:catalog_product_tags": ("POST", "/catalog/products/{draft}/tags/", {"tags": "风格:法式"}),
    "console:catalog_launch_tracking": ("GET", "/catalog/launch/?channel={channel}&days=14", None),  # LIST-07
    "console:catalog_sku_shipping": ("POST", "/catalog/skus/{sku}/shipping/", {"weight_g": "350"}),  # LOG-03
    "console:catalog_banned_words": ("GET", "/catalog/banned-words/", None),  # LIST-02
    "console:catalog_banned_words_update": (
        "POST",
        "/catalog/banned-words/save/",
        {"words": "最\n第一\n顶级"},
    ),
}


def catalog_tags_world(store, draft_id: int) -> dict[str, int]:
    """A style tag 法式 on the draft product."""
    from storeops.catalog import selectors, services
    from tests.catalog.db_builders import ACTOR

    product = selectors.product_detail(store_id=store.pk, product_id=draft_id)
    services.product_tags_set(actor=ACTOR, product=product, tags={"style": ["法式"]})
    return {"tag": selectors.tag_list(store_id=store.pk, kind="style").get(name="法式").pk}
