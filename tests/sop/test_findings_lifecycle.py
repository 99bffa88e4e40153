"""The playbook → checks → findings spine: raise → de-duplicate → notify → resolve."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone

from storeops.accounts.roles import Role
from storeops.core.context import Actor
from storeops.core.errors import Conflict, ValidationError
from storeops.sop.models import CheckRun, Finding, Notification
from storeops.sop.registry import CheckContext, FindingDraft, Schedule, Severity, register_check
from storeops.sop.services import checks_run, finding_acknowledge, finding_resolve, findings_notify
from storeops.stores import services as st

# A test-only check whose report the tests control.
REPORT: list[FindingDraft] = []


@register_check(rule="TEST-01", title="test check", owner_role=Role.WAREHOUSE, schedule=Schedule.HOURLY)
def _test_check(ctx: CheckContext):
    return list(REPORT)


@pytest.fixture(autouse=True)
def _reset_report():
    REPORT.clear()
    yield
    REPORT.clear()


def _run(store, now=None):
    return checks_run(rule="TEST-01", store=store, now=now)[0]


def test_new_subject_raises_one_open_finding_with_due_time_from_the_playbook(store):
    # given a check reporting one warning
    REPORT.append(FindingDraft(subject_key="sku:1", title="库存不足", severity=Severity.WARNING))
    now = timezone.now()
    # when it runs
    result = _run(store, now)
    # then one open finding exists, owned by the check's role, due per playbook (24 h for warnings)
    finding = Finding.objects.get()
    assert result.raised == 1
    assert finding.status == Finding.Status.OPEN
    assert finding.owner_role == Role.WAREHOUSE
    assert finding.due_at == now + dt.timedelta(hours=24)


def test_due_time_comes_from_the_playbook_of_the_findings_channel(store, channel, system):
    # given a second channel whose warnings are due in 2 hours; the store keeps 24
    fast = st.channel_create(actor=system, store=store, kind="pinduoduo", code="pdd", name="拼多多")
    st.playbook_update(actor=system, store=store, channel=fast, values={"finding_due_hours_warning": 2})
    REPORT.extend(
        [
            FindingDraft(subject_key="a", title="a", channel_id=fast.pk),
            FindingDraft(subject_key="b", title="b", channel_id=channel.pk),
            FindingDraft(subject_key="c", title="c"),
        ]
    )
    now = timezone.now()
    _run(store, now)
    # then each finding is due by its channel's SLA, the store's for the others
    assert dict(Finding.objects.values_list("subject_key", "due_at")) == {
        "a": now + dt.timedelta(hours=2),
        "b": now + dt.timedelta(hours=24),
        "c": now + dt.timedelta(hours=24),
    }


def test_repeated_runs_deduplicate_and_count_occurrences(store):
    REPORT.append(FindingDraft(subject_key="sku:1", title="库存不足"))
    _run(store)
    second = _run(store)
    assert Finding.objects.count() == 1
    assert Finding.objects.get().occurrences == 2
    assert second.raised == 0
    assert second.still_open == 1


def test_severity_escalates_and_due_time_tightens(store):
    REPORT.append(FindingDraft(subject_key="sku:1", title="库存不足", severity=Severity.INFO))
    now = timezone.now()
    _run(store, now)
    REPORT[0] = FindingDraft(subject_key="sku:1", title="库存告罄", severity=Severity.CRITICAL)
    _run(store, now + dt.timedelta(hours=1))
    finding = Finding.objects.get()
    assert finding.severity == Severity.CRITICAL
    assert finding.title == "库存告罄"
    assert finding.due_at == now + dt.timedelta(hours=1 + 4)


def test_condition_clearing_auto_resolves_the_finding(store):
    REPORT.append(FindingDraft(subject_key="sku:1", title="库存不足"))
    _run(store)
    REPORT.clear()
    result = _run(store)
    finding = Finding.objects.get()
    assert result.resolved == 1
    assert finding.status == Finding.Status.RESOLVED
    assert finding.resolution == Finding.Resolution.AUTO


def test_new_findings_notify_the_owner_role_by_email_and_log_once(store, make_user):
    # given two warehouse users (one without e-mail) and an operations user
    make_user(Role.WAREHOUSE, "wh1")
    make_user(Role.WAREHOUSE, "wh2").__class__.objects.filter(username="wh2").update(email="")
    make_user(Role.OPERATIONS, "op1")
    REPORT.append(FindingDraft(subject_key="sku:1", title="库存不足"))
    # when the check raises a finding, and runs again
    _run(store)
    _run(store)
    # then only warehouse users were told, once
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["wh1@example.com"]
    assert "[StoreOps TEST-01] 库存不足" in mail.outbox[0].subject
    rows = Notification.objects.values_list("channel", "recipient")
    assert sorted(rows) == [("email", "wh1@example.com"), ("log", "wh1"), ("log", "wh2")]
    assert Finding.objects.get().notified_at is not None


def test_a_failing_notification_channel_does_not_stop_the_others(store, make_user):
    class Broken:
        name = "sms"

        def recipients_for(self, users):
            return ("13800000000",)

        def send(self, message):
            raise RuntimeError("gateway down")

    make_user(Role.WAREHOUSE, "wh1")
    REPORT.append(FindingDraft(subject_key="sku:1", title="库存不足"))
    checks_run(rule="TEST-01", store=store, notify=False)
    from storeops.sop.notify import LogChannel

    sent = findings_notify(findings=list(Finding.objects.all()), channels=[Broken(), LogChannel()])
    assert sent == 1
    assert Notification.objects.get(channel="sms").ok is False
    assert Notification.objects.get(channel="log").ok is True


def test_acknowledge_then_manual_resolve_needs_a_note_and_is_audited(store, make_user):
    REPORT.append(FindingDraft(subject_key="sku:1", title="库存不足"))
    _run(store)
    actor = Actor(user=make_user(Role.WAREHOUSE))
    finding = Finding.objects.get()
    finding = finding_acknowledge(actor=actor, finding=finding)
    assert finding.status == Finding.Status.ACKNOWLEDGED
    with pytest.raises(Conflict):
        finding_acknowledge(actor=actor, finding=finding)
    with pytest.raises(ValidationError):
        finding_resolve(actor=actor, finding=finding, note="  ")
    finding = finding_resolve(actor=actor, finding=finding, note="已补货")
    assert finding.status == Finding.Status.RESOLVED
    assert finding.resolution == Finding.Resolution.MANUAL
    from storeops.audit.models import AuditEntry

    assert list(
        AuditEntry.objects.filter(object_type="sop.finding").values_list("action", flat=True).order_by("id")
    ) == ["finding.raise", "finding.acknowledge", "finding.resolve"]


def test_condition_still_present_after_manual_resolve_raises_a_new_finding(store, make_user):
    REPORT.append(FindingDraft(subject_key="sku:1", title="库存不足"))
    _run(store)
    finding_resolve(actor=Actor(user=make_user(Role.OWNER)), finding=Finding.objects.get(), note="忽略")
    _run(store)
    assert Finding.objects.filter(status=Finding.Status.OPEN).count() == 1
    assert Finding.objects.count() == 2


def test_database_refuses_two_unresolved_findings_for_one_subject(store):
    REPORT.append(FindingDraft(subject_key="sku:1", title="库存不足"))
    _run(store)
    with pytest.raises(IntegrityError), transaction.atomic():
        Finding.objects.create(
            store=store, rule_id="TEST-01", subject_key="sku:1", title="dup", owner_role=Role.WAREHOUSE
        )


def test_a_crashing_check_is_recorded_and_does_not_stop_the_run(store):
    def boom(ctx):
        raise RuntimeError("bad data")

    from storeops.sop import registry

    original = registry._REGISTRY["TEST-01"]
    registry._REGISTRY["TEST-01"] = registry.Check("TEST-01", "x", Role.WAREHOUSE, Schedule.HOURLY, boom)
    try:
        result = _run(store)
    finally:
        registry._REGISTRY["TEST-01"] = original
    assert "RuntimeError: bad data" in result.error
    assert CheckRun.objects.get(rule_id="TEST-01").error.startswith("RuntimeError")


def test_unknown_rule_is_a_clear_error(store):
    with pytest.raises(ValidationError) as excinfo:
        checks_run(rule="NOPE-99", store=store)
    assert "NOPE-99" in str(excinfo.value.message)


def test_cli_runs_one_rule_for_one_store(store, capsys, today):
    # SOP: STORE-02 through `storeops sop check --rule STORE-02`
    st.qualification_create(
        actor=Actor.system(),
        store=store,
        kind="trademark",
        title="商标注册证",
        issuer="国家知识产权局",
        valid_from=today - dt.timedelta(days=10),
        valid_to=today + dt.timedelta(days=3),
    )
    call_command("sop", "check", "--rule", "STORE-02", "--store", store.code)
    out = capsys.readouterr().out
    assert "STORE-02" in out
    assert Finding.objects.filter(rule_id="STORE-02").count() == 1


def test_findings_board_api_filters_and_paginates(store, api_as):
    REPORT.extend(
        FindingDraft(
            subject_key=f"sku:{i}",
            title=f"库存不足 {i}",
            severity=Severity.CRITICAL if i < 5 else Severity.WARNING,
        )
        for i in range(30)
    )
    _run(store)
    client = api_as(Role.WAREHOUSE)
    page = client.get("/findings/", page=2, page_size=10).json()
    assert page["total"] == 30
    assert len(page["items"]) == 10
    critical = client.get("/findings/", severity="critical").json()
    assert critical["total"] == 5
    searched = client.get("/findings/", q="库存不足 2").json()
    assert searched["total"] == 11  # "库存不足 2" and "库存不足 20" … "库存不足 29"


def test_board_lists_open_before_acknowledged_and_critical_before_warning_before_info(store, api_as):
    REPORT.extend(
        [
            FindingDraft(subject_key="a", title="info", severity=Severity.INFO),
            FindingDraft(subject_key="b", title="critical", severity=Severity.CRITICAL),
            FindingDraft(subject_key="c", title="warning", severity=Severity.WARNING),
            FindingDraft(subject_key="d", title="critical-ack", severity=Severity.CRITICAL),
        ]
    )
    _run(store)
    from storeops.core.context import Actor as _Actor

    finding_acknowledge(actor=_Actor.system(), finding=Finding.objects.get(subject_key="d"))
    titles = [f["title"] for f in api_as(Role.OWNER).get("/findings/", status="unresolved").json()["items"]]
    assert titles == ["critical", "warning", "info", "critical-ack"]


def test_console_refused_acknowledge_or_resolve_keeps_the_note_typed_and_changes_nothing(store, make_user):
    from django.test import Client

    REPORT.append(FindingDraft(subject_key="sku:1", title="库存不足"))
    _run(store)
    finding = finding_acknowledge(actor=Actor(user=make_user(Role.WAREHOUSE)), finding=Finding.objects.get())
    client = Client()
    client.force_login(make_user(Role.OWNER))
    # someone acknowledged it first: the note typed is kept for the resolution
    response = client.post(f"/findings/{finding.pk}/acknowledge/", {"note": "已联系供应商，周三到货"})
    assert response.status_code == 422  # was a redirect to an empty box
    html = response.content.decode()
    assert ">已联系供应商，周三到货</textarea>" in html
    assert "只有待处理的问题可以认领" in html
    response = client.post(f"/findings/{finding.pk}/resolve/", {"note": "  "})
    assert response.status_code == 422
    assert '</textarea><span class="err">必填</span>' in response.content.decode()
    finding.refresh_from_db()
    assert (finding.status, finding.resolution_note) == (Finding.Status.ACKNOWLEDGED, "")


def test_the_board_lists_findings_with_a_due_time_before_those_without_on_every_database(store):
    """Within a status and severity the nearest due time comes first and a finding with no
    due time last — SQLite sorts NULL first and PostgreSQL last, so it is said explicitly."""
    from storeops.sop.selectors import finding_list

    soon = timezone.now() + dt.timedelta(hours=1)
    for key, due in (("none", None), ("later", soon + dt.timedelta(hours=5)), ("soon", soon)):
        Finding.objects.create(
            store=store, rule_id="TEST-01", subject_key=key, title=key, owner_role=Role.WAREHOUSE, due_at=due
        )
    assert [f.subject_key for f in finding_list(store_id=store.pk)] == ["soon", "later", "none"]
