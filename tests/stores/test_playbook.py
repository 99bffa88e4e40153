"""The playbook: SOP numbers as validated settings with defaults, per store and per channel."""

from __future__ import annotations

import ast
import collections
import datetime as dt
import inspect
import re
from decimal import Decimal
from pathlib import Path

import pytest

from storeops.accounts.roles import Role
from storeops.audit.models import AuditEntry
from storeops.core.errors import ValidationError
from storeops.stores import playbook as pb
from storeops.stores import services as st
from storeops.stores.models import Playbook
from storeops.stores.selectors import playbook_get

SPEC = Path(__file__).resolve().parents[3] / "shared" / "spec" / "sop-rules.md"


def test_defaults_are_the_spec_numbers():
    # (only the defaults; each rule's behaviour is tested where it is implemented)
    p = pb.defaults()
    assert p.qualification_warn_days == 30
    assert p.selection_min_growth_30d == Decimal("0.30")
    assert p.selection_max_competition_ratio == Decimal("0.5")
    assert (p.supplier_max_stockout_rate, p.supplier_min_qc_pass_rate) == (Decimal("0.05"), Decimal("0.98"))
    assert (p.title_min_chars, p.title_max_chars, p.image_max_kb) == (30, 60, 100)
    assert (p.min_gross_margin, p.competitor_discount_min, p.competitor_discount_max) == (
        Decimal("0.35"),
        Decimal("0.05"),
        Decimal("0.10"),
    )
    assert (p.safety_stock_days, p.promo_stock_cover_days, p.seasonal_prep_days) == (3, 15, 45)
    assert (p.abc_a_share, p.abc_b_share) == (Decimal("0.80"), Decimal("0.15"))
    assert (p.order_review_minutes, p.ship_promise_hours, p.exception_notify_minutes) == (30, 48, 60)
    assert (p.refund_sla_hours, p.refund_sla_big_promo_hours, p.refund_auto_approve_below) == (
        24,
        48,
        Decimal(50),
    )
    assert (p.complaint_general_hours, p.complaint_serious_hours, p.complaint_crisis_hours) == (2, 4, 24)
    assert (p.tier_discount_silver, p.tier_discount_diamond) == (Decimal("0.95"), Decimal("0.88"))
    assert (p.growth_per_yuan, p.member_day) == (100, 18)
    assert (p.conversion_alert_ratio, p.ab_min_lift) == (Decimal("0.15"), Decimal("0.05"))


@pytest.mark.skipif(not SPEC.exists(), reason="shared/spec not beside the repository")
def test_every_spec_rule_with_a_default_number_has_a_playbook_setting():
    # given the spec's rules that carry a default number
    rules_with_numbers = set()
    for line in SPEC.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^\| ([A-Z]+-\d{2}) \|.*\| ([^|]*) \| [0-9, ]+ \|$", line)
        if m and re.search(r"\d", m.group(2)):
            rules_with_numbers.add(m.group(1))
    # then each one is named by at least one setting
    covered = {pb.setting_rule(name) for name in pb.FIELDS}
    assert rules_with_numbers - covered == set()


def test_a_bad_value_is_rejected_with_a_clear_message_and_nothing_is_saved(store, system):
    st.playbook_update(actor=system, store=store, values={"safety_stock_days": 5})
    logged = AuditEntry.objects.count()
    with pytest.raises(ValidationError) as excinfo:
        st.playbook_update(
            actor=system, store=store, values={"safety_stock_days": -1, "ship_promise_hours": 36}
        )
    assert excinfo.value.fields == {"safety_stock_days": "不能小于 0 / must be ≥ 0"}
    assert Playbook.objects.get(store=store, channel=None).values == {"safety_stock_days": 5}
    assert AuditEntry.objects.count() == logged


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"no_such_setting": 1}, "no_such_setting", "没有这个设置项 / unknown setting"),
        ({"safety_stock_days": "三"}, "safety_stock_days", "请输入整数 / must be a whole number"),
        ({"min_gross_margin": "1.2"}, "min_gross_margin", "必须小于 1 / must be < 1"),
        ({"title_min_chars": 70}, "__all__", "标题最少字数不能大于最多字数"),
        ({"abc_a_share": "0.9", "abc_b_share": "0.15"}, "__all__", "A类与B类占比之和必须小于1"),
    ],
)
def test_validation_messages_name_the_setting(store, system, values, field, message):
    with pytest.raises(ValidationError) as excinfo:
        st.playbook_update(actor=system, store=store, values=values)
    assert message in excinfo.value.fields[field]


