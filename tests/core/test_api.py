"""What an integrator meets before any app's logic: the OpenAPI schema, and bad requests of
every kind (body that is not JSON, wrong types, numbers out of range, texts too long, paging
out of bounds, unknown paths and methods) answered as a 4xx in the error shape, in the
caller's language, with nothing saved."""

from __future__ import annotations

import inspect
import typing
from collections import defaultdict

import pytest
from django.test import Client
from pydantic import BaseModel

from storeops.accounts.roles import Role
from storeops.config.api import api
from storeops.stores.models import Store

ERROR_KEYS = {"code", "message", "fields"}


def _models_by_name() -> dict[str, set[type[BaseModel]]]:
    """Every request and response schema of /api/v1, by class name (the name OpenAPI uses)."""
    found: dict[str, set[type[BaseModel]]] = defaultdict(set)

    def walk(tp: object) -> None:
        if inspect.isclass(tp) and issubclass(tp, BaseModel):
            if tp in found[tp.__name__]:
                return
            found[tp.__name__].add(tp)
            for field in tp.model_fields.values():
                walk(field.annotation)
            return
        for arg in typing.get_args(tp):
            walk(arg)

    for _prefix, router in api._routers:
        for path_view in router.path_operations.values():
            for op in path_view.operations:
                for model in op.models or []:
                    for field in model.model_fields.values():
                        walk(field.annotation)
                for model in (op.response_models or {}).values():
                    for field in getattr(model, "model_fields", {}).values():
                        walk(field.annotation)
    return found


# ---- the OpenAPI schema ----------------------------------------------------------------------


def test_the_openapi_schema_and_the_docs_page_load_for_a_staff_user(make_user):
    # given a signed-in owner (staff)
    client = Client()
    client.force_login(make_user(Role.OWNER))

    # when the schema and the docs page are fetched
    schema = client.get("/api/v1/openapi.json")
    docs = client.get("/api/v1/docs")

    # then both load (the security schemes were methods, not data: a 500)
    assert schema.status_code == 200, schema.content[:300]
    assert docs.status_code == 200
    schemes = schema.json()["components"]["securitySchemes"]
    assert schemes["Access"] == {"type": "http", "scheme": "bearer"}
    assert schemes["ProviderSignature"] == {"type": "apiKey", "in": "header", "name": "X-Storeops-Signature"}
    assert schemes["CarrierSignature"] == {"type": "apiKey", "in": "header", "name": "X-StoreOps-Signature"}


def test_no_two_different_schemas_share_a_name_in_the_openapi_schema():
    # OpenAPI keys the components by class name: of two different classes with one name, the
    # last one won, and routes showed another route's body (the order review showed a
    # customer review's fields)
    clashes = {
        name: sorted(f"{m.__module__}.{m.__qualname__}" for m in models)
        for name, models in _models_by_name().items()
        if len({str(m.model_json_schema()) for m in models}) > 1
    }
    assert clashes == {}


def test_the_order_review_body_in_the_schema_is_the_order_review(make_user):
    client = Client()
    client.force_login(make_user(Role.OWNER))
    schema = client.get("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/orders/{store_id}/orders/{number}/review"]["post"]
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body = schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert set(body["properties"]) == {"action", "note"}


# ---- a body that is not JSON, or no body -----------------------------------------------------


@pytest.mark.parametrize(
    ("content", "content_type"),
    [(b'{"code": "s2",', "application/json"), (b"code=s2&name=x", "application/x-www-form-urlencoded")],
)
def test_a_body_that_is_not_json_is_a_400_invalid_json_in_the_callers_language(
    db, make_user, content, content_type
):
    client = Client()
    client.force_login(make_user(Role.OWNER))

    zh = client.post("/api/v1/stores/", content, content_type=content_type)
    en = client.post("/api/v1/stores/", content, content_type=content_type, HTTP_ACCEPT_LANGUAGE="en")

    assert zh.status_code == en.status_code == 400
    assert zh.json() == {
        "code": "invalid_json",
        "message": "请求体不是有效的 JSON：请以 Content-Type: application/json 发送 JSON 对象",
        "fields": {},
    }
    assert en.json()["code"] == "invalid_json"
    assert en.json()["message"].startswith("The request body is not valid JSON")
    assert not Store.objects.exists()


