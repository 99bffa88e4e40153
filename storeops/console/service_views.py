"""Console pages of customer service: the service desk (ticket queue with SLA timers), ticket
detail with messages, quick replies and actions (CS-01/02), the scripts library (CS-03), the
root-cause report with Excel export (CS-04), reviews (LOG-02) and mass negative-review attacks
with their playbook steps (RISK-02)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from storeops.console.views import (
    PAGE_SIZE,
    _actor,
    _base_context,
    _current_store,
    _int,
    console_view,
    error_text,
    posted,
    querystring,
    refused,
    store_or_404,
)
from storeops.core.errors import DomainError, NotFound, ValidationError
from storeops.promotions.selectors import coupon_template_list
from storeops.service import exports, selectors, services
from storeops.service.rules import NpsBand, nps_band, render_script
from storeops.service.services.nps import COLUMNS as NPS_IMPORT_COLUMNS
from storeops.stores.selectors import channel_list

if TYPE_CHECKING:
    from storeops.stores.models import Store


def _empty(request: HttpRequest) -> HttpResponse:
    return render(request, "console/empty.html", _base_context(request))


def _tiers_above(tier: str) -> list[str]:
    order = [value for value, _label in selectors.TIER_CHOICES]
    return order[order.index(tier) + 1 :] if tier in order else order


def _minutes_left(due: dt.datetime | None, now: dt.datetime) -> int | None:
    return None if due is None else int((due - now).total_seconds() // 60)


@console_view("service.view_ticket")
def desk(request: HttpRequest) -> HttpResponse:
    """The ticket queue: active tickets by default, high-value customers' first (MEM-04
    专属客服), with each one's nearest deadline."""
    store = _current_store(request)
    if store is None:
        return _empty(request)
    return _desk_page(request, store)


