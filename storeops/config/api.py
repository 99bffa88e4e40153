"""The REST API at /api/v1 (django-ninja). Errors have one shape everywhere:
``{"code": "...", "message": "<in the caller's language>", "fields": {"name": "why"}}``."""

from __future__ import annotations

import re
from decimal import InvalidOperation
from typing import Any

from django.contrib.admin.views.decorators import staff_member_required
from django.db import DataError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from storeops.core.errors import DomainError

api = NinjaAPI(
    title="StoreOps API",
    version="1",
    description="StoreOps REST API. Authenticate with `Authorization: Bearer so_…` (an API token, "
    "which acts with its role's permissions) or the console session (with CSRF token).",
    urls_namespace="api-v1",
    docs_decorator=staff_member_required,
)


def _error(
    request: HttpRequest, status: int, code: str, message: str, fields: dict | None = None
) -> HttpResponse:
    return api.create_response(
        request, {"code": code, "message": message, "fields": fields or {}}, status=status
    )


@api.exception_handler(DomainError)
def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    fields = {k: str(v) for k, v in exc.fields.items()}
    return _error(request, exc.http_status, exc.code, str(exc.message) or exc.code, fields)


# pydantic's messages are English; these are the ones an integrator meets, in the caller's
# language (by error type; the placeholders are pydantic's ``ctx``). Others keep pydantic's text.
_PYDANTIC_MESSAGES: dict[str, str] = {
    "missing": gettext_noop("必填"),
    "int_parsing": gettext_noop("须为整数"),
    "int_type": gettext_noop("须为整数"),
    "int_from_float": gettext_noop("须为整数"),
    "float_parsing": gettext_noop("须为数字"),
    "float_type": gettext_noop("须为数字"),
    "decimal_parsing": gettext_noop("须为数字"),
    "decimal_type": gettext_noop("须为数字"),
    "finite_number": gettext_noop("须为有限的数字"),
    "decimal_max_digits": gettext_noop("数字位数过多"),
    "decimal_max_places": gettext_noop("小数位数过多"),
    "decimal_whole_digits": gettext_noop("数字位数过多"),
    "bool_parsing": gettext_noop("须为 true 或 false"),
    "bool_type": gettext_noop("须为 true 或 false"),
    "string_type": gettext_noop("须为文本（字符串）"),
    "string_too_short": gettext_noop("至少 %(min_length)s 个字符"),
    "string_too_long": gettext_noop("最多 %(max_length)s 个字符"),
    "too_short": gettext_noop("至少 %(min_length)s 项"),
    "too_long": gettext_noop("最多 %(max_length)s 项"),
    "date_parsing": gettext_noop("须为日期（YYYY-MM-DD）"),
    "date_type": gettext_noop("须为日期（YYYY-MM-DD）"),
    "date_from_datetime_parsing": gettext_noop("须为日期（YYYY-MM-DD）"),
    "date_from_datetime_inexact": gettext_noop("须为日期（YYYY-MM-DD）"),
    "date_before_2000": gettext_noop("须不早于 2000-01-01"),
    "datetime_parsing": gettext_noop("须为日期时间（ISO 8601，如 2026-12-01T10:00:00+08:00）"),
    "datetime_type": gettext_noop("须为日期时间（ISO 8601，如 2026-12-01T10:00:00+08:00）"),
    "datetime_from_date_parsing": gettext_noop("须为日期时间（ISO 8601，如 2026-12-01T10:00:00+08:00）"),
    "datetime_object_invalid": gettext_noop("须为日期时间（ISO 8601，如 2026-12-01T10:00:00+08:00）"),
    "time_parsing": gettext_noop("须为时间（HH:MM）"),
    "time_type": gettext_noop("须为时间（HH:MM）"),
    "time_with_timezone": gettext_noop("须为不带时区的时间（HH:MM，店铺当地时间）"),
    "list_type": gettext_noop("须为列表（JSON 数组）"),
    "tuple_type": gettext_noop("须为列表（JSON 数组）"),
    "set_type": gettext_noop("须为列表（JSON 数组）"),
    "dict_type": gettext_noop("须为对象（JSON 对象）"),
    "model_type": gettext_noop("须为对象（JSON 对象）"),
    "model_attributes_type": gettext_noop("须为对象（JSON 对象）"),
    "literal_error": gettext_noop("只能是 %(expected)s"),
    "enum": gettext_noop("只能是 %(expected)s"),
    "greater_than": gettext_noop("须大于 %(gt)s"),
    "greater_than_equal": gettext_noop("须不小于 %(ge)s"),
    "less_than": gettext_noop("须小于 %(lt)s"),
    "less_than_equal": gettext_noop("须不大于 %(le)s"),
    "url_parsing": gettext_noop("须为有效的网址"),
    "url_type": gettext_noop("须为有效的网址"),
    "url_scheme": gettext_noop("须为有效的网址"),
    "uuid_parsing": gettext_noop("须为 UUID"),
}
# where ninja puts a parameter (not part of the field's name for the caller)
_PARAM_SOURCES = ("body", "query", "path", "payload", "form", "file", "header", "cookie")


