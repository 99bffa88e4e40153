"""Pure customer-service rules (no Django): the ticket state machine, complaint deadlines by
tier (CS-01/02), SLA states for the checks, reply-script matching and placeholders (CS-03),
report arithmetic (CS-04) and the review reward (LOG-02).

Everything here works on plain values (enums, datetimes, dataclasses), so the rules are
property-tested without a database.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from storeops.catalog.banned_words import BannedWordScanner


class Tier(enum.StrEnum):
    GENERAL = "general"  # e.g. logistics delay: answered within complaint_general_hours
    SERIOUS = "serious"  # e.g. quality: solved within complaint_serious_hours (refund + coupon)
    CRISIS = "crisis"  # media exposure: emergency group + public statement within crisis hours


TIER_RANK: dict[Tier, int] = {Tier.GENERAL: 0, Tier.SERIOUS: 1, Tier.CRISIS: 2}


class Status(enum.StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Action(enum.StrEnum):
    START = "start"  # the first agent reply
    RESOLVE = "resolve"
    CLOSE = "close"
    REOPEN = "reopen"


# The explicit transition table: (from, action) -> to. Anything else is an invalid transition.
TRANSITIONS: dict[tuple[Status, Action], Status] = {
    (Status.OPEN, Action.START): Status.IN_PROGRESS,
    (Status.OPEN, Action.RESOLVE): Status.RESOLVED,
    (Status.IN_PROGRESS, Action.RESOLVE): Status.RESOLVED,
    (Status.RESOLVED, Action.CLOSE): Status.CLOSED,
    (Status.RESOLVED, Action.REOPEN): Status.IN_PROGRESS,
    (Status.CLOSED, Action.REOPEN): Status.IN_PROGRESS,
}
ACTIVE = frozenset({Status.OPEN, Status.IN_PROGRESS})


def next_status(current: Status, action: Action) -> Status | None:
    """The status after ``action``, or None when the action is not allowed from ``current``."""
    return TRANSITIONS.get((current, action))


# ---- CS-01 / CS-02 deadlines -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SlaPolicy:
    """The playbook numbers the deadlines use (loaded from the store/channel playbook)."""

    general_hours: int = 2
    serious_hours: int = 4
    crisis_hours: int = 24
    resolution_hours: int = 24
    chat_first_response_seconds: int = 30
    warn_minutes: int = 30
    high_value_response_minutes: int = 30  # MEM-04 dedicated service: a high-value customer


@dataclass(frozen=True, slots=True)
class Deadlines:
    response: dt.datetime  # first answer (CS-01 general tier; every ticket is answered by then)
    resolution: dt.datetime  # solved (CS-01 serious tier 4 h, CS-02 24 h otherwise)
    statement: dt.datetime | None  # crisis only: public statement (CS-01)
    chat_response: dt.datetime | None = None  # chats only: first answer (CS-02, seconds)


def deadlines(
    *,
    tier: Tier,
    opened_at: dt.datetime,
    escalated_at: dt.datetime | None,
    policy: SlaPolicy,
    chat: bool = False,
    high_value: bool = False,
) -> Deadlines:
    """The deadlines of a ticket of ``tier`` opened at ``opened_at``.

    Every ticket is answered within the general tier's hours (no complaint waits longer than a
    logistics delay). It is solved within the serious tier's hours when serious or worse
    (never later than the resolution target), else within ``resolution_hours``. A crisis
    also owes a public statement ``crisis_hours`` after it was escalated (or opened as one).
    A chat also owes its first answer ``chat_first_response_seconds`` after it opened (CS-02);
    that target is measured as a share over all chats (:func:`chat_response_stats`), the
    general-hours answer stays each ticket's own deadline.
    A high-value customer's ticket (MEM-04 dedicated service) is answered within
    ``high_value_response_minutes`` when that is sooner than the general hours.
    """
    response = opened_at + dt.timedelta(hours=policy.general_hours)
    if high_value:
        response = min(response, opened_at + dt.timedelta(minutes=policy.high_value_response_minutes))
    resolve_hours = policy.resolution_hours
    if TIER_RANK[tier] >= TIER_RANK[Tier.SERIOUS]:
        resolve_hours = min(policy.serious_hours, policy.resolution_hours)
    resolution = opened_at + dt.timedelta(hours=resolve_hours)
    statement = None
    if tier == Tier.CRISIS:
        statement = (escalated_at or opened_at) + dt.timedelta(hours=policy.crisis_hours)
    chat_response = opened_at + dt.timedelta(seconds=policy.chat_first_response_seconds) if chat else None
    return Deadlines(
        response=response, resolution=resolution, statement=statement, chat_response=chat_response
    )


class SlaKind(enum.StrEnum):
    RESPONSE = "response"
    RESOLUTION = "resolution"
    STATEMENT = "statement"


class SlaState(enum.StrEnum):
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"


@dataclass(frozen=True, slots=True)
class TicketFacts:
    tier: Tier
    status: Status
    response_due_at: dt.datetime
    resolution_due_at: dt.datetime
    statement_due_at: dt.datetime | None = None
    first_response_at: dt.datetime | None = None
    resolved_at: dt.datetime | None = None
    statement_published_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class SlaBreach:
    kind: SlaKind
    state: SlaState
    due_at: dt.datetime
    minutes: int  # minutes left (due soon, >= 0) or overdue (> 0)


def _state(due: dt.datetime, now: dt.datetime, warn_minutes: int) -> tuple[SlaState, int] | None:
    if now >= due:
        return SlaState.OVERDUE, int((now - due).total_seconds() // 60)
    left = due - now
    if left <= dt.timedelta(minutes=warn_minutes):
        return SlaState.DUE_SOON, int(left.total_seconds() // 60)
    return None


def sla_breaches(facts: TicketFacts, now: dt.datetime, *, warn_minutes: int) -> list[SlaBreach]:
    """The deadlines of an open ticket that are past or within ``warn_minutes`` at ``now``.

    A deadline met (answered, resolved, statement published) is never reported, so a finding
    raised for it resolves itself on the next check run."""
    out: list[SlaBreach] = []
    active = facts.status in ACTIVE
    pending: list[tuple[SlaKind, dt.datetime | None, bool]] = [
        (SlaKind.RESPONSE, facts.response_due_at, active and facts.first_response_at is None),
        (SlaKind.RESOLUTION, facts.resolution_due_at, active and facts.resolved_at is None),
        (
            SlaKind.STATEMENT,
            facts.statement_due_at,
            facts.tier == Tier.CRISIS and facts.statement_published_at is None,
        ),
    ]
    for kind, due, waiting in pending:
        if not waiting or due is None:
            continue
        state = _state(due, now, warn_minutes)
        if state is not None:
            out.append(SlaBreach(kind=kind, state=state[0], due_at=due, minutes=state[1]))
    return out


def met(due: dt.datetime | None, done: dt.datetime | None) -> bool | None:
    """Was a deadline met? None when it does not apply or is still running."""
    if due is None or done is None:
        return None
    return done <= due


def percentile(values: Sequence[int], fraction: Decimal) -> int | None:
    """The nearest-rank percentile (``fraction`` 0.9 = p90) of ``values``: the smallest value
    with at least that fraction of the values at or below it; None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = int((fraction * len(ordered)).to_integral_value(rounding=ROUND_CEILING))
    return ordered[min(max(rank, 1), len(ordered)) - 1]


