"""Customer-service API (/api/v1/service): tickets and complaints (CS-01/02), reply scripts
and FAQ suggestions (CS-03), the root-cause report (CS-04), reviews (LOG-02), mass
negative-review attacks and their playbook (RISK-02), the system-failure playbook (RISK-04)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import File, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import Field

from storeops.accounts.access import perm, principal
from storeops.core.api import OneOf, Page, ReportDay, paginate
from storeops.core.errors import ValidationError
from storeops.service import selectors, services
from storeops.service.models import (
    AttackStep,
    Incident,
    IncidentStatus,
    NpsResponse,
    ReplyScript,
    ReviewAttack,
    Ticket,
    TicketCategory,
    TicketKind,
    TicketMedium,
    TicketMessage,
    TicketStatus,
    TicketTier,
    TicketTransfer,
)
from storeops.service.rules import NpsBand, nps_band
from storeops.stores.models import Channel, Store

router = Router(tags=["service"])


def _store(store_id: int) -> Store:
    return get_object_or_404(Store, pk=store_id)


# ---- schemas ------------------------------------------------------------------------------------


class TicketIn(Schema):
    channel_id: int
    customer_ref: str
    subject: str
    category: Annotated[str, OneOf(TicketCategory)]
    tier: Annotated[str, OneOf(TicketTier)] = TicketTier.GENERAL
    kind: Annotated[str, OneOf(TicketKind)] = TicketKind.COMPLAINT
    medium: Annotated[str, OneOf(TicketMedium)] = TicketMedium.OTHER
    order_ref: str = ""
    sku_code: str = ""
    message: str = ""


class TicketOut(Schema):
    id: int
    channel_id: int
    kind: str
    medium: str
    category: str
    tier: str
    status: str
    subject: str
    customer_ref: str
    high_value: bool  # a high-value customer's ticket (MEM-04 dedicated service, 专属客服)
    order_ref: str
    sku_code: str
    owner: str | None
    opened_at: dt.datetime
    first_response_at: dt.datetime | None
    first_response_seconds: int | None
    response_due_at: dt.datetime
    chat_response_due_at: dt.datetime | None
    resolution_due_at: dt.datetime
    escalated: bool
    statement_due_at: dt.datetime | None
    statement_published_at: dt.datetime | None
    resolved_at: dt.datetime | None
    closed_at: dt.datetime | None
    overdue: bool

    @staticmethod
    def resolve_owner(obj: Ticket) -> str | None:
        return obj.owner.get_username() if obj.owner else None

    @staticmethod
    def resolve_overdue(obj: Ticket) -> bool:
        return obj.is_overdue


class MessageOut(Schema):
    id: int
    author_kind: str
    author: str | None
    body: str
    script_id: int | None
    sent_at: dt.datetime

    @staticmethod
    def resolve_author(obj: TicketMessage) -> str | None:
        return obj.author.get_username() if obj.author else None


class TransferOut(Schema):
    from_user: str | None
    to_user: str
    by_user: str | None
    reason: str
    at: dt.datetime

    @staticmethod
    def resolve_from_user(obj: TicketTransfer) -> str | None:
        return obj.from_user.get_username() if obj.from_user else None

    @staticmethod
    def resolve_to_user(obj: TicketTransfer) -> str:
        return str(obj.to_user.get_username())

    @staticmethod
    def resolve_by_user(obj: TicketTransfer) -> str | None:
        return obj.by_user.get_username() if obj.by_user else None


class TicketDetailOut(TicketOut):
    statement: str
    resolution_note: str
    refund_ref: str
    compensation_coupon: str
    no_remedy_reason: str
    reopened_count: int
    messages: list[MessageOut]
    transfers: list[TransferOut]

    @staticmethod
    def resolve_messages(obj: Ticket) -> list[Any]:
        return list(selectors.ticket_messages(ticket=obj))

    @staticmethod
    def resolve_transfers(obj: Ticket) -> list[Any]:
        return list(selectors.ticket_transfers(ticket=obj))


class MessageIn(Schema):
    body: str
    author: Literal["agent", "customer"] = "agent"
    script_id: int | None = None


class MessageResultOut(Schema):
    message: MessageOut
    auto_answer: MessageOut | None = None
    ticket: TicketOut


class TicketTransferIn(Schema):
    to_user_id: int
    reason: str


class EscalateIn(Schema):
    tier: Annotated[str, OneOf(TicketTier)]
    reason: str


class StatementIn(Schema):
    text: str


class ResolveIn(Schema):
    note: str
    refund_ref: str = ""
    compensate: bool = False
    coupon_template_id: int | None = None
    no_remedy_reason: str = ""


class ReopenIn(Schema):
    reason: str


class ScriptIn(Schema):
    title: str
    body: str
    keywords: list[str] = []
    category: Annotated[str, OneOf(TicketCategory, blank=True)] = ""  # "": every category
    is_quick: bool = False
    auto_answer: bool = False


class ScriptPatch(Schema):
    title: str | None = None
    body: str | None = None
    keywords: list[str] | None = None
    category: Annotated[str, OneOf(TicketCategory, blank=True)] | None = None
    is_quick: bool | None = None
    auto_answer: bool | None = None
    is_active: bool | None = None


class ScriptOut(Schema):
    id: int
    title: str
    category: str
    keywords: list[str]
    body: str
    is_quick: bool
    auto_answer: bool
    is_active: bool
    uses: int


class SuggestIn(Schema):
    text: str
    category: Annotated[str, OneOf(TicketCategory, blank=True)] = ""
    customer: str = ""
    order: str = ""


class ScriptSuggestionOut(Schema):
    script_id: int
    title: str
    score: int
    keywords: list[str]
    text: str


class ReplySuggestionsOut(Schema):
    suggestions: list[ScriptSuggestionOut]
    auto_answer: ScriptSuggestionOut | None


class ReviewIn(Schema):
    channel_id: int
    order_ref: str
    sku_code: str
    customer_ref: str
    rating: int
    text: str = ""
    images: list[str] = []


class ReviewOut(Schema):
    id: int
    channel_id: int
    order_ref: str
    sku_code: str
    customer_ref: str
    rating: int
    text: str
    images: list[str]
    created_at: dt.datetime
    reward_coupon: str
    reward_note: str


class GroupRowOut(Schema):
    key: str
    label: str
    count: int
    share: Decimal
    previous: int
    trend: Decimal | None


class ComplaintKeywordOut(Schema):
    keyword: str
    count: int


class SlaOut(Schema):
    tickets: int
    responded: int
    response_on_time: int
    response_rate: Decimal
    resolved: int
    resolution_on_time: int
    resolution_rate: Decimal
    first_response_median_seconds: int | None
    crises: int
    statements_on_time: int


class ChatResponseOut(Schema):
    """CS-02: chats (any kind) opened in the period; ``due`` = chats that can be judged
    (answered, or unanswered past their deadline)."""

    target_seconds: int
    chats: int
    due: int
    answered: int
    within_target: int
    late_unanswered: int
    share_within_target: Decimal | None
    median_seconds: int | None
    p90_seconds: int | None


class ReportOut(Schema):
    start: dt.datetime
    end: dt.datetime
    previous_start: dt.datetime
    total: int
    previous_total: int
    trend: Decimal | None
    by_category: list[GroupRowOut]
    by_tier: list[GroupRowOut]
    by_sku: list[GroupRowOut]
    by_channel: list[GroupRowOut]
    top_keywords: list[ComplaintKeywordOut]
    sla: SlaOut
    chat: ChatResponseOut


def _suggestion(s: selectors.Suggestion) -> dict[str, Any]:
    return {
        "script_id": s.script.pk,
        "title": s.script.title,
        "score": s.score,
        "keywords": list(s.keywords),
        "text": s.text,
    }


def _ticket(request: HttpRequest, store_id: int, ticket_id: int) -> Ticket:
    return selectors.ticket_get(store=_store(store_id), ticket_id=ticket_id)


# ---- tickets ------------------------------------------------------------------------------------


@router.get("/{store_id}/tickets", response=Page[TicketOut], auth=perm("service.view_ticket"))
def ticket_list(
    request: HttpRequest,
    store_id: int,
    status: Annotated[str, OneOf([*TicketStatus.values, "active"], blank=True)] = "",
    tier: Annotated[str, OneOf(TicketTier, blank=True)] = "",
    category: Annotated[str, OneOf(TicketCategory, blank=True)] = "",
    kind: Annotated[str, OneOf(TicketKind, blank=True)] = "",
    medium: Annotated[str, OneOf(TicketMedium, blank=True)] = "",
    owner: str = "",
    q: str = "",
    overdue: bool = False,
    high_value: bool = False,
    page: int = 1,
    page_size: int = 50,
) -> dict[str, Any]:
    """The ticket queue, high-value customers' active tickets first (MEM-04 专属客服), then
    newest first. ``status=active`` = open or in progress; ``owner`` is a user id, ``me`` or
    ``none`` (unowned); ``overdue=true`` lists tickets past a running deadline;
    ``high_value=true`` only high-value customers' tickets."""
    owner_id: int | None = None
    if owner == "me":
        owner_id = request.user.pk
    elif owner and owner != "none":
        if not owner.isdigit():
            raise ValidationError(_("负责人参数有误"), fields={"owner": _("用户编号、me 或 none")})
        owner_id = int(owner)
    qs = selectors.ticket_list(
        store=_store(store_id),
        status=status,
        tier=tier,
        category=category,
        kind=kind,
        medium=medium,
        owner_id=owner_id,
        unowned=owner == "none",
        q=q.strip(),
        overdue=overdue,
        high_value=high_value,
    )
    return paginate(qs, page, page_size)


