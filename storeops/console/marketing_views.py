"""Console pages of marketing: campaigns with the approval timeline and actions (PROMO-05),
the hourly monitoring table (PROMO-06), the post-mortem and its Excel export (PROMO-07), the
cash reserve (PROMO-08) and ad plans with keyword stats (ADS-01..03)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from storeops.console.views import (
    PAGE_SIZE,
    _actor,
    _base_context,
    _current_store,
    _int,
    console_view,
    posted,
    querystring,
    refused,
    store_or_404,
)
from storeops.core.errors import DomainError, NotFound, PermissionDenied
from storeops.marketing import exports, selectors
from storeops.marketing import services as ms
from storeops.promotions.selectors import coupon_template_list, offers_to_link
from storeops.stores.selectors import channel_get, channel_list, playbook_get

if TYPE_CHECKING:
    from storeops.stores.models import Channel, Store

ADS_PAGE_SIZE = 10  # plans per page: each plan is a card with its keywords


_ACTION_LABELS = {
    "submit": lambda: _("提交审批"),
    "activate": lambda: _("上线"),
    "end": lambda: _("结束活动"),
    "cancel": lambda: _("取消活动"),
}
_ACTION_DONE = {
    "submit": lambda: _("已提交审批，等待运营负责人审批"),
    "activate": lambda: _("活动已上线"),
    "end": lambda: _("活动已结束"),
    "cancel": lambda: _("活动已取消"),
}


def _step_label(step: str) -> str:
    return {"operations": _("运营负责人"), "marketing": _("推广负责人"), "finance": _("财务")}.get(step, "")


@console_view("marketing.view_campaign")
def campaigns(request: HttpRequest) -> HttpResponse:
    store = _current_store(request)
    if store is None:
        return render(request, "console/empty.html", _base_context(request))
    status = request.GET.get("status", "")
    page = Paginator(selectors.campaign_list(store=store, status=status), PAGE_SIZE).get_page(
        _int(request.GET.get("page"))
    )
    return render(
        request,
        "console/marketing_campaigns.html",
        _base_context(
            request,
            rows=page.object_list,
            page=page,
            querystring=querystring(request),
            status=status,
            status_choices=selectors.CAMPAIGN_STATUS_CHOICES,
        ),
    )


@console_view("marketing.view_campaign")
def campaign_detail(request: HttpRequest, campaign_id: int) -> HttpResponse:
    return _campaign_page(request, store_or_404(request), campaign_id)


def _campaign_page(
    request: HttpRequest,
    store: Store,
    campaign_id: int,
    sent: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    code: int = 200,
) -> HttpResponse:
    """The campaign; ``sent``: a refused approval decision, shown again as typed."""
    campaign = selectors.campaign_get(store=store, campaign_id=campaign_id)
    planned, actual = selectors.campaign_budget(campaign)
    waiting = selectors.campaign_waiting_step(campaign)
    return render(
        request,
        "console/marketing_campaign_detail.html",
        _base_context(
            request,
            campaign=campaign,
            planned=planned,
            actual=actual,
            waiting_step=waiting[0] if waiting else "",
            can_decide=waiting is not None and request.user.has_perm(waiting[1]),
            waiting_label=_step_label(waiting[0]) if waiting else "",
            timeline=[{"a": a, "step": _step_label(a.step)} for a in campaign.approvals.all()],
            actions=[(a, _ACTION_LABELS[a]()) for a in selectors.campaign_available_actions(campaign)],
            metrics=selectors.campaign_metric_rows(campaign=campaign),
            counted_labels=_counted_labels(selectors.campaign_counted_fields(campaign)),
            can_recount=campaign.status in selectors.CAMPAIGN_RECOUNT_STATES,
            monitor=selectors.campaign_monitor(campaign=campaign),
            reserve=selectors.campaign_cash_reserve(campaign),
            thresholds=selectors.campaign_thresholds(campaign),
            uplift=selectors.campaign_uplift(campaign),
            rejection=selectors.campaign_last_rejection(campaign),
            sent=sent or {},
            errors=errors or {},
        ),
        status=code,
    )


def _counted_labels(fields: Iterable[str]) -> str:
    """The names of the figures StoreOps counts, for the monitoring table's legend."""
    labels = {name: str(MetricForm.base_fields[name].label) for name in MetricForm.base_fields}
    return _("、").join(labels[f] for f in fields if f in labels)


