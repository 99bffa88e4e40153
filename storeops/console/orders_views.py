"""Console pages of orders: the order list (status tabs, filters, CSV export), the order
detail with its action forms, the manual review queue (ORD-01) and the ship-risk page
(ORD-03). Every action calls a service of :mod:`storeops.orders.services`; its errors are
shown to the operator as they are (Chinese source strings)."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from storeops.console.views import (
    PAGE_SIZE,
    _actor,
    _base_context,
    _current_store,
    _int,
    _safe_next,
    console_view,
    error_text,
    posted,
    querystring,
    refused,
    store_or_404,
)
from storeops.core.errors import DomainError, InvalidTransition, ValidationError
from storeops.core.money import amount_text, to_decimal
from storeops.fulfilment import selectors as fulfilment_selectors
from storeops.orders import invoices, rules
from storeops.orders import selectors as sel
from storeops.orders import services as svc
from storeops.stores.selectors import channel_list

if TYPE_CHECKING:
    from storeops.stores.models import Store

S = rules.Status

# Chinese names of the fields services report errors on (keys of ValidationError.fields).
_FIELD_LABELS = {
    "receiver": gettext_lazy("收货人"),
    "phone": gettext_lazy("电话"),
    "province": gettext_lazy("省"),
    "city": gettext_lazy("市"),
    "address": gettext_lazy("详细地址"),
    "reason": gettext_lazy("原因"),
    "note": gettext_lazy("说明"),
    "text": gettext_lazy("通知内容"),
    "channel": gettext_lazy("通知方式"),
    "tracking_numbers": gettext_lazy("运单号"),
    "checked": gettext_lazy("核对"),
    "created_from": gettext_lazy("下单起"),
    "created_to": gettext_lazy("下单止"),
    "paid_from": gettext_lazy("付款起"),
    "paid_to": gettext_lazy("付款止"),
    "status": gettext_lazy("状态"),
    "hold_reason": gettext_lazy("挂起原因"),
    "ship_risk": gettext_lazy("发货风险"),
    "source": gettext_lazy("来源"),
    "member_tier": gettext_lazy("会员等级"),
    "sort": gettext_lazy("排序"),
    "carrier": gettext_lazy("快递公司"),
    "decision": gettext_lazy("审核动作"),
}


def _field_label(key: str) -> str:
    head, _dot, rest = key.partition(".")
    if head == "address" and rest:
        head = rest
    label = _FIELD_LABELS.get(head)
    if label is None:
        return key
    return str(label) + (f" {rest}" if rest and head == "tracking_numbers" else "")


def _error_text(exc: DomainError) -> str:
    """The error's message followed by its per-field messages, for a console flash."""
    return error_text(exc, _field_label)


def _empty(request: HttpRequest) -> HttpResponse:
    return render(request, "console/empty.html", _base_context(request))


def _language() -> str:
    return translation.get_language() or "zh-hans"


# --- list ----------------------------------------------------------------------------------------

_FILTER_KEYS = (
    "status",
    "channel",
    "q",
    "created_from",
    "created_to",
    "paid_from",
    "paid_to",
    "hold_reason",
    "ship_risk",
    "source",
    "big_promo",
    "member_tier",
    "sort",
)


def _list_filters(request: HttpRequest) -> tuple[dict[str, str], dict[str, Any], dict[str, str]]:
    """(raw GET values, keyword arguments for ``order_list``, per-field errors)."""
    raw = {k: request.GET.get(k, "").strip() for k in _FILTER_KEYS}
    errors: dict[str, str] = {}
    kwargs: dict[str, Any] = {
        "status": raw["status"] or None,
        "channel_id": int(raw["channel"]) if raw["channel"].isdigit() else None,
        "q": raw["q"],
        "hold_reason": raw["hold_reason"] or None,
        "ship_risk": raw["ship_risk"] or None,
        "source": raw["source"] or None,
        "is_big_promo": {"1": True, "0": False}.get(raw["big_promo"]),
        "member_tier": raw["member_tier"] or None,
        "sort": raw["sort"],
    }
    for key in ("created_from", "created_to", "paid_from", "paid_to"):
        if not raw[key]:
            continue
        try:
            kwargs[key] = dt.date.fromisoformat(raw[key])
        except ValueError:
            errors[key] = _("日期格式应为 YYYY-MM-DD")
    return raw, kwargs, errors