@router.get("/{store_id}/tickets/{ticket_id}", response=TicketDetailOut, auth=perm("service.view_ticket"))
def ticket_detail(request: HttpRequest, store_id: int, ticket_id: int) -> Ticket:
    return _ticket(request, store_id, ticket_id)


@router.post("/{store_id}/tickets", response={201: TicketDetailOut}, auth=perm("service.add_ticket"))
def ticket_open(request: HttpRequest, store_id: int, payload: TicketIn) -> Status:
    store = _store(store_id)
    channel = Channel.objects.filter(pk=payload.channel_id, store=store).first()
    if channel is None:
        raise ValidationError(_("渠道不存在"), fields={"channel_id": _("渠道不属于该店铺")})
    ticket = services.ticket_open(
        actor=principal(request).actor, store=store, channel=channel, **payload.dict(exclude={"channel_id"})
    )
    return Status(201, ticket)


@router.post(
    "/{store_id}/tickets/{ticket_id}/messages",
    response={201: MessageResultOut},
    auth=perm("service.change_ticket"),
)
def ticket_message(request: HttpRequest, store_id: int, ticket_id: int, payload: MessageIn) -> Status:
    """An agent's reply (``author=agent``, optionally from a script) or a customer's message
    (``author=customer``: FAQ automation may answer an inquiry at once)."""
    ticket = _ticket(request, store_id, ticket_id)
    actor = principal(request).actor
    if payload.author == "customer":
        result = services.ticket_customer_message(actor=actor, ticket=ticket, body=payload.body)
        return Status(201, {"message": result.message, "auto_answer": result.auto_answer, "ticket": ticket})
    script = (
        selectors.script_get(store=ticket.store, script_id=payload.script_id) if payload.script_id else None
    )
    msg = services.ticket_reply(actor=actor, ticket=ticket, body=payload.body, script=script)
    return Status(201, {"message": msg, "auto_answer": None, "ticket": ticket})