def _desk_page(
    request: HttpRequest,
    store: Any,
    sent: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The desk; ``sent``: a refused new ticket, shown again as typed with ``errors`` by field."""
    f = {
        "status": request.GET.get("status", "active"),
        "tier": request.GET.get("tier", ""),
        "category": request.GET.get("category", ""),
        "kind": request.GET.get("kind", ""),
        "medium": request.GET.get("medium", ""),
        "owner": request.GET.get("owner", ""),
        "q": request.GET.get("q", "").strip(),
        "overdue": request.GET.get("overdue", "") == "1",
        "high_value": request.GET.get("high_value", "") == "1",
    }
    owner_id = request.user.pk if f["owner"] == "me" else (int(f["owner"]) if f["owner"].isdigit() else None)
    now = timezone.now()
    qs = selectors.ticket_list(
        store=store,
        status=f["status"],
        tier=f["tier"],
        category=f["category"],
        kind=f["kind"],
        medium=f["medium"] if f["medium"] in dict(selectors.MEDIUM_CHOICES) else "",
        owner_id=owner_id,
        unowned=f["owner"] == "none",
        q=f["q"],
        overdue=f["overdue"],
        now=now,
        high_value=f["high_value"],
    )
    page = Paginator(qs, PAGE_SIZE).get_page(_int(request.GET.get("page")))
    rows = []
    for t in page.object_list:
        left = _minutes_left(t.next_due_at, now)
        late = -left if left is not None and left < 0 else None
        rows.append({"ticket": t, "due": t.next_due_at, "left": left, "late": late})
    return render(
        request,
        "console/service_desk.html",
        _base_context(
            request,
            page=page,
            rows=rows,
            filters=f,
            querystring=querystring(request),
            counts=selectors.ticket_counts(store=store, now=now),
            statuses=selectors.STATUS_CHOICES,
            tiers=selectors.TIER_CHOICES,
            categories=selectors.CATEGORY_CHOICES,
            kinds=selectors.KIND_CHOICES,
            media=selectors.MEDIUM_CHOICES,
            agents=list(selectors.agent_choices()),
            channels=list(channel_list(store=store)),
            sent=sent or {"kind": "complaint", "medium": "chat"},
            errors=errors or {},
        ),
        status=status,
    )


_TICKET_FIELDS = (
    "channel",
    "kind",
    "medium",
    "category",
    "tier",
    "customer_ref",
    "order_ref",
    "sku_code",
    "subject",
    "message",
)


@require_POST
@console_view("service.add_ticket")
def ticket_new(request: HttpRequest) -> HttpResponse:
    """Open a ticket from the desk; a refused one saves nothing and comes back as typed."""
    store = store_or_404(request)
    sent = posted(request, *_TICKET_FIELDS)
    channel = next((c for c in channel_list(store=store) if str(c.pk) == sent["channel"]), None)
    try:
        if channel is None:
            raise ValidationError(_("请选择渠道"), fields={"channel": _("请选择渠道")})
        ticket = services.ticket_open(
            actor=_actor(request),
            store=store,
            channel=channel,
            customer_ref=sent["customer_ref"],
            subject=sent["subject"],
            category=sent["category"],
            tier=sent["tier"] or "general",
            kind=sent["kind"] or "complaint",
            medium=sent["medium"] or "other",
            order_ref=sent["order_ref"],
            sku_code=sent["sku_code"],
            message=sent["message"],
        )
    except DomainError as exc:
        return _desk_page(request, store, sent=sent, errors=refused(request, exc, sent), status=422)
    messages.success(request, _("工单已创建"))
    return HttpResponseRedirect(reverse("console:service_ticket_detail", args=[ticket.pk]))


@console_view("service.view_ticket")
def ticket_detail(request: HttpRequest, ticket_id: int) -> HttpResponse:
    return _ticket_page(request, store_or_404(request), ticket_id)


def _ticket_page(
    request: HttpRequest,
    store: Store,
    ticket_id: int,
    sent: dict[str, dict[str, str]] | None = None,
    errors: dict[str, dict[str, str]] | None = None,
    code: int = 200,
) -> HttpResponse:
    """The ticket with its action forms; ``sent``: a refused action's form by the action's
    name (``{"reply": {"body": …}}``), shown again as typed with ``errors`` by field; the
    other forms as new."""
    ticket = selectors.ticket_get(store=store, ticket_id=ticket_id)
    msgs = list(selectors.ticket_messages(ticket=ticket))
    last_customer = next((m.body for m in reversed(msgs) if m.author_kind == "customer"), ticket.subject)
    values = {"customer": ticket.customer_ref, "order": ticket.order_ref}
    suggest = selectors.script_suggest(store=store, text=last_customer, values=values)
    quick = [
        {"script": s, "text": render_script(s.body, values)}
        for s in selectors.script_list(store=store, quick_only=True)[:20]
    ]
    now = timezone.now()
    return render(
        request,
        "console/service_ticket_detail.html",
        _base_context(
            request,
            ticket=ticket,
            messages_list=msgs,
            transfers=list(selectors.ticket_transfers(ticket=ticket)),
            suggestions=suggest.suggestions,
            quick_replies=quick,
            agents=list(selectors.agent_choices()),
            # only tiers above the ticket's own: escalation never lowers a tier (crisis: none)
            escalate_to=[(v, label) for v, label in selectors.TIER_CHOICES if v in _tiers_above(ticket.tier)],
            coupon_templates=list(coupon_template_list(store=store).filter(is_active=True)),
            left=(left := _minutes_left(ticket.next_due_at, now)),
            late=-left if left is not None and left < 0 else None,
            can_change=request.user.has_perm("service.change_ticket"),
            sent=sent or {},
            errors=errors or {},
        ),
        status=code,
    )


# each action's form: its fields, and the service's names for those it calls differently
_ACTION_FIELDS: dict[str, tuple[str, ...]] = {
    "reply": ("body", "script_id"),
    "customer": ("body",),
    "transfer": ("to_user", "reason"),
    "escalate": ("tier", "reason"),
    "statement": ("text",),
    "resolve": ("note", "refund_ref", "compensate", "coupon_template_id", "no_remedy_reason"),
    "reopen": ("reason",),
}
_SERVICE_NAMES = {"to_user": "to_user_id"}


def _do(request: HttpRequest, ticket: Any, action: str) -> str:
    actor = _actor(request)
    post = posted(request, *_ACTION_FIELDS.get(action, ()))
    if action == "reply":
        script_id = _int(post.get("script_id"), 0) if post.get("script_id") else 0
        script = selectors.script_get(store=ticket.store, script_id=script_id) if script_id else None
        services.ticket_reply(actor=actor, ticket=ticket, body=post.get("body", ""), script=script)
        return _("回复已发送")
    if action == "customer":
        result = services.ticket_customer_message(actor=actor, ticket=ticket, body=post.get("body", ""))
        return _("已记录顾客消息，并自动回答") if result.auto_answer else _("已记录顾客消息")
    if action == "transfer":
        to = selectors.user_get(user_id=_int(post.get("to_user"), 0))
        services.ticket_transfer(actor=actor, ticket=ticket, to_user=to, reason=post.get("reason", ""))
        return _("工单已转交")
    if action == "escalate":
        services.ticket_escalate(
            actor=actor, ticket=ticket, tier=post.get("tier", ""), reason=post.get("reason", "")
        )
        return _("工单已升级")
    if action == "statement":
        services.ticket_publish_statement(actor=actor, ticket=ticket, text=post.get("text", ""))
        return _("公开声明已记录")
    if action == "resolve":
        template = post.get("coupon_template_id", "")
        services.ticket_resolve(
            actor=actor,
            ticket=ticket,
            note=post.get("note", ""),
            refund_ref=post.get("refund_ref", ""),
            compensate=post.get("compensate") == "1",
            coupon_template_id=int(template) if template.isdigit() else None,
            no_remedy_reason=post.get("no_remedy_reason", ""),
        )
        return _("工单已解决")
    if action == "close":
        services.ticket_close(actor=actor, ticket=ticket)
        return _("工单已关闭")
    if action == "reopen":
        services.ticket_reopen(actor=actor, ticket=ticket, reason=post.get("reason", ""))
        return _("工单已重开")
    raise NotFound(_("未知的操作"))


@require_POST
@console_view("service.change_ticket")
def ticket_action(request: HttpRequest, ticket_id: int, action: str) -> HttpResponse:
    """Run one action on the ticket; a refused one shows the ticket again (422) with the
    action's form as typed and its errors inside it."""
    store = store_or_404(request)
    ticket = selectors.ticket_get(store=store, ticket_id=ticket_id)
    try:
        done = _do(request, ticket, action)
    except NotFound:
        raise
    except DomainError as exc:
        sent = posted(request, *_ACTION_FIELDS.get(action, ()))
        named = {_SERVICE_NAMES.get(key, key): value for key, value in sent.items()}
        by_service = refused(request, exc, named)
        to_form = {service: field for field, service in _SERVICE_NAMES.items()}
        errors = {to_form.get(key, key): value for key, value in by_service.items()}
        return _ticket_page(request, store, ticket_id, sent={action: sent}, errors={action: errors}, code=422)
    messages.success(request, done)
    return HttpResponseRedirect(reverse("console:service_ticket_detail", args=[ticket_id]))


@console_view("service.view_replyscript")
def scripts(request: HttpRequest) -> HttpResponse:
    """The scripts library: list, search, add (with add permission), and a suggestion tester."""
    store = _current_store(request)
    if store is None:
        return _empty(request)
    sent: dict[str, str] = {}  # a refused new script, shown again as typed
    errors: dict[str, str] = {}
    if request.method == "POST":
        if not request.user.has_perm("service.add_replyscript"):
            return render(
                request, "console/forbidden.html", {"permission": "service.add_replyscript"}, status=403
            )
        sent = posted(request, "title", "body", "keywords", "category", "is_quick", "auto_answer")
        try:
            services.script_create(
                actor=_actor(request),
                store=store,
                title=sent["title"],
                body=sent["body"],
                keywords=sent["keywords"],
                category=sent["category"],
                is_quick=sent["is_quick"] == "1",
                auto_answer=sent["auto_answer"] == "1",
            )
        except DomainError as exc:
            errors = refused(request, exc, sent)
        else:
            messages.success(request, _("话术已保存"))
            return HttpResponseRedirect(reverse("console:service_scripts"))
    f = {"q": request.GET.get("q", "").strip(), "category": request.GET.get("category", "")}
    test_text = request.GET.get("test", "").strip()
    page = Paginator(
        selectors.script_list(store=store, q=f["q"], category=f["category"]), PAGE_SIZE
    ).get_page(_int(request.GET.get("page")))
    return render(
        request,
        "console/service_scripts.html",
        _base_context(
            request,
            page=page,
            filters=f,
            querystring=querystring(request),
            categories=selectors.CATEGORY_CHOICES,
            test_text=test_text,
            test_result=selectors.script_suggest(store=store, text=test_text) if test_text else None,
            sent=sent,
            errors=errors,
        ),
        status=422 if sent else 200,
    )


_SCRIPT_TOGGLES = {"active": "is_active", "quick": "is_quick", "auto": "auto_answer"}


@require_POST
@console_view("service.change_replyscript")
def script_action(request: HttpRequest, script_id: int, action: str) -> HttpResponse:
    script = selectors.script_get(store=store_or_404(request), script_id=script_id)
    try:
        if action == "delete":
            if not request.user.has_perm("service.delete_replyscript"):
                return render(
                    request,
                    "console/forbidden.html",
                    {"permission": "service.delete_replyscript"},
                    status=403,
                )
            services.script_delete(actor=_actor(request), script=script)
        elif action in _SCRIPT_TOGGLES:
            name = _SCRIPT_TOGGLES[action]
            services.script_update(actor=_actor(request), script=script, **{name: not getattr(script, name)})
        else:
            raise NotFound(_("未知的操作"))
    except NotFound:
        raise
    except DomainError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("话术已更新"))
    return HttpResponseRedirect(reverse("console:service_scripts"))