@console_view("orders.view_order")
def order_list(request: HttpRequest) -> HttpResponse:
    store = _current_store(request)
    if store is None:
        return _empty(request)
    raw, kwargs, errors = _list_filters(request)
    now = timezone.now()
    try:
        if errors:
            raise ValidationError(_("筛选条件有误"), fields=errors)
        qs = sel.order_list(store, now=now, **kwargs)
        counts = sel.order_status_counts(store, now=now, **kwargs)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
        qs = sel.order_list(store).none()
        counts = dict.fromkeys(dict(sel.STATUS_CHOICES), 0)
    if request.GET.get("format") == "csv":
        return _csv(qs, store=store, now=now)
    page = Paginator(qs, PAGE_SIZE).get_page(_int(request.GET.get("page")))
    clocks = sel.ship_clocks(page.object_list, store=store, now=now)
    rows = [
        {"o": o, "clock": clocks[o.pk], "reasons": [sel.hold_reason_label(r) for r in o.hold_reasons or []]}
        for o in page.object_list
    ]
    tabs = [{"value": "", "label": _("全部"), "n": sum(counts.values())}] + [
        {"value": value, "label": label, "n": counts.get(value, 0)} for value, label in sel.STATUS_CHOICES
    ]
    return render(
        request,
        "console/orders_list.html",
        _base_context(
            request,
            page=page,
            rows=rows,
            tabs=tabs,
            filters=raw,
            querystring=querystring(request),
            tab_querystring=querystring(request, "status", "format"),
            channels=list(channel_list(store=store)),
            hold_reasons=sel.HOLD_REASON_CHOICES,
            ship_risks=sel.SHIP_RISK_CHOICES,
            sources=sel.SOURCE_CHOICES,
            member_tiers=sel.MEMBER_TIER_CHOICES,
            sorts=sel.SORT_CHOICES,
        ),
    )


class _Echo:
    """A file-like object whose ``write`` returns what it was given (csv.writer → one line)."""

    def write(self, value: str) -> str:
        return value


def _csv(qs: Any, *, store: Store, now: dt.datetime) -> StreamingHttpResponse:
    """Every order of the filtered list as CSV, streamed row by row (no cap, constant memory),
    in the language of the user who asked for it."""
    language = translation.get_language()
    writer = csv.writer(_Echo())

    def when(value: dt.datetime | None) -> str:
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""

    def lines() -> Iterator[str]:
        with translation.override(language):
            yield "\ufeff"  # BOM: Excel opens UTF-8 Chinese correctly
            yield writer.writerow(
                [
                    _("订单号"),
                    _("渠道"),
                    _("来源"),
                    _("顾客"),
                    _("收货人"),
                    _("电话"),
                    _("省"),
                    _("市"),
                    _("原价合计"),
                    _("优惠合计"),
                    _("应付金额"),
                    _("实付金额"),
                    _("已退款金额"),
                    _("状态"),
                    _("大促订单"),
                    _("会员等级"),
                    _("挂起原因"),
                    _("下单时间"),
                    _("付款时间"),
                    _("最晚发货时间"),
                    _("发货时间"),
                    _("下单IP"),
                    _("设备标识"),
                ]
            )
            for o in qs.iterator(chunk_size=2000):
                yield writer.writerow(
                    [
                        o.number,
                        o.channel.name,
                        o.get_source_display(),
                        o.customer_ref,
                        o.receiver_masked,  # minimal personal data in exports (DATA-09, RISK-05)
                        o.phone_masked,
                        o.province,
                        o.city,
                        o.list_total,
                        o.discount_total,
                        o.payable,
                        o.paid_amount,
                        o.refunded_amount,
                        o.get_status_display(),
                        _("是") if o.is_big_promo else _("否"),
                        o.get_member_tier_display(),  # "" for a buyer who was not a member
                        _("、").join(sel.hold_reason_label(r) for r in o.hold_reasons or []),
                        when(o.created_at),
                        when(o.paid_at),
                        when(o.ship_by),
                        when(o.shipped_at),
                        o.client_ip_masked,  # the network, not the host (RISK-05)
                        o.device_id_masked,
                    ]
                )

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="orders-{store.code}-{now:%Y%m%d%H%M}.csv"'
    return response


