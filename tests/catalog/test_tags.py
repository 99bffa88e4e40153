"""SOP SEL-04: product tags (category, price band, style, usage scene) — managed per store,
set on products through the services, the API, the console and the import, used by search;
price bands derived from the price with the playbook's edges."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.test import Client

from storeops.accounts.roles import Role
from storeops.audit.models import AuditEntry
from storeops.catalog import selectors
from storeops.catalog import services as cs
from storeops.catalog.imports import catalog_import, export_rows, write_table
from storeops.catalog.models import Tag
from storeops.catalog.rules import (
    TagTextError,
    format_tags,
    parse_tags,
    price_band_edges,
    price_band_names,
    price_band_of,
)
from storeops.core.errors import NotFound, ValidationError
from storeops.pricing import services as ps
from storeops.stores import services as st
from tests.catalog.db_builders import ACTOR, a_business_license, a_dress_category, a_product


def _tags(product) -> list[str]:
    return sorted(f"{t.kind}:{t.name}" for t in Tag.objects.filter(products=product))


# ---- pure: the text form and price bands ------------------------------------------------------


def test_sel_04_tag_text_takes_codes_or_chinese_kinds_and_formats_back_in_display_order():
    # given tags typed with codes, Chinese kind names, full-width marks and a duplicate
    text = "风格:法式；scene：露营野餐; style:法式\n类目: 连衣裙 ; 价格带:100-200元"
    # when parsed, then each is (kind code, name) once, in the order typed
    pairs = parse_tags(text)
    assert pairs == [
        ("style", "法式"),
        ("scene", "露营野餐"),
        ("category", "连衣裙"),
        ("price_band", "100-200元"),
    ]
    # and formatted back in display order: category, price band, style, scene
    assert format_tags(pairs) == "category:连衣裙; price_band:100-200元; style:法式; scene:露营野餐"
    assert sorted(parse_tags(format_tags(pairs))) == sorted(pairs)  # round trip
    assert parse_tags("") == []


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("colour:红", "kind"),
        ("法式", "format"),
        ("style:", "format"),
        ("style:" + "长" * 51, "name_too_long"),
    ],
)
def test_sel_04_a_tag_text_part_that_is_not_kind_name_is_refused(text, problem):
    with pytest.raises(TagTextError) as caught:
        parse_tags(f"scene:露营; {text}")
    assert (caught.value.part, caught.value.problem) == (text, problem)


def test_sel_04_price_band_of_a_price_follows_the_edges():
    edges = price_band_edges("50，100 、200")
    assert edges == (Decimal(50), Decimal(100), Decimal(200))
    assert price_band_names(edges) == ["0-50元", "50-100元", "100-200元", "200元以上"]
    # a price on an edge belongs to the band above it
    got = [price_band_of(Decimal(p), edges) for p in ("0", "49.99", "50", "99.90", "199", "200", "5000")]
    assert got == ["0-50元", "0-50元", "50-100元", "50-100元", "100-200元", "200元以上", "200元以上"]
    assert price_band_edges("") == ()
    assert price_band_of(Decimal(10), ()) is None
    for bad, why in (("100,50", "must increase"), ("50,abc", "not an amount"), ("0,100", "positive")):
        with pytest.raises(ValueError, match=why):
            price_band_edges(bad)


# ---- services ------------------------------------------------------------------------------------


@pytest.fixture
def dress(store, today):
    a_business_license(store, today)
    return a_dress_category(store)


@pytest.mark.django_db
def test_sel_04_tags_are_created_renamed_and_deleted_unique_per_store_and_kind(store, dress, system):
    # given a style tag 法式 on a product
    product = a_product(store, dress)
    tag = cs.tag_create(actor=ACTOR, store=store, kind="style", name=" 法式 ")
    cs.product_tags_set(actor=ACTOR, product=product, tags={"style": ["法式"]})
    assert (tag.name, _tags(product)) == ("法式", ["style:法式"])
    # when the same kind and name is created again, then it is refused with a message on the name
    with pytest.raises(ValidationError) as dup:
        cs.tag_create(actor=ACTOR, store=store, kind="style", name="法式")
    assert dup.value.fields == {"name": "该类型下已有同名标签"}
    # the same name of another kind, or in another store, is another tag
    cs.tag_create(actor=ACTOR, store=store, kind="scene", name="法式")
    other = st.store_create(actor=system, code="s2", name="二店")
    cs.tag_create(actor=ACTOR, store=other, kind="style", name="法式")
    # an unknown kind, an empty or too long name, a name with a separator are refused
    for kind, name, field in (
        ("colour", "红", "kind"),
        ("style", " ", "name"),
        ("style", "长" * 51, "name"),
        ("style", "a;b", "name"),
    ):
        with pytest.raises(ValidationError) as bad:
            cs.tag_create(actor=ACTOR, store=store, kind=kind, name=name)
        assert list(bad.value.fields) == [field]
    # when renamed, the product keeps it under its new name; a rename onto a taken name is refused
    cs.tag_update(actor=ACTOR, tag=tag, name="法式复古")
    assert _tags(product) == ["style:法式复古"]
    taken = cs.tag_create(actor=ACTOR, store=store, kind="style", name="简约")
    with pytest.raises(ValidationError):
        cs.tag_update(actor=ACTOR, tag=taken, name="法式复古")
    # when deleted, it is taken off its products
    assert cs.tag_delete(actor=ACTOR, tag=tag) == 1
    assert _tags(product) == []
    actions = set(AuditEntry.objects.filter(action__startswith="tag.").values_list("action", flat=True))
    assert actions == {"tag.create", "tag.update", "tag.delete"}
    assert [t.name for t in selectors.tag_list(store_id=store.pk, kind="style")] == ["简约"]
    with pytest.raises(NotFound):
        selectors.tag_get(store_id=other.pk, tag_id=taken.pk)


@pytest.mark.django_db
def test_sel_04_product_tags_are_replaced_and_a_bad_name_changes_nothing(store, dress):
    product = a_product(store, dress)
    cs.product_tags_set(actor=ACTOR, product=product, tags={"style": ["法式"], "scene": ["度假"]})
    # when replaced, then only the new ones are left (the old tags stay in the store's list)
    cs.product_tags_set(actor=ACTOR, product=product, tags={"scene": ["通勤"]})
    assert _tags(product) == ["scene:通勤"]
    assert selectors.tag_list(store_id=store.pk).count() == 3
    # a name that is too long is refused (not cut short) and nothing changes
    with pytest.raises(ValidationError) as bad:
        cs.product_tags_set(actor=ACTOR, product=product, tags={"scene": ["露营", "长" * 51]})
    assert list(bad.value.fields) == ["scene"]
    assert _tags(product) == ["scene:通勤"]


@pytest.mark.django_db
def test_sel_04_price_band_tag_follows_the_lowest_price_with_the_playbooks_edges(store, dress, system):
    # given a product at 199 tagged by hand with a band, before the store sets edges
    product = a_product(store, dress, price="199.00")
    cs.product_tags_set(actor=ACTOR, product=product, tags={"price_band": ["中档"], "style": ["法式"]})
    # when the store sets price band edges, then every product is banded at once
    st.playbook_update(actor=system, store=store, values={"tag_price_band_edges": "50,100,200"})
    assert _tags(product) == ["price_band:100-200元", "style:法式"]
    # a new product gets its band when created
    cheap = a_product(store, dress, "P2", price="39.90")
    assert _tags(cheap) == ["price_band:0-50元"]
    # when one SKU's base price drops below 100, the band follows the lowest price
    sku = product.skus.order_by("code").first()
    ps.price_set(actor=ACTOR, sku=sku, new_price="99.00", reason="promotion")
    assert _tags(product) == ["price_band:50-100元", "style:法式"]
    # setting tags keeps the band; another band typed by hand is refused
    cs.product_tags_set(actor=ACTOR, product=product, tags={"scene": ["度假"]})
    assert _tags(product) == ["price_band:50-100元", "scene:度假"]
    with pytest.raises(ValidationError) as bad:
        cs.product_tags_set(actor=ACTOR, product=product, tags={"price_band": ["200元以上"]})
    assert bad.value.fields == {"price_band": "价格带按售价自动计算（50-100元），不能手动设置"}
    # a badly written edge list is refused by the playbook
    with pytest.raises(ValidationError):
        st.playbook_update(actor=system, store=store, values={"tag_price_band_edges": "100,50"})


@pytest.mark.django_db
def test_sel_04_without_edges_the_price_band_is_set_by_hand(store, dress):
    product = a_product(store, dress, price="199.00")
    cs.product_tags_set(actor=ACTOR, product=product, tags={"price_band": ["高端"]})
    ps.price_set(actor=ACTOR, sku=product.skus.first(), new_price="19.00", reason="promotion")
    assert _tags(product) == ["price_band:高端"]
    assert cs.price_bands_refresh(actor=ACTOR, store=store) == 0


# ---- API -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_sel_04_api_manages_tags_and_sets_them_on_products(store, dress, api_as):
    api = api_as(Role.OPERATIONS)
    base = f"/catalog/{store.pk}"
    # tag CRUD
    created = api.post(f"{base}/tags", {"kind": "style", "name": "法式"})
    assert created.status_code == 201, created.content
    tag = created.json()
    assert (tag["kind"], tag["name"], tag["text"], tag["product_count"]) == ("style", "法式", "style:法式", 0)
    dup = api.post(f"{base}/tags", {"kind": "style", "name": "法式"})
    assert (dup.status_code, dup.json()["fields"]) == (422, {"name": "该类型下已有同名标签"})
    assert api.post(f"{base}/tags", {"kind": "colour", "name": "红"}).status_code == 422
    # a product created with tags (codes or Chinese kind names)
    body = {
        "category_id": dress.pk,
        "code": "NEW",
        "core_word": "连衣裙",
        "title": "碎花连衣裙",
        "skus": [{"code": "NEW-S", "price": "99.00"}],
        "tags": ["style:法式", "使用场景:露营野餐"],
    }
    product = api.post(f"{base}/products", body)
    assert product.status_code == 201, product.content
    assert product.json()["tags"] == ["style:法式", "scene:露营野餐"]
    pid = product.json()["id"]
    a_product(store, dress, "OTHER")
    # the list shows tags, filters by a tag (name, kind:name, id) and q finds part of a tag name
    listed = api.get(f"{base}/products").json()["items"]
    assert {p["code"]: p["tags"] for p in listed} == {"NEW": ["style:法式", "scene:露营野餐"], "OTHER": []}
    for query in ({"tag": "法式"}, {"tag": "风格:法式"}, {"tag_id": tag["id"]}, {"q": "露营"}):
        assert [p["code"] for p in api.get(f"{base}/products", **query).json()["items"]] == ["NEW"], query
    assert api.get(f"{base}/products", tag="scene:法式").json()["items"] == []
    # PATCH replaces the tags (and nothing else); a bad one is a 422 naming the part
    patched = api.patch(f"{base}/products/{pid}", {"tags": ["scene:度假"]})
    assert patched.json()["tags"] == ["scene:度假"]
    bad = api.patch(f"{base}/products/{pid}", {"tags": ["颜色:红"], "is_key": True})
    assert bad.status_code == 422
    assert "颜色:红" in bad.json()["fields"]["tags"]
    detail = api.get(f"{base}/products/{pid}").json()
    assert (detail["tags"], detail["is_key"]) == (["scene:度假"], False)
    # rename, list with counts, delete
    renamed = api.patch(f"{base}/tags/{tag['id']}", {"name": "法式复古"})
    assert renamed.json()["name"] == "法式复古"
    tags = api.get(f"{base}/tags").json()
    assert {(t["text"], t["product_count"]) for t in tags["items"]} == {
        ("style:法式复古", 0),
        ("scene:露营野餐", 0),
        ("scene:度假", 1),
    }
    assert api.get(f"{base}/tags", kind="scene").json()["total"] == 2
    assert api.call("DELETE", f"{base}/tags/{tag['id']}").status_code == 204
    assert api.call("DELETE", f"{base}/tags/{tag['id']}").status_code == 404
    # a viewer may read but not change tags
    viewer = api_as(Role.CUSTOMER_SERVICE)
    assert viewer.get(f"{base}/tags").status_code == 200
    assert viewer.post(f"{base}/tags", {"kind": "style", "name": "简约"}).status_code == 403


# ---- console ----------------------------------------------------------------------------------------


@pytest.fixture
def console(make_user):
    client = Client()
    client.force_login(make_user(Role.OPERATIONS))
    return client


@pytest.mark.django_db
def test_sel_04_console_product_list_shows_tags_and_filters_by_one(store, dress, console):
    tagged = a_product(store, dress, "P1")
    a_product(store, dress, "P2")
    cs.product_tags_set(actor=ACTOR, product=tagged, tags={"scene": ["露营野餐"]})
    tag = selectors.tag_list(store_id=store.pk).get()
    page = console.get("/catalog/products/").content.decode()
    assert '<span class="badge" title="使用场景">露营野餐</span>' in page
    assert f'<option value="{tag.pk}" >露营野餐</option>' in page
    filtered = console.get(f"/catalog/products/?tag={tag.pk}").content.decode()
    assert ">P1</a>" in filtered
    assert ">P2</a>" not in filtered
    searched = console.get("/catalog/products/?q=露营").content.decode()
    assert ">P1</a>" in searched
    assert ">P2</a>" not in searched


@pytest.mark.django_db
def test_sel_04_console_edits_a_products_tags_and_a_refusal_comes_back_as_typed(store, dress, console):
    product = a_product(store, dress)
    url = f"/catalog/products/{product.pk}/tags/"
    # when saved, then the tags are set and shown on the product page
    response = console.post(url, {"tags": "风格:法式；使用场景:度假"})
    assert response.status_code == 302
    assert _tags(product) == ["scene:度假", "style:法式"]
    page = console.get(f"/catalog/products/{product.pk}/").content.decode()
    assert "风格：法式</a>" in page
    assert 'value="style:法式; scene:度假"' in page
    # a bad text is refused, shown again as typed with the reason, and nothing changes
    refused = console.post(url, {"tags": "颜色:红; 风格:简约"})
    assert refused.status_code == 422
    body = refused.content.decode()
    assert 'value="颜色:红; 风格:简约"' in body
    assert '<span class="err">未知的标签类型：颜色:红' in body
    assert _tags(product) == ["scene:度假", "style:法式"]
    # an empty text removes them all
    console.post(url, {"tags": ""})
    assert _tags(product) == []


@pytest.mark.django_db
def test_sel_04_console_tags_page_creates_renames_and_deletes(store, dress, console, make_user):
    product = a_product(store, dress)
    cs.product_tags_set(actor=ACTOR, product=product, tags={"style": ["法式"]})
    tag = selectors.tag_list(store_id=store.pk).get()
    page = console.get("/catalog/tags/").content.decode()
    assert f'<a href="/catalog/products/?tag={tag.pk}">1</a>' in page
    # create, and a duplicate comes back as typed
    assert console.post("/catalog/tags/new/", {"kind": "scene", "name": "露营"}).status_code == 302
    dup = console.post("/catalog/tags/new/", {"kind": "scene", "name": "露营"})
    assert dup.status_code == 422
    assert '<span class="err">该类型下已有同名标签</span>' in dup.content.decode()
    # rename (a refused rename shows the row as typed), then delete
    refused = console.post(f"/catalog/tags/{tag.pk}/", {"kind": "scene", "name": "露营"})
    assert refused.status_code == 422
    assert 'value="露营"><span class="err">该类型下已有同名标签</span>' in refused.content.decode()
    assert console.post(f"/catalog/tags/{tag.pk}/", {"kind": "style", "name": "法式复古"}).status_code == 302
    assert _tags(product) == ["style:法式复古"]
    assert console.post(f"/catalog/tags/{tag.pk}/delete/").status_code == 302
    assert _tags(product) == []
    assert [t.name for t in selectors.tag_list(store_id=store.pk)] == ["露营"]
    # customer service sees the tags but no forms
    viewer = Client()
    viewer.force_login(make_user(Role.CUSTOMER_SERVICE))
    seen = viewer.get("/catalog/tags/").content.decode()
    assert ">露营</td>" in seen
    assert "/catalog/tags/new/" not in seen


# ---- import / export -------------------------------------------------------------------------------

HEADER = ["商品编码", "类目编码", "核心词", "标题", "SKU编码", "售价", "标签"]


def _csv(rows: list[list[str]], header: list[str] = HEADER) -> io.BytesIO:
    buffer = io.BytesIO()
    write_table(buffer, header, rows, xlsx=False)
    buffer.seek(0)
    return buffer


@pytest.mark.django_db
def test_sel_04_import_sets_tags_and_the_export_round_trips(store, dress, system):
    # given a file of two products (one on two rows) with a 标签 column, one tag already known
    cs.tag_create(actor=ACTOR, store=store, kind="style", name="法式")
    rows = [
        ["P1", "dress", "连衣裙", "碎花连衣裙", "P1-S", "199.00", "风格:法式；使用场景:度假"],
        ["P1", "dress", "连衣裙", "碎花连衣裙", "P1-M", "199.00", ""],
        ["P2", "dress", "连衣裙", "纯色连衣裙", "P2-S", "99.00", "style:简约"],
    ]
    report = catalog_import(actor=ACTOR, store=store, kind="products", source=_csv(rows), filename="p.csv")
    assert (report.ok, report.imported) == (True, 2)
    p1, p2 = (selectors.product_list(store_id=store.pk).get(code=c) for c in ("P1", "P2"))
    assert (_tags(p1), _tags(p2)) == (["scene:度假", "style:法式"], ["style:简约"])
    assert selectors.tag_list(store_id=store.pk, kind="style").count() == 2  # 法式 reused
    # the export has a tags column in the import format ...
    header, exported = export_rows(store=store, kind="products")
    exported = list(exported)
    column = header.index("tags")
    assert [r[column] for r in exported] == ["style:法式; scene:度假", "style:法式; scene:度假", "style:简约"]
    # ... which imports into another store as the same tags
    other = st.store_create(actor=system, code="s2", name="二店")
    a_dress_category(other, required_qualifications=[])
    again = catalog_import(
        actor=ACTOR, store=other, kind="products", source=_csv(exported, header), filename="e.csv"
    )
    assert again.ok, again.errors
    copy = selectors.product_list(store_id=other.pk).get(code="P1")
    assert _tags(copy) == ["scene:度假", "style:法式"]


@pytest.mark.django_db
def test_sel_04_import_refuses_a_bad_tag_and_derives_the_price_band(store, dress, system):
    # given a bad kind on one row: nothing is imported, the row and the part are named
    rows = [
        ["P1", "dress", "连衣裙", "碎花连衣裙", "P1-S", "199.00", "颜色:红"],
        ["P2", "dress", "连衣裙", "纯色连衣裙", "P2-S", "99.00", ""],
    ]
    report = catalog_import(actor=ACTOR, store=store, kind="products", source=_csv(rows), filename="p.csv")
    assert [(e.line, e.field) for e in report.errors] == [(2, "tags")]
    assert "颜色:红" in report.errors[0].message
    assert report.imported == 0
    # with edges: the band comes from the lowest price; a different band typed is a row error
    st.playbook_update(actor=system, store=store, values={"tag_price_band_edges": "50,100,200"})
    rows = [
        ["P1", "dress", "连衣裙", "碎花连衣裙", "P1-S", "199.00", "价格带:100-200元; 风格:法式"],
        ["P2", "dress", "连衣裙", "纯色连衣裙", "P2-S", "99.00", ""],
        ["P3", "dress", "连衣裙", "真丝连衣裙", "P3-S", "399.00", "价格带:0-50元"],
    ]
    report = catalog_import(
        actor=ACTOR, store=store, kind="products", source=_csv(rows), filename="p.csv", partial=True
    )
    assert [(e.line, e.field) for e in report.errors] == [(4, "tags")]
    assert report.errors[0].message == "价格带按售价自动计算（200元以上），不能手动设置"
    p1, p2 = (selectors.product_list(store_id=store.pk).get(code=c) for c in ("P1", "P2"))
    assert (_tags(p1), _tags(p2)) == (["price_band:100-200元", "style:法式"], ["price_band:50-100元"])