def _back(campaign_id: int) -> HttpResponse:
    return HttpResponseRedirect(reverse("console:marketing_campaign_detail", args=[campaign_id]))


@require_POST
@console_view("marketing.view_campaign")
def campaign_decide(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """Approve or reject the waiting step (PROMO-05); the service checks the step's own
    permission. A refused decision comes back with its comment as typed."""
    store = store_or_404(request)
    campaign = selectors.campaign_get(store=store, campaign_id=campaign_id)
    sent = posted(request, "comment")
    try:
        ms.campaign_decide(
            actor=_actor(request),
            campaign=campaign,
            approve=request.POST.get("decision") == "approve",
            comment=sent["comment"],
            step=request.POST.get("step", ""),
        )
    except PermissionDenied as exc:
        # not a refusal of what was typed: the step is someone else's (their page has no form)
        messages.error(request, str(exc.message))
        return _back(campaign_id)
    except DomainError as exc:
        return _campaign_page(
            request, store, campaign_id, sent=sent, errors=refused(request, exc, sent), code=422
        )
    messages.success(request, _("审批意见已保存"))
    return _back(campaign_id)


_ACTIONS = {
    "submit": ms.campaign_submit,
    "activate": ms.campaign_activate,
    "end": ms.campaign_end,
    "cancel": ms.campaign_cancel,
}


@require_POST
@console_view("marketing.change_campaign")
def campaign_action(request: HttpRequest, campaign_id: int, action: str) -> HttpResponse:
    campaign = selectors.campaign_get(store=store_or_404(request), campaign_id=campaign_id)
    fn = _ACTIONS.get(action)
    if fn is None:
        raise NotFound(_("未知的操作"))
    try:
        fn(actor=_actor(request), campaign=campaign)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _ACTION_DONE[action]())
    return _back(campaign_id)


@require_POST
@console_view("marketing.change_campaignmetrichourly")
def campaign_recount(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """Count every hour of the campaign so far again from StoreOps' own rows (PROMO-06)."""
    campaign = selectors.campaign_get(store=store_or_404(request), campaign_id=campaign_id)
    try:
        result = ms.campaign_metrics_count(actor=_actor(request), campaign=campaign, recount=True)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("已重新统计 %(n)s 个小时的数据") % {"n": len(result.hours)})
    return _back(campaign_id)


@console_view("marketing.view_campaignpostmortem")
def postmortem(request: HttpRequest, campaign_id: int) -> HttpResponse:
    store = store_or_404(request)
    campaign = selectors.campaign_get(store=store, campaign_id=campaign_id)
    row = selectors.postmortem_get(campaign=campaign)
    report = row.report if row else ms.postmortem_figures(campaign)
    return render(
        request,
        "console/marketing_postmortem.html",
        _base_context(
            request,
            campaign=campaign,
            postmortem=row,
            rows=exports.postmortem_rows(campaign, report),
            currency=report.get("currency") or store.currency,
            due_on=selectors.postmortem_due_on(campaign),
        ),
    )


@require_POST
@console_view("marketing.add_campaignpostmortem")
def postmortem_generate(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = selectors.campaign_get(store=store_or_404(request), campaign_id=campaign_id)
    try:
        ms.campaign_postmortem_generate(
            actor=_actor(request), campaign=campaign, conclusions=request.POST.get("conclusions", "")
        )
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("复盘报告已生成"))
    return HttpResponseRedirect(reverse("console:marketing_postmortem", args=[campaign_id]))


