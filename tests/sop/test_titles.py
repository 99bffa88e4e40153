"""Finding titles rendered per reader (STORE-04 users choose their language)."""

from __future__ import annotations

import ast
from pathlib import Path

from django.utils import translation

import storeops
from storeops.sop.registry import render_title, titled


def test_store_04_bilingual_parameters_follow_the_readers_language():
    key = "%(code)s: %(why)s"
    params = titled(key, code="P1", why={"zh": "库存积压", "en": "overstocked"})["title_params"]
    with translation.override("zh-hans"):
        assert render_title(key, params) == "P1: 库存积压"
    with translation.override("en"):
        assert render_title(key, params) == "P1: overstocked"


def test_store_04_every_check_stores_its_finding_title_as_a_key_for_each_reader():
    """A title given as plain text is frozen in the store's language when the check runs; the
    board shows it to English readers in Chinese. Every FindingDraft passes its title through
    ``titled(key, **params)`` so that each reader sees it in their own language."""
    root = Path(storeops.__file__).parent
    plain: list[str] = []
    drafts = 0
    for path in sorted(root.rglob("*.py")):
        if "sop" in path.relative_to(root).parts[:1]:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "FindingDraft":
                drafts += 1
                if any(k.arg == "title" for k in node.keywords):
                    plain.append(f"{path.relative_to(root)}:{node.lineno}")
    assert drafts > 40  # the scan sees the checks
    assert plain == []
