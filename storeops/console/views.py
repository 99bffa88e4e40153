"""The operator console: server-rendered pages over the same services and selectors as the API.

Every view is declared with :func:`console_view` naming the Django permission it needs;
the permission-matrix test walks the URL conf and fails on a view without one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from functools import wraps
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from storeops.accounts.roles import ROLE_LABELS
from storeops.accounts.services import user_roles, user_set_language
from storeops.audit.selectors import audit_list
from storeops.console.subjects import subject_link
from storeops.core.context import Actor
from storeops.core.errors import DomainError, InvalidTransition, NotFound, ValidationError
from storeops.sop.registry import all_checks
from storeops.sop.selectors import (
    SEVERITY_CHOICES,
    STATUS_CHOICES,
    finding_counts,
    finding_counts_by_rule,
    finding_get,
    finding_list,
)
from storeops.sop.services import checks_run, finding_acknowledge, finding_resolve
from storeops.stores import playbook as pb
from storeops.stores.selectors import (
    channel_get,
    channel_list,
    playbook_layers,
    qualification_list,
    store_list,
)

if TYPE_CHECKING:
    from storeops.stores.models import Channel, Store
from storeops.stores.services import playbook_update

PAGE_SIZE = 25
View = Callable[..., HttpResponse]


def console_view(permission: str | None) -> Callable[[View], View]:
    """Require a signed-in staff user with ``permission`` (None: any signed-in user)."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if permission is not None and not user.has_perm(permission):
                return render(request, "console/forbidden.html", {"permission": permission}, status=403)
            try:
                return view(request, *args, **kwargs)
            except NotFound as exc:
                raise Http404(str(exc.message)) from exc

        wrapper.required_permission = permission  # type: ignore[attr-defined]
        return wrapper

    return decorate


def _actor(request: HttpRequest) -> Actor:
    return Actor(user=request.user, via="console")


def _current_store(request: HttpRequest) -> Store | None:
    stores = store_list()
    code = request.GET.get("store") or request.session.get("store")
    store = stores.filter(code=code).first() if code else None
    store = store or stores.first()
    if store is not None:
        request.session["store"] = store.code
    return store


def querystring(request: HttpRequest, *drop: str, page: str = "page") -> str:
    """The request's query string without ``page`` (and ``drop``): what a pager's or a tab's
    links carry over. ``page``: the pager's parameter, for a second list paged on the same page
    (``_pager.html`` with ``page_param``)."""
    query = request.GET.copy()
    for key in (page, *drop):
        query.pop(key, None)
    return query.urlencode()


def store_or_404(request: HttpRequest) -> Store:
    """The console's current store; a page that needs one shows "还没有店铺" (404) without."""
    store = _current_store(request)
    if store is None:
        raise NotFound(_("还没有店铺"))
    return store


def error_text(exc: DomainError, label: Callable[[str], str] | None = None) -> str:
    """A service's refusal for a console message: its message, then its per-field messages
    (``label`` names each field) in brackets, punctuated in the reader's language. An invalid
    transition's fields carry the current state for API clients (``"resolved"``), not words
    for people: only its message is shown."""
    if isinstance(exc, InvalidTransition):
        return str(exc.message)
    return _with_details(exc.message, exc.fields, label)


def _with_details(message: Any, fields: dict[str, Any], label: Callable[[str], str] | None = None) -> str:
    message = str(message)
    details = [
        f"{label(key)}{_('：')}{value}" if label else str(value)
        for key, value in fields.items()
        if str(value) and str(value) != message
    ]
    if not details:
        return message
    return f"{message}{_('（')}{_('；').join(details)}{_('）')}"


def flash_error(request: HttpRequest, exc: DomainError) -> None:
    """A service's refusal as a message on the next page, with its per-field details."""
    messages.error(request, error_text(exc))


def filtered_page(
    request: HttpRequest,
    select: Callable[..., Any],
    *,
    size: int = PAGE_SIZE,
    fallback: Mapping[str, str] | None = None,
    **filters: str,
) -> tuple[Any, dict[str, str]]:
    """A page of ``select(**filters)`` (the page number from the query string). A filter the
    selector refuses (a :class:`DomainError`) is flashed and the list falls back to no filter,
    or to ``fallback``'s values. Returns the page and the filters it used (for the form)."""
    try:
        rows = select(**filters)
    except DomainError as exc:
        flash_error(request, exc)
        filters = dict.fromkeys(filters, "") | dict(fallback or {})
        rows = select(**filters)
    return Paginator(rows, size).get_page(_int(request.GET.get("page"))), filters


