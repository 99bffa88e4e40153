"""Pure customer-service rules: state machine, deadlines (CS-01/02), SLA states, script matching
(CS-03), report arithmetic (CS-04), invitation timing (LOG-02)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from storeops.service.rules import (
    TRANSITIONS,
    Action,
    ChatFacts,
    ScriptEntry,
    ScriptMatcher,
    SlaKind,
    SlaPolicy,
    SlaState,
    Status,
    TicketFacts,
    Tier,
    auto_answer_choice,
    chat_response_stats,
    chat_share_low,
    deadlines,
    group_rows,
    invitation_due,
    next_status,
    parse_keywords,
    percentile,
    remedy_missing,
    render_script,
    sla_breaches,
    term_counts,
)

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
hours = st.integers(min_value=1, max_value=720)
policies = st.builds(
    SlaPolicy, general_hours=hours, serious_hours=hours, crisis_hours=hours, resolution_hours=hours
)
moments = st.integers(min_value=-2000, max_value=2000).map(lambda m: T0 + dt.timedelta(minutes=m))


def test_cs_02_only_the_listed_transitions_are_allowed():
    allowed = {(s, a) for s in Status for a in Action if next_status(s, a) is not None}
    assert allowed == set(TRANSITIONS)
    assert next_status(Status.OPEN, Action.CLOSE) is None
    assert next_status(Status.CLOSED, Action.RESOLVE) is None
    assert next_status(Status.CLOSED, Action.REOPEN) == Status.IN_PROGRESS


@given(tier=st.sampled_from(list(Tier)), policy=policies)
def test_cs_01_deadlines_never_exceed_the_tier_targets(tier, policy):
    d = deadlines(tier=tier, opened_at=T0, escalated_at=None, policy=policy)
    assert d.response == T0 + dt.timedelta(hours=policy.general_hours)
    assert d.resolution <= T0 + dt.timedelta(hours=policy.resolution_hours)
    if tier != Tier.GENERAL:
        assert d.resolution <= T0 + dt.timedelta(hours=policy.serious_hours)
    assert (d.statement is not None) == (tier == Tier.CRISIS)


@given(now=moments, warn=st.integers(min_value=0, max_value=120))
def test_cs_01_a_met_deadline_is_never_reported_and_an_unmet_one_is_reported_once_near(now, warn):
    facts = TicketFacts(
        tier=Tier.GENERAL,
        status=Status.OPEN,
        response_due_at=T0,
        resolution_due_at=T0 + dt.timedelta(days=30),
    )
    answered = dataclasses.replace(facts, status=Status.IN_PROGRESS, first_response_at=T0)
    breaches = [b for b in sla_breaches(facts, now, warn_minutes=warn) if b.kind == SlaKind.RESPONSE]
    assert not [b for b in sla_breaches(answered, now, warn_minutes=warn) if b.kind == SlaKind.RESPONSE]
    if now >= T0:
        assert [b.state for b in breaches] == [SlaState.OVERDUE]
    elif T0 - now <= dt.timedelta(minutes=warn):
        assert [b.state for b in breaches] == [SlaState.DUE_SOON]
    else:
        assert breaches == []


def test_cs_01_resolved_ticket_reports_only_a_missing_crisis_statement():
    facts = TicketFacts(
        tier=Tier.CRISIS,
        status=Status.RESOLVED,
        response_due_at=T0,
        resolution_due_at=T0,
        statement_due_at=T0,
        resolved_at=T0,
    )
    assert [b.kind for b in sla_breaches(facts, T0 + dt.timedelta(hours=1), warn_minutes=30)] == [
        SlaKind.STATEMENT
    ]


def test_cs_03_matching_is_case_and_width_insensitive_and_prefers_longer_keywords():
    matcher = ScriptMatcher(
        [
            ScriptEntry(1, "物流", ("快递", "物流"), auto_answer=True),
            ScriptEntry(2, "退款进度", ("退款", "退款进度"), auto_answer=True),
            ScriptEntry(3, "SIZE", ("size",)),
        ]
    )
    matches = matcher.match("我的退款进度怎样了？快递也没到")
    assert [m.script_id for m in matches] == [2, 1]
    assert matches[0].keywords == ("退款", "退款进度")
    assert [m.script_id for m in matcher.match("ＳＩＺＥ chart?")] == [3]
    assert matcher.match("你好") == []


def test_cs_03_auto_answer_only_when_unambiguous():
    matcher = ScriptMatcher(
        [ScriptEntry(1, "A", ("发货",), auto_answer=True), ScriptEntry(2, "B", ("发票",), auto_answer=True)]
    )
    assert auto_answer_choice(matcher.match("什么时候发货")).script_id == 1
    assert auto_answer_choice(matcher.match("发货和发票")) is None  # a tie
    manual = ScriptMatcher([ScriptEntry(1, "A", ("发货",), auto_answer=False)])
    assert auto_answer_choice(manual.match("发货")) is None


def test_cs_03_category_restricts_matching():
    matcher = ScriptMatcher([ScriptEntry(1, "A", ("慢",), category="logistics")])
    assert matcher.match("好慢", category="quality") == []
    assert len(matcher.match("好慢", category="logistics")) == 1


def test_cs_03_placeholders_are_filled_and_unknown_ones_kept():
    assert (
        render_script("{customer}您好，订单{order}{x}", {"customer": "小王", "order": "O1"})
        == "小王您好，订单O1{x}"
    )
    assert parse_keywords("发货, 物流，快递\n发货") == ("发货", "物流", "快递")


@given(
    st.dictionaries(st.text(min_size=1, max_size=3), st.integers(min_value=0, max_value=50), max_size=6),
    st.dictionaries(st.text(min_size=1, max_size=3), st.integers(min_value=0, max_value=50), max_size=6),
)
def test_cs_04_shares_sum_to_about_one_and_every_group_is_listed(current, previous):
    rows = group_rows(current, previous)
    assert {r.key for r in rows} == set(current) | set(previous)
    total = sum(current.values())
    if total:
        assert abs(sum(r.share for r in rows) - 1) <= Decimal("0.0001") * len(rows)
    assert [r.count for r in rows] == sorted((r.count for r in rows), reverse=True)


def test_cs_04_term_counts_count_each_text_once_per_term():
    assert term_counts(["快递破损，快递慢", "破损", "无关"], ["快递", "破损"]) == [("破损", 2), ("快递", 1)]


@given(st.integers(min_value=0, max_value=720))
def test_log_02_invitation_is_due_exactly_the_configured_hours_after_delivery(h):
    assert invitation_due(T0, h) - T0 == dt.timedelta(hours=h)


# ---- CS-02 chats / CS-01 remedy ---------------------------------------------------------------


def test_cs_02_only_a_chat_gets_a_first_response_deadline_in_seconds():
    t0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    policy = SlaPolicy(chat_first_response_seconds=30)
    chat = deadlines(tier=Tier.GENERAL, opened_at=t0, escalated_at=None, policy=policy, chat=True)
    other = deadlines(tier=Tier.GENERAL, opened_at=t0, escalated_at=None, policy=policy)
    assert chat.chat_response == t0 + dt.timedelta(seconds=30)
    assert other.chat_response is None
    assert (chat.response, chat.resolution) == (other.response, other.resolution)


def test_cs_02_percentile_is_the_nearest_rank():
    assert percentile([], Decimal("0.9")) is None
    assert percentile([7], Decimal("0.9")) == 7
    assert percentile(list(range(1, 11)), Decimal("0.9")) == 9
    assert percentile(list(range(1, 71)), Decimal("0.9")) == 63  # float 0.9 * 70 would give 64
    assert percentile([50, 10, 20], Decimal("0.5")) == 20


@given(st.lists(st.integers(min_value=0, max_value=600), min_size=1, max_size=200))
def test_cs_02_p90_is_a_value_with_at_least_90_percent_at_or_below(values):
    p90 = percentile(values, Decimal("0.9"))
    assert p90 in values
    assert sum(1 for v in values if v <= p90) * 10 >= len(values) * 9
    assert sum(1 for v in values if v < p90) * 10 < len(values) * 9


def test_cs_02_chat_stats_judge_only_chats_whose_deadline_passed():
    t0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    due = t0 + dt.timedelta(seconds=30)
    s = dt.timedelta(seconds=1)
    chats = [
        ChatFacts(due_at=due, first_response_at=t0 + 10 * s, first_response_seconds=10),
        ChatFacts(due_at=due, first_response_at=t0 + 40 * s, first_response_seconds=40),
        ChatFacts(due_at=due, first_response_at=None, first_response_seconds=None),
    ]
    running = chat_response_stats(chats, now=t0 + 20 * s)
    assert (running.due, running.within, running.late_unanswered, str(running.share)) == (2, 1, 0, "0.5000")
    later = chat_response_stats(chats, now=t0 + 31 * s)
    assert (later.due, later.within, later.late_unanswered, str(later.share)) == (3, 1, 1, "0.3333")
    assert chat_response_stats([], now=t0).share is None
    assert chat_share_low(later, min_share=Decimal("0.9"), min_chats=3)
    assert not chat_share_low(later, min_share=Decimal("0.9"), min_chats=4)
    assert not chat_share_low(later, min_share=Decimal("0.3"), min_chats=1)


def test_cs_01_serious_or_crisis_needs_a_refund_a_coupon_or_a_reason():
    for tier in (Tier.SERIOUS, Tier.CRISIS):
        assert remedy_missing(tier=tier, refund_ref="", coupon=False, reason=" ")
        assert not remedy_missing(tier=tier, refund_ref="RF-1", coupon=False, reason="")
        assert not remedy_missing(tier=tier, refund_ref="", coupon=True, reason="")
        assert not remedy_missing(tier=tier, refund_ref="", coupon=False, reason="顾客只要换货")
    assert not remedy_missing(tier=Tier.GENERAL, refund_ref="", coupon=False, reason="")