def _report_args(request: HttpRequest) -> tuple[dt.datetime, dt.datetime, str, str]:
    def day(name: str) -> dt.date | None:
        try:
            return dt.date.fromisoformat(request.GET.get(name, ""))
        except ValueError:
            return None

    start, end = selectors.report_period(day("start"), day("end"))
    return (
        start,
        end,
        timezone.localtime(start).date().isoformat(),
        (end - dt.timedelta(days=1)).date().isoformat(),
    )


@console_view("service.view_complaintreport")
def report(request: HttpRequest) -> HttpResponse:
    store = _current_store(request)
    if store is None:
        return _empty(request)
    try:
        start, end, start_day, end_day = _report_args(request)
    except DomainError as exc:
        messages.error(request, str(exc.message))
        start, end, start_day, end_day = _report_from_default()
    data = selectors.complaint_report(store=store, start=start, end=end)
    return render(
        request,
        "console/service_report.html",
        _base_context(
            request,
            report=data,
            sections=[(title, data[key]) for key, title in exports.group_sections()],
            start_day=start_day,
            end_day=end_day,
            stored=[
                {
                    "row": r,
                    "start": timezone.localtime(r.period_start).date().isoformat(),
                    "end": (timezone.localtime(r.period_end) - dt.timedelta(days=1)).date().isoformat(),
                }
                for r in selectors.report_list(store=store)[:12]
            ],
        ),
    )