def posted(request: HttpRequest, *names: str) -> dict[str, str]:
    """A form's submitted values by field name (stripped): what the page shows again, as typed,
    when the service refuses them (``value="{{ sent.name }}"``)."""
    return {name: request.POST.get(name, "").strip() for name in names}


def form_date(text: str | None) -> dt.date | None:
    """A form's ``YYYY-MM-DD``; None when empty or not a date. Django's ``parse_date`` raises
    on a well-shaped impossible day ("2026-13-45"), which was a 500."""
    try:
        return parse_date((text or "").strip())
    except ValueError:
        return None


def form_datetime(text: str | None) -> dt.datetime | None:
    """A form's date and time (``datetime-local``); None when empty or not a moment, like
    :func:`form_date` ("2026-02-30T10:00", "2026-12-01T25:61")."""
    try:
        return parse_datetime((text or "").strip())
    except ValueError:
        return None


def posted_day(sent: Mapping[str, str], name: str = "day") -> dt.date | None:
    """The day typed in ``sent[name]`` (empty: None, the service's default day); text that is
    not a day is refused with a message next to the field."""
    text = sent.get(name, "")
    day = form_date(text)
    if text and day is None:
        raise ValidationError(_("日期格式有误"), fields={name: _("日期格式应为 YYYY-MM-DD")})
    return day


def refused(request: HttpRequest, exc: DomainError, sent: Mapping[str, Any]) -> dict[str, str]:
    """A service's refusal of a form shown again as typed (``sent``): the per-field messages of
    the fields the form has, by name, for next to their inputs; the message, with any other
    field's, on top of the page (as :func:`error_text`)."""
    if isinstance(exc, InvalidTransition):
        messages.error(request, error_text(exc))
        return {}
    errors = {key: str(value) for key, value in exc.fields.items() if key in sent and str(value)}
    rest = {key: value for key, value in exc.fields.items() if key not in errors}
    messages.error(request, _with_details(exc.message, rest))
    return errors


def _base_context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    roles = user_roles(request.user) if request.user.is_authenticated else []
    return {
        "stores": list(store_list()),
        "current_store": _current_store(request),
        "role_labels": [str(ROLE_LABELS[r]) for r in roles],
        "now": timezone.now(),
        **extra,
    }


@console_view("stores.view_store")
def home(request: HttpRequest) -> HttpResponse:
    store = _current_store(request)
    counts = finding_counts(store_id=store.pk if store else None)
    latest = list(finding_list(store_id=store.pk if store else None, status="unresolved")[:8])
    by_rule = finding_counts_by_rule(store_id=store.pk if store else None)
    overdue = finding_list(store_id=store.pk if store else None, overdue=True).count()
    return render(
        request,
        "console/home.html",
        _base_context(
            request,
            channels=list(channel_list(store=store)) if store else [],
            counts=counts,
            open_total=sum(counts.values()),
            overdue=overdue,
            latest=latest,
            by_rule=by_rule,
            by_rule_max=max([r["n"] for r in by_rule], default=1),
        ),
    )


def _int(value: str | None, default: int = 1) -> int:
    try:
        return max(int(value or default), 1)
    except ValueError:
        return default


@console_view("sop.view_finding")
def findings(request: HttpRequest) -> HttpResponse:
    store = _current_store(request)
    f = {
        "status": request.GET.get("status", "unresolved"),
        "severity": request.GET.get("severity", ""),
        "rule": request.GET.get("rule", ""),
        "owner_role": request.GET.get("owner_role", ""),
        "q": request.GET.get("q", "").strip(),
        "overdue": request.GET.get("overdue") == "1",
    }
    qs = finding_list(
        store_id=store.pk if store else None,
        status=f["status"] or None,
        severity=f["severity"] or None,
        rule=f["rule"] or None,
        owner_role=f["owner_role"] or None,
        q=f["q"],
        overdue=f["overdue"] or None,
    )
    page = Paginator(qs, PAGE_SIZE).get_page(_int(request.GET.get("page")))
    return render(
        request,
        "console/findings.html",
        _base_context(
            request,
            page=page,
            filters=f,
            querystring=querystring(request),
            statuses=STATUS_CHOICES,
            severities=SEVERITY_CHOICES,
            roles=[(k.value, v) for k, v in ROLE_LABELS.items()],
            rules=[c.rule for c in all_checks()],
            can_change=request.user.has_perm("sop.change_finding"),
            can_run=request.user.has_perm("sop.run_checks"),
        ),
    )