def test_promo_07_holidays_and_makeup_workdays_are_read_as_dates_and_ranges(store, system):
    book = st.playbook_update(
        actor=system,
        store=store,
        values={
            "holidays": "2026-10-01..2026-10-07， 2027-02-15~2027-02-16、2026-12-25",
            "makeup_workdays": "2026-09-27; 2026-10-10",
        },
    )
    assert book.holiday_dates == {
        *(dt.date(2026, 10, d) for d in range(1, 8)),
        dt.date(2027, 2, 15),
        dt.date(2027, 2, 16),
        dt.date(2026, 12, 25),
    }
    assert book.makeup_workday_dates == {dt.date(2026, 9, 27), dt.date(2026, 10, 10)}


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"holidays": "2026-10-01..2026-10-07, 2026-13-01"}, "holidays", "“2026-13-01” 应为日期"),
        ({"holidays": "2026-10-07..2026-10-01"}, "holidays", "“2026-10-07..2026-10-01” 应为日期"),
        ({"holidays": "2026-01-01..2027-12-31"}, "holidays", "不超过一年"),
        ({"makeup_workdays": "国庆"}, "makeup_workdays", "“国庆” 应为日期"),
        (
            {"holidays": "2026-10-01..2026-10-07", "makeup_workdays": "2026-10-07"},
            "__all__",
            "2026-10-07 既是法定节假日又是调休上班日",
        ),
    ],
)
def test_promo_07_a_bad_holiday_calendar_is_refused_naming_the_part(store, system, values, field, message):
    with pytest.raises(ValidationError) as excinfo:
        st.playbook_update(actor=system, store=store, values=values)
    assert message in excinfo.value.fields[field]
    assert playbook_get(store=store).holidays == ""


def test_channel_overrides_win_over_the_store_and_defaults(store, channel, system):
    st.playbook_update(actor=system, store=store, values={"ship_promise_hours": 36, "safety_stock_days": 5})
    st.playbook_update(actor=system, store=store, channel=channel, values={"ship_promise_hours": 24})
    assert playbook_get(store=store).ship_promise_hours == 36
    on_channel = playbook_get(store=store, channel=channel)
    assert (on_channel.ship_promise_hours, on_channel.safety_stock_days, on_channel.refund_sla_hours) == (
        24,
        5,
        24,
    )


def test_removing_an_override_falls_back_to_the_inherited_value(store, channel, system):
    st.playbook_update(actor=system, store=store, channel=channel, values={"ship_promise_hours": 24})
    st.playbook_update(actor=system, store=store, channel=channel, values={"ship_promise_hours": None})
    assert playbook_get(store=store, channel=channel).ship_promise_hours == 48


def test_api_rejects_bad_values_with_field_errors_and_keeps_the_old_ones(store, api_as):
    client = api_as(Role.OPERATIONS)
    ok = client.patch(f"/stores/{store.pk}/playbook", {"values": {"ship_promise_hours": 36}})
    assert ok.status_code == 200
    assert ok.json()["effective"]["ship_promise_hours"] == 36
    bad = client.patch(f"/stores/{store.pk}/playbook", {"values": {"ship_promise_hours": 0}})
    assert bad.status_code == 422
    assert bad.json()["code"] == "validation_error"
    assert bad.json()["fields"] == {"ship_promise_hours": "不能小于 1 / must be ≥ 1"}
    assert client.get(f"/stores/{store.pk}/playbook").json()["store_overrides"] == {"ship_promise_hours": 36}


def test_console_playbook_form_saves_and_shows_errors(store, make_user):
    from django.test import Client

    client = Client()
    client.force_login(make_user(Role.OPERATIONS))
    saved = client.post("/playbook/", {"safety_stock_days": "4"})
    assert saved.status_code == 302
    assert playbook_get(store=store).safety_stock_days == 4
    bad = client.post("/playbook/", {"safety_stock_days": "-3"})
    assert bad.status_code == 422
    assert "不能小于 0" in bad.content.decode()
    assert playbook_get(store=store).safety_stock_days == 4
    # a finance user can read the playbook but not change it
    finance = Client()
    finance.force_login(make_user(Role.FINANCE))
    assert finance.get("/playbook/").status_code == 200
    assert finance.post("/playbook/", {"safety_stock_days": "9"}).status_code == 403


def test_console_playbook_text_settings_get_a_wide_input_and_save(store, make_user):
    from django.test import Client

    client = Client()
    client.force_login(make_user(Role.OWNER))
    page = client.get("/playbook/").content.decode()
    assert 'name="reconcile_fee_rates" value="" size="32"' in page  # a list: wide
    assert 'name="safety_stock_days" value="" size="8"' in page  # a number: narrow
    saved = client.post("/playbook/", {"reconcile_fee_rates": "wechatpay=0.006, alipay=0.0038"})
    assert saved.status_code == 302
    assert playbook_get(store=store).fee_rate("alipay") == Decimal("0.0038")
    bad = client.post("/playbook/", {"reconcile_fee_rates": "alipay"})
    assert bad.status_code == 422
    assert "应为 渠道=费率" in bad.content.decode()


def test_no_playbook_setting_is_defined_twice():
    """A second definition of a setting silently replaces the first (its rule, default and
    labels): every name in PlaybookSettings is defined once."""
    tree = ast.parse(inspect.getsource(pb.PlaybookSettings))
    names = [
        node.target.id
        for node in tree.body[0].body  # type: ignore[attr-defined]
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
    ]
    assert len(names) > 150
    assert [n for n, c in collections.Counter(names).items() if c > 1] == []


def test_every_playbook_setting_is_read_by_the_code():
    """A setting nothing reads is an SOP number the store can change to no effect: each name
    in PlaybookSettings appears in the code or templates outside the playbook module."""
    package = Path(pb.__file__).resolve().parents[1]
    text = "\n".join(
        path.read_text(encoding="utf-8")
        for path in package.rglob("*")
        if path.suffix in {".py", ".html"} and path.resolve() != Path(pb.__file__).resolve()
    )
    unread = [name for name in pb.FIELDS if not re.search(rf"\b{name}\b", text)]
    assert unread == []