# --- detail --------------------------------------------------------------------------------------


@console_view("orders.view_order")
def groups(request: HttpRequest) -> HttpResponse:
    """Group-buy groups (拼团, PROMO-01): open ones by their deadline, formed, failed."""
    store = _current_store(request)
    if store is None:
        return _empty(request)
    status, q = request.GET.get("status", ""), request.GET.get("q", "")
    try:
        qs = sel.groups_list(store=store, status=status, q=q)
    except DomainError as exc:
        messages.error(request, _error_text(exc))
        status, qs = "", sel.groups_list(store=store, q=q)
    return render(
        request,
        "console/orders_groups.html",
        _base_context(
            request,
            page=Paginator(qs, 50).get_page(request.GET.get("page")),
            status=status,
            q=q,
            statuses=[
                ("", _("全部状态")),
                ("open", _("拼团中")),
                ("formed", _("已成团")),
                ("failed", _("未成团")),
            ],
            now=timezone.now(),
        ),
    )


@console_view("orders.view_order")
def order_detail(request: HttpRequest, order_id: int) -> HttpResponse:
    store = _current_store(request)
    if store is None:
        return _empty(request)
    return _detail_page(request, store, sel.order_get(store, order_id))


# The invoice request form's fields (ORD-07): what :func:`invoices.invoice_request` takes.
_INVOICE_FIELDS = (
    "kind",
    "title_type",
    "title",
    "tax_id",
    "email",
    "mailing_address",
    "payer_name",
    "amount",
)


def _invoice_initial(order: Any) -> dict[str, str]:
    """The form as first shown: an electronic invoice for a person, titled with the receiver's
    name; a paper one would go to the delivery address."""
    where = f"{order.province}{order.city}{order.district}{order.address}"
    return {
        "kind": "electronic",
        "title_type": "personal",
        "title": order.receiver,
        "tax_id": "",
        "email": "",
        "mailing_address": f"{where} {order.receiver} {order.phone}".strip(),
        "payer_name": "",
        "amount": "",
    }


def _invoice_section(order: Any) -> list[dict[str, Any]]:
    """The order's invoice requests with their three-flow problems, as the finance queue shows
    them (checked while the request is open)."""
    return [
        {
            "i": i,
            "problems": [invoices.FLOW_PROBLEM_LABELS[p] for p in invoices.flow_problems(i)]
            if i.status in invoices.OPEN
            else [],
        }
        for i in invoices.order_invoices(order)
    ]


def _refusal_text(refusal: DomainError | None) -> str:
    return "" if refusal is None else str(refusal.message)