@dataclass(frozen=True, slots=True)
class ChatFacts:
    due_at: dt.datetime  # the chat's first-response deadline (opened + target seconds)
    first_response_at: dt.datetime | None
    first_response_seconds: int | None


@dataclass(frozen=True, slots=True)
class ChatStats:
    """CS-02 chat first response over a set of chats. ``due`` counts the chats whose deadline
    has passed (or that were answered): only they can be judged; ``within`` those answered by
    their deadline; a chat still unanswered past its deadline is a miss (``late_unanswered``)."""

    chats: int
    due: int
    answered: int
    within: int
    late_unanswered: int
    median_seconds: int | None
    p90_seconds: int | None

    @property
    def share(self) -> Decimal | None:
        """Share of the due chats answered within target (4 places); None with no due chat."""
        if not self.due:
            return None
        return (Decimal(self.within) / Decimal(self.due)).quantize(Decimal("0.0001"), ROUND_HALF_UP)


def chat_response_stats(chats: Iterable[ChatFacts], now: dt.datetime) -> ChatStats:
    """First-response statistics of ``chats`` at ``now`` (CS-02)."""
    total = due = answered = within = late = 0
    seconds: list[int] = []
    for chat in chats:
        total += 1
        if chat.first_response_at is None:
            if now > chat.due_at:
                due += 1
                late += 1
            continue
        due += 1
        answered += 1
        within += chat.first_response_at <= chat.due_at
        if chat.first_response_seconds is not None:
            seconds.append(chat.first_response_seconds)
    return ChatStats(
        chats=total,
        due=due,
        answered=answered,
        within=within,
        late_unanswered=late,
        median_seconds=int(statistics.median(seconds)) if seconds else None,
        p90_seconds=percentile(seconds, Decimal("0.9")),
    )