def test_an_empty_body_is_a_422_naming_the_body(store, api_as):
    # given a route whose body fields are all optional (run the checks)
    client = api_as(Role.OWNER)

    # when it is posted without any body
    response = client.client.post("/api/v1/findings/checks/run", b"", content_type="application/json")

    # then the answer says to send {} (it said "__all__: Field required")
    assert response.status_code == 422
    assert response.json()["fields"] == {"body": "请求体不能为空：请发送 JSON 对象（没有内容时发送 {}）"}


# ---- request validation in the caller's language ----------------------------------------------


def test_type_errors_name_each_field_in_the_callers_language(store, channel, api_as):
    client = api_as(Role.OWNER)
    body = {"channel_id": "web", "customer": {"ref": 7}, "lines": [{"sku": "A", "quantity": 1.5}]}

    zh = client.post(f"/orders/shop/{store.pk}/quote", body)
    client.headers["HTTP_ACCEPT_LANGUAGE"] = "en"
    en = client.post(f"/orders/shop/{store.pk}/quote", body)

    assert zh.status_code == en.status_code == 422
    assert zh.json()["fields"] == {
        "channel_id": "须为整数",
        "customer.ref": "须为文本（字符串）",
        "lines.0.quantity": "须为整数",
    }
    assert en.json()["fields"] == {
        "channel_id": "Must be a whole number",
        "customer.ref": "Must be text (a string)",
        "lines.0.quantity": "Must be a whole number",
    }


def test_a_value_that_fits_no_type_of_a_union_is_one_field(store, channel, api_as):
    # occurred_at is an ISO time or unix seconds: pydantic reports it once per type
    client = api_as(Role.OWNER)
    event = {"visitor_id": "v1", "kind": "page_view", "page_type": "home", "occurred_at": "yesterday"}

    response = client.post(f"/behaviour/{store.pk}/events", {"events": [event]})

    assert response.status_code == 422
    assert response.json()["fields"] == {
        "events.0.occurred_at": "须为日期时间（ISO 8601，如 2026-12-01T10:00:00+08:00）"
    }


def test_an_unknown_enum_value_lists_the_choices(store, api_as):
    client = api_as(Role.OWNER)
    response = client.post(f"/inventory/{store.pk}/count-sheets", {"warehouse_id": 1, "scope": "some"})
    assert response.status_code == 422
    assert response.json()["fields"] == {"scope": "只能是 all / skus / abc / due"}


# ---- numbers and texts beyond what the database holds ------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/findings/?store_id=100000000000000000000",
        "/orders/{store}/orders?channel_id=100000000000000000000",
    ],
)
def test_a_number_beyond_the_databases_range_is_a_422(store, api_as, path):
    # SQLite's driver raises OverflowError; on PostgreSQL core.guards.refuse_ints_beyond_64_bits
    # does the same (psycopg would send numeric and match nothing: a 200 with an empty list)
    response = api_as(Role.OWNER).get(path.format(store=store.pk))
    assert response.status_code == 422, response.content[:300]
    assert set(response.json()) == ERROR_KEYS
    assert response.json()["code"] == "validation_error"


def test_a_text_longer_than_its_column_is_a_422_naming_the_field_and_nothing_is_saved(db, api_as):
    client = api_as(Role.OWNER)

    response = client.post("/stores/", {"code": "x" * 41, "name": "长编码店"})

    assert response.status_code == 422
    assert response.json() == {
        "code": "validation_error",
        "message": "内容过长或数值超出范围，未保存",
        "fields": {"code": "最多 40 个字符"},
    }
    assert not Store.objects.exists()