def _detail_page(
    request: HttpRequest,
    store: Store,
    order: Any,
    sent: dict[str, dict[str, str]] | None = None,
    errors: dict[str, dict[str, str]] | None = None,
    code: int = 200,
    *,
    invoice_form: dict[str, str] | None = None,
    invoice_errors: dict[str, str] | None = None,
    invoice_error: str = "",
) -> HttpResponse:
    """The order with its action forms; ``sent``: a refused form by its name (``{"cancel":
    {"reason": …}}``), shown again as typed with ``errors`` by field; the other forms as new.
    The invoice request form (ORD-07) has its own: ``invoice_form`` / ``invoice_errors``."""
    now = timezone.now()
    status = S(order.status)
    user = request.user
    lang = _language()
    book = sel.channel_playbooks(store=store)
    warn = (book.get(order.channel_id) or book[None]).ship_risk_hours_before
    payments = [
        {
            "p": p,
            "provider": sel.payment_provider_label(p.provider),
            "callbacks": [(cb, sel.callback_label(cb)) for cb in p.callbacks.all()],
        }
        for p in order.payments.all()
    ]
    applied = sel.applied_offers(order, language=lang)
    shown = {a["text"] for a in applied}
    can_invoice = user.has_perm("orders.add_invoicerequest")
    ship_sent = (sent or {}).get("ship", {})
    ship_errors = (errors or {}).get("ship", {})
    can_ship = user.has_perm("orders.ship_order") and status == S.ALLOCATED
    # LOG-03: the suggested carrier is preselected (a refused form keeps what was chosen)
    suggestion = sel.ship_carrier_suggestion(order) if can_ship else None
    excluded = suggestion.excluded_reasons() if suggestion else {}
    return render(
        request,
        "console/orders_detail.html",
        _base_context(
            request,
            order=order,
            lines=list(order.lines.all()),
            warehouses=sel.allocations_by_warehouse(order),
            explanation=[x for x in sel.pricing_explanation(order, language=lang) if x not in shown],
            applied=applied,
            events=sel.order_timeline(order),
            payments=payments,
            refunds=list(order.refunds.all()),
            notifications=[
                {"n": n, "purpose": sel.notification_purpose_label(n.purpose)}
                for n in order.notifications.all()
            ],
            reasons=[sel.hold_reason_label(r) for r in order.hold_reasons or []],
            clock=sel.ship_clock(order, now=now, warn_hours_before=warn),
            group=[o for o in sel.ship_group(order) if o.pk != order.pk],
            buy_group=sel.group_summary(store=store, group_id=order.group_id) if order.group_id else None,
            balance_due=order.payable - order.deposit_amount,
            ship_legs=[
                {
                    "w": w,
                    "value": ship_sent.get(f"tracking_{w.pk}", ""),
                    "error": ship_errors.get(f"tracking_{w.pk}", ""),
                }
                for w in (sel.ship_warehouses(order) if status == S.ALLOCATED else [])
            ],
            carriers=[
                {"c": c, "excluded": excluded.get(c.code, "")}
                for c in fulfilment_selectors.carrier_list(active_only=True)
            ],
            ship_suggestion=suggestion,
            ship_carrier=ship_sent.get("carrier", suggestion.best_code if suggestion else ""),
            shipments=fulfilment_selectors.order_shipments(
                store=store, channel=order.channel_id, order_number=order.number
            ),
            notify_channels=sel.NOTIFY_CHANNEL_CHOICES,
            can_approve=user.has_perm("orders.review_order") and rules.can_transition(status, S.REVIEWED),
            can_hold=user.has_perm("orders.review_order") and rules.can_transition(status, S.ON_HOLD),
            can_auto=user.has_perm("orders.review_order") and status == S.PAID,
            can_address=user.has_perm("orders.change_order") and status in rules.RESERVED,
            can_notify=user.has_perm("orders.change_order"),
            can_allocate=user.has_perm("orders.ship_order") and status == S.REVIEWED,
            can_ship=can_ship,
            can_deliver=user.has_perm("orders.ship_order") and status == S.SHIPPED,
            can_cancel=user.has_perm("orders.cancel_order") and status in rules.RESERVED,
            can_brushing=user.has_perm("orders.freeze_account") and status in rules.RESERVED,
            freeze=sel.active_freeze(store, order.customer_ref),
            invoices=_invoice_section(order),
            can_invoice=can_invoice,
            invoice_refusal=_refusal_text(invoices.request_refusal(order)) if can_invoice else "",
            invoice_form=invoice_form or _invoice_initial(order),
            invoice_errors=invoice_errors or {},
            invoice_error=invoice_error,
            # a refused request: the browser scrolls to (and focuses) the first field in error
            invoice_focus=next((k for k in _INVOICE_FIELDS if k in (invoice_errors or {})), "title")
            if invoice_error
            else "",
            invoice_net_paid=invoices.net_paid(order),
            invoice_kinds=invoices.KIND_CHOICES,
            invoice_title_types=invoices.TITLE_TYPE_CHOICES,
            sent=sent or {},
            errors=errors or {},
        ),
        status=code,
    )


