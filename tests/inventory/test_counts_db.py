"""SOP INV-05: cycle counts — count sheets snapshot the book, counts are entered, the variance
is reported, and posting turns each variance into one ledger adjustment, exactly once."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from storeops.accounts.roles import Role
from storeops.audit.models import AuditEntry
from storeops.core.errors import Conflict, InvalidTransition, ValidationError
from storeops.inventory import counts
from storeops.inventory import selectors as sel
from storeops.inventory import services as inv
from storeops.inventory.models import CountSheet, CountSheetLine, MoveKind, Stock, StockMove
from tests.catalog.db_builders import ACTOR, a_dress_category, a_product


@pytest.fixture
def world(store):
    product = a_product(store, a_dress_category(store, required_qualifications=[]), "P1")
    s, m = product.skus.get(code="P1-S"), product.skus.get(code="P1-M")
    wh = inv.warehouse_create(actor=ACTOR, store=store, code="sh", name="上海仓")
    inv.stock_receive(actor=ACTOR, sku=s, warehouse=wh, quantity=10, reason="采购入库")
    inv.stock_receive(actor=ACTOR, sku=m, warehouse=wh, quantity=5, reason="采购入库")
    return {"store": store, "s": s, "m": m, "wh": wh}


def _on_hand(sku, wh) -> int:
    return Stock.objects.get(sku=sku, warehouse=wh, zone="sellable").on_hand


def _counting_sheet(w, **kw):
    sheet = counts.count_sheet_create(
        actor=ACTOR, store=w["store"], warehouse=w["wh"], sku_ids=[w["s"].pk, w["m"].pk], **kw
    )
    return counts.count_sheet_start(actor=ACTOR, sheet=sheet)


def test_inv_05_sheet_snapshots_the_book_on_hand_when_created(world):
    # given 4 of the 10 S units reserved (reserved units are still on the shelf)
    inv.stock_reserve(actor=ACTOR, sku=world["s"], warehouse=world["wh"], quantity=4, reference="SO-1")
    # when a sheet is created for both SKUs
    sheet = counts.count_sheet_create(
        actor=ACTOR, store=world["store"], warehouse=world["wh"], sku_ids=[world["s"].pk, world["m"].pk]
    )
    # then each line expects the on-hand quantity
    lines = {x.sku.code: x.expected for x in sheet.lines.select_related("sku")}
    assert lines == {"P1-S": 10, "P1-M": 5}
    assert sheet.status == "draft"
    assert sheet.number.startswith("PD")
    assert AuditEntry.objects.filter(action="count_sheet.create", object_id=str(sheet.pk)).exists()


def test_inv_05_scope_all_takes_every_sku_stocked_in_the_zone(world):
    sheet = counts.count_sheet_create(actor=ACTOR, store=world["store"], warehouse=world["wh"], scope="all")
    assert sheet.lines.count() == 2


def test_inv_05_a_sku_cannot_be_on_two_open_sheets_of_one_zone(world):
    _counting_sheet(world)
    with pytest.raises(Conflict):
        counts.count_sheet_create(
            actor=ACTOR, store=world["store"], warehouse=world["wh"], sku_ids=[world["s"].pk]
        )


def test_inv_05_counts_need_a_sheet_in_counting(world):
    sheet = counts.count_sheet_create(
        actor=ACTOR, store=world["store"], warehouse=world["wh"], sku_ids=[world["s"].pk]
    )
    with pytest.raises(InvalidTransition):
        counts.count_sheet_enter(actor=ACTOR, sheet=sheet, counts={world["s"].pk: 9})


@pytest.mark.parametrize("bad", [-1, "3.5", "abc", None, True])
def test_inv_05_count_entry_refuses_anything_but_whole_non_negative_units(world, bad):
    sheet = _counting_sheet(world)
    # when one good and one bad value are entered together
    with pytest.raises(ValidationError) as err:
        counts.count_sheet_enter(actor=ACTOR, sheet=sheet, counts={world["m"].pk: 5, world["s"].pk: bad})
    # then nothing is saved (all or nothing) and the message names the field
    assert str(world["s"].pk) in err.value.fields
    assert not CountSheetLine.objects.filter(sheet=sheet, counted__isnull=False).exists()


def test_inv_05_variance_report_values_the_differences_at_cost(world):
    sheet = _counting_sheet(world)
    counts.count_sheet_enter(actor=ACTOR, sheet=sheet, counts={world["s"].pk: 8})
    report = sel.count_sheet_report(sheet=sheet)
    # S: 2 units short at cost 60.00; M not counted yet
    assert [(r.sku_code, r.variance) for r in report.rows] == [("P1-M", None), ("P1-S", -2)]
    assert report.variance.net_value.amount == Decimal("-120.00")
    assert report.variance.not_counted == ("P1-M",)


def test_inv_05_posting_adjusts_each_variance_through_the_ledger(world):
    # given S counted 8 (book 10) and M counted 7 (book 5)
    sheet = _counting_sheet(world)
    counts.count_sheet_enter(actor=ACTOR, sheet=sheet, counts={world["s"].pk: 8, world["m"].pk: "7"})
    # when the sheet is posted
    counts.count_sheet_post(actor=ACTOR, sheet=sheet)
    # then on-hand follows the count, with one adjustment line each, reason naming the sheet
    assert (_on_hand(world["s"], world["wh"]), _on_hand(world["m"], world["wh"])) == (8, 7)
    moves = StockMove.objects.filter(kind=MoveKind.ADJUSTMENT, reference=sheet.number).order_by(
        "on_hand_delta"
    )
    assert [(m.on_hand_delta, m.reason) for m in moves] == [
        (-2, f"盘点差异 {sheet.number}"),
        (2, f"盘点差异 {sheet.number}"),
    ]
    assert sel.ledger_mismatches(store=world["store"]) == []
    sheet.refresh_from_db()
    assert sheet.status == "posted"
    assert sorted(sheet.lines.values_list("adjusted", flat=True)) == [-2, 2]


def test_inv_05_posting_twice_is_a_conflict_and_adjusts_once(world):
    sheet = _counting_sheet(world)
    counts.count_sheet_enter(actor=ACTOR, sheet=sheet, counts={world["s"].pk: 8})
    counts.count_sheet_post(actor=ACTOR, sheet=sheet)
    with pytest.raises(Conflict) as err:
        counts.count_sheet_post(actor=ACTOR, sheet=sheet)
    assert err.value.code == "already_posted"
    assert StockMove.objects.filter(kind=MoveKind.ADJUSTMENT, reference=sheet.number).count() == 1
    assert _on_hand(world["s"], world["wh"]) == 8


def test_inv_05_posting_refuses_lines_whose_stock_moved_since_the_snapshot(world):
    # given a counted sheet, then 3 units of S shipped before posting
    sheet = _counting_sheet(world)
    counts.count_sheet_enter(actor=ACTOR, sheet=sheet, counts={world["s"].pk: 10, world["m"].pk: 4})
    inv.stock_reserve(actor=ACTOR, sku=world["s"], warehouse=world["wh"], quantity=3, reference="SO-2")
    inv.stock_ship(actor=ACTOR, sku=world["s"], warehouse=world["wh"], quantity=3, reference="SO-2")
    # when posting, then it is refused and nothing is adjusted (not even M, which did not move)
    with pytest.raises(Conflict) as err:
        counts.count_sheet_post(actor=ACTOR, sheet=sheet)
    assert err.value.code == "stock_moved"
    assert "P1-S" in str(err.value)
    assert not StockMove.objects.filter(reference=sheet.number).exists()
    assert _on_hand(world["m"], world["wh"]) == 5
    # when the moved line is recounted and counted again, then the sheet posts
    assert counts.count_sheet_recount(actor=ACTOR, sheet=sheet) == [world["s"].pk]
    counts.count_sheet_enter(actor=ACTOR, sheet=sheet, counts={world["s"].pk: 6})
    counts.count_sheet_post(actor=ACTOR, sheet=sheet)
    assert (_on_hand(world["s"], world["wh"]), _on_hand(world["m"], world["wh"])) == (6, 4)


def test_inv_05_posting_rolls_back_entirely_when_an_adjustment_is_refused(world):
    # given S with 6 of its 10 units reserved, counted 5 (cannot go below the reservations)
    sheet = _counting_sheet(world)
    inv.stock_reserve(actor=ACTOR, sku=world["s"], warehouse=world["wh"], quantity=6, reference="SO-3")
    counts.count_sheet_enter(actor=ACTOR, sheet=sheet, counts={world["m"].pk: 4, world["s"].pk: 5})
    with pytest.raises(Conflict):
        counts.count_sheet_post(actor=ACTOR, sheet=sheet)
    # then M's adjustment (posted first by code order) was rolled back too
    assert _on_hand(world["m"], world["wh"]) == 5
    assert CountSheet.objects.get(pk=sheet.pk).status == "counting"


def test_inv_05_cancelled_sheet_cannot_be_posted(world):
    sheet = _counting_sheet(world)
    counts.count_sheet_cancel(actor=ACTOR, sheet=sheet, reason="重复")
    with pytest.raises(InvalidTransition):
        counts.count_sheet_post(actor=ACTOR, sheet=sheet)


# ---- API ------------------------------------------------------------------------------------


def test_inv_05_api_runs_a_count_from_sheet_to_posting(world, api_as):
    api = api_as(Role.WAREHOUSE)
    base = f"/inventory/{world['store'].pk}/count-sheets"
    created = api.post(base, {"warehouse_id": world["wh"].pk, "sku_ids": [world["s"].pk]})
    assert created.status_code == 201, created.content
    sheet_id = created.json()["sheet"]["id"]
    assert created.json()["line_count"] == 1
    assert created.json()["not_counted_count"] == 1
    lines = api.get(f"{base}/{sheet_id}/lines")
    assert lines.status_code == 200
    assert lines.json()["items"][0]["expected"] == 10
    assert api.post(f"{base}/{sheet_id}/start").status_code == 200
    entered = api.post(f"{base}/{sheet_id}/counts", {"counts": [{"sku_id": world["s"].pk, "counted": 9}]})
    assert entered.status_code == 200
    assert entered.json()["counted_count"] == 1
    assert api.get(f"{base}/{sheet_id}/lines").json()["items"][0]["variance"] == -1
    assert entered.json()["net_value"] == "-60.00"
    posted = api.post(f"{base}/{sheet_id}/post")
    assert posted.status_code == 200
    assert posted.json()["sheet"]["status"] == "posted"
    again = api.post(f"{base}/{sheet_id}/post")
    assert again.status_code == 409
    assert again.json()["code"] == "already_posted"
    assert api.get(base, status="posted").json()["total"] == 1


def test_inv_05_api_refuses_bad_counts_with_field_messages(world, api_as):
    api = api_as(Role.WAREHOUSE)
    base = f"/inventory/{world['store'].pk}/count-sheets"
    sheet_id = api.post(base, {"warehouse_id": world["wh"].pk, "sku_ids": [world["s"].pk]}).json()["sheet"][
        "id"
    ]
    api.post(f"{base}/{sheet_id}/start")
    bad = api.post(f"{base}/{sheet_id}/counts", {"counts": [{"sku_id": world["s"].pk, "counted": -3}]})
    assert bad.status_code == 422
    assert str(world["s"].pk) in bad.json()["fields"]
    unknown = api.post(f"{base}/{sheet_id}/counts", {"counts": [{"sku_id": 999999, "counted": 1}]})
    assert unknown.status_code == 422
    assert api.post(base, {"warehouse_id": world["wh"].pk, "sku_ids": []}).status_code == 422
    assert api.get(f"{base}/999999").status_code == 404


def test_inv_05_api_pages_a_sheets_lines_with_their_state_and_sku_filters(world, api_as):
    # the sheet's report carried every line of the sheet (a whole warehouse) in one answer
    api = api_as(Role.WAREHOUSE)
    base = f"/inventory/{world['store'].pk}/count-sheets"
    sheet_id = api.post(
        base, {"warehouse_id": world["wh"].pk, "sku_ids": [world["s"].pk, world["m"].pk]}
    ).json()["sheet"]["id"]
    api.post(f"{base}/{sheet_id}/start")
    api.post(f"{base}/{sheet_id}/counts", {"counts": [{"sku_id": world["m"].pk, "counted": 4}]})
    first = api.get(f"{base}/{sheet_id}/lines", page_size=1).json()
    assert (first["total"], first["page"], first["page_size"]) == (2, 1, 1)
    assert [x["sku_code"] for x in first["items"]] == ["P1-M"]
    second = api.get(f"{base}/{sheet_id}/lines", page_size=1, page=2).json()
    assert [x["sku_code"] for x in second["items"]] == ["P1-S"]
    uncounted = api.get(f"{base}/{sheet_id}/lines", state="uncounted").json()
    assert [x["sku_code"] for x in uncounted["items"]] == ["P1-S"]
    assert api.get(f"{base}/{sheet_id}/lines", q="p1-m").json()["total"] == 1
    bad = api.get(f"{base}/{sheet_id}/lines", state="nope")
    assert bad.status_code == 422
    assert "state" in bad.json()["fields"]
    assert api.get(f"{base}/{sheet_id}/lines", page_size=500).status_code == 422
    assert api.get(f"{base}/999999/lines").status_code == 404


# ---- console --------------------------------------------------------------------------------


def test_inv_05_console_sheet_entry_and_variance_pages(world, make_user):
    client = Client()
    client.force_login(make_user(Role.WAREHOUSE))
    response = client.post(
        "/inventory/counts/new/",
        {"warehouse": world["wh"].pk, "scope": "skus", "sku_codes": "P1-S P1-M"},
    )
    assert response.status_code == 302
    sheet = CountSheet.objects.get()
    client.post(f"/inventory/counts/{sheet.pk}/start/")
    page = client.get(f"/inventory/counts/{sheet.pk}/")
    assert page.status_code == 200
    assert "P1-S" in page.content.decode()
    client.post(
        f"/inventory/counts/{sheet.pk}/enter/", {f"count_{world['s'].pk}": "7", f"count_{world['m'].pk}": ""}
    )
    assert CountSheetLine.objects.get(sheet=sheet, sku=world["s"]).counted == 7
    report = client.get(f"/inventory/counts/{sheet.pk}/variance/")
    assert report.status_code == 200
    assert "-¥180.00" in report.content.decode()
    listing = client.get("/inventory/counts/?status=counting")
    assert sheet.number in listing.content.decode()


def test_inv_05_admin_shows_sheets_read_only(world, admin_client):
    sheet = _counting_sheet(world)
    assert admin_client.get("/admin/inventory/countsheet/").status_code == 200
    assert admin_client.get(f"/admin/inventory/countsheet/{sheet.pk}/change/").status_code == 200
    assert admin_client.get("/admin/inventory/countsheet/add/").status_code == 403
    assert admin_client.get("/admin/inventory/skuabcclass/").status_code == 200
