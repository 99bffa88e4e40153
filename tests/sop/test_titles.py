"""Finding titles rendered per reader (STORE-04 users choose their language)."""

from __future__ import annotations

from django.utils import translation

from storeops.sop.registry import render_title, titled


def test_store_04_bilingual_parameters_follow_the_readers_language():
    key = "%(code)s: %(why)s"
    params = titled(key, code="P1", why={"zh": "库存积压", "en": "overstocked"})["title_params"]
    with translation.override("zh-hans"):
        assert render_title(key, params) == "P1: 库存积压"
    with translation.override("en"):
        assert render_title(key, params) == "P1: overstocked"