@console_view("sop.view_finding")
def finding_detail(request: HttpRequest, finding_id: int) -> HttpResponse:
    return _finding_page(request, finding_id)


def _finding_page(
    request: HttpRequest,
    finding_id: int,
    sent: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    code: int = 200,
) -> HttpResponse:
    """The finding; ``sent``: a refused acknowledgement or resolution, shown again as typed."""
    finding = finding_get(finding_id=finding_id)
    trail = audit_list(object_type="sop.finding", object_id=str(finding.pk))[:50]
    return render(
        request,
        "console/finding_detail.html",
        _base_context(
            request,
            finding=finding,
            subject_url=subject_link(finding.subject_type, finding.subject_id, finding.detail, request.user),
            trail=trail,
            notifications=finding.notifications.all()[:50],
            can_change=request.user.has_perm("sop.change_finding"),
            sent=sent or {},
            errors=errors or {},
        ),
        status=code,
    )


def _safe_next(request: HttpRequest, fallback: str) -> str:
    nxt = request.POST.get("next", "")
    if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        return nxt
    return fallback


@require_POST
@console_view("sop.change_finding")
def finding_action(request: HttpRequest, finding_id: int, action: str) -> HttpResponse:
    """Acknowledge or resolve with a note; a refused one comes back with its note as typed."""
    finding = finding_get(finding_id=finding_id)
    sent = posted(request, "note")
    try:
        if action == "acknowledge":
            finding_acknowledge(actor=_actor(request), finding=finding, note=sent["note"])
            messages.success(request, _("已认领：%(t)s") % {"t": finding.title})
        elif action == "resolve":
            finding_resolve(actor=_actor(request), finding=finding, note=sent["note"])
            messages.success(request, _("已解决：%(t)s") % {"t": finding.title})
        else:
            messages.error(request, _("未知操作"))
    except DomainError as exc:
        return _finding_page(request, finding.pk, sent=sent, errors=refused(request, exc, sent), code=422)
    return HttpResponseRedirect(_safe_next(request, reverse("console:finding_detail", args=[finding.pk])))


@require_POST
@console_view("sop.run_checks")
def run_checks(request: HttpRequest) -> HttpResponse:
    store = _current_store(request)
    rule = request.POST.get("rule") or None
    try:
        results = checks_run(rule=rule, store=store)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        raised = sum(r.raised for r in results)
        resolved = sum(r.resolved for r in results)
        failed = [r.rule for r in results if r.error]
        messages.success(
            request, _("检查完成：新增 %(n)s 个问题，自动解决 %(r)s 个") % {"n": raised, "r": resolved}
        )
        if failed:
            messages.error(request, _("以下检查运行失败：%(rules)s") % {"rules": ", ".join(failed)})
    return HttpResponseRedirect(_safe_next(request, reverse("console:findings")))


@console_view("audit.view_auditentry")
def audit(request: HttpRequest) -> HttpResponse:
    store = _current_store(request)
    f = {k: request.GET.get(k, "").strip() for k in ("action", "object_type", "actor", "q", "since", "until")}

    def day(value: str) -> dt.datetime | None:
        try:
            d = dt.date.fromisoformat(value)
        except ValueError:
            return None
        return timezone.make_aware(dt.datetime.combine(d, dt.time.min))

    until = day(f["until"])
    qs = audit_list(
        store_id=None if request.GET.get("all_stores") else (store.pk if store else None),
        action=f["action"],
        object_type=f["object_type"],
        actor=f["actor"],
        q=f["q"],
        since=day(f["since"]),
        until=until + dt.timedelta(days=1) if until else None,
    )
    page = Paginator(qs, PAGE_SIZE).get_page(_int(request.GET.get("page")))
    return render(
        request,
        "console/audit.html",
        _base_context(request, page=page, filters=f, querystring=querystring(request)),
    )