@router.post(
    "/{store_id}/tickets/{ticket_id}/transfer", response=TicketDetailOut, auth=perm("service.change_ticket")
)
def ticket_transfer(request: HttpRequest, store_id: int, ticket_id: int, payload: TicketTransferIn) -> Ticket:
    """Hand the ticket to another agent: only its owner or a supervisor may (首问负责制)."""
    ticket = _ticket(request, store_id, ticket_id)
    who = principal(request)
    services.ticket_transfer(
        actor=who.actor,
        ticket=ticket,
        to_user=selectors.user_get(user_id=payload.to_user_id),
        reason=payload.reason,
        supervisor=who.has_perm(services.SUPERVISE),
    )
    return ticket


@router.post(
    "/{store_id}/tickets/{ticket_id}/escalate", response=TicketDetailOut, auth=perm("service.change_ticket")
)
def ticket_escalate(request: HttpRequest, store_id: int, ticket_id: int, payload: EscalateIn) -> Ticket:
    ticket = _ticket(request, store_id, ticket_id)
    return services.ticket_escalate(
        actor=principal(request).actor, ticket=ticket, tier=payload.tier, reason=payload.reason
    )


@router.post(
    "/{store_id}/tickets/{ticket_id}/statement", response=TicketDetailOut, auth=perm("service.change_ticket")
)
def ticket_statement(request: HttpRequest, store_id: int, ticket_id: int, payload: StatementIn) -> Ticket:
    """Record a crisis's public statement (CS-01)."""
    ticket = _ticket(request, store_id, ticket_id)
    return services.ticket_publish_statement(actor=principal(request).actor, ticket=ticket, text=payload.text)