@console_view("orders.add_invoicerequest")
def order_invoice_request(request: HttpRequest, order_id: int) -> HttpResponse:
    """Record the customer's invoice request (ORD-07) taken by chat or phone: the service the
    API uses. A refusal shows the order page again with the errors next to the fields and
    everything typed kept. A GET (the language or store switcher on that page sends the
    reader back to its address) goes to the order page."""
    store = store_or_404(request)
    order = sel.order_get(store, order_id)
    if request.method != "POST":
        return HttpResponseRedirect(reverse("console:orders_detail", args=[order.pk]) + "#invoice")
    form = {k: request.POST.get(k, "").strip() for k in _INVOICE_FIELDS}
    try:
        amount: Decimal | None = None
        if form["amount"]:
            try:
                amount = to_decimal(form["amount"])  # a number, and finite
            except ValueError:
                raise ValidationError(
                    _("发票申请信息有误"), fields={"amount": _("请填写金额，如 99.00")}
                ) from None
        invoice = invoices.invoice_request(
            actor=_actor(request),
            order=order,
            kind=form["kind"],
            title_type=form["title_type"],
            title=form["title"],
            tax_id=form["tax_id"],
            email=form["email"],
            mailing_address=form["mailing_address"],
            payer_name=form["payer_name"],
            amount=amount,
        )
    except DomainError as exc:
        fields = {k: str(v) for k, v in exc.fields.items() if k in _INVOICE_FIELDS}
        if not request.user.has_perm("orders.view_order"):  # may record, may not read the order
            messages.error(request, _error_text(exc))
            return HttpResponseRedirect(reverse("console:orders_detail", args=[order.pk]))
        return _detail_page(
            request,
            store,
            order,
            code=422,
            invoice_form=form,
            invoice_errors=fields,
            invoice_error=str(exc.message),
        )
    messages.success(
        request,
        _("已记录订单 %(n)s 的发票申请（%(a)s），财务将在发票申请中处理")
        % {"n": order.number, "a": amount_text(invoice.amount)},
    )
    return HttpResponseRedirect(reverse("console:orders_detail", args=[order.pk]))


# --- actions -------------------------------------------------------------------------------------


def _act(
    request: HttpRequest,
    order_id: int,
    action: Callable[[Any], str],
    *,
    fallback: str | None = None,
    form: str = "",
    sent: dict[str, str] | None = None,
    prefix: str = "",
) -> HttpResponse:
    """Run ``action(order)`` (a service call returning the success message); show its
    domain error instead when it refuses. Back to ``next`` or the order's page.

    ``form``: the detail page's form posted, with its values ``sent``; a refusal shows the
    page again (422) with this form as typed and its errors inside it (the service names the
    fields ``prefix`` + the form's names)."""
    store = store_or_404(request)
    order = sel.order_get(store, order_id)
    try:
        done = action(order)
    except DomainError as exc:
        if not form:
            messages.error(request, _error_text(exc))
        else:
            typed = sent or {}
            named = refused(request, exc, {prefix + key: value for key, value in typed.items()})
            errors = {key.removeprefix(prefix): value for key, value in named.items()}
            return _detail_page(
                request,
                store,
                sel.order_get(store, order_id),
                sent={form: typed},
                errors={form: errors},
                code=422,
            )
    else:
        messages.success(request, done)
    back = fallback or reverse("console:orders_detail", args=[order.pk])
    return HttpResponseRedirect(_safe_next(request, back))


