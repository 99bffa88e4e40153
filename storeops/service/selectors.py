"""Reads of customer-service data: the ticket queue and its SLA view (CS-01/02), scripts and
FAQ suggestions (CS-03), the root-cause report with the post-mortem helpers
:func:`top_questions` and :func:`review_keywords` (CS-04), reviews and invitations (LOG-02)."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from storeops.core.errors import ValidationError
from storeops.core.queries import get_or_not_found
from storeops.service import rules
from storeops.service.models import (
    AttackStep,
    Author,
    ComplaintReport,
    Incident,
    IncidentStatus,
    NpsResponse,
    NpsSource,
    ReplyScript,
    Review,
    ReviewAttack,
    ReviewAttackStep,
    ReviewInvitation,
    Ticket,
    TicketCategory,
    TicketKind,
    TicketMedium,
    TicketMessage,
    TicketStatus,
    TicketTier,
    TicketTransfer,
)
from storeops.stores.models import Store
from storeops.stores.selectors import playbook_get

STATUS_CHOICES = TicketStatus.choices
TIER_CHOICES = TicketTier.choices
CATEGORY_CHOICES = TicketCategory.choices
KIND_CHOICES = TicketKind.choices
MEDIUM_CHOICES = TicketMedium.choices
ACTIVE_STATUSES = (TicketStatus.OPEN, TicketStatus.IN_PROGRESS)


# ---- tickets -----------------------------------------------------------------------------------


def _overdue_q(now: dt.datetime) -> Q:
    return Q(status__in=ACTIVE_STATUSES) & (
        Q(first_response_at__isnull=True, response_due_at__lt=now)
        | Q(first_response_at__isnull=True, chat_response_due_at__lt=now)
        | Q(resolution_due_at__lt=now)
        | Q(tier=rules.Tier.CRISIS, statement_published_at__isnull=True, statement_due_at__lt=now)
    )


def ticket_list(
    *,
    store: Store,
    status: str = "",
    tier: str = "",
    category: str = "",
    kind: str = "",
    medium: str = "",
    owner_id: int | None = None,
    unowned: bool = False,
    q: str = "",
    overdue: bool = False,
    now: dt.datetime | None = None,
    high_value: bool = False,
) -> QuerySet[Ticket]:
    """The queue: high-value customers' open and in-progress tickets first (MEM-04 专属客服),
    then newest first. ``status="active"`` means open or in progress. Overdue tickets are
    those past a running deadline (first response, resolution, crisis statement);
    ``high_value=True`` lists only high-value customers' tickets."""
    qs = Ticket.objects.filter(store=store).select_related("channel", "owner")
    if status == "active":
        qs = qs.filter(status__in=ACTIVE_STATUSES)
    elif status:
        qs = qs.filter(status=status)
    if tier:
        qs = qs.filter(tier=tier)
    if category:
        qs = qs.filter(category=category)
    if kind:
        qs = qs.filter(kind=kind)
    if medium:
        qs = qs.filter(medium=medium)
    if owner_id is not None:
        qs = qs.filter(owner_id=owner_id)
    if unowned:
        qs = qs.filter(owner__isnull=True)
    if q:
        query = Q(subject__icontains=q) | Q(customer_ref__icontains=q) | Q(order_ref__icontains=q)
        if q.lstrip("#").isdigit():
            query |= Q(pk=int(q.lstrip("#")))
        qs = qs.filter(query)
    if overdue:
        qs = qs.filter(_overdue_q(now or timezone.now()))
    if high_value:
        qs = qs.filter(high_value=True)
    vip_first = Case(
        When(high_value=True, status__in=ACTIVE_STATUSES, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    return qs.order_by(vip_first, "-opened_at", "-id")


def ticket_get(*, store: Store, ticket_id: int) -> Ticket:
    return get_or_not_found(
        Ticket.objects.select_related("channel", "owner", "store"),
        gettext_lazy("工单不存在"),
        store=store,
        pk=ticket_id,
    )


def ticket_messages(*, ticket: Ticket) -> QuerySet[TicketMessage]:
    return (
        TicketMessage.objects.filter(ticket=ticket)
        .select_related("author", "script")
        .order_by("sent_at", "id")
    )


def ticket_transfers(*, ticket: Ticket) -> QuerySet[TicketTransfer]:
    return TicketTransfer.objects.filter(ticket=ticket).select_related("from_user", "to_user", "by_user")


def ticket_counts(*, store: Store, now: dt.datetime | None = None) -> dict[str, int]:
    base = Ticket.objects.filter(store=store)
    return {
        "open": base.filter(status=TicketStatus.OPEN).count(),
        "in_progress": base.filter(status=TicketStatus.IN_PROGRESS).count(),
        "overdue": base.filter(_overdue_q(now or timezone.now())).count(),
        "crisis": base.filter(status__in=ACTIVE_STATUSES, tier=rules.Tier.CRISIS).count(),
    }


def tickets_sla_watch(*, store: Store) -> QuerySet[Ticket]:
    """Tickets whose deadlines may still be running: active ones, and crises without a
    published statement."""
    return Ticket.objects.filter(store=store).filter(
        Q(status__in=ACTIVE_STATUSES) | Q(tier=rules.Tier.CRISIS, statement_published_at__isnull=True)
    )


def ticket_facts(ticket: Ticket) -> rules.TicketFacts:
    return rules.TicketFacts(
        tier=rules.Tier(ticket.tier),
        status=rules.Status(ticket.status),
        response_due_at=ticket.response_due_at,
        resolution_due_at=ticket.resolution_due_at,
        statement_due_at=ticket.statement_due_at,
        first_response_at=ticket.first_response_at,
        resolved_at=ticket.resolved_at,
        statement_published_at=ticket.statement_published_at,
    )


def agent_choices() -> QuerySet[Any]:
    """Active users who may handle tickets (transfer targets)."""
    perm = Permission.objects.filter(content_type__app_label="service", codename="change_ticket").first()
    users = get_user_model().objects.filter(is_active=True)
    if perm is None:
        return users.none()
    return (
        users.filter(Q(is_superuser=True) | Q(user_permissions=perm) | Q(groups__permissions=perm))
        .distinct()
        .order_by("username")
    )


def user_get(*, user_id: int) -> Any:
    return get_or_not_found(
        get_user_model().objects.filter(is_active=True), gettext_lazy("用户不存在"), pk=user_id
    )


# ---- CS-03: scripts -----------------------------------------------------------------------------


def script_list(
    *, store: Store, q: str = "", category: str = "", quick_only: bool = False
) -> QuerySet[ReplyScript]:
    qs = ReplyScript.objects.filter(store=store)
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(body__icontains=q))
    if category:
        qs = qs.filter(category=category)
    if quick_only:
        qs = qs.filter(is_quick=True, is_active=True)
    return qs.order_by("title", "id")


def script_get(*, store: Store, script_id: int) -> ReplyScript:
    return get_or_not_found(ReplyScript.objects.all(), gettext_lazy("话术不存在"), store=store, pk=script_id)


def script_matcher(*, store: Store) -> rules.ScriptMatcher:
    """One automaton over the store's active scripts' keywords."""
    rows = ReplyScript.objects.filter(store=store, is_active=True).values_list(
        "pk", "title", "keywords", "category", "auto_answer"
    )
    return rules.ScriptMatcher(
        [
            rules.ScriptEntry(
                script_id=pk,
                title=title,
                keywords=rules.parse_keywords(keywords or []),
                category=category,
                auto_answer=auto,
            )
            for pk, title, keywords, category, auto in rows
        ]
    )


@dataclass(frozen=True, slots=True)
class Suggestion:
    script: ReplyScript
    score: int
    keywords: tuple[str, ...]
    text: str  # the body with placeholders filled


@dataclass(frozen=True, slots=True)
class SuggestResult:
    suggestions: list[Suggestion]
    auto_answer: Suggestion | None


def script_suggest(
    *, store: Store, text: str, category: str = "", values: dict[str, str] | None = None, limit: int = 5
) -> SuggestResult:
    """The scripts that best answer ``text`` (keyword matching), with placeholders filled from
    ``values`` (``customer``, ``order`` …), and the automatic answer when one applies."""
    matches = script_matcher(store=store).match(text, category=category, limit=limit)
    scripts = ReplyScript.objects.in_bulk([m.script_id for m in matches])
    values = values or {}
    out = [
        Suggestion(
            scripts[m.script_id], m.score, m.keywords, rules.render_script(scripts[m.script_id].body, values)
        )
        for m in matches
        if m.script_id in scripts
    ]
    choice = rules.auto_answer_choice(matches)
    auto = next((s for s in out if choice is not None and s.script.pk == choice.script_id), None)
    return SuggestResult(out, auto)


# ---- LOG-02 -------------------------------------------------------------------------------------


def review_list(
    *, store: Store, rating: int | None = None, with_images: bool = False, q: str = ""
) -> QuerySet[Review]:
    qs = Review.objects.filter(store=store).select_related("channel")
    if rating is not None:
        qs = qs.filter(rating=rating)
    if with_images:
        qs = qs.exclude(images=[])
    if q:
        qs = qs.filter(Q(order_ref__icontains=q) | Q(sku_code__icontains=q) | Q(text__icontains=q))
    return qs.order_by("-created_at", "-id")


# ---- DATA-01: net promoter score ------------------------------------------------------------------

NPS_BAND_CHOICES = [
    (rules.NpsBand.PROMOTER.value, gettext_lazy("推荐者（9–10）")),
    (rules.NpsBand.PASSIVE.value, gettext_lazy("中立者（7–8）")),
    (rules.NpsBand.DETRACTOR.value, gettext_lazy("贬损者（0–6）")),
]
NPS_SOURCE_CHOICES = NpsSource.choices
NPS_MAX_WEEKS = 53


def nps_list(
    *,
    store: Store,
    band: str = "",
    channel_id: int | None = None,
    q: str = "",
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> QuerySet[NpsResponse]:
    """The answers, newest first: one band (promoter / passive / detractor), one channel, a
    period, text in the comment, order or customer."""
    qs = NpsResponse.objects.filter(store=store).select_related("channel")
    if band:
        try:
            low, high = rules.NPS_BAND_SCORES[rules.NpsBand(band)]
        except ValueError:
            raise ValidationError(
                _("未知的分组"), fields={"band": _("只能是 promoter / passive / detractor")}
            ) from None
        qs = qs.filter(score__gte=low, score__lte=high)
    if channel_id is not None:
        qs = qs.filter(channel_id=channel_id)
    if since is not None:
        qs = qs.filter(responded_at__gte=since)
    if until is not None:
        qs = qs.filter(responded_at__lt=until)
    if q:
        qs = qs.filter(Q(comment__icontains=q) | Q(order_ref__icontains=q) | Q(customer_ref__icontains=q))
    return qs.order_by("-responded_at", "-id")


def _nps_scores_by_day(
    store: Store, since: dt.datetime, until: dt.datetime, channel_id: int | None
) -> dict[dt.date, Counter[int]]:
    """How many answers gave each score, per local day of ``[since, until)`` (one grouped query)."""
    tz = timezone.get_current_timezone()
    qs = NpsResponse.objects.filter(store=store, responded_at__gte=since, responded_at__lt=until)
    if channel_id is not None:
        qs = qs.filter(channel_id=channel_id)
    out: dict[dt.date, Counter[int]] = {}
    rows = (
        qs.annotate(day=TruncDate("responded_at", tzinfo=tz))
        .values_list("day", "score")
        .annotate(n=Count("id"))
    )
    for day, score, n in rows.order_by():
        out.setdefault(day, Counter())[score] += n
    return out


def nps_tally(
    *, store: Store, since: dt.datetime, until: dt.datetime, channel_id: int | None = None
) -> rules.NpsTally:
    """The NPS of the answers given in ``[since, until)``, judged against the playbook's
    ``nps_min_responses``."""
    book = playbook_get(store=store)
    scores: Counter[int] = Counter()
    for day_scores in _nps_scores_by_day(store, since, until, channel_id).values():
        scores.update(day_scores)
    return rules.nps_tally(scores, min_responses=book.nps_min_responses)


@dataclass(frozen=True, slots=True)
class NpsWeek:
    start: dt.date  # a Monday (store time)
    end: dt.date  # its Sunday
    tally: rules.NpsTally
    scores: tuple[int, ...]  # answers per score 0–10


@dataclass(frozen=True, slots=True)
class NpsOverview:
    weeks: list[NpsWeek]  # newest first; the newest is the week of ``today`` (so far)
    total: NpsWeek  # all the weeks together
    target: int
    min_responses: int


def nps_overview(
    *, store: Store, weeks: int = 8, today: dt.date | None = None, channel_id: int | None = None
) -> NpsOverview:
    """DATA-01: the NPS of each calendar week (Monday to Sunday, store time) of the last
    ``weeks``, with the answers per score, against the playbook's ``target_nps``; a week with
    fewer than ``nps_min_responses`` answers is shown, not judged."""
    if not 1 <= weeks <= NPS_MAX_WEEKS:
        raise ValidationError(_("统计周期无效"), fields={"weeks": _("1–%(n)s 周") % {"n": NPS_MAX_WEEKS}})
    book = playbook_get(store=store)
    today = today or timezone.localdate()
    first = today - dt.timedelta(days=today.weekday()) - dt.timedelta(weeks=weeks - 1)
    tz = timezone.get_current_timezone()
    since = timezone.make_aware(dt.datetime.combine(first, dt.time()), tz)
    until = since + dt.timedelta(weeks=weeks)
    by_day = _nps_scores_by_day(store, since, until, channel_id)
    rows = []
    everything: Counter[int] = Counter()
    for i in range(weeks):
        start = first + dt.timedelta(weeks=i)
        scores: Counter[int] = Counter()
        for d in range(7):
            scores.update(by_day.get(start + dt.timedelta(days=d), Counter()))
        everything.update(scores)
        rows.append(_nps_week(start, start + dt.timedelta(days=6), scores, book.nps_min_responses))
    total = _nps_week(first, first + dt.timedelta(weeks=weeks, days=-1), everything, book.nps_min_responses)
    return NpsOverview(
        weeks=rows[::-1], total=total, target=book.target_nps, min_responses=book.nps_min_responses
    )


def _nps_week(start: dt.date, end: dt.date, scores: Counter[int], min_responses: int) -> NpsWeek:
    return NpsWeek(
        start=start,
        end=end,
        tally=rules.nps_tally(scores, min_responses=min_responses),
        scores=tuple(scores.get(s, 0) for s in range(rules.NPS_MIN_SCORE, rules.NPS_MAX_SCORE + 1)),
    )


def _any_of(field: str, keywords: Iterable[str]) -> Q:
    match = Q(pk__in=[])
    for keyword in keywords:
        match |= Q(**{f"{field}__icontains": keyword})
    return match


def alarm_reviews(*, store: Store, keywords: Iterable[str], since: dt.datetime) -> QuerySet[Review]:
    """Reviews since ``since`` whose text holds an alarm keyword (RISK-02), newest first."""
    words = list(keywords)
    if not words:
        return Review.objects.none()
    return review_list(store=store).filter(_any_of("text", words), created_at__gte=since)


def alarm_messages(*, store: Store, keywords: Iterable[str], since: dt.datetime) -> QuerySet[TicketMessage]:
    """Customers' ticket messages since ``since`` that hold an alarm keyword (RISK-02)."""
    words = list(keywords)
    if not words:
        return TicketMessage.objects.none()
    return (
        TicketMessage.objects.filter(
            _any_of("body", words),
            ticket__store=store,
            author_kind=Author.CUSTOMER,
            sent_at__gte=since,
        )
        .select_related("ticket")
        .order_by("ticket_id", "sent_at", "id")
    )


ATTACK_STEP_CHOICES = AttackStep.choices


def review_attack_list(*, store: Store, status: str = "") -> QuerySet[ReviewAttack]:
    """RISK-02 attacks, newest first; ``status``: ``open`` (steps still missing) or ``closed``."""
    qs = ReviewAttack.objects.filter(store=store).annotate(review_count=Count("reviews"))
    if status == "open":
        qs = qs.filter(closed_at__isnull=True)
    elif status == "closed":
        qs = qs.filter(closed_at__isnull=False)
    return qs.prefetch_related("steps").order_by("-detected_at", "-id")


def review_attack_get(*, store: Store, attack_id: int) -> ReviewAttack:
    return get_or_not_found(review_attack_list(store=store), _("差评攻击不存在"), pk=attack_id)


def review_attacks_open(*, store: Store) -> QuerySet[ReviewAttack]:
    return review_attack_list(store=store, status="open")


def review_attack_reviews(*, attack: ReviewAttack) -> QuerySet[Review]:
    return attack.reviews.select_related("channel").order_by("created_at", "id")


@dataclass(frozen=True, slots=True)
class AttackStepRow:
    step: str
    label: str
    done: ReviewAttackStep | None


def review_attack_steps(attack: ReviewAttack) -> list[AttackStepRow]:
    """The three playbook steps in order, each with its record when done."""
    done = {s.step: s for s in attack.steps.all()}
    return [AttackStepRow(step=v, label=str(label), done=done.get(v)) for v, label in AttackStep.choices]


def invitation_list(*, store: Store) -> QuerySet[ReviewInvitation]:
    return ReviewInvitation.objects.filter(store=store).select_related("channel")


# ---- CS-04: the root-cause report -----------------------------------------------------------------


def _complaints(store: Store, start: dt.datetime, end: dt.datetime) -> QuerySet[Ticket]:
    return Ticket.objects.filter(
        store=store, kind=TicketKind.COMPLAINT, opened_at__gte=start, opened_at__lt=end
    ).select_related("channel")


def _count_by(rows: Iterable[Ticket], key: Any) -> dict[str, int]:
    return dict(Counter(key(t) for t in rows))


def _texts(tickets: list[Ticket]) -> list[str]:
    bodies: dict[int, list[str]] = {t.pk: [t.subject] for t in tickets}
    for ticket_id, body in TicketMessage.objects.filter(
        ticket_id__in=list(bodies), author_kind=Author.CUSTOMER
    ).values_list("ticket_id", "body"):
        bodies[ticket_id].append(body)
    return ["\n".join(parts) for parts in bodies.values()]


def _rows(current: dict[str, int], previous: dict[str, int], labels: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {
            "key": r.key,
            "label": labels.get(r.key, r.key) or "-",
            "count": r.count,
            "share": str(r.share),
            "previous": r.previous,
            "trend": None if r.trend is None else str(r.trend),
        }
        for r in rules.group_rows(current, previous)
    ]


def _sla(tickets: list[Ticket]) -> dict[str, Any]:
    responded = [t for t in tickets if t.first_response_at is not None]
    resolved = [t for t in tickets if t.resolved_at is not None]
    crises = [t for t in tickets if t.tier == rules.Tier.CRISIS]
    seconds = [t.first_response_seconds for t in responded if t.first_response_seconds is not None]
    on_time_response = sum(1 for t in responded if rules.met(t.response_due_at, t.first_response_at))
    on_time_resolution = sum(1 for t in resolved if rules.met(t.resolution_due_at, t.resolved_at))
    statements = sum(1 for t in crises if rules.met(t.statement_due_at, t.statement_published_at))
    return {
        "tickets": len(tickets),
        "responded": len(responded),
        "response_on_time": on_time_response,
        "response_rate": str(rules.share(on_time_response, len(tickets))),
        "resolved": len(resolved),
        "resolution_on_time": on_time_resolution,
        "resolution_rate": str(rules.share(on_time_resolution, len(tickets))),
        "first_response_median_seconds": int(statistics.median(seconds)) if seconds else None,
        "crises": len(crises),
        "statements_on_time": statements,
    }


def complaint_report(*, store: Store, start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    """Complaints opened in ``[start, end)`` by category, tier, product (SKU) and channel, with
    share and trend against the period of the same length before, the most frequent complaint
    terms, and SLA attainment (CS-01/02). JSON-ready (decimals as strings)."""
    previous_start = start - (end - start)
    current = list(_complaints(store, start, end))
    previous = list(_complaints(store, previous_start, start))
    channels = {t.channel_id: t.channel.name for t in current + previous}
    groups = {
        "by_category": (lambda t: t.category, dict(TicketCategory.choices)),
        "by_tier": (lambda t: t.tier, dict(TicketTier.choices)),
        "by_sku": (lambda t: t.sku_code, {"": gettext_lazy("未关联商品")}),  # was "-"
        "by_channel": (lambda t: str(t.channel_id), {str(k): v for k, v in channels.items()}),
    }
    terms = list(rules.COMPLAINT_TERMS) + [
        w
        for words in ReplyScript.objects.filter(store=store).values_list("keywords", flat=True)
        for w in words or []
    ]
    playbook = playbook_get(store=store)
    return {
        "store": store.code,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "previous_start": previous_start.isoformat(),
        "total": len(current),
        "previous_total": len(previous),
        "trend": None if (tr := rules.trend(len(current), len(previous))) is None else str(tr),
        **{
            name: _rows(
                _count_by(current, key), _count_by(previous, key), {k: str(v) for k, v in labels.items()}
            )
            for name, (key, labels) in groups.items()
        },
        "top_keywords": [
            {"keyword": k, "count": n} for k, n in rules.term_counts(_texts(current), terms, limit=15)
        ],
        "sla": _sla(current),
        "chat": chat_response_report(store=store, start=start, end=end).as_dict(
            playbook.chat_first_response_seconds
        ),
    }


# ---- CS-02: chat first response ---------------------------------------------------------------


def chat_facts(*, store: Store, start: dt.datetime, end: dt.datetime) -> Iterator[rules.ChatFacts]:
    """Every chat (any kind: inquiries and complaints) opened in ``[start, end)``."""
    rows = Ticket.objects.filter(
        store=store,
        medium=TicketMedium.CHAT,
        opened_at__gte=start,
        opened_at__lt=end,
        chat_response_due_at__isnull=False,
    ).values_list("chat_response_due_at", "first_response_at", "first_response_seconds")
    for due_at, first_at, seconds in rows.iterator():
        yield rules.ChatFacts(due_at=due_at, first_response_at=first_at, first_response_seconds=seconds)


@dataclass(frozen=True, slots=True)
class ChatReport:
    stats: rules.ChatStats

    def as_dict(self, target_seconds: int) -> dict[str, Any]:
        st = self.stats
        return {
            "target_seconds": target_seconds,
            "chats": st.chats,
            "due": st.due,
            "answered": st.answered,
            "within_target": st.within,
            "late_unanswered": st.late_unanswered,
            "share_within_target": None if st.share is None else str(st.share),
            "median_seconds": st.median_seconds,
            "p90_seconds": st.p90_seconds,
        }


def chat_response_report(
    *, store: Store, start: dt.datetime, end: dt.datetime, now: dt.datetime | None = None
) -> ChatReport:
    """CS-02 chat first response of the chats opened in ``[start, end)``, judged at ``now``: a
    chat still unanswered past its deadline is a miss, one whose deadline is still running is
    not judged yet."""
    facts = chat_facts(store=store, start=start, end=end)
    return ChatReport(stats=rules.chat_response_stats(facts, now or timezone.now()))


def report_period(
    start: dt.date | None, end: dt.date | None, days: int = 7
) -> tuple[dt.datetime, dt.datetime]:
    """``[start, end]`` as whole local days (default: the last ``days`` days up to today).
    The API takes days from 2000 on (``core.api.ReportDay``)."""
    today = timezone.localdate()
    end = end or today
    start = start or end - dt.timedelta(days=days - 1)
    if start > end:
        raise ValidationError(_("开始日期不能晚于结束日期"), fields={"start": _("开始日期不能晚于结束日期")})
    if (end - start).days > 366:
        raise ValidationError(_("报告期最长一年"), fields={"end": _("报告期最长一年")})
    tz = timezone.get_current_timezone()
    return (
        dt.datetime.combine(start, dt.time.min, tzinfo=tz),
        dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz),
    )


def report_list(*, store: Store) -> QuerySet[ComplaintReport]:
    return ComplaintReport.objects.filter(store=store)


def top_questions(
    *, store: Store, start: dt.datetime, end: dt.datetime, limit: int = 10
) -> list[dict[str, Any]]:
    """The customers' most frequent questions in ``[start, end)`` (for the campaign
    post-mortem): each ticket's subject and customer messages are matched to the scripts
    library; a ticket counts once, under its best script's title, or under its subject when no
    script matches."""
    tickets = list(Ticket.objects.filter(store=store, opened_at__gte=start, opened_at__lt=end))
    matcher = script_matcher(store=store)
    counts: Counter[str] = Counter()
    for ticket, text in zip(tickets, _texts(tickets), strict=True):
        best = matcher.match(text, limit=1)
        counts[best[0].title if best else ticket.subject] += 1
    total = sum(counts.values())
    return [
        {"question": q, "count": n, "share": str(rules.share(n, total))}
        for q, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    ]


def review_keywords(
    *, store: Store, start: dt.datetime, end: dt.datetime, limit: int = 10
) -> list[dict[str, Any]]:
    """The terms customers use most in reviews written in ``[start, end)`` (a review counts
    once per term), with the average rating of the reviews using each."""
    rows = list(
        Review.objects.filter(store=store, created_at__gte=start, created_at__lt=end).values_list(
            "text", "rating"
        )
    )
    top = rules.term_counts((text for text, _r in rows), rules.REVIEW_TERMS, limit=limit)
    scanner_terms = {k for k, _n in top}
    ratings: dict[str, list[int]] = {k: [] for k in scanner_terms}
    matcher = rules.ScriptMatcher(
        [rules.ScriptEntry(i, k, (k,)) for i, k in enumerate(sorted(scanner_terms))]
    )
    for text, rating in rows:
        for m in matcher.match(text, limit=len(scanner_terms) or 1):
            ratings[m.title].append(rating)
    return [
        {
            "keyword": k,
            "count": n,
            "avg_rating": str(round(sum(ratings[k]) / len(ratings[k]), 2)) if ratings[k] else None,
        }
        for k, n in top
    ]


# --- system failures (RISK-04) ---------------------------------------------------------------


INCIDENT_STATUS_CHOICES = IncidentStatus.choices


def incident_list(*, store: Store, status: str = "") -> QuerySet[Incident]:
    """Incidents, newest first; ``status`` one status or ``open`` (not closed)."""
    qs = Incident.objects.filter(store=store).prefetch_related("channels")
    if status == "open":
        qs = qs.exclude(status=IncidentStatus.CLOSED)
    elif status:
        if status not in IncidentStatus.values:
            raise ValidationError(_("状态筛选无效"), fields={"status": _("未知的状态")})
        qs = qs.filter(status=status)
    return qs.order_by("-started_at", "-id")


def incident_get(*, store: Store, incident_id: int) -> Incident:
    return get_or_not_found(
        Incident.objects.prefetch_related("channels", "steps"),
        gettext_lazy("故障记录不存在"),
        store=store,
        pk=incident_id,
    )


def incidents_open(*, store: Store) -> QuerySet[Incident]:
    return Incident.objects.filter(store=store).exclude(status=IncidentStatus.CLOSED).order_by("started_at")


# --- customer service and failures for the team KPIs (TEAM-01) ----------------------------------


@dataclass(frozen=True, slots=True)
class AgentRow:
    username: str
    tickets: int
    responded: int
    median_response_minutes: float | None
    resolved: int


@dataclass(frozen=True, slots=True)
class ServiceSummary:
    tickets: int  # opened in the period
    median_response_minutes: float | None  # opened → first agent reply, of those answered
    reviews: int
    average_rating: float | None
    positive_reviews: int  # rated 4 or 5
    incidents: int  # overlapping the period
    downtime_minutes: float  # of the period, failed (incidents on any channel, merged)
    agents: list[AgentRow]


def _minutes(delta: dt.timedelta) -> float:
    return delta.total_seconds() / 60


def service_summary(*, store: Store, since: dt.datetime, until: dt.datetime) -> ServiceSummary:
    tickets = list(
        Ticket.objects.filter(store=store, opened_at__gte=since, opened_at__lt=until).select_related("owner")
    )
    waits = [_minutes(t.first_response_at - t.opened_at) for t in tickets if t.first_response_at]
    per_agent: dict[str, list[Ticket]] = {}
    for t in tickets:
        per_agent.setdefault(t.owner.get_username() if t.owner_id else "", []).append(t)
    agents = []
    for name, rows in sorted(per_agent.items()):
        answered = [_minutes(t.first_response_at - t.opened_at) for t in rows if t.first_response_at]
        agents.append(
            AgentRow(
                username=name,
                tickets=len(rows),
                responded=len(answered),
                median_response_minutes=statistics.median(answered) if answered else None,
                resolved=sum(1 for t in rows if t.resolved_at is not None),
            )
        )
    ratings = list(
        Review.objects.filter(store=store, created_at__gte=since, created_at__lt=until).values_list(
            "rating", flat=True
        )
    )
    incidents = Incident.objects.filter(store=store, started_at__lt=until).filter(
        Q(ended_at__isnull=True) | Q(ended_at__gt=since)
    )
    spans = sorted(
        (max(i.started_at, since), min(i.ended_at or until, until)) for i in incidents.order_by("started_at")
    )
    downtime, covered_to = 0.0, since
    for began, end in spans:  # merge overlapping incidents: a minute down counts once
        start = max(began, covered_to)
        if end > start:
            downtime += _minutes(end - start)
            covered_to = end
    return ServiceSummary(
        tickets=len(tickets),
        median_response_minutes=statistics.median(waits) if waits else None,
        reviews=len(ratings),
        average_rating=sum(ratings) / len(ratings) if ratings else None,
        positive_reviews=sum(1 for r in ratings if r >= 4),
        incidents=len(spans),
        downtime_minutes=downtime,
        agents=agents,
    )