@router.post(
    "/{store_id}/tickets/{ticket_id}/resolve", response=TicketDetailOut, auth=perm("service.change_ticket")
)
def ticket_resolve(request: HttpRequest, store_id: int, ticket_id: int, payload: ResolveIn) -> Ticket:
    ticket = _ticket(request, store_id, ticket_id)
    return services.ticket_resolve(actor=principal(request).actor, ticket=ticket, **payload.dict())


@router.post(
    "/{store_id}/tickets/{ticket_id}/close", response=TicketDetailOut, auth=perm("service.change_ticket")
)
def ticket_close(request: HttpRequest, store_id: int, ticket_id: int) -> Ticket:
    return services.ticket_close(actor=principal(request).actor, ticket=_ticket(request, store_id, ticket_id))


@router.post(
    "/{store_id}/tickets/{ticket_id}/reopen", response=TicketDetailOut, auth=perm("service.change_ticket")
)
def ticket_reopen(request: HttpRequest, store_id: int, ticket_id: int, payload: ReopenIn) -> Ticket:
    ticket = _ticket(request, store_id, ticket_id)
    return services.ticket_reopen(actor=principal(request).actor, ticket=ticket, reason=payload.reason)


# ---- scripts ------------------------------------------------------------------------------------


@router.get("/{store_id}/scripts", response=list[ScriptOut], auth=perm("service.view_replyscript"))
def script_list(
    request: HttpRequest,
    store_id: int,
    q: str = "",
    category: Annotated[str, OneOf(TicketCategory, blank=True)] = "",
    quick: bool = False,
) -> list[ReplyScript]:
    return list(
        selectors.script_list(store=_store(store_id), q=q.strip(), category=category, quick_only=quick)
    )


@router.post("/{store_id}/scripts", response={201: ScriptOut}, auth=perm("service.add_replyscript"))
def script_create(request: HttpRequest, store_id: int, payload: ScriptIn) -> Status:
    script = services.script_create(actor=principal(request).actor, store=_store(store_id), **payload.dict())
    return Status(201, script)


@router.patch("/{store_id}/scripts/{script_id}", response=ScriptOut, auth=perm("service.change_replyscript"))
def script_update(request: HttpRequest, store_id: int, script_id: int, payload: ScriptPatch) -> ReplyScript:
    script = selectors.script_get(store=_store(store_id), script_id=script_id)
    changes = {k: v for k, v in payload.dict().items() if v is not None}
    return services.script_update(actor=principal(request).actor, script=script, **changes)


@router.delete(
    "/{store_id}/scripts/{script_id}", response={204: None}, auth=perm("service.delete_replyscript")
)
def script_delete(request: HttpRequest, store_id: int, script_id: int) -> Status:
    script = selectors.script_get(store=_store(store_id), script_id=script_id)
    services.script_delete(actor=principal(request).actor, script=script)
    return Status(204, None)


@router.post(
    "/{store_id}/reply-suggestions", response=ReplySuggestionsOut, auth=perm("service.view_replyscript")
)
def script_suggest(request: HttpRequest, store_id: int, payload: SuggestIn) -> dict[str, Any]:
    """The scripts that best answer a customer's message, placeholders filled; ``auto_answer``
    is the one FAQ automation would send by itself (CS-03)."""
    result = selectors.script_suggest(
        store=_store(store_id),
        text=payload.text,
        category=payload.category,
        values={"customer": payload.customer, "order": payload.order},
    )
    return {
        "suggestions": [_suggestion(s) for s in result.suggestions],
        "auto_answer": _suggestion(result.auto_answer) if result.auto_answer else None,
    }