def _report_from_default() -> tuple[dt.datetime, dt.datetime, str, str]:
    start, end = selectors.report_period(None, None)
    return (
        start,
        end,
        timezone.localtime(start).date().isoformat(),
        (end - dt.timedelta(days=1)).date().isoformat(),
    )


@console_view("service.view_complaintreport")
def report_export(request: HttpRequest) -> HttpResponse:
    store = store_or_404(request)
    try:
        start, end, start_day, end_day = _report_args(request)
    except DomainError:
        start, end, start_day, end_day = _report_from_default()
    data = selectors.complaint_report(store=store, start=start, end=end)
    response = HttpResponse(
        exports.report_workbook(data, store.name),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="complaints-{start_day}-{end_day}.xlsx"'
    return response


@console_view("service.view_review")
def reviews(request: HttpRequest) -> HttpResponse:
    store = _current_store(request)
    if store is None:
        return _empty(request)
    rating = request.GET.get("rating", "")
    f = {
        "rating": rating,
        "images": request.GET.get("images", "") == "1",
        "q": request.GET.get("q", "").strip(),
    }
    qs = selectors.review_list(
        store=store, rating=int(rating) if rating.isdigit() else None, with_images=f["images"], q=f["q"]
    )
    page = Paginator(qs, PAGE_SIZE).get_page(_int(request.GET.get("page")))
    return render(
        request,
        "console/service_reviews.html",
        _base_context(
            request,
            page=page,
            filters=f,
            querystring=querystring(request),
            invitations=list(selectors.invitation_list(store=store)[:20]),
        ),
    )


# ---- mass negative-review attacks (RISK-02) ------------------------------------------------------


@console_view("service.view_reviewattack")
def review_attacks(request: HttpRequest) -> HttpResponse:
    """The attacks found, open ones (playbook steps missing) first by default."""
    store = _current_store(request)
    if store is None:
        return _empty(request)
    status = request.GET.get("status", "open")
    status = status if status in ("open", "closed", "") else "open"
    page = Paginator(selectors.review_attack_list(store=store, status=status), PAGE_SIZE).get_page(
        _int(request.GET.get("page"))
    )
    rows = [{"attack": a, "steps": selectors.review_attack_steps(a)} for a in page.object_list]
    return render(
        request,
        "console/service_review_attacks.html",
        _base_context(request, page=page, rows=rows, status=status, querystring=querystring(request)),
    )


@console_view("service.view_reviewattack")
def review_attack(request: HttpRequest, attack_id: int) -> HttpResponse:
    return _attack_page(request, store_or_404(request), attack_id)


def _attack_page(
    request: HttpRequest,
    store: Store,
    attack_id: int,
    sent: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    code: int = 200,
) -> HttpResponse:
    """The attack: its reviews (the evidence) and the three steps, the next one with its form;
    ``sent``: a refused step, shown again as typed with ``errors`` by field."""
    attack = selectors.review_attack_get(store=store, attack_id=attack_id)
    steps = selectors.review_attack_steps(attack)
    return render(
        request,
        "console/service_review_attack.html",
        _base_context(
            request,
            attack=attack,
            steps=steps,
            next_step=next((r.step for r in steps if r.done is None), None),
            reviews=list(selectors.review_attack_reviews(attack=attack)),
            can_change=request.user.has_perm("service.change_reviewattack"),
            sent=sent or {},
            errors=errors or {},
        ),
        status=code,
    )


@require_POST
@console_view("service.change_reviewattack")
def review_attack_step(request: HttpRequest, attack_id: int) -> HttpResponse:
    """Record the attack's next playbook step; a refused one shows the attack again (422)."""
    store = store_or_404(request)
    attack = selectors.review_attack_get(store=store, attack_id=attack_id)
    sent = posted(request, "step", "note")
    try:
        services.review_attack_step(
            actor=_actor(request), attack=attack, step=sent["step"], note=sent["note"]
        )
    except DomainError as exc:
        return _attack_page(
            request, store, attack_id, sent=sent, errors=refused(request, exc, sent), code=422
        )
    messages.success(request, _("已记录处置步骤"))
    return HttpResponseRedirect(reverse("console:service_review_attack", args=[attack_id]))


# ---- net promoter score (DATA-01) ------------------------------------------------------------

NPS_WEEKS = (4, 8, 13, 26)
NPS_FIELDS = ("score", "channel", "order_ref", "customer_ref", "comment")


@console_view("service.view_npsresponse")
def nps(request: HttpRequest) -> HttpResponse:
    store = _current_store(request)
    if store is None:
        return _empty(request)
    return _nps_page(request, store)


def _nps_page(
    request: HttpRequest,
    store: Store,
    *,
    sent: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    """Weekly NPS against the target, the scores given, and the answers (paged, by band, channel
    and text), with the forms to import a survey export or record a phone survey's answer."""
    weeks = _int(request.GET.get("weeks")) if request.GET.get("weeks") else 8
    weeks = weeks if weeks in NPS_WEEKS else 8
    channels = list(channel_list(store=store))
    channel = _int(request.GET.get("channel")) if request.GET.get("channel") else None
    channel = channel if any(c.pk == channel for c in channels) else None
    band = request.GET.get("band", "")
    band = band if band in dict(selectors.NPS_BAND_CHOICES) else ""
    q = request.GET.get("q", "").strip()
    overview = selectors.nps_overview(store=store, weeks=weeks, channel_id=channel)
    answers = selectors.nps_list(store=store, band=band, channel_id=channel, q=q)
    page = Paginator(answers, PAGE_SIZE).get_page(_int(request.GET.get("page")))
    total = overview.total.scores
    most = max(total) or 1
    return render(
        request,
        "console/service_nps.html",
        _base_context(
            request,
            overview=overview,
            weeks_rows=[_nps_row(w, overview.target) for w in overview.weeks],
            total=_nps_row(overview.total, overview.target),
            distribution=[
                {"score": s, "count": n, "width": round(100 * n / most), "band": str(nps_band(s))}
                for s, n in enumerate(total)
            ],
            page=page,
            filters={"weeks": weeks, "channel": channel, "band": band, "q": q},
            week_choices=NPS_WEEKS,
            band_choices=selectors.NPS_BAND_CHOICES,
            channels=channels,
            querystring=querystring(request),
            can_add=request.user.has_perm("service.add_npsresponse"),
            sent=sent or {},
            errors=errors or {},
            columns={name: "/".join(names) for name, names in NPS_IMPORT_COLUMNS.items()},
        ),
        status=status,
    )


def _nps_row(week: selectors.NpsWeek, target: int) -> dict[str, Any]:
    tally = week.tally
    score = tally.score
    return {
        "start": week.start,
        "end": week.end,
        "responses": tally.responses,
        "promoters": tally.share(NpsBand.PROMOTER) * 100,
        "passives": tally.share(NpsBand.PASSIVE) * 100,
        "detractors": tally.share(NpsBand.DETRACTOR) * 100,
        "nps": score,
        "enough": tally.enough,
        "ok": tally.meets(target),
    }


@console_view("service.add_npsresponse")
@require_POST
def nps_record(request: HttpRequest) -> HttpResponse:
    store = _current_store(request)
    if store is None:
        return _empty(request)
    sent = posted(request, *NPS_FIELDS)
    channel = None
    if sent["channel"]:
        channel = next((c for c in channel_list(store=store) if str(c.pk) == sent["channel"]), None)
    try:
        if sent["channel"] and channel is None:
            raise ValidationError(_("渠道不存在"), fields={"channel": _("渠道不属于该店铺")})
        services.nps_record(
            actor=_actor(request),
            store=store,
            score=sent["score"],
            channel=channel,
            order_ref=sent["order_ref"],
            customer_ref=sent["customer_ref"],
            comment=sent["comment"],
            source="console",
        )
    except DomainError as exc:
        named = {**sent, "channel_id": sent["channel"]}
        errors = refused(request, exc, named)
        if "channel_id" in errors:
            errors["channel"] = errors.pop("channel_id")
        return _nps_page(request, store, sent=sent, errors=errors, status=422)
    messages.success(request, _("已记录 NPS 答卷：%(s)s 分") % {"s": sent["score"]})
    return HttpResponseRedirect(reverse("console:service_nps"))


@console_view("service.add_npsresponse")
@require_POST
def nps_import(request: HttpRequest) -> HttpResponse:
    store = _current_store(request)
    if store is None:
        return _empty(request)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("请选择要导入的答卷文件（.csv 或 .xlsx）"))
        return _nps_page(request, store, status=422)
    try:
        result = services.nps_import(
            actor=_actor(request), store=store, file_name=upload.name or "", data=upload.read()
        )
    except DomainError as exc:
        messages.error(request, error_text(exc))
        return _nps_page(request, store, status=422)
    messages.success(
        request,
        _("已导入 %(n)s 份答卷（文件共 %(rows)s 份，已录入过的 %(d)s 份未重复计入）")
        % {"n": result.imported, "rows": result.rows, "d": result.duplicates},
    )
    return HttpResponseRedirect(reverse("console:service_nps"))
