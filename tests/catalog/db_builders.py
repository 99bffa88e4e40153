"""Builders of catalog/pricing rows for the database tests (plain functions over services)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from storeops.catalog import services as cs
from storeops.catalog.models import Category, Product
from storeops.core.context import Actor
from storeops.stores import services as st
from storeops.stores.models import Store

GOOD_TITLE = "2024夏季新款法式碎花雪纺连衣裙女装收腰显瘦气质长裙海边度假沙滩裙"  # 34 characters
ACTOR = Actor.system("cli")


def a_dress_category(store: Store, **overrides: Any) -> Category:
    data: dict[str, Any] = {
        "code": "dress",
        "name": "连衣裙",
        "required_qualifications": ["business_license"],
        "required_parameters": ["尺码", "面料"],
        "attribute_words": ["碎花", "雪纺", "收腰"],
        "scene_words": ["度假", "通勤", "约会"],
    }
    data.update(overrides)
    return cs.category_create(actor=ACTOR, store=store, **data)


def a_business_license(store: Store, today: dt.date, **overrides: Any) -> None:
    data: dict[str, Any] = {
        "kind": "business_license",
        "title": "营业执照",
        "issuer": "市场监督管理局",
        "valid_from": today - dt.timedelta(days=365),
        "valid_to": today + dt.timedelta(days=365),
    }
    data.update(overrides)
    st.qualification_create(actor=ACTOR, store=store, **data)


def a_product(
    store: Store,
    category: Category,
    code: str = "P1",
    *,
    price: str = "199.00",
    complete: bool = True,
    **overrides: Any,
) -> Product:
    data: dict[str, Any] = {
        "code": code,
        "core_word": "连衣裙",
        "title": GOOD_TITLE,
        "description": "法式碎花雪纺面料，轻薄透气，适合海边度假与日常通勤。",
        "parameters": {"尺码": "S/M/L", "面料": "雪纺"},
        "skus": [
            {"code": f"{code}-S", "price": price, "cost": "60.00", "attributes": {"尺码": "S"}},
            {"code": f"{code}-M", "price": price, "cost": "60.00", "attributes": {"尺码": "M"}},
        ],
    }
    data.update(overrides)
    product = cs.product_create(actor=ACTOR, store=store, category=category, **data)
    if complete:
        cs.product_image_add(actor=ACTOR, product=product, role="main", name="main.jpg", size_bytes=80_000)
        cs.product_image_add(actor=ACTOR, product=product, role="scene", name="beach.jpg", size_bytes=90_000)
        cs.product_document_add(actor=ACTOR, product=product, kind="qc_report", title="质检报告")
    return product


def a_live_product(store: Store, category: Category, channel: Any, code: str = "P1", **kw: Any) -> Product:
    product = a_product(store, category, code, **kw)
    cs.listing_submit(actor=ACTOR, product=product)
    cs.listing_schedule(actor=ACTOR, product=product, channel=channel)
    product.refresh_from_db()
    return product
