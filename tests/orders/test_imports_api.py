"""Marketplace order import through the API (/api/v1/orders/imports) and the console page."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from storeops.accounts.roles import Role
from storeops.orders.models import Order, OrderImport, OrderImportMapping
from tests.orders import import_files as f
from tests.orders.builders import World

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(store, channel):
    return World(store, channel)


def _upload(client, store, channel, content, name="tmall.csv", **fields):
    data = {"channel_id": channel.pk, "file": SimpleUploadedFile(name, content), **fields}
    return client.client.post(f"/api/v1/orders/imports/{store.pk}", data, **client.headers)


def test_api_upload_creates_then_reports_already_imported(world, store, channel, api_as):
    client = api_as(Role.OPERATIONS)
    content = f.xlsx_bytes(f.TMALL_HEADER, f.tmall_rows())
    first = _upload(client, store, channel, content, "tmall.xlsx")
    assert first.status_code == 201, first.content
    body = first.json()
    assert (body["file_format"], body["orders_created"], body["order_numbers"]) == (
        "tmall",
        2,
        ["T1001", "T1002"],
    )
    again = _upload(client, store, channel, content, "tmall.xlsx")
    assert again.status_code == 200
    assert (again.json()["status"], again.json()["message"]) == ("already_imported", "文件中的订单均已导入过")
    assert Order.objects.count() == 2
    listed = client.get(f"/orders/imports/{store.pk}").json()
    assert [i["status"] for i in listed["items"]] == ["already_imported", "imported"]
    detail = client.get(f"/orders/imports/{store.pk}/{body['id']}").json()
    assert detail["orders_created"] == 2


def test_api_bad_file_is_422_with_row_errors_and_nothing_written(world, store, channel, api_as):
    client = api_as(Role.OPERATIONS)
    rows = [[*r[:6], "NOPE", *r[7:]] for r in f.tmall_rows()[:1]]
    response = _upload(client, store, channel, f.csv_bytes(f.TMALL_HEADER, rows))
    assert response.status_code == 422
    body = response.json()
    assert body["status"] == "failed"
    assert body["message"] == "有 1 个错误，未导入任何订单"
    assert body["errors"] == [{"line": 2, "field": "商家编码", "message": "未知的商家编码：NOPE"}]
    assert not Order.objects.exists()
    detail = client.get(f"/orders/imports/{store.pk}/{body['id']}").json()
    assert detail["errors"] == body["errors"]


def test_api_unrecognised_file_and_wrong_channel_are_422(world, store, channel, api_as):
    client = api_as(Role.OPERATIONS)
    junk = _upload(client, store, channel, f.csv_bytes(["a", "b"], [["1", "2"]]))
    assert junk.status_code == 422
    assert junk.json()["code"] == "validation_error"
    assert "无法识别文件格式" in junk.json()["message"]
    other = client.client.post(
        f"/api/v1/orders/imports/{store.pk}",
        {"channel_id": 999999, "file": SimpleUploadedFile("t.csv", b"x")},
        **client.headers,
    )
    assert other.status_code == 422
    assert "channel" in other.json()["fields"]
    assert not OrderImport.objects.exists()


def test_api_dry_run_writes_nothing(world, store, channel, api_as):
    client = api_as(Role.OPERATIONS)
    response = _upload(client, store, channel, f.csv_bytes(f.TMALL_HEADER, f.tmall_rows()), dry_run="true")
    assert response.status_code == 200
    assert response.json()["dry_run"] is True
    assert response.json()["orders_total"] == 2
    assert not Order.objects.exists()
    assert not OrderImport.objects.exists()


def test_api_permissions(world, store, channel, api_as):
    content = f.csv_bytes(f.TMALL_HEADER, f.tmall_rows())
    assert _upload(api_as(Role.WAREHOUSE), store, channel, content).status_code == 403
    assert _upload(api_as(Role.FINANCE), store, channel, content).status_code == 403
    assert api_as(Role.FINANCE).get(f"/orders/imports/{store.pk}").status_code == 200
    assert not Order.objects.exists()


def test_api_mappings_crud(world, store, channel, api_as):
    client = api_as(Role.OPERATIONS)
    body = {
        "name": "ERP导出",
        "channel_kind": "tmall",
        "mapping": {
            "order_no": "单号",
            "receiver": "姓名",
            "phone": "手机号",
            "full_address": "地址",
            "sku_code": "编码",
            "quantity": "件数",
            "order_amount": "金额",
        },
    }
    created = client.post(f"/orders/imports/{store.pk}/mappings", body)
    assert created.status_code == 201, created.content
    mapping_id = created.json()["id"]
    assert created.json()["mapping"]["order_no"] == ["单号"]
    duplicate = client.post(f"/orders/imports/{store.pk}/mappings", body)
    assert duplicate.status_code == 422
    assert "name" in duplicate.json()["fields"]
    bad = client.post(
        f"/orders/imports/{store.pk}/mappings", {**body, "name": "x", "mapping": {"order_no": 1}}
    )
    assert bad.status_code == 422
    assert "mapping.sku_code" in bad.json()["fields"]
    changed = client.put(f"/orders/imports/{store.pk}/mappings/{mapping_id}", {**body, "name": "ERP导出2"})
    assert changed.status_code == 200
    assert changed.json()["name"] == "ERP导出2"
    assert [m["name"] for m in client.get(f"/orders/imports/{store.pk}/mappings").json()] == ["ERP导出2"]
    rows = [["X1", "张三", "13812345678", "浙江省 杭州市 西湖区 文三路100号", "P1-S", "1", "99.00"]]
    content = f.csv_bytes(["单号", "姓名", "手机号", "地址", "编码", "件数", "金额"], rows)
    imported = _upload(client, store, channel, content, "erp.csv", mapping="ERP导出2")
    assert imported.status_code == 201
    assert imported.json()["mapping_id"] == mapping_id
    deleted = client.call("DELETE", f"/orders/imports/{store.pk}/mappings/{mapping_id}")
    assert deleted.status_code == 204
    assert not OrderImportMapping.objects.exists()
    assert OrderImport.objects.get().mapping is None  # the record stays


# --- console -------------------------------------------------------------------------------------


def test_console_upload_form_and_error_table(world, store, channel, make_user):
    client = Client()
    client.force_login(make_user(Role.OPERATIONS))
    page = client.get("/orders/imports/")
    assert page.status_code == 200
    assert "天猫/淘宝" in page.content.decode()
    rows = [[*r[:6], "NOPE", *r[7:]] for r in f.tmall_rows()[:1]]
    response = client.post(
        "/orders/imports/upload/",
        {"channel": channel.pk, "file": SimpleUploadedFile("bad.csv", f.csv_bytes(f.TMALL_HEADER, rows))},
    )
    record = OrderImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/orders/imports/{record.pk}/"
    detail = client.get(f"/orders/imports/{record.pk}/").content.decode()
    assert "未知的商家编码：NOPE" in detail
    assert "天猫/淘宝" in detail
    good = client.post(
        "/orders/imports/upload/",
        {
            "channel": channel.pk,
            "file": SimpleUploadedFile("t.xlsx", f.xlsx_bytes(f.TMALL_HEADER, f.tmall_rows())),
        },
    )
    assert good.status_code == 302
    assert Order.objects.count() == 2
    listing = client.get("/orders/imports/?status=imported").content.decode()
    assert "t.xlsx" in listing
    assert "bad.csv" not in listing


def test_console_upload_needs_the_import_permission(world, make_user, channel):
    client = Client()
    client.force_login(make_user(Role.FINANCE))
    assert client.get("/orders/imports/").status_code == 200
    response = client.post(
        "/orders/imports/upload/",
        {
            "channel": channel.pk,
            "file": SimpleUploadedFile("t.csv", f.csv_bytes(f.TMALL_HEADER, f.tmall_rows())),
        },
    )
    assert response.status_code == 403
    assert not Order.objects.exists()


# --- big files: queued for the worker, progress; a failure part-way ------------------------------


@pytest.fixture
def big_is_three(store, settings, tmp_path):
    """Files with more than two new orders go to the worker; queued files under tmp_path."""
    from storeops.core.context import Actor
    from storeops.stores.services import playbook_update

    playbook_update(actor=Actor.system("cli"), store=store, values={"order_import_inline_orders": 2})
    settings.VAR_DIR = tmp_path


def _big() -> bytes:
    return f.csv_bytes(f.TMALL_HEADER, f.many_tmall_rows(3))


def test_api_big_file_is_202_queued_and_the_detail_shows_its_progress(
    world, store, channel, api_as, big_is_three, django_capture_on_commit_callbacks
):
    from storeops.orders import imports, tasks

    client = api_as(Role.OPERATIONS)
    # when a file above the inline limit is uploaded (no worker yet)
    with django_capture_on_commit_callbacks() as queued:
        response = _upload(client, store, channel, _big(), "big.csv")
    # then it is accepted for the worker: 202 with the record, nothing written yet
    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["status"], body["orders_total"], body["orders_done"], body["orders_created"]) == (
        "queued",
        3,
        0,
        0,
    )
    assert body["message"] == "文件较大：订单 3 笔，其中 3 笔待导入，已转入后台导入；请查询导入记录了解进度"
    assert len(queued) == 1
    assert not Order.objects.exists()
    detail = client.get(f"/orders/imports/{store.pk}/{body['id']}").json()
    assert (detail["status"], detail["orders_done"]) == ("queued", 0)
    assert [
        i["status"] for i in client.get(f"/orders/imports/{store.pk}", status="queued").json()["items"]
    ] == ["queued"]
    # when the worker runs it
    assert tasks.order_import_task.call_local(body["id"]) == "imported"
    # then the detail shows it done
    detail = client.get(f"/orders/imports/{store.pk}/{body['id']}").json()
    assert (detail["status"], detail["orders_done"], detail["orders_created"]) == ("imported", 3, 3)
    assert detail["order_numbers"] == ["B0000000", "B0000001", "B0000002"]
    assert detail["updated_at"] >= detail["created_at"]
    assert not imports.import_dir().joinpath(f"{body['id']}-big.csv").exists()


def test_api_a_failure_part_way_is_422_with_what_was_imported(world, store, channel, api_as, monkeypatch):
    from storeops.orders import imports

    monkeypatch.setattr(imports, "IMPORT_BATCH_ORDERS", 2)
    real = imports.order_import_create

    def failing(**kwargs):
        if kwargs["order"].number == "B0000002":
            raise RuntimeError("磁盘已满")
        return real(**kwargs)

    monkeypatch.setattr(imports, "order_import_create", failing)
    client = api_as(Role.OPERATIONS)
    response = _upload(client, store, channel, _big())
    assert response.status_code == 422
    body = response.json()
    assert (body["status"], body["orders_created"], body["orders_done"]) == ("failed", 2, 2)
    assert body["message"].startswith("写入第 2 批订单时出错，该批已撤销：RuntimeError: 磁盘已满。")
    assert "再次导入同一文件即可补上其余订单" in body["message"]
    monkeypatch.setattr(imports, "order_import_create", real)
    again = _upload(client, store, channel, _big())
    assert again.status_code == 201
    assert (again.json()["orders_created"], again.json()["orders_existing"]) == (1, 2)
    assert Order.objects.count() == 3


def test_console_big_file_is_queued_and_its_page_refreshes_until_done(
    world, store, channel, make_user, big_is_three, django_capture_on_commit_callbacks
):
    from storeops.orders import tasks

    client = Client()
    client.force_login(make_user(Role.OPERATIONS))
    with django_capture_on_commit_callbacks():
        response = client.post(
            "/orders/imports/upload/",
            {
                "channel": channel.pk,
                "file": SimpleUploadedFile("big.xlsx", f.xlsx_bytes(f.TMALL_HEADER, f.many_tmall_rows(3))),
            },
        )
    record = OrderImport.objects.get()
    assert response["Location"] == f"/orders/imports/{record.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert '<meta http-equiv="refresh" content="3">' in page
    assert "文件较大：订单 3 笔，其中 3 笔待导入，已转入后台导入，本页显示进度。" in page
    assert "排队中" in page
    assert "已导入 0 / 3 单" in page
    assert "storeops run_huey" in page
    listing = client.get("/orders/imports/").content.decode()
    assert "排队中" in listing
    assert "超过 2 单的文件在后台分批导入" in listing
    assert tasks.order_import_task.call_local(record.pk) == "imported"  # the saved .xlsx, read again
    page = client.get(response["Location"]).content.decode()
    assert "http-equiv" not in page
    assert "已导入 0 / 3 单" not in page
    assert "共 3 笔：新建 3，已存在 0，缺货未预占 0" in page