def _field_message(err: dict[str, Any]) -> str:
    template = _PYDANTIC_MESSAGES.get(str(err.get("type", "")))
    if template is None:
        return str(err.get("msg", ""))
    ctx = {k: str(v) for k, v in (err.get("ctx") or {}).items()}
    if "expected" in ctx:  # "'a', 'b' or 'c'" (pydantic's English) -> "a / b / c"
        # "" (a filter left empty: no filter) is allowed but is no value to name
        values = [v for v in re.findall(r"'([^']*)'", ctx["expected"]) if v]
        ctx["expected"] = " / ".join(values) or ctx["expected"]
    try:
        return _(template) % ctx if "%(" in template else _(template)
    except (KeyError, ValueError):
        return str(err.get("msg", ""))


_TYPE_TAGS = frozenset(
    ("int", "float", "str", "bool", "bytes", "date", "datetime", "time", "decimal", "list", "dict", "none")
)


def _is_union_branch(err: dict[str, Any], errors: list[dict[str, Any]]) -> bool:
    """pydantic reports a value that fits no member of a union once per member, with the
    member's type as the last part of ``loc`` (``occurred_at.datetime``, ``occurred_at.int``):
    one field for the caller."""
    loc = tuple(err.get("loc", ()))
    if len(loc) < 2 or err.get("type") == "missing":
        return False
    tag = str(loc[-1])
    if tag not in _TYPE_TAGS and "[" not in tag and "-" not in tag:
        return False
    return any(
        other is not err
        and tuple(other.get("loc", ()))[:-1] == loc[:-1]
        and tuple(other.get("loc", ())) != loc
        and other.get("input") == err.get("input")
        for other in errors
    )


@api.exception_handler(NinjaValidationError)
def _validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    fields: dict[str, str] = {}
    errors = list(exc.errors)
    for err in errors:
        parts = list(err.get("loc", ()))
        if _is_union_branch(err, errors):
            parts = parts[:-1]
        loc = [str(p) for p in parts if p not in _PARAM_SOURCES]
        if not loc:
            # the body as a whole: missing (an empty POST), or not a JSON object (``[]``, ``"x"``)
            missing = err.get("type") == "missing"
            fields.setdefault(
                "body",
                _("请求体不能为空：请发送 JSON 对象（没有内容时发送 {}）")
                if missing
                else _("请求体须为 JSON 对象"),
            )
            continue
        fields.setdefault(".".join(loc), _field_message(err))
    return _error(request, 422, "validation_error", _("提交的数据有误"), fields)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, "unauthenticated", _("请先登录或提供有效的 API 令牌"))


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, "not_found", _("对象不存在或已被删除"))


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400 and isinstance(exc.__cause__, ValueError):
        # ninja could not parse the body (``json.JSONDecodeError`` is a ValueError): not JSON,
        # e.g. a form post (``curl -d a=1``) or a cut-off document
        return _error(
            request,
            400,
            "invalid_json",
            _("请求体不是有效的 JSON：请以 Content-Type: application/json 发送 JSON 对象"),
        )
    return _error(request, exc.status_code, "http_error", str(exc))