@console_view("marketing.view_campaignpostmortem")
def postmortem_export(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = selectors.campaign_get(store=store_or_404(request), campaign_id=campaign_id)
    row = selectors.postmortem_get(campaign=campaign)
    report = row.report if row else ms.postmortem_figures(campaign)
    response = HttpResponse(
        exports.postmortem_workbook(campaign, report),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="postmortem-{campaign.pk}.xlsx"'
    return response


@console_view("marketing.view_adplan")
def ads(request: HttpRequest) -> HttpResponse:
    store = _current_store(request)
    if store is None:
        return render(request, "console/empty.html", _base_context(request))
    until = timezone.localdate()
    pb = playbook_get(store=store)
    try:  # by default the ADS-02 check's window (the store's)
        days = min(max(int(request.GET.get("days", pb.ads_stats_window_days)), 1), 366)
    except ValueError:
        days = pb.ads_stats_window_days
    since = until - dt.timedelta(days=days - 1)
    page = Paginator(selectors.ad_plan_list(store=store), ADS_PAGE_SIZE).get_page(
        _int(request.GET.get("page"))
    )
    plans = [
        {"plan": p, "keywords": selectors.keyword_stats(plan=p, since=since, until=until)}
        for p in page.object_list
    ]
    return render(
        request,
        "console/marketing_ads.html",
        _base_context(
            request,
            plans=plans,
            page=page,
            querystring=querystring(request),
            days=days,
            since=since,
            until=until,
            playbook=pb,
        ),
    )


@require_POST
@console_view("marketing.add_adkeyworddailystat")
def ads_import(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = selectors.ad_plan_get(store=store_or_404(request), plan_id=plan_id)
    upload = request.FILES.get("file")
    text = upload.read().decode("utf-8-sig", errors="replace") if upload else request.POST.get("csv", "")
    try:
        n = ms.ad_stats_import_csv(actor=_actor(request), plan=plan, text=text)
    except DomainError as exc:
        details = "; ".join(f"{k}: {v}" for k, v in list(exc.fields.items())[:10])
        messages.error(request, f"{exc.message} {details}")
    else:
        messages.success(request, _("已导入 %(n)s 行") % {"n": n})
    return HttpResponseRedirect(reverse("console:marketing_ads"))


# ---- forms: campaign plans (PROMO-05), hourly figures (PROMO-06), ad plans (ADS-01/03) ---------
# The forms only parse what was typed; every rule is checked by the services, whose field
# errors are put back next to the fields they concern.
_HUNDRED = Decimal(100)


def channel_choices(*, store: Store) -> list[tuple[int, str]]:
    return [(c.pk, c.name) for c in channel_list(store=store)]


def offer_choices(*, store: Store, keep: Iterable[int] = ()) -> list[tuple[int, str]]:
    return [(o.pk, f"#{o.pk} {o.title or o}") for o in offers_to_link(store=store, keep=keep)]


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _percent_field(label: Any, help_text: Any = "", *, required: bool = False) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=required,
        min_value=Decimal(0),
        max_value=_HUNDRED,
        decimal_places=2,
        help_text=help_text,
        widget=forms.NumberInput(attrs={"step": "0.01"}),
    )


def _as_rate(percent: Decimal | None) -> Decimal | None:
    return None if percent is None else percent / _HUNDRED


def _as_percent(rate: Decimal | None) -> Decimal | None:
    """0.1200 -> 12 (no trailing zeros, never an exponent like 2E+1)."""
    if rate is None:
        return None
    return Decimal(format((rate * _HUNDRED).quantize(Decimal("0.01")).normalize(), "f"))


def _plain(value: Decimal | None) -> Decimal | None:
    """3.50 -> 3.5, 2.00 -> 2 (no trailing zeros, never an exponent)."""
    if value is None:
        return None
    return Decimal(format(value.normalize(), "f"))


def _put_errors(form: forms.Form, exc: DomainError, mapping: dict[str, str]) -> None:
    """Service field errors next to the form fields (``mapping``: service key -> field)."""
    unplaced = []
    for key, message in exc.fields.items():
        field = mapping.get(key, key)
        if field in form.fields:
            form.add_error(field, str(message))
        else:
            unplaced.append(f"{key}: {message}")
    if unplaced or not exc.fields:
        detail = _("（") + _("；").join(unplaced) + _("）") if unplaced else ""
        form.add_error(None, f"{exc.message}{detail}")


class CampaignForm(forms.Form):
    theme = forms.CharField(label=gettext_lazy("主题"), max_length=200)
    kind = forms.ChoiceField(label=gettext_lazy("类型"), choices=selectors.CAMPAIGN_KIND_CHOICES)
    channel = forms.TypedChoiceField(label=gettext_lazy("渠道"), required=False, coerce=int, empty_value=None)
    starts_on = forms.DateField(label=gettext_lazy("开始日期"), widget=_date_input())
    ends_on = forms.DateField(label=gettext_lazy("结束日期"), widget=_date_input())
    mechanics = forms.CharField(
        label=gettext_lazy("玩法"), required=False, widget=forms.Textarea(attrs={"rows": 3, "cols": 60})
    )
    target_gmv = forms.DecimalField(
        label=gettext_lazy("GMV目标"), min_value=Decimal(0), decimal_places=2, initial=0
    )
    target_new_users = forms.IntegerField(label=gettext_lazy("新用户目标"), min_value=0, initial=0)
    planned_redemption_rate = _percent_field(gettext_lazy("计划核销率（%）"))
    max_payment_failure_rate = _percent_field(gettext_lazy("支付失败率告警线（%）"))
    expected_refund_rate = _percent_field(gettext_lazy("预计退款率（%）"))
    offers = forms.TypedMultipleChoiceField(
        label=gettext_lazy("关联优惠"),
        required=False,
        coerce=int,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    coupon_templates = forms.TypedMultipleChoiceField(
        label=gettext_lazy("关联优惠券"),
        required=False,
        coerce=int,
        help_text=gettext_lazy("这些模板发出和核销的券计入活动的核销率（每小时由系统统计）"),
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    expected_uplift = forms.DecimalField(
        label=gettext_lazy("预计销量倍数"),
        required=False,
        min_value=Decimal(1),
        max_value=Decimal(50),
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01"}),
    )
    stock = forms.CharField(
        label=gettext_lazy("备货计划"),
        required=False,
        help_text=gettext_lazy("每行一个 SKU：SKU编码,计划备货量"),
        widget=forms.Textarea(attrs={"rows": 4, "cols": 40}),
    )

    def __init__(self, *args: Any, store: Store, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["channel"].choices = [("", _("全部渠道")), *channel_choices(store=store)]
        self.fields["offers"].choices = offer_choices(store=store, keep=self.initial.get("offers") or ())
        self.fields["coupon_templates"].choices = [
            (t.pk, f"#{t.pk} {t.name}") for t in coupon_template_list(store=store).order_by("-pk")
        ]
        defaults = playbook_get(store=store)
        for name, value in (
            ("planned_redemption_rate", defaults.campaign_planned_redemption_rate),
            ("max_payment_failure_rate", defaults.campaign_max_payment_failure_rate),
            ("expected_refund_rate", defaults.campaign_expected_refund_rate),
        ):
            self.fields[name].help_text = _("留空则使用运营手册的默认值 %(v)s%%") % {"v": _as_percent(value)}
        self.fields["expected_uplift"].help_text = _(
            "大促期间日销量预计是平时的几倍（1–50），用于备货覆盖检查；留空则使用运营手册的默认值 %(v)s 倍"
        ) % {"v": _plain(defaults.promo_default_uplift)}
        for kind, label in selectors.PHASE_KIND_CHOICES:
            self.fields[f"phase_{kind}_start"] = forms.DateField(
                label=_("%(phase)s开始") % {"phase": label}, required=False, widget=_date_input()
            )
            self.fields[f"phase_{kind}_end"] = forms.DateField(
                label=_("%(phase)s结束") % {"phase": label}, required=False, widget=_date_input()
            )
        for kind, label in selectors.BUDGET_KIND_CHOICES:
            self.fields[f"budget_{kind}"] = forms.DecimalField(
                label=_("%(kind)s预算") % {"kind": label},
                required=False,
                min_value=Decimal(0),
                decimal_places=2,
            )
            self.fields[f"budget_{kind}_note"] = forms.CharField(
                label=_("%(kind)s备注") % {"kind": label}, required=False, max_length=200
            )

    def clean_stock(self) -> list[tuple[int, str, int]]:
        """``(line number, SKU code, quantity)`` per non-empty line."""
        rows, bad = [], []
        for n, raw in enumerate(self.cleaned_data.get("stock", "").splitlines(), start=1):
            text = raw.strip().replace("，", ",")
            if not text:
                continue
            code, _sep, qty = text.replace("\t", ",").partition(",")
            try:
                rows.append((n, code.strip(), int(qty.strip())))
            except ValueError:
                bad.append(str(n))
        if bad:
            raise forms.ValidationError(
                _("第 %(lines)s 行格式应为：SKU编码,计划备货量（整数）") % {"lines": "、".join(bad)}
            )
        return rows

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for kind, _label in selectors.PHASE_KIND_CHOICES:
            start, end = data.get(f"phase_{kind}_start"), data.get(f"phase_{kind}_end")
            if (start is None) != (end is None) and f"phase_{kind}_start" not in self.errors:
                self.add_error(f"phase_{kind}_end", _("阶段需同时填写开始和结束日期"))
        return data

    def sections(self) -> list[tuple[str, list[forms.BoundField]]]:
        def pick(*names: str) -> list[forms.BoundField]:
            return [self[name] for name in names]

        phases = [f"phase_{k}_{e}" for k, _label in selectors.PHASE_KIND_CHOICES for e in ("start", "end")]
        budget = [f"budget_{k}{s}" for k, _label in selectors.BUDGET_KIND_CHOICES for s in ("", "_note")]
        return [
            (_("方案"), pick("theme", "kind", "channel", "starts_on", "ends_on", "mechanics")),
            (_("目标与阈值"), pick("target_gmv", "target_new_users", *_THRESHOLDS)),
            (_("活动阶段（预热 / 爆发 / 返场）"), pick(*phases)),
            (_("预算（元）"), pick(*budget)),
            (_("备货与优惠"), pick("expected_uplift", "stock", "offers", "coupon_templates")),
        ]

    def service_kwargs(self) -> tuple[dict[str, Any], dict[str, str]]:
        """The service's arguments, and which form field each service error key belongs to."""
        data = self.cleaned_data
        mapping: dict[str, str] = {
            "offer_ids": "offers",
            "coupon_template_ids": "coupon_templates",
            "phases": "phase_preheat_start",
            "budget": "budget_discount",
        }
        phases = []
        for kind, _label in selectors.PHASE_KIND_CHOICES:
            start, end = data.get(f"phase_{kind}_start"), data.get(f"phase_{kind}_end")
            if start is not None and end is not None:
                i = len(phases)
                phases.append({"kind": kind, "starts_on": start, "ends_on": end})
                mapping[f"phases.{i}"] = mapping[f"phases.{i}.kind"] = f"phase_{kind}_start"
        budget = []
        for kind, _label in selectors.BUDGET_KIND_CHOICES:
            amount = data.get(f"budget_{kind}")
            if amount is not None:
                i = len(budget)
                budget.append({"kind": kind, "planned": amount, "note": data.get(f"budget_{kind}_note", "")})
                mapping[f"budget.{i}.planned"] = mapping[f"budget.{i}.kind"] = f"budget_{kind}"
        stock = []
        for i, (_line, code, qty) in enumerate(data.get("stock") or []):
            stock.append({"sku_code": code, "planned_qty": qty})
            mapping[f"stock.{i}.sku_code"] = mapping[f"stock.{i}.planned_qty"] = "stock"
        kwargs = {
            "theme": data["theme"],
            "kind": data["kind"],
            "starts_on": data["starts_on"],
            "ends_on": data["ends_on"],
            "mechanics": data.get("mechanics", ""),
            "target_gmv": data["target_gmv"],
            "target_new_users": data["target_new_users"],
            **{name: _as_rate(data.get(name)) for name in _THRESHOLDS},
            "expected_uplift": data.get("expected_uplift"),
            "phases": phases,
            "budget": budget,
            "stock": stock,
            "offer_ids": data.get("offers") or [],
            "coupon_template_ids": data.get("coupon_templates") or [],
        }
        return kwargs, mapping

    @classmethod
    def initial_from(cls, campaign: Any) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "theme": campaign.theme,
            "kind": campaign.kind,
            "channel": campaign.channel_id or "",
            "starts_on": campaign.starts_on,
            "ends_on": campaign.ends_on,
            "mechanics": campaign.mechanics,
            "target_gmv": campaign.target_gmv,
            "target_new_users": campaign.target_new_users,
            **{name: _as_percent(getattr(campaign, name)) for name in _THRESHOLDS},
            "expected_uplift": _plain(campaign.expected_uplift),
            "offers": [o.pk for o in campaign.offers.all()],
            "coupon_templates": [t.pk for t in campaign.coupon_templates.all()],
            "stock": "\n".join(f"{s.sku.code},{s.planned_qty}" for s in campaign.stock_lines.all()),
        }
        for p in campaign.phases.all():
            initial[f"phase_{p.kind}_start"], initial[f"phase_{p.kind}_end"] = p.starts_on, p.ends_on
        for b in campaign.budget_lines.all():
            initial[f"budget_{b.kind}"], initial[f"budget_{b.kind}_note"] = b.planned, b.note
        return initial


_THRESHOLDS = ("planned_redemption_rate", "max_payment_failure_rate", "expected_refund_rate")


def _channel(store: Store, channel_id: int | None) -> Channel | None:
    return None if channel_id is None else channel_get(store=store, channel_id=channel_id)


def _form_page(
    request: HttpRequest, form: forms.Form, *, title: str, back: str, **extra: Any
) -> HttpResponse:
    sections = form.sections() if hasattr(form, "sections") else [("", list(form))]
    return render(
        request,
        "console/marketing_form.html",
        _base_context(request, form=form, sections=sections, title=title, back=back, **extra),
        status=_status(form),
    )


def _status(*shown: forms.Form) -> int:
    """422 when a form is shown again refused (bound, with errors), else 200."""
    return 422 if any(f.is_bound and f.errors for f in shown) else 200


@console_view("marketing.add_campaign")
def campaign_create(request: HttpRequest) -> HttpResponse:
    store = store_or_404(request)
    back = reverse("console:marketing_campaigns")
    form = CampaignForm(request.POST or None, store=store)
    if request.method == "POST" and form.is_valid():
        kwargs, mapping = form.service_kwargs()
        try:
            channel = _channel(store, form.cleaned_data.get("channel"))
            campaign = ms.campaign_create(actor=_actor(request), store=store, channel=channel, **kwargs)
        except DomainError as exc:
            _put_errors(form, exc, mapping)
        else:
            messages.success(request, _("活动方案已保存为草稿"))
            return _back(campaign.pk)
    return _form_page(request, form, title=_("新建活动方案"), back=back)


@console_view("marketing.change_campaign")
def campaign_edit(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """Edit a draft plan, including one a reject sent back; it can then be resubmitted."""
    store = store_or_404(request)
    campaign = selectors.campaign_get(store=store, campaign_id=campaign_id)
    back = reverse("console:marketing_campaign_detail", args=[campaign_id])
    if campaign.status != "draft":
        messages.error(request, _("只有草稿（含被驳回退回草稿）的活动方案可以修改"))
        return _back(campaign_id)
    form = CampaignForm(request.POST or None, store=store, initial=CampaignForm.initial_from(campaign))
    if request.method == "POST" and form.is_valid():
        kwargs, mapping = form.service_kwargs()
        try:
            channel = _channel(store, form.cleaned_data.get("channel"))
            ms.campaign_update(actor=_actor(request), campaign=campaign, channel=channel, **kwargs)
        except DomainError as exc:
            _put_errors(form, exc, mapping)
        else:
            messages.success(request, _("活动方案已修改，可重新提交审批"))
            return _back(campaign_id)
    rejection = selectors.campaign_last_rejection(campaign)
    return _form_page(
        request,
        form,
        title=_("修改活动方案：%(theme)s") % {"theme": campaign.theme},
        back=back,
        rejection=rejection,
    )


class MetricForm(forms.Form):
    hour = forms.DateTimeField(
        label=gettext_lazy("小时"),
        help_text=gettext_lazy("按整点记录，分钟会被忽略"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
    )
    exposure = forms.IntegerField(label=gettext_lazy("曝光"), min_value=0, initial=0)
    clicks = forms.IntegerField(label=gettext_lazy("点击"), min_value=0, initial=0)
    coupons_issued = forms.IntegerField(label=gettext_lazy("发券数"), min_value=0, initial=0)
    coupon_redemptions = forms.IntegerField(label=gettext_lazy("核销数"), min_value=0, initial=0)
    orders = forms.IntegerField(label=gettext_lazy("订单数"), min_value=0, initial=0)
    payment_attempts = forms.IntegerField(label=gettext_lazy("支付次数"), min_value=0, initial=0)
    payment_failures = forms.IntegerField(label=gettext_lazy("支付失败数"), min_value=0, initial=0)
    gmv = forms.DecimalField(label=gettext_lazy("GMV"), min_value=Decimal(0), decimal_places=2, initial=0)
    new_users = forms.IntegerField(label=gettext_lazy("新用户"), min_value=0, initial=0)


@console_view("marketing.add_campaignmetrichourly")
def campaign_metrics(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """Enter one hour of live figures (PROMO-06); the same hour again replaces it, except the
    figures StoreOps counted for that hour (they are kept)."""
    campaign = selectors.campaign_get(store=store_or_404(request), campaign_id=campaign_id)
    back = reverse("console:marketing_campaign_detail", args=[campaign_id])
    now = timezone.localtime().replace(minute=0, second=0, microsecond=0)
    form = MetricForm(request.POST or None, initial={"hour": now - dt.timedelta(hours=1)})
    counted = selectors.campaign_counted_fields(campaign)
    for name in counted:
        form.fields[name].help_text = _("系统每小时根据订单、支付和优惠券统计；已统计的小时保留统计值")
    if request.method == "POST" and form.is_valid():
        # a counted figure left at 0 was not typed (a value typed for it is checked)
        row = {k: v for k, v in form.cleaned_data.items() if k not in counted or v}
        try:
            result = ms.campaign_metrics_record(actor=_actor(request), campaign=campaign, rows=[row])
        except DomainError as exc:
            _put_errors(form, exc, {f"0.{name}": name for name in form.fields})
        else:
            messages.success(request, _("小时数据已保存"))
            if result.kept_counted:
                messages.warning(
                    request,
                    _("这一小时的%(fields)s由系统统计，保留统计值，未使用录入的数字")
                    % {"fields": _counted_labels(result.kept_counted)},
                )
            return _back(campaign_id)
    return _form_page(
        request, form, title=_("录入小时数据：%(theme)s") % {"theme": campaign.theme}, back=back
    )


class AdPlanForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("计划名称"), max_length=100)
    purpose = forms.ChoiceField(label=gettext_lazy("用途"), choices=selectors.AD_PURPOSE_CHOICES)
    match_type = forms.ChoiceField(label=gettext_lazy("匹配方式"), choices=selectors.MATCH_TYPE_CHOICES)
    channel = forms.TypedChoiceField(label=gettext_lazy("渠道"), required=False, coerce=int, empty_value=None)
    category = forms.CharField(label=gettext_lazy("类目"), required=False, max_length=100)
    daily_budget = forms.DecimalField(
        label=gettext_lazy("日预算（元）"), min_value=Decimal(0), decimal_places=2, initial=0
    )
    audience_premium = _percent_field(gettext_lazy("人群溢价（%）"))
    peak_start = forms.TimeField(
        label=gettext_lazy("高峰开始"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    peak_end = forms.TimeField(
        label=gettext_lazy("高峰结束"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    peak_uplift = _percent_field(gettext_lazy("高峰加价（%）"))
    is_active = forms.BooleanField(label=gettext_lazy("启用"), required=False, initial=True)

    def __init__(self, *args: Any, store: Store, editing: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["channel"].choices = [("", _("全部渠道")), *channel_choices(store=store)]
        pb = playbook_get(store=store)
        self.fields["peak_uplift"].help_text = _(
            "运营手册 ADS-03：%(low)s%% ~ %(high)s%%，如 20:00–22:00"
        ) % {
            "low": _as_percent(pb.ads_peak_bid_uplift_min),
            "high": _as_percent(pb.ads_peak_bid_uplift_max),
        }
        if not editing:
            del self.fields["is_active"]

    def service_kwargs(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("channel", None)
        data["audience_premium"] = _as_rate(data.get("audience_premium")) or Decimal(0)
        data["peak_uplift"] = _as_rate(data.get("peak_uplift"))
        return data

    @staticmethod
    def initial_from(plan: Any) -> dict[str, Any]:
        return {
            "name": plan.name,
            "purpose": plan.purpose,
            "match_type": plan.match_type,
            "channel": plan.channel_id or "",
            "category": plan.category,
            "daily_budget": plan.daily_budget,
            "audience_premium": _as_percent(plan.audience_premium),
            "peak_start": plan.peak_start,
            "peak_end": plan.peak_end,
            "peak_uplift": _as_percent(plan.peak_uplift),
            "is_active": plan.is_active,
        }


class KeywordForm(forms.Form):
    keyword = forms.CharField(
        label=gettext_lazy("关键词"), max_length=100, help_text=gettext_lazy("已有的关键词会被更新")
    )
    bid = forms.DecimalField(label=gettext_lazy("出价（元）"), min_value=Decimal(0), decimal_places=2)
    rank = forms.IntegerField(label=gettext_lazy("排名"), required=False, min_value=1)
    is_core = forms.BooleanField(label=gettext_lazy("核心词"), required=False)


@console_view("marketing.add_adplan")
def ad_plan_create(request: HttpRequest) -> HttpResponse:
    store = store_or_404(request)
    form = AdPlanForm(request.POST or None, store=store, editing=False)
    if request.method == "POST" and form.is_valid():
        try:
            plan = ms.ad_plan_create(
                actor=_actor(request),
                store=store,
                channel=_channel(store, form.cleaned_data.get("channel")),
                **form.service_kwargs(),
            )
        except DomainError as exc:
            _put_errors(form, exc, {})
        else:
            messages.success(request, _("推广计划已创建，请添加关键词"))
            return HttpResponseRedirect(reverse("console:marketing_ad_plan_edit", args=[plan.pk]))
    return _form_page(request, form, title=_("新建推广计划"), back=reverse("console:marketing_ads"))


def _ad_plan_page(
    request: HttpRequest, plan: Any, form: AdPlanForm, keyword_form: KeywordForm
) -> HttpResponse:
    keywords = [
        {"s": s, "peak_bid": ms.ad_bid_at(keyword=s.keyword, at=plan.peak_start) if plan.peak_start else None}
        for s in selectors.keyword_stats(plan=plan)
    ]
    return render(
        request,
        "console/marketing_ad_plan.html",
        _base_context(request, plan=plan, form=form, keyword_form=keyword_form, keywords=keywords),
        status=_status(form, keyword_form),
    )


@console_view("marketing.change_adplan")
def ad_plan_edit(request: HttpRequest, plan_id: int) -> HttpResponse:
    """The plan's settings and peak-hour bid schedule, and its keywords with their bids."""
    store = store_or_404(request)
    plan = selectors.ad_plan_get(store=store, plan_id=plan_id)
    form = AdPlanForm(request.POST or None, store=store, editing=True, initial=AdPlanForm.initial_from(plan))
    if request.method == "POST" and form.is_valid():
        try:
            ms.ad_plan_update(
                actor=_actor(request),
                plan=plan,
                channel=_channel(store, form.cleaned_data.get("channel")),
                **form.service_kwargs(),
            )
        except DomainError as exc:
            _put_errors(form, exc, {})
        else:
            messages.success(request, _("推广计划已保存"))
            return HttpResponseRedirect(reverse("console:marketing_ad_plan_edit", args=[plan_id]))
    return _ad_plan_page(request, plan, form, KeywordForm())


@require_POST
@console_view("marketing.add_adkeyword")
def ad_keyword_set(request: HttpRequest, plan_id: int) -> HttpResponse:
    store = store_or_404(request)
    plan = selectors.ad_plan_get(store=store, plan_id=plan_id)
    keyword_form = KeywordForm(request.POST)
    if keyword_form.is_valid():
        try:
            ms.ad_keyword_set(actor=_actor(request), plan=plan, **keyword_form.cleaned_data)
        except DomainError as exc:
            _put_errors(keyword_form, exc, {})
        else:
            messages.success(request, _("关键词已保存"))
            return HttpResponseRedirect(reverse("console:marketing_ad_plan_edit", args=[plan_id]))
    form = AdPlanForm(store=store, editing=True, initial=AdPlanForm.initial_from(plan))
    return _ad_plan_page(request, plan, form, keyword_form)


@require_POST
@console_view("marketing.delete_adkeyword")
def ad_keyword_delete(request: HttpRequest, plan_id: int, keyword_id: int) -> HttpResponse:
    """Remove a keyword from the plan (ADS-02), with its imported daily stats."""
    plan = selectors.ad_plan_get(store=store_or_404(request), plan_id=plan_id)
    keyword = selectors.ad_keyword_get(plan=plan, keyword_id=keyword_id)
    ms.ad_keyword_delete(actor=_actor(request), keyword=keyword)
    messages.success(request, _("关键词“%(k)s”已删除") % {"k": keyword.keyword})
    return HttpResponseRedirect(reverse("console:marketing_ad_plan_edit", args=[plan_id]))
