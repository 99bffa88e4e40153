"""Console pages of promotions: offers list and detail, the quote playground, coupons
(SOP PROMO-01..03). Reads through selectors, the quote through ``services.quote_cart``."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from storeops.catalog.selectors import category_list
from storeops.console.views import (
    PAGE_SIZE,
    _actor,
    _base_context,
    _current_store,
    _int,
    console_view,
    querystring,
)
from storeops.core.errors import DomainError
from storeops.marketing import selectors as marketing_selectors
from storeops.members.selectors import TIER_CHOICES, tier_label
from storeops.orders import selectors as order_selectors
from storeops.promotions import selectors, services
from storeops.promotions.engine import offer_label
from storeops.stores.selectors import channel_list

if TYPE_CHECKING:
    from storeops.stores.models import Store

QUOTE_ROWS = 5
TIERS = tuple(value for value, _label in TIER_CHOICES)  # silver, gold, diamond


def _empty(request: HttpRequest) -> HttpResponse:
    return render(request, "console/empty.html", _base_context(request))


def _english() -> bool:
    return (translation.get_language() or "").startswith("en")


@console_view("promotions.view_offer")
def offers(request: HttpRequest) -> HttpResponse:
    store = _current_store(request)
    if store is None:
        return _empty(request)
    f = {k: request.GET.get(k, "").strip() for k in ("kind", "status", "scope", "q")}
    qs = selectors.offer_list(store=store, kind=f["kind"], status=f["status"], scope=f["scope"], q=f["q"])
    page = Paginator(qs.prefetch_related("scope_items"), PAGE_SIZE).get_page(_int(request.GET.get("page")))
    return render(
        request,
        "console/promotions_offers.html",
        _base_context(
            request,
            page=page,
            filters=f,
            querystring=querystring(request),
            kinds=selectors.OFFER_KIND_CHOICES,
            statuses=selectors.OFFER_STATUS_CHOICES,
            scopes=[
                ("all", _("全店")),
                ("category", _("按类目")),
                ("product", _("按商品")),
                ("sku", _("按SKU")),
            ],
        ),
    )


@console_view("promotions.view_offer")
def offer_detail(request: HttpRequest, offer_id: int) -> HttpResponse:
    store = _current_store(request)
    if store is None:
        return _empty(request)
    offer = selectors.offer_get(store=store, offer_id=offer_id)
    campaigns = marketing_selectors.offer_campaigns(offer_id=offer.pk)
    # PROMO-05: while a linked campaign is not approved, the offer cannot be activated
    held = [c for c in campaigns if c.status in marketing_selectors.CAMPAIGN_HOLDS_OFFERS]
    label: tuple[str, str] | None
    try:
        label = offer_label(selectors.offer_to_engine(offer, currency=store.currency))
    except DomainError:
        label = None
    return render(
        request,
        "console/promotions_offer_detail.html",
        _base_context(
            request,
            offer=offer,
            tier_labels=[tier_label(t) for t in offer.tiers],
            label=(label[1] if _english() else label[0]) if label else "",
            params=json.dumps(offer.params, ensure_ascii=False, indent=2),
            scope_items=list(offer.scope_items.all()),
            uses=selectors.offer_use_summary(offer_id=offer.pk),
            groups=order_selectors.group_counts(store=store, offer_id=offer.pk)
            if offer.kind == "group_buy"
            else None,
            presale=order_selectors.presale_counts(store=store, offer_id=offer.pk)
            if offer.kind == "presale"
            else None,
            campaigns=campaigns,
            held_by=held,
            status_actions=[
                (status, STATUS_ACTIONS[status])
                for status in ("active", "paused", "ended")
                if status in services.OFFER_TRANSITIONS[offer.status] and not (status == "active" and held)
            ],
        ),
    )


STATUS_ACTIONS = {
    "active": gettext_lazy("启用优惠"),
    "paused": gettext_lazy("暂停优惠"),
    "ended": gettext_lazy("结束优惠"),
}


@console_view("promotions.change_offer")
def offer_status(request: HttpRequest, offer_id: int) -> HttpResponse:
    """Activate, pause or end an offer (POST); the engine prices with active offers only."""
    store = _current_store(request)
    if store is None:
        return _empty(request)
    back = HttpResponseRedirect(reverse("console:promotions_offer_detail", args=[offer_id]))
    if request.method != "POST":
        return back
    offer = selectors.offer_get(store=store, offer_id=offer_id)
    try:
        offer = services.offer_set_status(
            actor=_actor(request), offer=offer, status=request.POST.get("status", "")
        )
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("优惠状态已改为“%(s)s”") % {"s": offer.get_status_display()})
    return back


@console_view("promotions.view_offer")
def quote(request: HttpRequest) -> HttpResponse:
    """The quote playground: pick SKUs, quantities, a tier and coupons; see the best price."""
    store = _current_store(request)
    if store is None:
        return _empty(request)
    codes = request.GET.getlist("sku")
    quantities = request.GET.getlist("qty")
    rows = [
        {"sku": codes[i] if i < len(codes) else "", "qty": quantities[i] if i < len(quantities) else "1"}
        for i in range(QUOTE_ROWS)
    ]
    form: dict[str, Any] = {
        "tier": request.GET.get("tier", ""),
        "customer": request.GET.get("customer", "").strip(),
        "coupons": request.GET.get("coupons", "").strip(),
        "is_new": request.GET.get("is_new") == "1",
        "channel": request.GET.get("channel", ""),
    }
    items = []
    for row in rows:
        if row["sku"].strip():
            try:
                items.append(services.CartItem(row["sku"].strip(), int(row["qty"] or 1)))
            except ValueError:
                items.append(services.CartItem(row["sku"].strip(), 0))
    result: dict[str, Any] | None = None
    errors: dict[str, Any] = {}
    error = ""
    channels = list(channel_list(store=store))
    if items:
        channel = next((c for c in channels if str(c.pk) == form["channel"]), None)
        try:
            cart = services.quote_cart(
                store=store,
                channel=channel,
                lines=items,
                customer=services.Shopper(
                    customer_ref=form["customer"] or None,
                    tier=form["tier"] if form["tier"] in TIERS else None,
                    is_new=bool(form["is_new"]),
                ),
                coupon_codes=[c for c in form["coupons"].replace(",", " ").split() if c],
            )
        except DomainError as exc:
            error, errors = str(exc.message), exc.fields
        else:
            result = selectors.quote_as_dict(cart.quote, [s.code for s in cart.skus])
            lang = "en" if _english() else "zh"
            result["text"] = {
                "explanation": [x[lang] for x in result["explanation"]],
                "hints": [h[lang] for h in result["hints"]],
            }
    return render(
        request,
        "console/promotions_quote.html",
        _base_context(
            request,
            rows=rows,
            form=form,
            tiers=TIER_CHOICES,
            channels=channels,
            sku_choices=selectors.sku_choices(store=store),
            result=result,
            error=error,
            errors=errors,
        ),
    )


@console_view("promotions.view_issuedcoupon")
def coupons(request: HttpRequest) -> HttpResponse:
    store = _current_store(request)
    if store is None:
        return _empty(request)
    return _coupons_page(request, store)


def _coupons_page(request: HttpRequest, store: Store, *, sent: dict[str, str] | None = None) -> HttpResponse:
    """Templates, the issue form and the issued coupons; ``sent``: a refused batch (422),
    its form shown again as typed (a pasted list of customers is not lost)."""
    f = {k: request.GET.get(k, "").strip() for k in ("customer", "status", "template")}
    qs = selectors.coupon_list(
        store=store,
        customer_ref=f["customer"],
        status=f["status"],
        template_id=int(f["template"]) if f["template"].isdigit() else None,
    )
    page = Paginator(qs, PAGE_SIZE).get_page(_int(request.GET.get("page")))
    templates = list(selectors.coupon_template_list(store=store))
    for t in templates:
        t.tier_label = tier_label(t.tier) if t.tier else ""  # the member tier's name, not its key
    return render(
        request,
        "console/promotions_coupons.html",
        _base_context(
            request,
            page=page,
            filters=f,
            querystring=querystring(request),
            statuses=selectors.COUPON_STATUS_CHOICES,
            templates=templates,
            sent=sent or {},
        ),
        status=422 if sent is not None else 200,
    )


# ---- forms: create and edit offers (PROMO-01) -------------------------------------------------
# Each kind's parameters are a JSON object (the same as the API's ``params``); the engine's
# parameter parser (``offer_create`` / ``offer_update``) checks them and names the bad key.
PARAM_EXAMPLES = {
    "percentage": '{"rate": "0.9"}',
    "nth_item": '{"n": 2, "rate": "0.5"}',
    "flash_sale": '{"price": "99.00", "per_buyer_limit": 1}',
    "group_buy": '{"price": "79.00", "group_size": 3, "time_limit_hours": 24}',
    "presale": '{"deposit": "50", "multiplier": "2", "balance_starts": "…", "balance_ends": "…"}',
    "add_on": '{"anchor_product_ids": ["12"], "amount_off": "10"}',
    "member_price": '{"tier_rates": {"gold": "0.9"}}',
    "time_slot": '{"slots": [["20:00", "22:00"]], "rate": "0.9"}',
    "tiered_reduction": '{"tiers": [{"threshold": "200", "amount": "30"}], "repeat": false}',
    "threshold_percentage": '{"threshold": "300", "rate": "0.9", "max_reduction": "50"}',
    "gift": '{"threshold": "299", "gift_sku": "GIFT-1", "quantity": 1}',
}


def _id_list(text: str) -> list[int]:
    return [int(part) for part in text.replace("，", ",").replace(" ", ",").split(",") if part.strip()]


class OfferForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("玩法"), choices=selectors.OFFER_KIND_CHOICES)
    title_zh = forms.CharField(label=gettext_lazy("中文名称"), required=False, max_length=100)
    title_en = forms.CharField(label=gettext_lazy("英文名称"), required=False, max_length=100)
    params = forms.CharField(
        label=gettext_lazy("参数（JSON）"), widget=forms.Textarea(attrs={"rows": 4, "cols": 60}), initial="{}"
    )
    category_ids = forms.TypedMultipleChoiceField(
        label=gettext_lazy("适用类目（含下级类目）"),
        required=False,
        coerce=int,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    product_ids = forms.CharField(
        label=gettext_lazy("适用商品ID"), required=False, help_text=gettext_lazy("逗号分隔")
    )
    sku_ids = forms.CharField(
        label=gettext_lazy("适用SKU ID"), required=False, help_text=gettext_lazy("逗号分隔；范围都不填即全店")
    )
    starts_at = forms.DateTimeField(
        label=gettext_lazy("开始时间"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    ends_at = forms.DateTimeField(
        label=gettext_lazy("结束时间"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    exclusive_group = forms.CharField(label=gettext_lazy("互斥组"), required=False, max_length=40)
    priority = forms.IntegerField(label=gettext_lazy("优先级"), initial=0)
    per_user_limit = forms.IntegerField(label=gettext_lazy("每人限用"), required=False, min_value=1)
    stock_cap = forms.IntegerField(label=gettext_lazy("活动库存上限"), required=False, min_value=1)
    new_users_only = forms.BooleanField(label=gettext_lazy("仅新用户"), required=False)

    def __init__(self, *args: Any, store: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category_ids"].choices = [(c.pk, str(c)) for c in category_list(store=store)]
        self.fields["params"].help_text = _("；").join(f"{k}: {v}" for k, v in PARAM_EXAMPLES.items())

    def clean_params(self) -> dict[str, Any]:
        try:
            value = json.loads(self.cleaned_data["params"] or "{}")
        except ValueError as exc:
            raise forms.ValidationError(_("不是合法的 JSON")) from exc
        if not isinstance(value, dict):
            raise forms.ValidationError(_('应为 JSON 对象，如 {"rate": "0.9"}'))
        return value

    def _ids(self, name: str) -> list[int]:
        try:
            return _id_list(self.cleaned_data.get(name) or "")
        except ValueError as exc:
            raise forms.ValidationError(_("应为逗号分隔的数字 ID")) from exc

    def clean_product_ids(self) -> list[int]:
        return self._ids("product_ids")

    def clean_sku_ids(self) -> list[int]:
        return self._ids("sku_ids")

    @staticmethod
    def initial_from(offer: Any) -> dict[str, Any]:
        items = list(offer.scope_items.all())
        return {
            "kind": offer.kind,
            "title_zh": offer.title_zh,
            "title_en": offer.title_en,
            "params": json.dumps(offer.params, ensure_ascii=False),
            "category_ids": [i.category_id for i in items if i.category_id],
            "product_ids": ",".join(str(i.product_id) for i in items if i.product_id),
            "sku_ids": ",".join(str(i.sku_id) for i in items if i.sku_id),
            "starts_at": offer.starts_at and timezone.localtime(offer.starts_at),
            "ends_at": offer.ends_at and timezone.localtime(offer.ends_at),
            "exclusive_group": offer.exclusive_group,
            "priority": offer.priority,
            "per_user_limit": offer.per_user_limit,
            "stock_cap": offer.stock_cap,
            "new_users_only": offer.new_users_only,
        }


def _offer_form_page(request: HttpRequest, form: forms.Form, title: str, back: str) -> HttpResponse:
    return render(
        request,
        "console/promotions_offer_form.html",
        _base_context(request, form=form, title=title, back=back),
        status=422 if form.is_bound and form.errors else 200,  # refused: shown again as typed
    )


def _offer_errors(form: forms.Form, exc: DomainError) -> None:
    for key, message in exc.fields.items():
        field = key.split(".", 1)[0]
        form.add_error(
            field if field in form.fields else None, f"{key}: {message}" if "." in key else str(message)
        )
    if not exc.fields:
        form.add_error(None, str(exc.message))


@console_view("promotions.add_offer")
def offer_create(request: HttpRequest) -> HttpResponse:
    store = _current_store(request)
    if store is None:
        return _empty(request)
    form = OfferForm(request.POST or None, store=store)
    if request.method == "POST" and form.is_valid():
        try:
            offer = services.offer_create(actor=_actor(request), store=store, **form.cleaned_data)
        except DomainError as exc:
            _offer_errors(form, exc)
        else:
            messages.success(request, _("优惠已保存为草稿"))
            return HttpResponseRedirect(reverse("console:promotions_offer_detail", args=[offer.pk]))
    return _offer_form_page(request, form, _("新建优惠"), reverse("console:promotions_offers"))


@console_view("promotions.change_offer")
def offer_edit(request: HttpRequest, offer_id: int) -> HttpResponse:
    store = _current_store(request)
    if store is None:
        return _empty(request)
    offer = selectors.offer_get(store=store, offer_id=offer_id)
    form = OfferForm(request.POST or None, store=store, initial=OfferForm.initial_from(offer))
    back = reverse("console:promotions_offer_detail", args=[offer_id])
    if request.method == "POST" and form.is_valid():
        try:
            services.offer_update(actor=_actor(request), offer=offer, **form.cleaned_data)
        except DomainError as exc:
            _offer_errors(form, exc)
        else:
            messages.success(request, _("优惠已修改"))
            return HttpResponseRedirect(back)
    return _offer_form_page(request, form, _("修改优惠 #%(id)s") % {"id": offer_id}, back)


# ---- coupon templates: create, switch on/off, issue (PROMO-02) --------------------------------
def _datetime_field(label: Any) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )


class CouponTemplateForm(forms.Form):
    """The fields of ``services.coupon_template_create``; the service checks the combinations
    (threshold against kind, amount against threshold, category coupons need a category…)."""

    name = forms.CharField(label=gettext_lazy("名称"), max_length=100)
    kind = forms.ChoiceField(label=gettext_lazy("券类型"), choices=selectors.COUPON_KIND_CHOICES)
    threshold = forms.DecimalField(
        label=gettext_lazy("使用门槛（元）"),
        required=False,
        min_value=0,
        max_digits=14,
        decimal_places=2,
        initial=0,
        help_text=gettext_lazy("无门槛券填 0"),
    )
    amount = forms.DecimalField(
        label=gettext_lazy("面额（元）"), min_value=0, max_digits=14, decimal_places=2
    )
    stackable = forms.BooleanField(label=gettext_lazy("可与其他券叠加"), required=False)
    category_ids = forms.TypedMultipleChoiceField(
        label=gettext_lazy("适用类目"),
        required=False,
        coerce=int,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text=gettext_lazy("品类券必选"),
    )
    issue_rule = forms.ChoiceField(
        label=gettext_lazy("发放规则"), choices=selectors.ISSUE_RULE_CHOICES, initial="manual"
    )
    tier = forms.ChoiceField(
        label=gettext_lazy("会员等级"),
        required=False,
        choices=[("", "—"), *TIER_CHOICES],
        help_text=gettext_lazy("会员月度券必选"),
    )
    issue_starts_at = _datetime_field(gettext_lazy("发放开始"))
    issue_ends_at = _datetime_field(gettext_lazy("发放结束"))
    valid_from = _datetime_field(gettext_lazy("有效期开始"))
    valid_until = _datetime_field(gettext_lazy("有效期结束"))
    valid_days = forms.IntegerField(
        label=gettext_lazy("领取后有效天数"),
        required=False,
        min_value=1,
        help_text=gettext_lazy("不填则按有效期"),
    )
    total_quantity = forms.IntegerField(
        label=gettext_lazy("发放总量"), required=False, min_value=1, help_text=gettext_lazy("不填即不限量")
    )
    per_user_limit = forms.IntegerField(label=gettext_lazy("每人限领"), min_value=1, initial=1)

    def __init__(self, *args: Any, store: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category_ids"].choices = [(c.pk, str(c)) for c in category_list(store=store)]

    def service_kwargs(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        if data.get("threshold") is None:
            data["threshold"] = 0
        return data


@console_view("promotions.add_coupontemplate")
def coupon_template_create(request: HttpRequest) -> HttpResponse:
    store = _current_store(request)
    if store is None:
        return _empty(request)
    form = CouponTemplateForm(request.POST or None, store=store)
    back = reverse("console:promotions_coupons")
    if request.method == "POST" and form.is_valid():
        try:
            template = services.coupon_template_create(
                actor=_actor(request), store=store, **form.service_kwargs()
            )
        except DomainError as exc:
            _offer_errors(form, exc)
        else:
            messages.success(request, _("券模板“%(n)s”已创建") % {"n": template.name})
            return HttpResponseRedirect(back)
    return _offer_form_page(request, form, _("新建券模板"), back)


@require_POST
@console_view("promotions.change_coupontemplate")
def coupon_template_active(request: HttpRequest, template_id: int) -> HttpResponse:
    """Switch a template on or off (POST ``active`` = 1 / 0); a switched-off template issues
    no more coupons, the ones already issued stay valid."""
    store = _current_store(request)
    if store is None:
        return _empty(request)
    template = selectors.coupon_template_get(store=store, template_id=template_id)
    active = request.POST.get("active") == "1"
    template = services.coupon_template_set_active(actor=_actor(request), template=template, active=active)
    if active:
        messages.success(request, _("券模板“%(n)s”已启用") % {"n": template.name})
    else:
        messages.success(request, _("券模板“%(n)s”已停用") % {"n": template.name})
    return HttpResponseRedirect(reverse("console:promotions_coupons"))


def _customer_refs(text: str) -> list[str]:
    """Customer refs separated by commas (, or ，), spaces or new lines; each once, in order."""
    parts = text.replace("，", ",").replace(",", " ").split()
    return list(dict.fromkeys(parts))


@require_POST
@console_view("promotions.add_issuedcoupon")
def coupon_issue(request: HttpRequest) -> HttpResponse:
    """Issue one coupon of a template to each listed customer (a manual batch)."""
    store = _current_store(request)
    if store is None:
        return _empty(request)
    template_id = request.POST.get("template", "")
    sent = {key: request.POST.get(key, "") for key in ("template", "campaign_ref", "customer_refs")}
    back = reverse("console:promotions_coupons")
    if not template_id.isdigit():
        messages.error(request, _("请选择券模板"))
        return _coupons_page(request, store, sent=sent)
    template = selectors.coupon_template_get(store=store, template_id=int(template_id))
    try:
        result = services.coupon_issue_batch(
            actor=_actor(request),
            template=template,
            customer_refs=_customer_refs(request.POST.get("customer_refs", "")),
            campaign_ref=request.POST.get("campaign_ref", "").strip()[:64],
        )
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return _coupons_page(request, store, sent=sent)
    messages.success(
        request,
        _("已发放 %(n)s 张“%(t)s”") % {"n": len(result.issued), "t": template.name},
    )
    if result.skipped:
        messages.warning(
            request,
            _("跳过 %(n)s 位顾客：%(list)s")
            % {
                "n": len(result.skipped),
                "list": _("；").join(f"{ref}{_('（')}{why}{_('）')}" for ref, why in result.skipped.items()),
            },
        )
    return HttpResponseRedirect(f"{back}?template={template.pk}")