@api.exception_handler(OverflowError)
@api.exception_handler(DataError)
@api.exception_handler(InvalidOperation)
def _out_of_range(request: HttpRequest, exc: Exception) -> HttpResponse:
    """A number beyond what the database stores (an id or quantity like 10^20; SQLite raises
    OverflowError, PostgreSQL a DataError; a decimal like 1E+30 cannot be rounded to its
    column's places: InvalidOperation) or, on PostgreSQL, a text too long for its column.
    The service's transaction has rolled back: nothing was saved."""
    return _error(request, 422, "validation_error", _("数值超出范围或文字过长，未保存"))


@api.exception_handler(MultiPartParserError)
def _bad_multipart(request: HttpRequest, exc: MultiPartParserError) -> HttpResponse:
    """An upload whose multipart body cannot be read (no or a wrong boundary, cut off)."""
    return _error(
        request,
        400,
        "invalid_multipart",
        _("上传内容无法解析：请以 multipart/form-data 发送文件（由客户端生成 boundary）"),
    )


@csrf_exempt
def not_found_view(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Every /api/v1/ path that is no route: the error shape instead of Django's HTML page.
    A path that is a route once a slash is added says so (POST without the slash was a 500
    in development and a redirect that dropped the body in production)."""
    fields: dict[str, str] = {}
    if not request.path.endswith("/"):
        try:
            match = resolve(request.path + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not not_found_view:
            fields["path"] = _("路径末尾缺少 /：%(path)s") % {"path": request.path + "/"}
    return _error(request, 404, "not_found", _("没有这个 API 接口"), fields)


def method_not_allowed(request: HttpRequest, allowed: str) -> HttpResponse:
    """405 in the error shape (ninja answers a plain-text "Method not allowed")."""
    response = _error(
        request,
        405,
        "method_not_allowed",
        _("该接口不支持 %(method)s 方法（可用：%(allowed)s）")
        % {"method": request.method, "allowed": allowed},
    )
    response["Allow"] = allowed
    return response


def _register_routers() -> None:
    from storeops.accounts.api import router as accounts_router
    from storeops.aftersales.api import router as aftersales_router
    from storeops.analytics.api import router as analytics_router
    from storeops.audit.api import router as audit_router
    from storeops.behaviour.api import router as behaviour_router
    from storeops.catalog.api import router as catalog_router
    from storeops.fulfilment.api import router as fulfilment_router
    from storeops.inventory.api import router as inventory_router
    from storeops.marketing.api import router as marketing_router
    from storeops.members.api import router as members_router
    from storeops.orders.api import router as orders_router
    from storeops.orders.api_finance import router as payment_reconciliation_router
    from storeops.orders.api_imports import imports_router as order_imports_router
    from storeops.orders.api_imports import invoices_router
    from storeops.outreach.api import router as outreach_router
    from storeops.pricing.api import router as pricing_router
    from storeops.privacy.api import router as privacy_router
    from storeops.promotions.api import router as promotions_router
    from storeops.recommend.api import router as recommend_router
    from storeops.service.api import router as service_router
    from storeops.sop.api import router as sop_router
    from storeops.stores.api import router as stores_router

    api.add_router("/accounts", accounts_router)
    api.add_router("/stores", stores_router)
    api.add_router("/findings", sop_router)
    api.add_router("/audit", audit_router)
    api.add_router("/catalog", catalog_router)
    api.add_router("/pricing", pricing_router)
    api.add_router("/inventory", inventory_router)
    api.add_router("/marketing", marketing_router)
    api.add_router("/promotions", promotions_router)
    api.add_router("/fulfilment", fulfilment_router)
    api.add_router("/orders/imports", order_imports_router)
    api.add_router("/orders/invoices", invoices_router)
    api.add_router("/orders/finance", payment_reconciliation_router)
    api.add_router("/orders", orders_router)
    api.add_router("/service", service_router)
    api.add_router("/aftersales", aftersales_router)
    api.add_router("/analytics", analytics_router)
    api.add_router("/members", members_router)
    api.add_router("/behaviour", behaviour_router)
    api.add_router("/recommend", recommend_router)
    api.add_router("/outreach", outreach_router)
    api.add_router("/privacy", privacy_router)


_register_routers()