# ---- reviews (LOG-02) -------------------------------------------------------------------------


@router.get("/{store_id}/reviews", response=Page[ReviewOut], auth=perm("service.view_review"))
def review_list(
    request: HttpRequest,
    store_id: int,
    rating: Annotated[int, Field(ge=1, le=5)] | None = None,
    with_images: bool = False,
    q: str = "",
    page: int = 1,
    page_size: int = 50,
) -> dict[str, Any]:
    qs = selectors.review_list(store=_store(store_id), rating=rating, with_images=with_images, q=q.strip())
    return paginate(qs, page, page_size)


@router.post("/{store_id}/reviews", response={201: ReviewOut}, auth=perm("service.add_review"))
def review_create(request: HttpRequest, store_id: int, payload: ReviewIn) -> Status:
    """Record a review; one with photos earns the playbook's reward coupon (晒图评价送券)."""
    store = _store(store_id)
    channel = Channel.objects.filter(pk=payload.channel_id, store=store).first()
    if channel is None:
        raise ValidationError(_("渠道不存在"), fields={"channel_id": _("渠道不属于该店铺")})
    review = services.review_create(
        actor=principal(request).actor, store=store, channel=channel, **payload.dict(exclude={"channel_id"})
    )
    return Status(201, review)


# ---- mass negative-review attacks (RISK-02) -----------------------------------------------------


class AttackStepRecordOut(Schema):
    by: str
    at: dt.datetime
    note: str


class AttackStepOut(Schema):
    step: str
    label: str
    done: AttackStepRecordOut | None

    @staticmethod
    def resolve_done(obj: selectors.AttackStepRow) -> dict[str, Any] | None:
        d = obj.done
        return None if d is None else {"by": d.actor_label, "at": d.at, "note": d.note}


class ReviewAttackOut(Schema):
    id: int
    first_review_at: dt.datetime
    last_review_at: dt.datetime
    detected_at: dt.datetime
    closed_at: dt.datetime | None
    review_count: int
    steps: list[AttackStepOut]
    missing: list[str]

    @staticmethod
    def resolve_steps(obj: ReviewAttack) -> list[Any]:
        return selectors.review_attack_steps(obj)

    @staticmethod
    def resolve_missing(obj: ReviewAttack) -> list[str]:
        return [r.step for r in selectors.review_attack_steps(obj) if r.done is None]


class ReviewAttackDetailOut(ReviewAttackOut):
    reviews: list[ReviewOut]

    @staticmethod
    def resolve_reviews(obj: ReviewAttack) -> list[Any]:
        return list(selectors.review_attack_reviews(attack=obj))


class AttackStepIn(Schema):
    step: Annotated[str, OneOf(AttackStep)]
    note: str


def _attack(store_id: int, attack_id: int) -> ReviewAttack:
    return selectors.review_attack_get(store=_store(store_id), attack_id=attack_id)


@router.get(
    "/{store_id}/review-attacks", response=Page[ReviewAttackOut], auth=perm("service.view_reviewattack")
)
def review_attack_list(
    request: HttpRequest,
    store_id: int,
    status: Annotated[str, OneOf(["open", "closed"], blank=True)] = "",
    page: int = 1,
    page_size: int = 50,
) -> dict[str, Any]:
    """Mass negative-review attacks, newest first; ``status=open``: playbook steps missing."""
    return paginate(selectors.review_attack_list(store=_store(store_id), status=status), page, page_size)


@router.get(
    "/{store_id}/review-attacks/{attack_id}",
    response=ReviewAttackDetailOut,
    auth=perm("service.view_reviewattack"),
)
def review_attack_detail(request: HttpRequest, store_id: int, attack_id: int) -> ReviewAttack:
    return _attack(store_id, attack_id)


