"""Fields that take one of a fixed set of values: the OpenAPI schema lists the values (an
``enum``, from the model's choices or the service's constant), so generated clients and
schemathesis can send valid bodies; any other value is a 422 naming the field, in the
caller's language, and nothing is written."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings

from storeops.accounts.roles import Role
from storeops.aftersales.models import AfterSale, CaseKind, CaseReason, CaseStatus
from storeops.analytics import segments
from storeops.analytics.exports import REPORT_FORMATS
from storeops.analytics.models import ReportKindChoice, SegmentChoice
from storeops.audit.models import AuditEntry
from storeops.behaviour.models import EventKind, TrafficSource
from storeops.catalog.models import DelistReason, ProductStatus, RemainingStockAction
from storeops.fulfilment.models import ShipmentStatus
from storeops.inventory.models import CountScope, StockMove, Zone
from storeops.marketing.models import AdPurpose, BudgetKind, PhaseKind
from storeops.members.models import Gender
from storeops.members.selectors import REFERRED_FILTERS
from storeops.orders.models import (
    HoldReasonChoice,
    InvoiceKind,
    InvoiceStatus,
    NotificationChannel,
    OrderStatus,
    Source,
)
from storeops.outreach.models import ConsentSource
from storeops.pricing.models import PriceChangeReason
from storeops.promotions.models import IssueRule, OfferKind
from storeops.promotions.selectors import OFFER_SCOPES
from storeops.service.models import Ticket, TicketCategory, TicketTier
from storeops.service.services import NOTICE_CHANNELS
from storeops.sop.models import Finding
from storeops.stores.models import Channel, ChannelKind, RuleChangeStatus


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    from storeops.config.api import api

    return api.get_openapi_schema()


def _enum(schema: dict[str, Any]) -> list[str] | None:
    if "enum" in schema:
        return list(schema["enum"])
    for option in schema.get("anyOf", []):  # ``… | None``
        if "enum" in option:
            return list(option["enum"])
    return None


def _operation(openapi: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    return openapi["paths"][f"/api/v1{path}"][method]


def _component(openapi: dict[str, Any], ref: str) -> dict[str, Any]:
    return openapi["components"]["schemas"][ref.rsplit("/", 1)[-1]]


def _body_field(openapi: dict[str, Any], method: str, path: str, field: str) -> list[str] | None:
    """The enum of ``field`` of the request body (``a.b`` reaches into a list of objects)."""
    body = _operation(openapi, method, path)["requestBody"]["content"]["application/json"]["schema"]
    schema = _component(openapi, body["$ref"])
    *outer, name = field.split(".")
    for part in outer:
        items = schema["properties"][part]["items"]
        schema = _component(openapi, items["$ref"])
    return _enum(schema["properties"][name])


def _parameter(openapi: dict[str, Any], method: str, path: str, name: str) -> list[str] | None:
    parameters = _operation(openapi, method, path)["parameters"]
    return _enum(next(p for p in parameters if p["name"] == name)["schema"])


# ---- the schema lists the values -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "field", "values"),
    [
        ("post", "/accounts/tokens", "role", [r.value for r in Role]),
        ("put", "/accounts/me/language", "language", [code for code, _name in settings.LANGUAGES]),
        ("post", "/stores/{store_id}/channels", "kind", ChannelKind.values),
        ("post", "/stores/{store_id}/rule-changes", "platform", ChannelKind.values),
        ("post", "/aftersales/{store_id}/cases", "kind", CaseKind.values),
        ("post", "/aftersales/{store_id}/cases", "reason", CaseReason.values),
        ("post", "/analytics/{store_id}/experiments/{experiment_id}/results", "variant", ["A", "B"]),
        ("post", "/analytics/{store_id}/reports", "kind", ReportKindChoice.values),
        ("put", "/behaviour/{store_id}/source-costs", "source", TrafficSource.values),
        ("post", "/behaviour/{store_id}/events", "events.kind", EventKind.values),
        ("post", "/catalog/{store_id}/listings/{listing_id}/delist", "reason", DelistReason.values),
        (
            "post",
            "/catalog/{store_id}/listings/{listing_id}/delist",
            "remaining_stock_action",
            RemainingStockAction.values,
        ),
        ("post", "/inventory/{store_id}/stock/moves", "zone", Zone.values),
        ("post", "/inventory/{store_id}/count-sheets", "scope", CountScope.values),
        ("post", "/marketing/{store_id}/campaigns", "phases.kind", PhaseKind.values),
        ("post", "/marketing/{store_id}/campaigns", "budget.kind", BudgetKind.values),
        ("post", "/marketing/{store_id}/ad-plans", "purpose", AdPurpose.values),
        ("post", "/members/{store_id}/members", "gender", Gender.values),
        ("post", "/orders/{store_id}/orders/{number}/review", "action", ["auto", "approve", "hold"]),
        ("post", "/orders/invoices/{store_id}", "kind", InvoiceKind.values),
        ("post", "/orders/{store_id}/orders/{number}/notify", "channel", NotificationChannel.values),
        ("post", "/orders/imports/{store_id}/mappings", "channel_kind", ChannelKind.values),
        ("post", "/outreach/{store_id}/consents", "source", ConsentSource.values),
        ("post", "/outreach/{store_id}/campaigns", "audience_kind", ["list", "segment"]),
        (
            "post",
            "/pricing/{store_id}/skus/{sku_id}/prices",
            "reason",
            [r for r in PriceChangeReason.values if r != "initial"],
        ),
        ("post", "/promotions/{store_id}/offers", "kind", OfferKind.values),
        ("post", "/promotions/{store_id}/coupon-templates", "issue_rule", IssueRule.values),
        ("post", "/service/{store_id}/tickets", "category", TicketCategory.values),
        ("post", "/service/{store_id}/tickets/{ticket_id}/escalate", "tier", TicketTier.values),
        ("post", "/service/{store_id}/incidents/{incident_id}/notice", "channel", list(NOTICE_CHANNELS)),
    ],
)
def test_a_request_body_field_lists_its_values(openapi, method, path, field, values):
    assert _body_field(openapi, method, path, field) == values


@pytest.mark.parametrize(
    ("method", "path", "name", "values"),
    [
        # a list filter: "" (or leaving it out) is no filter
        ("get", "/findings/", "owner_role", [*(r.value for r in Role), ""]),
        ("get", "/findings/", "status", [*Finding.Status.values, "unresolved", ""]),
        ("get", "/stores/{store_id}/rule-changes", "status", [*RuleChangeStatus.values, "open", ""]),
        ("get", "/catalog/{store_id}/products", "status", [*ProductStatus.values, ""]),
        ("get", "/fulfilment/{store_id}/shipments", "status", [*ShipmentStatus.values, ""]),
        ("get", "/aftersales/{store_id}/cases", "status", [*CaseStatus.values, "open", ""]),
        ("get", "/analytics/{store_id}/segments/customers", "sort", list(segments.SORT_CHOICES)),
        ("get", "/analytics/{store_id}/reports/{report_id}/export", "format", list(REPORT_FORMATS)),
        ("get", "/members/{store_id}/members", "referred", [*REFERRED_FILTERS, ""]),
        ("get", "/orders/invoices/{store_id}", "status", [*InvoiceStatus.values, ""]),
        ("get", "/orders/{store_id}/orders", "status", [*OrderStatus.values, ""]),
        ("get", "/orders/{store_id}/orders", "hold_reason", [*HoldReasonChoice.values, ""]),
        ("get", "/orders/{store_id}/orders", "ship_risk", ["at_risk", "breached", ""]),
        ("get", "/orders/{store_id}/orders", "source", [*Source.values, ""]),
        ("get", "/orders/{store_id}/frozen-accounts", "state", ["active", "lifted", "all"]),
        ("get", "/promotions/{store_id}/offers", "scope", [*OFFER_SCOPES, ""]),
        # a path parameter
        ("post", "/analytics/{store_id}/segments/{segment}/action", "segment", SegmentChoice.values),
        (
            "put",
            "/marketing/{store_id}/campaigns/{campaign_id}/budget/{kind}/actual",
            "kind",
            BudgetKind.values,
        ),
    ],
)
def test_a_query_or_path_parameter_lists_its_values(openapi, method, path, name, values):
    assert _parameter(openapi, method, path, name) == values


# ---- any other value is a 422 naming the field, and nothing is written ----------------------------


def test_an_unknown_body_value_is_a_422_naming_the_field_in_the_callers_language(store, api_as):
    client = api_as(Role.OWNER)
    body = {"kind": "wechat", "code": "wx", "name": "微信小店"}
    entries = AuditEntry.objects.count()

    zh = client.post(f"/stores/{store.pk}/channels", body)
    client.headers["HTTP_ACCEPT_LANGUAGE"] = "en"
    en = client.post(f"/stores/{store.pk}/channels", body)

    kinds = " / ".join(ChannelKind.values)
    assert zh.status_code == en.status_code == 422
    assert zh.json() == {
        "code": "validation_error",
        "message": "提交的数据有误",
        "fields": {"kind": f"只能是 {kinds}"},
    }
    assert en.json()["code"] == "validation_error"
    assert en.json()["fields"] == {"kind": f"Must be one of {kinds}"}
    assert not Channel.objects.filter(code="wx").exists()
    assert AuditEntry.objects.count() == entries


def test_an_after_sale_of_an_unknown_kind_is_refused_before_the_order_is_read(store, api_as):
    # the schema refuses the body first: the order need not exist for the answer to name the kind
    body = {"order_number": "NOPE", "kind": "swap", "reason": "quality", "lines": []}
    response = api_as(Role.CUSTOMER_SERVICE).post(f"/aftersales/{store.pk}/cases", body)
    assert response.status_code == 422
    assert response.json()["fields"] == {"kind": "只能是 return / exchange / refund_only"}
    assert not AfterSale.objects.exists()


def test_an_unknown_value_in_a_list_of_objects_names_its_position(store, api_as):
    body = {
        "theme": "开学季",
        "starts_on": "2026-09-01",
        "ends_on": "2026-09-07",
        "phases": [{"kind": "preheat", "starts_on": "2026-09-01", "ends_on": "2026-09-02"}],
        "budget": [{"kind": "ads", "planned": "100"}, {"kind": "tv", "planned": "1"}],
    }
    response = api_as(Role.MARKETING).post(f"/marketing/{store.pk}/campaigns", body)
    assert response.status_code == 422
    assert response.json()["fields"] == {"budget.1.kind": "只能是 discount / ads / kol / other"}


def test_a_stock_move_into_an_unknown_zone_books_nothing(store, api_as):
    body = {"kind": "receipt", "sku_id": 1, "warehouse_id": 1, "quantity": 5, "zone": "attic"}
    response = api_as(Role.WAREHOUSE).post(f"/inventory/{store.pk}/stock/moves", body)
    assert response.status_code == 422
    assert response.json()["fields"] == {"zone": "只能是 sellable / qc / defective"}
    assert not StockMove.objects.exists()


def test_a_ticket_of_an_unknown_category_is_not_opened(store, channel, api_as):
    body = {"channel_id": channel.pk, "customer_ref": "c1", "subject": "快递", "category": "shipping"}
    response = api_as(Role.CUSTOMER_SERVICE).post(f"/service/{store.pk}/tickets", body)
    assert response.status_code == 422
    assert response.json()["fields"] == {"category": "只能是 logistics / quality / service / price / other"}
    assert not Ticket.objects.exists()


def test_an_unknown_review_action_is_a_422_naming_the_action(store, api_as):
    response = api_as(Role.OWNER).post(f"/orders/{store.pk}/orders/NOPE/review", {"action": "reject"})
    assert response.status_code == 422
    assert response.json()["fields"] == {"action": "只能是 auto / approve / hold"}


def test_an_unknown_path_value_is_a_422_naming_the_parameter(store, api_as):
    response = api_as(Role.OWNER).post(f"/analytics/{store.pk}/segments/vip/action", {})
    assert response.status_code == 422
    assert response.json()["fields"] == {"segment": "只能是 new / active / high_value / sleeping"}


def test_an_unknown_language_leaves_the_users_language_unchanged(make_user, api_as):
    client = api_as(Role.ANALYST)
    assert client.put("/accounts/me/language", {"language": "en"}).status_code == 200
    response = client.put("/accounts/me/language", {"language": "fr"})
    assert response.status_code == 422
    # (the user reads English now: the 422 is in English)
    assert response.json()["fields"] == {"language": "Must be one of zh-hans / en"}
    assert make_user(Role.ANALYST).profile.language == "en"


# ---- list filters ---------------------------------------------------------------------------------------


def test_a_list_filter_names_its_values_and_takes_an_empty_value_as_no_filter(store, api_as):
    client = api_as(Role.OWNER)
    url = f"/aftersales/{store.pk}/cases"

    bad = client.get(url, status="opne")
    empty = client.get(url, status="")
    known = client.get(url, status="open")

    assert bad.status_code == 422
    # (the empty value is allowed but is not named as a value)
    assert bad.json()["fields"] == {"status": "只能是 " + " / ".join([*CaseStatus.values, "open"])}
    assert empty.status_code == known.status_code == 200


def test_an_optional_filter_takes_an_empty_value_too(store, api_as):
    client = api_as(Role.OWNER)
    assert client.get("/findings/", status="", severity="", owner_role="").status_code == 200
    assert client.get("/findings/", owner_role="boss").json()["fields"] == {
        "owner_role": "只能是 " + " / ".join(r.value for r in Role)
    }


# ---- the behaviour batch: listed, but reported by the service for every event ----------------------


def test_an_event_of_an_unknown_kind_is_reported_with_the_events_other_problems(store, api_as):
    # the schema lists the kinds; the service still names every bad field of every event
    # (events[<position from 1>].<field>), as the route documents, so one answer lists them all
    event = {"visitor_id": "", "kind": "jump", "occurred_at": "2026-03-01T10:00:00+08:00"}
    response = api_as(Role.OWNER).post(f"/behaviour/{store.pk}/events", {"events": [event]})
    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"events[1].visitor_id", "events[1].kind"}