def chat_share_low(stats: ChatStats, *, min_share: Decimal, min_chats: int) -> bool:
    """Does the chats' share answered within target fall below ``min_share``? Only judged once
    at least ``min_chats`` chats are due (a quiet night's single late chat is not a trend)."""
    share = stats.share
    return share is not None and stats.due >= max(1, min_chats) and share < min_share


def remedy_missing(*, tier: Tier, refund_ref: str, coupon: bool, reason: str) -> bool:
    """CS-01: a serious (quality) or crisis complaint is solved with a refund and/or a
    compensation coupon; resolving it with neither needs a written reason."""
    if TIER_RANK[tier] < TIER_RANK[Tier.SERIOUS]:
        return False
    return not (refund_ref.strip() or coupon or reason.strip())


# ---- CS-03: reply scripts and FAQ automation --------------------------------------------------


_SPLIT = re.compile(r"[,，、;；\n]+")


def parse_keywords(text: str | Iterable[str]) -> tuple[str, ...]:
    """Keywords from a comma/newline separated text (or a list), stripped, de-duplicated,
    order kept."""
    parts = _SPLIT.split(text) if isinstance(text, str) else list(text)
    seen: dict[str, None] = {}
    for part in parts:
        word = str(part).strip()
        if word:
            seen.setdefault(word, None)
    return tuple(seen)


@dataclass(frozen=True, slots=True)
class ScriptEntry:
    script_id: int
    title: str
    keywords: tuple[str, ...]
    category: str = ""
    auto_answer: bool = False


@dataclass(frozen=True, slots=True)
class ScriptMatch:
    script_id: int
    title: str
    score: int  # total characters of the distinct keywords found (longer keywords weigh more)
    keywords: tuple[str, ...]
    auto_answer: bool


class ScriptMatcher:
    """All scripts' keywords in one Aho–Corasick automaton (the banned-word scanner of
    ``catalog.banned_words``: case- and width-insensitive); a message is scanned once."""

    def __init__(self, scripts: Sequence[ScriptEntry]) -> None:
        self._scripts = list(scripts)
        self._by_word: dict[str, list[ScriptEntry]] = {}
        for entry in self._scripts:
            for word in entry.keywords:
                self._by_word.setdefault(word.lower(), []).append(entry)
        self._scanner = BannedWordScanner(word for s in self._scripts for word in s.keywords)

    def match(self, text: str, *, category: str = "", limit: int = 5) -> list[ScriptMatch]:
        """Scripts whose keywords occur in ``text``, best first: by score, then by the number
        of keywords found, then by title. A script of another category than ``category``
        (when both are given) does not match."""
        found: dict[int, set[str]] = {}
        entries: dict[int, ScriptEntry] = {}
        for m in self._scanner.scan(text):
            for entry in self._by_word.get(m.word.lower(), []):
                if category and entry.category and entry.category != category:
                    continue
                found.setdefault(entry.script_id, set()).add(m.word)
                entries[entry.script_id] = entry
        matches = [
            ScriptMatch(
                script_id=sid,
                title=entries[sid].title,
                score=sum(len(w) for w in words),
                keywords=tuple(sorted(words)),
                auto_answer=entries[sid].auto_answer,
            )
            for sid, words in found.items()
        ]
        matches.sort(key=lambda m: (-m.score, -len(m.keywords), m.title, m.script_id))
        return matches[:limit]