@router.post(
    "/{store_id}/review-attacks/{attack_id}/steps",
    response=ReviewAttackDetailOut,
    auth=perm("service.change_reviewattack"),
)
def review_attack_step(
    request: HttpRequest, store_id: int, attack_id: int, payload: AttackStepIn
) -> ReviewAttack:
    """Record the next playbook step (evidence → appeal → communicate) with a note: a step
    out of order or recorded twice is a 409; the third closes the attack and its finding."""
    services.review_attack_step(
        actor=principal(request).actor,
        attack=_attack(store_id, attack_id),
        step=payload.step,
        note=payload.note,
    )
    return _attack(store_id, attack_id)


# ---- net promoter score (DATA-01) -------------------------------------------------------------

MAX_NPS_FILE_BYTES = 20 * 1024 * 1024


class NpsIn(Schema):
    score: int  # 0–10: how likely to recommend the shop to a friend
    channel_id: int | None = None
    customer_ref: str = ""
    order_ref: str = ""
    external_ref: str = ""  # the survey tool's answer id: the same answer is counted once
    comment: str = ""
    responded_at: dt.datetime | None = None  # default: now


class NpsOut(Schema):
    id: int
    score: int
    band: str
    channel_id: int | None
    customer_ref: str
    order_ref: str
    external_ref: str
    comment: str
    source: str
    responded_at: dt.datetime

    @staticmethod
    def resolve_band(obj: NpsResponse) -> str:
        return str(nps_band(obj.score))


class NpsImportOut(Schema):
    rows: int
    imported: int
    duplicates: int


class NpsTallyOut(Schema):
    responses: int
    promoters: int
    passives: int
    detractors: int
    nps: float | None  # % promoters − % detractors, −100…100
    enough: bool  # at least the playbook's nps_min_responses answers: judged against the target
    meets_target: bool | None


class NpsWeekOut(Schema):
    start: dt.date
    end: dt.date
    tally: NpsTallyOut
    scores: list[int]  # answers per score 0…10


class NpsOverviewOut(Schema):
    target: int
    min_responses: int
    total: NpsWeekOut
    weeks: list[NpsWeekOut]  # newest first


def _nps_week_out(week: selectors.NpsWeek, target: int) -> dict[str, Any]:
    tally = week.tally
    score = tally.score
    return {
        "start": week.start,
        "end": week.end,
        "scores": list(week.scores),
        "tally": {
            "responses": tally.responses,
            "promoters": tally.promoters,
            "passives": tally.passives,
            "detractors": tally.detractors,
            "nps": None if score is None else float(score),
            "enough": tally.enough,
            "meets_target": tally.meets(target),
        },
    }


@router.get("/{store_id}/nps", response=Page[NpsOut], auth=perm("service.view_npsresponse"))
def nps_list(
    request: HttpRequest,
    store_id: int,
    band: Annotated[str, OneOf(NpsBand, blank=True)] = "",
    channel_id: int | None = None,
    since: ReportDay | None = None,
    until: ReportDay | None = None,
    q: str = "",
    page: int = 1,
    page_size: int = 50,
) -> dict[str, Any]:
    """Answers newest first; ``since``/``until`` are days (store time, both included)."""
    tz = timezone.get_current_timezone()

    def start_of(day: dt.date | None) -> dt.datetime | None:
        return None if day is None else timezone.make_aware(dt.datetime.combine(day, dt.time()), tz)

    qs = selectors.nps_list(
        store=_store(store_id),
        band=band,
        channel_id=channel_id,
        q=q.strip(),
        since=start_of(since),
        until=start_of(until + dt.timedelta(days=1)) if until and until < dt.date.max else None,
    )
    return paginate(qs, page, page_size)


@router.post("/{store_id}/nps", response={201: NpsOut}, auth=perm("service.add_npsresponse"))
def nps_create(request: HttpRequest, store_id: int, payload: NpsIn) -> Status:
    """Record one answer (the web shop's survey, or a survey tool's webhook). The same
    ``external_ref`` or ``order_ref`` again is a 409 and counts once."""
    store = _store(store_id)
    channel = None
    if payload.channel_id is not None:
        channel = Channel.objects.filter(pk=payload.channel_id, store=store).first()
        if channel is None:
            raise ValidationError(_("渠道不存在"), fields={"channel_id": _("渠道不属于该店铺")})
    answer = services.nps_record(
        actor=principal(request).actor,
        store=store,
        channel=channel,
        **payload.dict(exclude={"channel_id"}),
    )
    return Status(201, answer)