@require_POST
@console_view("orders.review_order")
def order_review(request: HttpRequest, order_id: int) -> HttpResponse:
    """Approve (pass the manual review), run the automatic review now, or hold (ORD-01). A
    refusal on the order page (a hold without its reason) comes back with the note as typed;
    the review queue (which sends ``next``) gets its message there."""
    decision = request.POST.get("decision", "")
    sent = posted(request, "note")
    note = sent["note"]
    actor = _actor(request)

    def run(order: Any) -> str:
        if decision == "approve":
            if request.POST.get("require_check") == "1" and not request.POST.get("checked"):
                raise ValidationError(
                    _("请先核对地址、库存和风险后勾选“已核对”"), fields={"checked": _("必填")}
                )
            svc.order_approve(actor=actor, order=order, note=note)
            return _("订单 %(n)s 已审核通过") % {"n": order.number}
        if decision == "auto":
            done = svc.order_auto_review(actor=actor, order=order)
            if done.status == S.REVIEWED:
                return _("订单 %(n)s 自动审核通过") % {"n": order.number}
            reasons = _("、").join(sel.hold_reason_label(r) for r in done.hold_reasons or [])
            return _("订单 %(n)s 未通过自动审核，已转人工：%(r)s") % {"n": order.number, "r": reasons}
        if decision == "hold":
            svc.order_hold(actor=actor, order=order, note=note)
            return _("订单 %(n)s 已挂起，转人工处理") % {"n": order.number}
        raise ValidationError(_("未知的审核动作"), fields={"decision": _("只能是通过或挂起")})

    if "next" in request.POST:  # a row of the review queue
        return _act(request, order_id, run)
    return _act(request, order_id, run, form="review", sent=sent)


@require_POST
@console_view("orders.change_order")
def order_address(request: HttpRequest, order_id: int) -> HttpResponse:
    """Correct the delivery address before shipping (ORD-04); a refused one comes back as typed."""
    sent = posted(request, "receiver", "phone", "province", "city", "district", "address")
    address = svc.AddressIn(
        receiver=sent["receiver"],
        phone=sent["phone"],
        province=sent["province"],
        city=sent["city"],
        district=sent["district"],
        address=sent["address"],
    )

    def run(order: Any) -> str:
        svc.order_update_address(actor=_actor(request), order=order, address=address)
        return _("收货地址已更新")

    return _act(request, order_id, run, form="address", sent=sent, prefix="address.")


@require_POST
@console_view("orders.change_order")
def order_notify(request: HttpRequest, order_id: int) -> HttpResponse:
    """Send the customer a message about the order (ORD-04); a refused one comes back as typed."""
    sent = posted(request, "channel", "text")

    def run(order: Any) -> str:
        svc.customer_notify(
            actor=_actor(request), order=order, purpose="manual", channel=sent["channel"], text=sent["text"]
        )
        return _("已通知顾客")

    return _act(request, order_id, run, form="notify", sent=sent)


@require_POST
@console_view("orders.ship_order")
def order_allocate(request: HttpRequest, order_id: int) -> HttpResponse:
    def run(order: Any) -> str:
        svc.order_allocate(actor=_actor(request), order=order)
        return _("订单 %(n)s 已确认分仓，待发货") % {"n": order.number}

    return _act(request, order_id, run)


