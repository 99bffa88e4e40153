"""Console pages of the inventory as the warehouse works them: stock operations (receive,
transfer, adjust) and cycle-count sheets (create, enter, post)."""

from __future__ import annotations

import pytest
from django.test import Client

from storeops.accounts.roles import Role
from storeops.console import inventory_views
from storeops.inventory import counts
from storeops.inventory import services as stock_services
from storeops.inventory.models import CountSheetLine, Stock, StockMove, Zone
from tests.catalog.db_builders import a_product
from tests.orders.builders import ACTOR, World

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(store, channel):
    return World(store, channel)  # P1-S and P1-M, 10 of each in 上海仓 (sh) and 广州仓 (gz)


def _client(make_user, role, **kwargs):
    client = Client()
    client.force_login(make_user(role, **kwargs))
    return client


def _messages(response) -> str:
    return " ".join(str(m) for m in response.context["messages"])


def _on_hand(world, warehouse, sku=None, zone=Zone.SELLABLE) -> int:
    row = Stock.objects.filter(warehouse=warehouse, sku=sku or world.sku_s, zone=zone).first()
    return row.on_hand if row else 0


# --- stock operations: the warehouse could only do these through the API ----------------------


def test_inv_warehouse_receives_transfers_and_adjusts_stock_from_the_stock_page(world, make_user):
    client = _client(make_user, Role.WAREHOUSE)
    page = client.get("/inventory/stock/").content.decode()
    assert 'action="/inventory/stock/operate/"' in page
    response = client.post(
        "/inventory/stock/operate/",
        {
            "kind": "receive",
            "sku_code": "P1-S",
            "warehouse": world.sh.pk,
            "zone": "sellable",
            "quantity": "20",
            "reason": "采购入库",
            "reference": "PO-9",
        },
        follow=True,
    )
    assert "已入库：P1-S × 20 → 上海仓 可售区" in _messages(response)
    assert _on_hand(world, world.sh) == 30
    client.post(
        "/inventory/stock/operate/",
        {
            "kind": "transfer",
            "sku_code": "P1-S",
            "warehouse": world.sh.pk,
            "to_warehouse": world.gz.pk,
            "quantity": "5",
            "reason": "补货调拨",
        },
    )
    assert (_on_hand(world, world.sh), _on_hand(world, world.gz)) == (25, 15)
    client.post(
        "/inventory/stock/operate/",
        {
            "kind": "adjust",
            "sku_code": "P1-S",
            "warehouse": world.gz.pk,
            "quantity": "-2",
            "reason": "破损报废",
        },
    )
    assert _on_hand(world, world.gz) == 13
    assert StockMove.objects.filter(kind="adjustment", on_hand_delta=-2, reason="破损报废").exists()
    ledger = client.get("/inventory/ledger/").content.decode()
    assert ">-2</td>" in ledger  # an adjustment shows its direction, not just "2"
    assert "库存调整" in ledger  # not "盘点调整": this one is no count variance


