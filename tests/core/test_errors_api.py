"""One error shape on every /api/v1 route: ``{"code", "message", "fields"}`` for domain errors,
request validation (422), missing authentication (401), missing permission (403) and
unknown objects (404)."""

from __future__ import annotations

import datetime as dt

import pytest

from storeops.accounts.roles import Role
from storeops.stores import services as store_services
from storeops.stores.models import Playbook, Store

ERROR_KEYS = {"code", "message", "fields"}


def _has_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


# ---- domain errors (storeops.core.errors) --------------------------------------------------


def test_a_domain_validation_error_is_a_422_with_a_message_per_field_and_nothing_is_saved(store, api_as):
    # given an owner and a store whose playbook has one override
    client = api_as(Role.OWNER)
    client.patch(f"/stores/{store.pk}/playbook", {"values": {"safety_stock_days": 5}})
    before = client.get(f"/stores/{store.pk}/playbook").json()

    # when a negative safety stock is submitted together with a valid change
    response = client.patch(
        f"/stores/{store.pk}/playbook", {"values": {"safety_stock_days": -1, "qualification_warn_days": 10}}
    )

    # then it is refused with the error shape and the field named, in Chinese
    assert response.status_code == 422, response.content
    body = response.json()
    assert set(body) == ERROR_KEYS
    assert body["code"] == "validation_error"
    assert body["message"] == "运营手册设置有误，未保存"
    assert body["fields"] == {"safety_stock_days": "不能小于 0 / must be ≥ 0"}
    # and neither value was saved
    after = client.get(f"/stores/{store.pk}/playbook").json()
    assert after == before
    assert after["store_overrides"] == {"safety_stock_days": 5}
    assert after["effective"]["qualification_warn_days"] == 30
    assert Playbook.objects.get(store=store, channel=None).values == {"safety_stock_days": 5}


def test_an_unknown_playbook_setting_is_named_in_the_fields(store, api_as):
    # given
    client = api_as(Role.OWNER)

    # when
    response = client.patch(f"/stores/{store.pk}/playbook", {"values": {"no_such_setting": 1}})

    # then
    assert response.status_code == 422
    assert response.json()["fields"] == {"no_such_setting": "没有这个设置项 / unknown setting"}
    assert not Playbook.objects.filter(store=store).exists()


def test_a_duplicate_store_code_is_a_422_naming_the_code_field(store, api_as):
    # given a store with code s1 exists
    client = api_as(Role.OWNER)

    # when another store is created with that code
    response = client.post("/stores/", {"code": "s1", "name": "第二家店"})

    # then
    assert response.status_code == 422
    assert response.json() == {
        "code": "validation_error",
        "message": "店铺编码已存在",
        "fields": {"code": "店铺编码已存在"},
    }
    assert Store.objects.count() == 1


def test_a_conflict_is_a_409_with_its_own_code_and_no_fields(store, channel, system, api_as):
    # given the channel already has a launch plan
    store_services.launch_plan_create(actor=system, channel=channel, planned_go_live=dt.date(2030, 1, 1))
    client = api_as(Role.OWNER)

    # when a second plan is requested for it
    response = client.post(
        f"/stores/{store.pk}/launch-plans", {"channel_id": channel.pk, "planned_go_live": "2030-02-01"}
    )

    # then
    assert response.status_code == 409
    assert response.json() == {"code": "conflict", "message": "该渠道已有上线计划", "fields": {}}


def test_an_unregistered_rule_in_a_check_run_is_a_422_naming_the_rule_field(store, api_as):
    # given
    client = api_as(Role.OWNER)

    # when
    response = client.post("/findings/checks/run", {"rule": "NOPE-99"})

    # then
    assert response.status_code == 422
    assert response.json() == {
        "code": "validation_error",
        "message": "没有这条规则的检查：NOPE-99",
        "fields": {"rule": "未注册"},
    }


# ---- request validation (django-ninja / pydantic) ------------------------------------------