@require_POST
@console_view("orders.ship_order")
def order_ship(request: HttpRequest, order_id: int) -> HttpResponse:
    """Ship with one tracking number per warehouse (``tracking_<warehouse id>`` fields), or
    ``tracking_no`` when a single warehouse ships."""
    legs = [key for key in request.POST if key.startswith("tracking_") and key[9:].isdigit()]
    sent = posted(request, "carrier", "tracking_no", *legs)
    numbers = {int(key[9:]): sent[key] for key in legs}

    def run(order: Any) -> str:
        if order.status != S.ALLOCATED:
            # checked here too: the service would ship this order's merge mates instead
            raise InvalidTransition(_("订单 %(n)s 不是待发货状态") % {"n": order.number})
        carrier = sent["carrier"]
        if not carrier:
            raise ValidationError(_("请选择快递公司"), fields={"carrier": _("必填")})
        single = sent["tracking_no"]
        if numbers or not single:
            # named by the form's field (the service would name the leg by its id)
            warehouses = sel.ship_warehouses(order)
            missing = [f"tracking_{w.pk}" for w in warehouses if not numbers.get(w.pk)]
            if not numbers and len(warehouses) == 1:
                missing = ["tracking_no"]  # the form of a single warehouse's parcel
            if missing:
                raise ValidationError(_("缺少运单号"), fields=dict.fromkeys(missing, _("必填")))
        shipped = svc.order_ship(
            actor=_actor(request),
            order=order,
            carrier_code=carrier,
            tracking_numbers=numbers if numbers or not single else single,
        )
        return _("已发货：%(n)s") % {"n": _("、").join(o.number for o in shipped)}

    return _act(request, order_id, run, form="ship", sent=sent)


@require_POST
@console_view("orders.ship_order")
def order_deliver(request: HttpRequest, order_id: int) -> HttpResponse:
    def run(order: Any) -> str:
        svc.order_deliver(actor=_actor(request), order=order)
        return _("订单 %(n)s 已标记签收") % {"n": order.number}

    return _act(request, order_id, run)


@require_POST
@console_view("orders.cancel_order")
def order_cancel(request: HttpRequest, order_id: int) -> HttpResponse:
    """Cancel before shipping; a paid order is refunded in full by the service. A refused
    cancel comes back with its reason as typed."""
    sent = posted(request, "reason")

    def run(order: Any) -> str:
        cancelled = svc.order_cancel(actor=_actor(request), order=order, reason=sent["reason"])
        if cancelled.refunded_amount > 0:
            return _("订单 %(n)s 已取消，已退款 %(a)s") % {
                "n": cancelled.number,
                "a": cancelled.refunded_amount,
            }
        return _("订单 %(n)s 已取消") % {"n": cancelled.number}

    return _act(request, order_id, run, form="cancel", sent=sent)


@require_POST
@console_view("orders.freeze_account")
def order_brushing(request: HttpRequest, order_id: int) -> HttpResponse:
    """RISK-01: confirm brushing — the order is cancelled and its account frozen. A refusal
    (no grounds given) comes back with the note as typed."""
    sent = posted(request, "note")

    def run(order: Any) -> str:
        svc.order_confirm_brushing(actor=_actor(request), order=order, note=sent["note"])
        return _("已确认刷单：订单 %(n)s 已取消，账号 %(c)s 已冻结") % {
            "n": order.number,
            "c": order.customer_ref,
        }

    return _act(request, order_id, run, form="brushing", sent=sent)


# --- frozen accounts (RISK-01) -------------------------------------------------------------------


@console_view("orders.view_accountfreeze")
def frozen_accounts(request: HttpRequest) -> HttpResponse:
    """Frozen customer accounts (active by default), with lifting and freezing by hand."""
    store = _current_store(request)
    if store is None:
        return _empty(request)
    return _frozen_accounts_page(request, store)


def _frozen_accounts_page(
    request: HttpRequest,
    store: Store,
    sent: dict[str, dict[str, str]] | None = None,
    errors: dict[str, dict[str, str]] | None = None,
    code: int = 200,
    *,
    lift_id: int | None = None,
) -> HttpResponse:
    """``sent``: a refused form by its name (``{"add": {"customer_ref": …}}``, or ``"lift"``
    for the lift form of the freeze ``lift_id``), shown again as typed with ``errors`` by field;
    the other forms as new."""
    state = request.GET.get("state", "active")
    q = request.GET.get("q", "")
    try:
        qs = sel.account_freezes(store, state=state, q=q)
    except DomainError as exc:
        messages.error(request, _error_text(exc))
        state, qs = "active", sel.account_freezes(store, q=q)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "console/orders_frozen_accounts.html",
        _base_context(
            request,
            page=page,
            state=state,
            q=q,
            states=[("active", _("冻结中")), ("lifted", _("已解冻")), ("all", _("全部"))],
            can_freeze=request.user.has_perm("orders.freeze_account"),
            sent=sent or {},
            errors=errors or {},
            lift_id=lift_id,
        ),
        status=code,
    )