def auto_answer_choice(matches: Sequence[ScriptMatch]) -> ScriptMatch | None:
    """The script to answer with automatically: the best match when it is marked auto-answer
    and unambiguous (no other match scores as high)."""
    if not matches or not matches[0].auto_answer:
        return None
    if len(matches) > 1 and matches[1].score >= matches[0].score:
        return None
    return matches[0]


_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def render_script(body: str, values: Mapping[str, str]) -> str:
    """Fill ``{customer}``, ``{order}`` … placeholders; an unknown or empty one is left as it
    is, so an agent sees what still needs filling in."""

    def fill(m: re.Match[str]) -> str:
        value = values.get(m.group(1), "")
        return value if value else m.group(0)

    return _PLACEHOLDER.sub(fill, body)


def placeholders(body: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(_PLACEHOLDER.findall(body)))


# ---- CS-04: report arithmetic ------------------------------------------------------------------


def share(part: int, whole: int) -> Decimal:
    """``part / whole`` as a fraction with 4 decimals (0 when ``whole`` is 0)."""
    if whole <= 0:
        return Decimal(0)
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def trend(current: int, previous: int) -> Decimal | None:
    """Change against the previous period as a fraction (None when there was nothing before)."""
    if previous <= 0:
        return None
    return ((Decimal(current) - Decimal(previous)) / Decimal(previous)).quantize(
        Decimal("0.0001"), rounding=ROUND_HALF_UP
    )


@dataclass(frozen=True, slots=True)
class GroupRow:
    key: str
    count: int
    share: Decimal
    previous: int
    trend: Decimal | None


def group_rows(current: Mapping[str, int], previous: Mapping[str, int]) -> list[GroupRow]:
    """Counts per group with share of the period's total and trend vs the previous period,
    largest first; groups seen only in the previous period are listed with count 0."""
    total = sum(current.values())
    keys = set(current) | set(previous)
    rows = [
        GroupRow(
            key=k,
            count=current.get(k, 0),
            share=share(current.get(k, 0), total),
            previous=previous.get(k, 0),
            trend=trend(current.get(k, 0), previous.get(k, 0)),
        )
        for k in keys
    ]
    rows.sort(key=lambda r: (-r.count, -r.previous, r.key))
    return rows


# Terms counted in complaint texts and reviews (CS-04 root causes, the campaign post-mortem's
# review keywords). Reply-script keywords are added to these at run time.
COMPLAINT_TERMS: tuple[str, ...] = (
    "物流慢",
    "发货慢",
    "没收到",
    "快递",
    "破损",
    "漏发",
    "发错",
    "少件",
    "质量",
    "做工",
    "色差",
    "尺码",
    "偏大",
    "偏小",
    "起球",
    "掉色",
    "开线",
    "异味",
    "过敏",
    "假货",
    "退款",
    "退货",
    "换货",
    "价格",
    "降价",
    "保价",
    "优惠券",
    "态度",
    "不回复",
    "客服",
    "投诉",
    "曝光",
    "媒体",
)
REVIEW_TERMS: tuple[str, ...] = (
    "质量好",
    "质量差",
    "物流快",
    "物流慢",
    "包装好",
    "包装破损",
    "好看",
    "显瘦",
    "舒服",
    "合身",
    "偏大",
    "偏小",
    "色差",
    "起球",
    "掉色",
    "性价比高",
    "便宜",
    "贵",
    "客服好",
    "客服差",
    "回购",
    "推荐",
    "失望",
    "一般",
)


def term_counts(texts: Iterable[str], terms: Iterable[str], *, limit: int = 20) -> list[tuple[str, int]]:
    """How many texts mention each term (a text counts once per term), most frequent first."""
    scanner = BannedWordScanner(terms)
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update({m.word for m in scanner.scan(text)})
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]


# ---- LOG-02: review invitations and the reward -------------------------------------------------


def invitation_due(delivered_at: dt.datetime, invite_hours: int) -> dt.datetime:
    return delivered_at + dt.timedelta(hours=invite_hours)


def earns_photo_reward(*, image_count: int, reward_configured: bool) -> bool:
    """晒图评价送券: a review with at least one image earns the configured coupon."""
    return reward_configured and image_count > 0


# --- RISK-02: brand sentiment ---------------------------------------------------------------------