def test_a_store_without_a_name_is_a_422_naming_the_name_field(db, api_as):
    # given
    client = api_as(Role.OWNER)

    # when
    response = client.post("/stores/", {"code": "s2"})

    # then
    assert response.status_code == 422
    body = response.json()
    assert set(body) == ERROR_KEYS
    assert body["code"] == "validation_error"
    assert body["message"] == "提交的数据有误"
    assert set(body["fields"]) == {"name"}
    assert body["fields"]["name"] == "必填"
    assert not Store.objects.exists()


def test_a_wrongly_typed_body_field_is_a_422_naming_that_field(store, channel, api_as):
    # given
    client = api_as(Role.OWNER)

    # when the go-live date is not a date
    response = client.post(
        f"/stores/{store.pk}/launch-plans", {"channel_id": channel.pk, "planned_go_live": "next tuesday"}
    )

    # then
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error"
    assert set(body["fields"]) == {"planned_go_live"}


def test_a_non_numeric_path_parameter_is_a_422_naming_the_parameter(db, api_as):
    # given
    client = api_as(Role.OWNER)

    # when
    response = client.get("/stores/abc")

    # then
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error"
    assert set(body["fields"]) == {"store_id"}


def test_a_wrongly_typed_query_parameter_is_a_422_naming_the_parameter(db, api_as):
    # given
    client = api_as(Role.OWNER)

    # when
    response = client.get("/stores/", page="first")

    # then
    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"page"}


# ---- authentication and permission -----------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/stores/"), ("POST", "/stores/"), ("GET", "/accounts/me")]
)
def test_an_anonymous_caller_gets_401_in_the_error_shape(db, api_as, method, path):
    # given nobody signed in
    client = api_as(None)

    # when
    response = client.call(method, path, {"code": "s9", "name": "匿名店"} if method == "POST" else None)

    # then the request is refused before the body is used
    assert response.status_code == 401
    assert response.json() == {
        "code": "unauthenticated",
        "message": "请先登录或提供有效的 API 令牌",
        "fields": {},
    }
    assert not Store.objects.filter(code="s9").exists()


def test_an_unknown_bearer_token_gets_401(db, api_as):
    # given
    client = api_as(None)
    client.headers = {"HTTP_AUTHORIZATION": "Bearer so_not-a-real-token"}

    # when
    response = client.get("/stores/")

    # then
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


def test_a_caller_without_the_permission_gets_403_naming_the_permission_and_nothing_is_saved(store, api_as):
    # given an analyst, who may read the playbook but not change it
    client = api_as(Role.ANALYST)

    # when
    response = client.patch(f"/stores/{store.pk}/playbook", {"values": {"safety_stock_days": 9}})

    # then
    assert response.status_code == 403
    assert response.json() == {
        "code": "permission_denied",
        "message": "没有执行此操作的权限（需要 stores.change_playbook）",
        "fields": {},
    }
    assert not Playbook.objects.filter(store=store).exists()


def test_a_permission_check_comes_before_body_validation(store, api_as):
    # given an analyst
    client = api_as(Role.ANALYST)

    # when an invalid body is sent to a route the analyst may not use
    response = client.post("/stores/", {})

    # then the answer is 403, not a 422 revealing the schema
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


# ---- not found ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/stores/999999", "/stores/999999/playbook", "/findings/999999"])
def test_an_unknown_object_is_a_404_in_the_error_shape(db, api_as, path):
    # given
    client = api_as(Role.OWNER)

    # when
    response = client.get(path)

    # then
    assert response.status_code == 404
    body = response.json()
    assert set(body) == ERROR_KEYS, body
    assert body["code"] == "not_found"
    assert body["fields"] == {}
    assert _has_chinese(body["message"])


@pytest.mark.parametrize("path", ["/stores/999999", "/stores/999999/playbook", "/findings/999999"])
def test_an_unknown_object_is_a_404_and_nothing_else(db, api_as, path):
    # given
    client = api_as(Role.OWNER)

    # when
    response = client.get(path)

    # then
    assert response.status_code == 404


def test_an_unknown_route_under_the_api_is_a_404(db, api_as):
    # given
    client = api_as(Role.OWNER)

    # when
    response = client.get("/no-such-thing/")

    # then
    assert response.status_code == 404
