"""SOP STORE-02: qualification documents with validity; expiry findings 30 days ahead."""

from __future__ import annotations

import datetime as dt

import pytest

from storeops.core.errors import ValidationError
from storeops.sop.models import Finding
from storeops.sop.services import checks_run
from storeops.stores import services as st
from storeops.stores.selectors import qualification_kinds_valid


def _q(store, system, valid_to, kind="brand_authorization", title="品牌授权书", valid_from=None):
    return st.qualification_create(
        actor=system,
        store=store,
        kind=kind,
        title=title,
        issuer="品牌方",
        valid_from=valid_from or dt.date(2020, 1, 1),
        valid_to=valid_to,
    )


@pytest.mark.parametrize(
    ("days_left", "expected"),
    [(31, None), (30, "warning"), (1, "warning"), (0, "warning"), (-1, "critical"), (None, None)],
)
def test_store_02_expiry_raises_a_finding_30_days_ahead_and_critical_once_expired(
    store, system, today, days_left, expected
):
    # given a document valid until today + days_left (None: no end date)
    _q(store, system, None if days_left is None else today + dt.timedelta(days=days_left))
    # when the daily STORE-02 check runs
    checks_run(rule="STORE-02", store=store, notify=False)
    # then a finding of the expected severity exists, or none
    findings = list(Finding.objects.filter(rule_id="STORE-02"))
    if expected is None:
        assert findings == []
    else:
        assert [f.severity for f in findings] == [expected]
        assert findings[0].detail["days_left"] == days_left


def test_store_02_warning_window_is_a_playbook_setting(store, system, today):
    # given the store warns 60 days ahead instead of 30
    st.playbook_update(actor=system, store=store, values={"qualification_warn_days": 60})
    _q(store, system, today + dt.timedelta(days=45))
    checks_run(rule="STORE-02", store=store, notify=False)
    assert Finding.objects.filter(rule_id="STORE-02", severity="warning").count() == 1


def test_store_02_renewal_resolves_the_finding_automatically(store, system, today):
    q = _q(store, system, today + dt.timedelta(days=5))
    checks_run(rule="STORE-02", store=store, notify=False)
    st.qualification_update(actor=system, qualification=q, valid_to=today + dt.timedelta(days=400))
    checks_run(rule="STORE-02", store=store, notify=False)
    finding = Finding.objects.get(rule_id="STORE-02")
    assert finding.status == Finding.Status.RESOLVED
    assert finding.resolution == Finding.Resolution.AUTO


def test_store_02_expired_documents_no_longer_count_as_held(store, system, today):
    # the catalog's listing audit blocks categories that need a kind not in this set
    _q(store, system, today - dt.timedelta(days=1), kind="food_license", title="食品经营许可证")
    _q(store, system, today + dt.timedelta(days=1), kind="trademark", title="商标注册证")
    _q(store, system, None, kind="business_license", title="营业执照")
    _q(store, system, None, kind="qc_report", title="质检报告", valid_from=today + dt.timedelta(days=3))
    assert qualification_kinds_valid(store=store, day=today) == {"trademark", "business_license"}


def test_store_02_validity_must_be_a_real_range_and_nothing_is_saved_otherwise(store, system, today):
    with pytest.raises(ValidationError) as excinfo:
        _q(store, system, today - dt.timedelta(days=1), valid_from=today)
    assert excinfo.value.fields == {"valid_to": "到期日期不能早于生效日期"}
    assert not store.qualifications.exists()


def test_store_02_api_creates_and_lists_qualifications(store, api_as):
    from storeops.accounts.roles import Role

    client = api_as(Role.OPERATIONS)
    created = client.post(
        f"/stores/{store.pk}/qualifications",
        {
            "kind": "qc_report",
            "title": "质检报告",
            "issuer": "SGS",
            "valid_from": "2026-01-01",
            "valid_to": "2025-01-01",
        },
    )
    assert created.status_code == 422
    assert created.json()["fields"] == {"valid_to": "到期日期不能早于生效日期"}
    ok = client.post(
        f"/stores/{store.pk}/qualifications",
        {
            "kind": "qc_report",
            "title": "质检报告",
            "issuer": "SGS",
            "valid_from": "2026-01-01",
            "valid_to": "2027-01-01",
        },
    )
    assert ok.status_code == 201
    listed = client.get(f"/stores/{store.pk}/qualifications").json()
    assert [q["title"] for q in listed["items"]] == ["质检报告"]
    assert (listed["total"], listed["page"], listed["page_size"]) == (1, 1, 50)


def test_store_02_the_api_list_is_paged_soonest_to_expire_first_and_lasting_ones_last(
    store, system, today, api_as
):
    # every document ever held was one bare array (renewals leave the expired ones behind)
    from storeops.accounts.roles import Role

    _q(store, system, None, title="长期授权")
    _q(store, system, today + dt.timedelta(days=90), title="九十天")
    _q(store, system, today - dt.timedelta(days=400), title="旧授权")
    client = api_as(Role.OPERATIONS)
    url = f"/stores/{store.pk}/qualifications"

    first = client.get(url, page_size=2).json()
    second = client.get(url, page=2, page_size=2).json()
    bad = client.get(url, page=0, page_size=201)

    assert [q["title"] for q in first["items"]] == ["旧授权", "九十天"]
    assert (first["total"], first["page"], first["page_size"]) == (3, 1, 2)
    assert [q["title"] for q in second["items"]] == ["长期授权"]
    assert bad.status_code == 422
    assert bad.json()["fields"] == {"page": "须为不小于 1 的整数", "page_size": "须为 1–200 的整数"}


def test_store_02_the_console_list_is_paged_soonest_to_expire_first_and_lasting_ones_last(
    store, system, today, make_user, monkeypatch
):
    # every document ever held was one page (renewals leave the expired ones behind); documents
    # without an end date came first on SQLite and last on PostgreSQL
    from django.test import Client

    from storeops.accounts.roles import Role
    from storeops.console import views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    _q(store, system, None, title="长期授权")
    _q(store, system, today + dt.timedelta(days=90), title="九十天")
    _q(store, system, today - dt.timedelta(days=400), title="旧授权")
    client = Client()
    client.force_login(make_user(Role.OWNER))
    first = client.get("/qualifications/").content.decode()
    second = client.get("/qualifications/?page=2").content.decode()
    assert first.index("旧授权") < first.index("九十天")
    assert "长期授权" not in first
    assert "长期授权" in second
    assert "旧授权" not in second
    assert "?&page=2" in first