def alarm_keywords(setting: str) -> tuple[str, ...]:
    """The playbook's keyword list (comma, Chinese comma, 、 or new line separated), trimmed,
    without blanks or repeats, in the order given."""
    parts = setting.replace("，", ",").replace("、", ",").replace("\n", ",").split(",")
    return tuple(dict.fromkeys(p.strip() for p in parts if p.strip()))


def alarm_hits(text: str, keywords: Sequence[str]) -> list[str]:
    """The alarm keywords found in ``text`` (case-insensitive for Latin letters)."""
    folded = text.casefold()
    return [k for k in keywords if k.casefold() in folded]


def attack_burst(
    negatives: Sequence[tuple[int, dt.datetime]], *, window: dt.timedelta, count: int
) -> list[int]:
    """The ids of the first burst among ``negatives`` ((id, time) of negative reviews): the
    reviews within ``window`` of the earliest one of a run of at least ``count``; [] when no
    ``window``-long span holds ``count`` of them. Order of arrival does not matter."""
    ordered = sorted(negatives, key=lambda item: (item[1], item[0]))
    for i, (_pk, start) in enumerate(ordered):
        inside = [pk for pk, at in ordered[i:] if at <= start + window]
        if len(inside) >= count:
            return inside
    return []


ATTACK_STEP_ORDER = ("evidence", "appeal", "communicate")


def attack_steps_missing(done: Iterable[str]) -> list[str]:
    """RISK-02 playbook steps not yet recorded, in order."""
    seen = set(done)
    return [step for step in ATTACK_STEP_ORDER if step not in seen]


# --- DATA-01: net promoter score (净推荐值) --------------------------------------------------------

NPS_MIN_SCORE, NPS_MAX_SCORE = 0, 10


class NpsBand(enum.StrEnum):
    """Where an answer to "how likely are you to recommend us (0–10)?" falls."""

    PROMOTER = "promoter"  # 9–10
    PASSIVE = "passive"  # 7–8
    DETRACTOR = "detractor"  # 0–6


NPS_BAND_SCORES: dict[NpsBand, tuple[int, int]] = {
    NpsBand.PROMOTER: (9, 10),
    NpsBand.PASSIVE: (7, 8),
    NpsBand.DETRACTOR: (0, 6),
}


def nps_band(score: int) -> NpsBand:
    if not NPS_MIN_SCORE <= score <= NPS_MAX_SCORE:
        raise ValueError(f"an NPS answer is 0–10, not {score}")
    if score >= 9:
        return NpsBand.PROMOTER
    return NpsBand.PASSIVE if score >= 7 else NpsBand.DETRACTOR


@dataclass(frozen=True, slots=True)
class NpsTally:
    """The answers of a period: NPS = % promoters − % detractors, from −100 to 100 (one
    decimal, rounded half up), None without answers. ``enough``: at least the playbook's
    ``nps_min_responses`` answers — below it the score is shown but not judged."""

    promoters: int = 0
    passives: int = 0
    detractors: int = 0
    min_responses: int = 1

    @property
    def responses(self) -> int:
        return self.promoters + self.passives + self.detractors

    @property
    def score(self) -> Decimal | None:
        if not self.responses:
            return None
        value = Decimal(100 * (self.promoters - self.detractors)) / Decimal(self.responses)
        return value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

    @property
    def enough(self) -> bool:
        return self.responses >= max(1, self.min_responses)

    def meets(self, target: int) -> bool | None:
        """Whether the score reaches ``target``; None when there are too few answers to say."""
        score = self.score
        return None if score is None or not self.enough else score >= target

    def count(self, band: NpsBand) -> int:
        return {
            NpsBand.PROMOTER: self.promoters,
            NpsBand.PASSIVE: self.passives,
            NpsBand.DETRACTOR: self.detractors,
        }[band]

    def share(self, band: NpsBand) -> Decimal:
        return share(self.count(band), self.responses)


def nps_tally(counts: Mapping[int, int], *, min_responses: int = 1) -> NpsTally:
    """The tally of ``counts``: how many answers gave each score 0–10."""
    bands: Counter[NpsBand] = Counter()
    for score, n in counts.items():
        bands[nps_band(score)] += n
    return NpsTally(
        promoters=bands[NpsBand.PROMOTER],
        passives=bands[NpsBand.PASSIVE],
        detractors=bands[NpsBand.DETRACTOR],
        min_responses=min_responses,
    )