@require_POST
@console_view("orders.freeze_account")
def frozen_account_add(request: HttpRequest) -> HttpResponse:
    """Freeze an account by hand; a refused freeze saves nothing and comes back as typed."""
    store = store_or_404(request)
    sent = posted(request, "customer_ref", "reason")
    try:
        freeze = svc.account_freeze(actor=_actor(request), store=store, **sent)
    except DomainError as exc:
        errors = refused(request, exc, sent)
        return _frozen_accounts_page(request, store, sent={"add": sent}, errors={"add": errors}, code=422)
    messages.success(request, _("账号 %(c)s 已冻结") % {"c": freeze.customer_ref})
    return HttpResponseRedirect(reverse("console:orders_frozen_accounts"))


@require_POST
@console_view("orders.freeze_account")
def frozen_account_lift(request: HttpRequest, freeze_id: int) -> HttpResponse:
    """Lift a freeze; a refused lift (no note) lifts nothing and comes back with the note as
    typed in that account's row."""
    store = store_or_404(request)
    freeze = sel.account_freeze_get(store, freeze_id)
    sent = posted(request, "note")
    try:
        svc.account_unfreeze(actor=_actor(request), freeze=freeze, note=sent["note"])
    except DomainError as exc:
        errors = refused(request, exc, sent)
        return _frozen_accounts_page(
            request, store, sent={"lift": sent}, errors={"lift": errors}, code=422, lift_id=freeze.pk
        )
    messages.success(request, _("账号 %(c)s 已解冻") % {"c": freeze.customer_ref})
    return HttpResponseRedirect(reverse("console:orders_frozen_accounts"))


# --- queues --------------------------------------------------------------------------------------


@console_view("orders.view_order")
def review_queue(request: HttpRequest) -> HttpResponse:
    """ORD-01: orders waiting for review, oldest first, with the time waited vs the window."""
    store = _current_store(request)
    if store is None:
        return _empty(request)
    now = timezone.now()
    page = Paginator(sel.review_queue(store), PAGE_SIZE).get_page(_int(request.GET.get("page")))
    return render(
        request,
        "console/orders_review_queue.html",
        _base_context(
            request,
            page=page,
            querystring="",
            rows=sel.review_queue_rows(store, now=now, orders=page.object_list),
            overdue=sel.review_queue_overdue(store, now=now),
            target=sel.channel_playbooks(store=store)[None].order_review_minutes,
            can_review=request.user.has_perm("orders.review_order"),
        ),
    )


@console_view("orders.view_order")
def ship_risk(request: HttpRequest) -> HttpResponse:
    """ORD-03: unshipped orders near or past their ship-by time, by channel."""
    store = _current_store(request)
    if store is None:
        return _empty(request)
    now = timezone.now()
    page = Paginator(sel.ship_risk_orders(store, now), PAGE_SIZE).get_page(_int(request.GET.get("page")))
    counts = sel.ship_risk_counts(store, now)  # of every order at risk, not only this page's
    groups = sel.ship_risk_by_channel(sel.ship_risk_rows(store, now, page.object_list), counts)
    book = sel.channel_playbooks(store=store)[None]
    return render(
        request,
        "console/orders_ship_risk.html",
        _base_context(
            request,
            page=page,
            querystring="",
            groups=groups,
            at_risk=sum(c[0] for c in counts.values()),
            breached=sum(c[1] for c in counts.values()),
            promise_hours=book.ship_promise_hours,
            warn_hours=book.ship_risk_hours_before,
        ),
    )