def test_inv_refused_stock_operation_keeps_the_form_and_saves_nothing(world, make_user):
    client = _client(make_user, Role.WAREHOUSE)
    response = client.post(
        "/inventory/stock/operate/",
        {
            "kind": "transfer",
            "sku_code": "P1-S",
            "warehouse": world.sh.pk,
            "to_warehouse": world.gz.pk,
            "quantity": "500",
            "reason": "补货调拨",
            "reference": "TR-1",
        },
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "可用库存不足，无法调拨" in _messages(response)
    assert 'value="500"' in html
    assert 'value="TR-1"' in html
    assert f'<option value="{world.gz.pk}" selected' in html
    assert (_on_hand(world, world.sh), _on_hand(world, world.gz)) == (10, 10)
    bad = client.post(
        "/inventory/stock/operate/",
        {
            "kind": "receive",
            "sku_code": "NOPE",
            "warehouse": world.sh.pk,
            "quantity": "x",
            "reason": "采购入库",
        },
    )
    assert bad.status_code == 422
    assert "找不到 SKU：NOPE" in _messages(bad)
    assert "数量须为正整数" in _messages(bad)


def test_inv_stock_operations_need_the_warehouse_permissions(world, make_user):
    data = {"kind": "receive", "sku_code": "P1-S", "warehouse": world.sh.pk, "quantity": "1", "reason": "x"}
    assert _client(make_user, Role.OPERATIONS).post("/inventory/stock/operate/", data).status_code == 403
    page = _client(make_user, Role.OPERATIONS).get("/inventory/stock/").content.decode()
    assert "/inventory/stock/operate/" not in page  # operations sees stock, does not move it
    assert _on_hand(world, world.sh) == 10


def test_inv_stock_operation_buttons_read_as_actions_in_english(world, make_user):
    html = _client(make_user, Role.WAREHOUSE, username="wh_en", language="en").get("/inventory/stock/")
    assert '<button type="submit">Receive</button>' in html.content.decode()  # not the noun "Receipt"


# --- cycle counts ---------------------------------------------------------------------------


def _counting_sheet(world):
    sheet = counts.count_sheet_create(
        actor=ACTOR, store=world.store, warehouse=world.sh, sku_ids=[world.sku_s.pk, world.sku_m.pk]
    )
    return counts.count_sheet_start(actor=ACTOR, sheet=sheet)


def test_inv_05_one_bad_count_keeps_every_typed_count_on_the_page(world, make_user):
    sheet = _counting_sheet(world)
    client = _client(make_user, Role.WAREHOUSE)
    response = client.post(
        f"/inventory/counts/{sheet.pk}/enter/",
        {f"count_{world.sku_s.pk}": "9", f"count_{world.sku_m.pk}": "-1"},
    )
    # was a redirect to an empty form: a whole aisle's counts retyped for one typo
    assert response.status_code == 422
    html = response.content.decode()
    assert f'name="count_{world.sku_s.pk}" value="9"' in html
    assert f'name="count_{world.sku_m.pk}" value="-1"' in html
    assert "盘点数量有误，未保存" in _messages(response)
    assert not CountSheetLine.objects.filter(sheet=sheet, counted__isnull=False).exists()


def test_inv_05_refused_new_sheet_keeps_the_form(world, make_user):
    client = _client(make_user, Role.WAREHOUSE)
    response = client.post(
        "/inventory/counts/new/",
        {"warehouse": world.gz.pk, "zone": "qc", "scope": "skus", "sku_codes": "P1-S NOPE", "note": "周盘"},
    )
    assert response.status_code == 422  # was a redirect carrying the form in its query string
    assert "找不到这些 SKU：NOPE" in _messages(response)
    html = response.content.decode()
    assert 'value="P1-S NOPE"' in html
    assert 'value="周盘"' in html
    assert f'<option value="{world.gz.pk}" selected' in html
    assert '<option value="qc" selected' in html


def test_inv_05_post_and_cancel_ask_for_confirmation_and_posted_by_is_labelled(world, make_user):
    sheet = _counting_sheet(world)
    html = _client(make_user, Role.WAREHOUSE).get(f"/inventory/counts/{sheet.pk}/").content.decode()
    for action in ("post", "cancel"):
        form = html.split(f'action="/inventory/counts/{sheet.pk}/{action}/"')[1].split(">")[0]
        assert "return confirm(this.dataset.confirm)" in form, action
    counts.count_sheet_enter(actor=ACTOR, sheet=sheet, counts={world.sku_s.pk: 9, world.sku_m.pk: 10})
    counts.count_sheet_post(actor=ACTOR, sheet=sheet)
    english = _client(make_user, Role.WAREHOUSE, username="wh_en", language="en")
    assert "Posted by: " in english.get(f"/inventory/counts/{sheet.pk}/").content.decode()  # was "Post: "


# --- big lists a page at a time: replenishment and count sheets --------------------------------


def _second_product(world, code="P2"):
    product = a_product(world.store, world.sku_s.product.category, code)
    for sku in product.skus.all():
        stock_services.stock_receive(actor=ACTOR, sku=sku, warehouse=world.sh, quantity=3, reason="采购入库")
    return product


def test_inv_01_replenishment_is_paged_and_keeps_its_filter_across_pages(world, make_user, monkeypatch):
    # one row per product with stock or sales: every product of the catalogue on one page
    monkeypatch.setattr(inventory_views, "PAGE_SIZE", 1)
    _second_product(world)
    client = _client(make_user, Role.WAREHOUSE)
    first = client.get("/inventory/replenishment/").content.decode()
    assert "<td>P1 " in first
    assert "<td>P2 " not in first
    assert "?&page=2" in first
    second = client.get("/inventory/replenishment/?page=2").content.decode()
    assert "<td>P2 " in second
    assert "<td>P1 " not in second
    # the alerts filter rides on the pager's links
    alerts = client.get("/inventory/replenishment/?alerts=1").content.decode()
    assert "没有需要补货的商品" in alerts


def test_inv_05_a_sheet_is_counted_a_page_at_a_time_without_losing_other_pages(world, make_user, monkeypatch):
    monkeypatch.setattr(inventory_views, "COUNT_PAGE_SIZE", 1)
    sheet = _counting_sheet(world)  # P1-M, P1-S (by code)
    client = _client(make_user, Role.WAREHOUSE)
    url = f"/inventory/counts/{sheet.pk}/"
    first = client.get(url).content.decode()
    assert f'name="count_{world.sku_m.pk}"' in first
    assert f'name="count_{world.sku_s.pk}"' not in first
    assert f'action="{url}enter/?page=1"' in first
    saved = client.post(f"{url}enter/?page=1", {f"count_{world.sku_m.pk}": "9"})
    assert saved.status_code == 302
    assert saved["Location"] == f"{url}?page=1"
    # page 2: a typo is refused on that page, as typed; page 1's count stays
    refused = client.post(f"{url}enter/?page=2", {f"count_{world.sku_s.pk}": "x"})
    assert refused.status_code == 422
    html = refused.content.decode()
    assert f'name="count_{world.sku_s.pk}" value="x"' in html
    assert f'name="count_{world.sku_m.pk}"' not in html
    saved = client.post(f"{url}enter/?page=2", {f"count_{world.sku_s.pk}": "10"})
    assert saved["Location"] == f"{url}?page=2"
    counted = dict(CountSheetLine.objects.filter(sheet=sheet).values_list("sku_id", "counted"))
    assert counted == {world.sku_m.pk: 9, world.sku_s.pk: 10}


def test_inv_05_a_sheets_lines_are_filtered_by_state_and_sku_across_pages(world, make_user, monkeypatch):
    monkeypatch.setattr(inventory_views, "COUNT_PAGE_SIZE", 1)
    sheet = _counting_sheet(world)
    counts.count_sheet_enter(actor=ACTOR, sheet=sheet, counts={world.sku_m.pk: 8})
    client = _client(make_user, Role.WAREHOUSE)
    url = f"/inventory/counts/{sheet.pk}/"
    uncounted = client.get(f"{url}?state=uncounted").content.decode()
    assert f'name="count_{world.sku_s.pk}"' in uncounted
    assert f'action="{url}enter/?state=uncounted&page=1"' in uncounted
    assert '<option value="uncounted" selected>' in uncounted
    variance = client.get(f"{url}?state=variance").content.decode()
    assert f'name="count_{world.sku_m.pk}" value="8"' in variance
    assert f'name="count_{world.sku_s.pk}"' not in variance
    assert f'name="count_{world.sku_s.pk}"' in client.get(f"{url}?q=p1-s").content.decode()
    # the variance report pages its counted lines and links the uncounted ones
    report = client.get(f"{url}variance/").content.decode()
    assert "<td>P1-M</td>" in report
    assert f'href="{url}?state=uncounted">1 个 SKU 未盘</a>' in report


def test_inv_05_a_refused_cancellation_keeps_its_reason(world, make_user):
    # a refusal redirected to the sheet: the reason typed was lost (and a long one was cut)
    sheet = _counting_sheet(world)
    client = _client(make_user, Role.WAREHOUSE)
    reason = "重复建单，" * 41  # 205 characters
    response = client.post(f"/inventory/counts/{sheet.pk}/cancel/", {"reason": reason})
    assert response.status_code == 422
    html = response.content.decode()
    form = html.split(f'action="/inventory/counts/{sheet.pk}/cancel/"')[1].split("</form>")[0]
    assert f'name="reason" value="{reason}"' in form
    assert '<span class="err" data-field="reason">最多 200 个字符</span>' in form
    assert "内容过长" in _messages(response)
    sheet.refresh_from_db()
    assert sheet.status == "counting"
    done = client.post(f"/inventory/counts/{sheet.pk}/cancel/", {"reason": "重复建单"})
    assert done.status_code == 302
    sheet.refresh_from_db()
    assert sheet.status == "cancelled"
