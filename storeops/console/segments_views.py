"""Console pages of MEM-04 lifecycle segments (overview with counts and moves, the paginated
customer list with its Excel export, the snapshot and the segments' coupon actions) and
MEM-07 personas (per segment, and one customer)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from storeops.analytics import exports, segments
from storeops.analytics import services as analytics_services
from storeops.analytics.selectors import display
from storeops.console.views import (
    _actor,
    _base_context,
    console_view,
    flash_error,
    form_date,
    posted,
    posted_day,
    refused,
    store_or_404,
)
from storeops.core.errors import DomainError, NotFound
from storeops.stores.selectors import playbook_get

if TYPE_CHECKING:
    from storeops.stores.models import Store


def _day(request: HttpRequest) -> dt.date | None:
    return form_date(request.GET.get("day"))


@console_view("analytics.view_customersnapshot")
def segments_overview(request: HttpRequest) -> HttpResponse:
    """Customers and money per segment on the latest snapshot (or ``day``), who entered and
    left each segment, the moves, each segment's playbook and its coupon actions."""
    return _segments_page(request, store_or_404(request))


def _segments_page(
    request: HttpRequest,
    store: Store,
    sent: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    code: int = 200,
) -> HttpResponse:
    """The segments overview; ``sent``: a refused snapshot form, shown again as typed."""
    try:
        overview = segments.segment_overview(store=store, day=_day(request))
    except NotFound:
        overview = None
    book = playbook_get(store=store)
    playbook = [
        {
            "segment": code,
            "label": segments.SEGMENT_LABELS[code],
            "actions": [str(a) for a in spec["actions"]],
            "setting": spec["coupon_setting"],
            "template": getattr(book, str(spec["coupon_setting"])),
        }
        for code, spec in segments.SEGMENT_PLAYBOOK.items()
    ]
    labels = {**segments.SEGMENT_LABELS, "": _("（首次出现）")}
    return render(
        request,
        "console/segments.html",
        _base_context(
            request,
            overview=overview,
            moves=[{"from": labels[a], "to": labels[b], "n": n} for a, b, n in overview.moves]
            if overview
            else [],
            playbook=playbook,
            policy=book,
            actions=list(segments.segment_actions(store=store)[:20]),
            labels=segments.SEGMENT_LABELS,
            can_snapshot=request.user.has_perm("analytics.add_customersnapshot"),
            can_act=request.user.has_perm("analytics.run_segment_action"),
            can_export=request.user.has_perm("analytics.export_segment"),
            sent=sent or {},
            errors=errors or {},
        ),
        status=code,
    )


@console_view("analytics.view_customersnapshot")
def segment_customers(request: HttpRequest) -> HttpResponse:
    """The customers of a segment on the snapshot with their RFM scores, 50 a page."""
    store = store_or_404(request)
    segment, sort, q = (
        request.GET.get("segment", ""),
        request.GET.get("sort", "monetary"),
        request.GET.get("q", ""),
    )
    try:
        qs = segments.segment_customers(store=store, segment=segment, day=_day(request), sort=sort, q=q)
    except NotFound:  # no snapshot yet: the page says so
        qs = None
    except DomainError as exc:  # a bad filter: say why, show the whole latest snapshot
        flash_error(request, exc)
        segment, sort, q = "", "monetary", ""
        try:
            qs = segments.segment_customers(store=store)
        except NotFound:
            qs = None
    page = Paginator(qs, 50).get_page(request.GET.get("page")) if qs is not None else None
    return render(
        request,
        "console/segment_customers.html",
        _base_context(
            request,
            page=page,
            segment=segment,
            sort=sort,
            q=q,
            querystring=urlencode({"segment": segment, "sort": sort, "q": q}),
            segment_choices=[("", _("全部")), *segments.SEGMENT_CHOICES],
            sorts=[
                ("monetary", _("消费金额")),
                ("recency", _("最近购买")),
                ("frequency", _("购买次数")),
                ("customer", _("顾客")),
            ],
            labels=segments.SEGMENT_LABELS,
            can_export=request.user.has_perm("analytics.export_segment"),
        ),
    )