@router.post("/{store_id}/nps/import", response={201: NpsImportOut}, auth=perm("service.add_npsresponse"))
def nps_import(request: HttpRequest, store_id: int, file: File[UploadedFile]) -> Status:
    """Import a survey export (.csv or .xlsx) with a 推荐意愿 (score) column and optionally
    答卷时间, 答卷编号, 订单号, 顾客, 渠道, 意见. Answers already recorded are skipped."""
    store = _store(store_id)
    if file.size and file.size > MAX_NPS_FILE_BYTES:
        raise ValidationError(_("文件过大（最大 20 MB）"), fields={"file": _("文件过大")})
    result = services.nps_import(
        actor=principal(request).actor, store=store, file_name=file.name or "", data=file.read()
    )
    return Status(201, result)


@router.get("/{store_id}/nps/weekly", response=NpsOverviewOut, auth=perm("service.view_npsresponse"))
def nps_weekly(
    request: HttpRequest,
    store_id: int,
    weeks: Annotated[int, Field(ge=1, le=selectors.NPS_MAX_WEEKS)] = 8,
    channel_id: int | None = None,
) -> dict[str, Any]:
    """DATA-01: the NPS of each calendar week (Monday–Sunday, store time), newest first, with
    the playbook's target; a week with fewer than ``nps_min_responses`` answers is not judged."""
    overview = selectors.nps_overview(store=_store(store_id), weeks=weeks, channel_id=channel_id)
    return {
        "target": overview.target,
        "min_responses": overview.min_responses,
        "total": _nps_week_out(overview.total, overview.target),
        "weeks": [_nps_week_out(w, overview.target) for w in overview.weeks],
    }


# ---- the root-cause report (CS-04) ------------------------------------------------------------


@router.get("/{store_id}/report", response=ReportOut, auth=perm("service.view_complaintreport"))
def complaint_report(
    request: HttpRequest, store_id: int, start: ReportDay | None = None, end: ReportDay | None = None
) -> dict[str, Any]:
    """Complaints of ``[start, end]`` (dates, default the last 7 days) by category, tier,
    product and channel with share and trend, top keywords and SLA attainment; ``chat``: the
    first response of the period's chats of any kind (CS-02: median, p90, share within target)."""
    begin, finish = selectors.report_period(start, end)
    return selectors.complaint_report(store=_store(store_id), start=begin, end=finish)


# --- system failures (RISK-04) ---------------------------------------------------------------


class IncidentIn(Schema):
    title: str
    started_at: dt.datetime
    description: str = ""
    channel_ids: list[int] = []  # none: every channel of the store


class IncidentNoteIn(Schema):
    note: str


class IncidentRecoverIn(Schema):
    ended_at: dt.datetime
    note: str = ""


class IncidentNoticeIn(Schema):
    text: str
    channel: Annotated[str, OneOf(services.NOTICE_CHANNELS)] = "sms"  # message: the in-app message


class IncidentCompensateIn(Schema):
    template_id: int | None = None  # default: the playbook's incident_compensation_coupon_template


class IncidentStepOut(Schema):
    kind: str
    note: str
    actor_label: str
    at: dt.datetime


class IncidentOut(Schema):
    id: int
    title: str
    description: str
    status: str
    channel_ids: list[int]
    started_at: dt.datetime
    ended_at: dt.datetime | None
    failover_note: str
    failover_at: dt.datetime | None
    notice_text: str
    noticed_at: dt.datetime | None
    noticed_count: int
    compensation_template_id: int | None
    compensated_at: dt.datetime | None
    compensated_count: int
    close_note: str
    closed_at: dt.datetime | None
    created_by: str

    @staticmethod
    def resolve_channel_ids(obj: Incident) -> list[int]:
        return [c.pk for c in obj.channels.all()]


class IncidentDetailOut(IncidentOut):
    steps: list[IncidentStepOut]
    customers_touched: int

    @staticmethod
    def resolve_steps(obj: Incident) -> list[Any]:
        return list(obj.steps.all())

    @staticmethod
    def resolve_customers_touched(obj: Incident) -> int:
        return len(services.incident_affected_orders(obj))


