"""The REST API at /api/v1 (django-ninja). Errors have one shape everywhere:
``{"code": "...", "message": "<in the caller's language>", "fields": {"name": "why"}}``."""

from __future__ import annotations

from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
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


@api.exception_handler(NinjaValidationError)
def _validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    fields: dict[str, str] = {}
    for err in exc.errors:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "payload")]
        fields[".".join(loc) or "__all__"] = str(err.get("msg", ""))
    return _error(request, 422, "validation_error", _("提交的数据有误"), fields)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, "unauthenticated", _("请先登录或提供有效的 API 令牌"))


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, "not_found", _("对象不存在或已被删除"))


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _error(request, exc.status_code, "http_error", str(exc))


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
    from storeops.orders.api_imports import imports_router as order_imports_router
    from storeops.orders.api_imports import invoices_router
    from storeops.outreach.api import router as outreach_router
    from storeops.pricing.api import router as pricing_router
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
    api.add_router("/orders", orders_router)
    api.add_router("/service", service_router)
    api.add_router("/aftersales", aftersales_router)
    api.add_router("/analytics", analytics_router)
    api.add_router("/members", members_router)
    api.add_router("/behaviour", behaviour_router)
    api.add_router("/recommend", recommend_router)
    api.add_router("/outreach", outreach_router)


_register_routers()