def test_a_quantity_beyond_the_integer_column_is_a_422_naming_the_field(store, channel, api_as):
    # SQLite stored 10^14 in a column PostgreSQL caps at 2,147,483,647
    client = api_as(Role.OWNER)

    response = client.put(
        f"/inventory/{store.pk}/channel-rules",
        {"channel_id": channel.pk, "mode": "fixed", "fixed_quantity": 10**14},
    )

    assert response.status_code == 422
    assert response.json()["fields"] == {"fixed_quantity": "须在 0 与 2147483647 之间"}
    assert client.get(f"/inventory/{store.pk}/channel-rules").json() == []


# ---- paging -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ({"page_size": 201}, {"page_size": "须为 1–200 的整数"}),
        ({"page_size": 0}, {"page_size": "须为 1–200 的整数"}),
        ({"page": 0}, {"page": "须为不小于 1 的整数"}),
    ],
)
def test_a_page_out_of_bounds_is_a_422_naming_the_parameter(store, api_as, query, fields):
    # a page size of 1,000 was lowered to 200 without a word
    response = api_as(Role.OWNER).get("/findings/", **query)
    assert response.status_code == 422
    assert response.json() == {"code": "validation_error", "message": "分页参数有误", "fields": fields}


def test_a_page_far_past_the_end_is_empty(store, api_as):
    response = api_as(Role.OWNER).get("/findings/", page=100000000000000000000)
    assert response.status_code == 200
    assert response.json()["items"] == []


def test_the_largest_page_is_200(store, api_as):
    response = api_as(Role.OWNER).get("/findings/", page_size=200)
    assert response.status_code == 200
    assert response.json()["page_size"] == 200


# ---- unknown paths and methods ------------------------------------------------------------------


def test_an_unknown_api_path_is_a_404_in_the_error_shape(db, api_as):
    response = api_as(Role.OWNER).get("/no-such-thing/")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "没有这个 API 接口", "fields": {}}


def test_a_path_without_its_trailing_slash_is_a_404_that_says_so(db, api_as):
    # a POST to /api/v1/stores was a 500 in development (and a redirect dropping the body)
    client = api_as(Role.OWNER)

    response = client.post("/stores", {"code": "s9", "name": "无斜杠"})

    assert response.status_code == 404
    assert response.json()["fields"] == {"path": "路径末尾缺少 /：/api/v1/stores/"}
    assert not Store.objects.exists()


def test_a_method_the_route_does_not_have_is_a_405_in_the_error_shape(store, api_as):
    response = api_as(Role.OWNER).put(f"/stores/{store.pk}", {})
    assert response.status_code == 405
    assert response["Allow"] == "GET"
    assert response.json() == {
        "code": "method_not_allowed",
        "message": "该接口不支持 PUT 方法（可用：GET）",
        "fields": {},
    }


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/catalog/{store}/products?status=listd", "status"),
        ("/promotions/{store}/offers?kind=halfprice", "kind"),
        ("/promotions/{store}/offers?status=running", "status"),
        ("/promotions/{store}/offers?scope=brand", "scope"),
        ("/promotions/{store}/coupons?status=used", "status"),
        ("/marketing/{store}/campaigns?status=live", "status"),
        ("/service/{store}/scripts?category=shipping", "category"),
    ],
)
def test_an_unknown_filter_value_on_any_list_is_a_422_naming_the_choices(store, api_as, path, name):
    # a typo answered an empty list, which looked like "there are none"; the schema lists the
    # values (an enum) and the 422 names them
    response = api_as(Role.OWNER).get(path.format(store=store.pk))
    assert response.status_code == 422, response.content[:300]
    body = response.json()
    assert body["code"] == "validation_error"
    assert list(body["fields"]) == [name]
    assert body["fields"][name].startswith("只能是 ")