class IncidentActionOut(Schema):
    incident: IncidentDetailOut
    customers: int  # told / compensated by this call


def _incident(store_id: int, incident_id: int) -> Incident:
    return selectors.incident_get(store=get_object_or_404(Store, pk=store_id), incident_id=incident_id)


@router.get("/{store_id}/incidents", response=Page[IncidentOut], auth=perm("service.view_incident"))
def incident_list(
    request: HttpRequest,
    store_id: int,
    status: Annotated[str, OneOf([*IncidentStatus.values, "open"], blank=True)] = "",
    page: int = 1,
    page_size: int = 50,
) -> dict[str, Any]:
    """Incidents, newest first; ``status`` ongoing / recovered / closed or ``open`` (not closed)."""
    store = get_object_or_404(Store, pk=store_id)
    return paginate(selectors.incident_list(store=store, status=status), page, page_size)


@router.post("/{store_id}/incidents", response={201: IncidentDetailOut}, auth=perm("service.add_incident"))
def incident_open(request: HttpRequest, store_id: int, payload: IncidentIn) -> Any:
    store = get_object_or_404(Store, pk=store_id)
    incident = services.incident_open(actor=principal(request).actor, store=store, **payload.dict())
    return Status(201, incident)


@router.get(
    "/{store_id}/incidents/{incident_id}", response=IncidentDetailOut, auth=perm("service.view_incident")
)
def incident_detail(request: HttpRequest, store_id: int, incident_id: int) -> Incident:
    return _incident(store_id, incident_id)


@router.post(
    "/{store_id}/incidents/{incident_id}/failover",
    response=IncidentDetailOut,
    auth=perm("service.change_incident"),
)
def incident_failover(request: HttpRequest, store_id: int, incident_id: int, payload: IncidentNoteIn) -> Any:
    """What was switched over (backup gateway, read-only mode…)."""
    incident = _incident(store_id, incident_id)
    return services.incident_failover(actor=principal(request).actor, incident=incident, note=payload.note)


@router.post(
    "/{store_id}/incidents/{incident_id}/recover",
    response=IncidentDetailOut,
    auth=perm("service.change_incident"),
)
def incident_recover(
    request: HttpRequest, store_id: int, incident_id: int, payload: IncidentRecoverIn
) -> Any:
    incident = _incident(store_id, incident_id)
    return services.incident_recover(
        actor=principal(request).actor, incident=incident, ended_at=payload.ended_at, note=payload.note
    )


@router.post(
    "/{store_id}/incidents/{incident_id}/notice",
    response=IncidentActionOut,
    auth=perm("service.change_incident"),
)
def incident_notice(request: HttpRequest, store_id: int, incident_id: int, payload: IncidentNoticeIn) -> Any:
    """Tell the customers touched (each once, however often this is called)."""
    incident = _incident(store_id, incident_id)
    told = services.incident_notify(
        actor=principal(request).actor, incident=incident, text=payload.text, channel=payload.channel
    )
    return {"incident": _incident(store_id, incident_id), "customers": told}


@router.post(
    "/{store_id}/incidents/{incident_id}/compensate",
    response=IncidentActionOut,
    auth=perm("service.change_incident"),
)
def incident_compensate(
    request: HttpRequest, store_id: int, incident_id: int, payload: IncidentCompensateIn
) -> Any:
    """Issue the compensation coupon to the customers touched (each once)."""
    incident = _incident(store_id, incident_id)
    issued = services.incident_compensate(
        actor=principal(request).actor, incident=incident, template_id=payload.template_id
    )
    return {"incident": _incident(store_id, incident_id), "customers": issued}


@router.post(
    "/{store_id}/incidents/{incident_id}/close",
    response=IncidentDetailOut,
    auth=perm("service.change_incident"),
)
def incident_close(request: HttpRequest, store_id: int, incident_id: int, payload: IncidentNoteIn) -> Any:
    """Close a recovered incident with its post-mortem."""
    incident = _incident(store_id, incident_id)
    return services.incident_close(actor=principal(request).actor, incident=incident, note=payload.note)