def _playbook_rows(store: Store, channel: Channel | None, language: str) -> list[dict[str, Any]]:
    store_values, channel_values = playbook_layers(store=store, channel=channel)
    effective = pb.resolve(store_values, channel_values).model_dump(mode="json")
    default = pb.defaults().model_dump(mode="json")
    own = channel_values if channel is not None else store_values
    return [
        {
            "name": name,
            "rule": pb.setting_rule(name),
            "label": pb.setting_label(name, language),
            "default": default[name],
            "effective": effective[name],
            "own": own.get(name, ""),
            "inherited": store_values.get(name, "") if channel is not None else "",
            "text": pb.FIELDS[name].annotation is str,  # a list or a link: a wider input
        }
        for name in pb.FIELDS
    ]


def _reader_half(text: str) -> str:
    """A playbook validation message is "中文 / English" (the API gives both; several are joined
    with "; "): the console shows the half in the reader's language."""
    english = not (translation.get_language() or "zh-hans").startswith("zh")
    halves = []
    for piece in text.split("; "):
        zh, sep, en = piece.partition(" / ")
        halves.append((en if english else zh) if sep else piece)
    return _("；").join(halves)


@console_view("stores.view_playbook")
def playbook(request: HttpRequest) -> HttpResponse:
    store = _current_store(request)
    if store is None:
        return render(request, "console/empty.html", _base_context(request))
    channel = None
    if request.GET.get("channel") or request.POST.get("channel"):
        channel = channel_get(
            store=store, channel_id=_int(request.GET.get("channel") or request.POST.get("channel"))
        )
    errors: dict[str, str] = {}
    submitted: dict[str, str] = {}
    if request.method == "POST":
        if not request.user.has_perm("stores.change_playbook"):
            return render(
                request, "console/forbidden.html", {"permission": "stores.change_playbook"}, status=403
            )
        submitted = {name: request.POST.get(name, "").strip() for name in pb.FIELDS}
        try:
            playbook_update(
                actor=_actor(request),
                store=store,
                channel=channel,
                values={k: (v or None) for k, v in submitted.items()},
                replace=True,
            )
        except DomainError as exc:
            errors = {k: _reader_half(str(v)) for k, v in exc.fields.items()}
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("运营手册已保存"))
            url = reverse("console:playbook") + (f"?channel={channel.pk}" if channel else "")
            return redirect(url)
    rows = _playbook_rows(store, channel, translation.get_language() or "zh-hans")
    for row in rows:
        row["error"] = errors.get(row["name"], "")
        if submitted:
            row["own"] = submitted.get(row["name"], "")
    return render(
        request,
        "console/playbook.html",
        _base_context(
            request,
            rows=rows,
            channel=channel,
            channels=list(channel_list(store=store)),
            form_error=errors.get("__all__", ""),
            can_change=request.user.has_perm("stores.change_playbook"),
        ),
        status=422 if errors else 200,
    )


@console_view("stores.view_qualification")
def qualifications(request: HttpRequest) -> HttpResponse:
    store = _current_store(request)
    today = timezone.localdate()
    rows = []
    warn_days = None
    page = None
    if store is not None:
        from storeops.stores.selectors import playbook_get

        warn_days = playbook_get(store=store).qualification_warn_days
        # renewed documents leave their expired ones behind: the list grows for good
        page = Paginator(qualification_list(store=store), PAGE_SIZE).get_page(_int(request.GET.get("page")))
        for q in page.object_list:
            days = (q.valid_to - today).days if q.valid_to else None
            state = "ok" if days is None or days > warn_days else ("expired" if days < 0 else "expiring")
            rows.append({"q": q, "days": days, "state": state})
    return render(
        request,
        "console/qualifications.html",
        _base_context(request, rows=rows, warn_days=warn_days, page=page, querystring=querystring(request)),
    )


@require_POST
@console_view(None)
def set_language(request: HttpRequest) -> HttpResponse:
    language = request.POST.get("language", "")
    try:
        user_set_language(actor=_actor(request), user=request.user, language=language)
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return HttpResponseRedirect(reverse("console:home"))
    translation.activate(language)
    response = HttpResponseRedirect(_safe_next(request, reverse("console:home")))
    from django.conf import settings

    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language)
    return response