@console_view("analytics.export_segment")
def segment_export(request: HttpRequest) -> HttpResponse:
    """The segment's customer list as Excel (for outreach; no names, phones or addresses)."""
    store = store_or_404(request)
    try:
        body, content_type, filename = exports.segment_export(
            store=store, segment=request.GET.get("segment", ""), day=_day(request)
        )
    except DomainError as exc:
        flash_error(request, exc)
        return HttpResponseRedirect(reverse("console:segments"))
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_POST
@console_view("analytics.add_customersnapshot")
def segment_snapshot(request: HttpRequest) -> HttpResponse:
    """Take the snapshot of a day now; a refused one (an impossible or future day) saves
    nothing and shows the overview again (422) with the day as typed."""
    store = store_or_404(request)
    sent = posted(request, "day")
    try:
        result = analytics_services.segments_snapshot(
            actor=_actor(request), store=store, day=posted_day(sent)
        )
    except DomainError as exc:
        return _segments_page(request, store, sent=sent, errors=refused(request, exc, sent), code=422)
    messages.success(
        request,
        _("已生成 %(d)s 的客户分层快照：%(n)s 位客户，%(m)s 位分层有变化")
        % {"d": result.day.isoformat(), "n": result.customers, "m": result.moved},
    )
    return HttpResponseRedirect(reverse("console:segments"))


@require_POST
@console_view("analytics.run_segment_action")
def segment_action(request: HttpRequest, segment: str) -> HttpResponse:
    try:
        action = analytics_services.segment_action_run(
            actor=_actor(request), store=store_or_404(request), segment=segment
        )
    except DomainError as exc:
        flash_error(request, exc)
    else:
        messages.success(
            request,
            _("%(s)s（%(p)s）：发放 %(i)s 张，跳过 %(k)s 人")
            % {
                "s": segments.SEGMENT_LABELS[action.segment],
                "p": action.period_key,
                "i": action.issued,
                "k": action.skipped,
            },
        )
    return HttpResponseRedirect(reverse("console:segments"))


def _persona_rows(p: segments.PersonaView) -> dict[str, str]:
    return {
        "frequency": "-" if p.orders_per_month is None else str(p.orders_per_month),
        "aov": display(p.aov, "cny"),
        "depth": display(p.discount_depth, "ratio"),
        "share": display(p.discounted_share, "ratio"),
        "sensitive": "-" if p.price_sensitive is None else (_("是") if p.price_sensitive else _("否")),
        "categories": _("、").join(f"{n} {display(s, 'ratio')}" for n, s in p.categories) or "-",
        "regions": _("、").join(f"{n} {display(s, 'ratio')}" for n, s in p.regions) or "-",
        **_demographic_rows(p),
    }


def _demographic_rows(p: segments.PersonaView) -> dict[str, str]:
    """MEM-07: each split over the customers whose field is known, with that base."""
    d = p.demographics

    def split(items: list[tuple[str, int, Decimal]], labels: dict[str, Any] | None, known: int) -> str:
        if not known:
            return "-"
        text = _("、").join(
            f"{labels.get(c, c) if labels else c} {display(share, 'ratio')}" for c, n, share in items if n
        )
        return _("%(split)s（%(known)s/%(all)s 人已知）") % {
            "split": text,
            "known": known,
            "all": d.customers,
        }

    return {
        "genders": split(d.genders, segments.GENDER_LABELS, d.gender_known),
        "ages": split(d.ages, segments.AGE_BAND_LABELS, d.age_known),
        "cities": split(d.cities, None, d.city_known),
        "coverage": _("%(m)s/%(n)s 位是会员：性别已知 %(g)s，年龄已知 %(a)s，城市已知 %(c)s")
        % {"m": d.members, "n": d.customers, "g": d.gender_known, "a": d.age_known, "c": d.city_known},
    }


@console_view("analytics.view_customersnapshot")
def personas(request: HttpRequest) -> HttpResponse:
    """The persona of each segment; ``customer`` shows one customer's persona too."""
    store = store_or_404(request)
    customer = request.GET.get("customer", "").strip()
    one = None
    if customer:
        try:
            one = segments.customer_persona(store=store, customer_ref=customer)
        except DomainError as exc:
            flash_error(request, exc)
    try:
        rows = [
            {"p": p, "label": segments.SEGMENT_LABELS[p.subject], "show": _persona_rows(p)}
            for p in segments.segment_personas(store=store)
        ]
    except NotFound:
        rows = []
    book = playbook_get(store=store)
    return render(
        request,
        "console/personas.html",
        _base_context(
            request,
            rows=rows,
            customer=customer,
            one=one,
            one_show=_persona_rows(one) if one else None,
            one_segment=segments.SEGMENT_LABELS.get(one.segment, "") if one else "",
            history=segments.customer_history(store=store, customer_ref=customer, limit=10) if one else [],
            labels=segments.SEGMENT_LABELS,
            window=book.persona_window_days,
            sensitive=display(book.persona_price_sensitive_share, "ratio"),
        ),
    )
