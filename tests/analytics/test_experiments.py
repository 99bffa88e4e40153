"""SOP DATA-07: A/B tests — stable random assignment, a two-proportion z-test, adopt only when
significant at ``ab_significance`` with a conversion lift of at least ``ab_min_lift`` (5%),
and a reminder to run ``ab_tests_per_month`` tests; services, check, API and console."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st_
from statsmodels.stats.proportion import proportions_ztest

from storeops.accounts.roles import Role
from storeops.analytics import selectors
from storeops.analytics import services as ab
from storeops.analytics.models import Experiment
from storeops.analytics.rules import ab_evaluate, assign_bucket
from storeops.core.errors import Conflict, ValidationError
from storeops.sop.models import Finding
from storeops.sop.services import checks_run
from storeops.stores import services as st
from tests.orders.builders import ACTOR

RULE = {"alpha": Decimal("0.05"), "min_lift": Decimal("0.05")}


@given(
    st_.integers(min_value=1, max_value=5000),
    st_.integers(min_value=1, max_value=5000),
    st_.data(),
)
def test_data_07_the_z_test_agrees_with_statsmodels(n1, n2, data):
    x1 = data.draw(st_.integers(min_value=0, max_value=n1))
    x2 = data.draw(st_.integers(min_value=0, max_value=n2))
    ours = ab_evaluate(control=(n1, x1), variant=(n2, x2), **RULE).p_value
    if x1 + x2 in (0, n1 + n2):  # no variance: nothing can be told apart
        assert ours == 1.0
        return
    _z, theirs = proportions_ztest([x2, x1], [n2, n1])
    assert ours == pytest.approx(theirs, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize(
    ("control", "variant", "decision"),
    [
        ((10000, 300), (10000, 360), "adopt"),  # +20%, p ≈ 0.018
        ((1000, 50), (1000, 70), "continue"),  # +40% but p ≈ 0.06
        ((200000, 10000), (200000, 10400), "reject"),  # significant, +4% < the 5% worth a change
        ((2000, 120), (2000, 80), "reject"),  # significantly worse
    ],
)
def test_data_07_decisions(control, variant, decision):
    assert ab_evaluate(control=control, variant=variant, **RULE).decision == decision


def test_data_07_assignment_is_stable_and_splits_evenly():
    customers = [f"c{i}" for i in range(10000)]
    first = [assign_bucket("7", c) < 50 for c in customers]
    assert first == [assign_bucket("7", c) < 50 for c in customers]
    assert 0.47 < sum(first) / len(first) < 0.53
    other = [assign_bucket("8", c) < 50 for c in customers]
    assert first != other  # another experiment splits the customers differently


def _experiment(store, **kw):
    data = {
        "name": "主图场景化",
        "subject": "main_image",
        "control": "白底图",
        "challenger": "场景图",
        **kw,
    }
    return ab.experiment_create(actor=ACTOR, store=store, **data)


@pytest.mark.django_db
def test_data_07_adopting_needs_the_evidence_stopping_needs_a_note(store):
    experiment = _experiment(store)
    with pytest.raises(ValidationError):
        ab.experiment_record(actor=ACTOR, experiment=experiment, variant="B", visitors=10, conversions=11)
    ab.experiment_record(actor=ACTOR, experiment=experiment, variant="A", visitors=1000, conversions=50)
    ab.experiment_record(actor=ACTOR, experiment=experiment, variant="B", visitors=1000, conversions=70)
    with pytest.raises(ValidationError) as refused:  # +40% but not significant yet
        ab.experiment_decide(actor=ACTOR, experiment=experiment, adopt=True, note="看起来更好")
    assert "adopt" in refused.value.fields
    ab.experiment_record(actor=ACTOR, experiment=experiment, variant="A", visitors=10000, conversions=300)
    ab.experiment_record(actor=ACTOR, experiment=experiment, variant="B", visitors=10000, conversions=360)
    decided = ab.experiment_decide(actor=ACTOR, experiment=experiment, adopt=True, note="场景图全量上线")
    assert decided.status == "adopted"
    with pytest.raises(Conflict):
        ab.experiment_record(actor=ACTOR, experiment=experiment, variant="A", visitors=1, conversions=0)
    stopped = ab.experiment_decide(
        actor=ACTOR, experiment=_experiment(store, name="文案"), adopt=False, note="放弃"
    )
    assert stopped.status == "rejected"
    with pytest.raises(ValidationError):
        ab.experiment_decide(actor=ACTOR, experiment=_experiment(store, name="x"), adopt=False, note=" ")


@pytest.mark.django_db
def test_data_07_check_asks_for_decisions_and_reminds_the_monthly_cadence(store, system):
    checks_run(rule="DATA-07", store=store, notify=False)
    (cadence,) = Finding.objects.filter(rule_id="DATA-07")
    assert cadence.severity == "info"
    assert "近 30 天开展了 0 个A/B测试，目标每月至少 2 个" in cadence.title
    experiment = _experiment(store)
    _experiment(store, name="横幅")
    ab.experiment_record(actor=ACTOR, experiment=experiment, variant="A", visitors=10000, conversions=300)
    ab.experiment_record(actor=ACTOR, experiment=experiment, variant="B", visitors=10000, conversions=360)
    checks_run(rule="DATA-07", store=store, notify=False)
    cadence.refresh_from_db()
    assert cadence.status == "resolved"
    ready = Finding.objects.get(rule_id="DATA-07", subject_key=f"experiment:{experiment.pk}")
    assert "B 版转化提升 20.0%" in ready.title
    # the bar is a playbook setting: a 25% minimum lift turns the same figures into "keep A"
    st.playbook_update(actor=system, store=store, values={"ab_min_lift": "0.25"})
    assert selectors.experiment_result(Experiment.objects.get(pk=experiment.pk)).decision == "reject"


@pytest.mark.django_db
def test_data_07_api_and_console(store, api_as, make_user):
    ops = api_as(Role.OPERATIONS)
    base = f"/analytics/{store.pk}/experiments"
    created = ops.post(
        base, {"name": "详情页布局", "subject": "detail_layout", "control": "长图", "challenger": "分段"}
    )
    assert created.status_code == 201, created.content
    eid = created.json()["id"]
    assert (
        ops.post(base, {"name": "x", "subject": "nope", "control": "a", "challenger": "b"}).status_code == 422
    )
    assigned = ops.get(f"{base}/{eid}/assign", customer="c42").json()["variant"]
    assert assigned in ("A", "B")
    assert ops.get(f"{base}/{eid}/assign", customer="c42").json()["variant"] == assigned
    ops.post(f"{base}/{eid}/results", {"variant": "A", "visitors": 10000, "conversions": 300})
    body = ops.post(f"{base}/{eid}/results", {"variant": "B", "visitors": 10000, "conversions": 360}).json()
    assert body["result"]["decision"] == "adopt"
    assert api_as(Role.ANALYST).post(f"{base}/{eid}/decide", {"adopt": True, "note": "x"}).status_code == 403
    decided = ops.post(f"{base}/{eid}/decide", {"adopt": True, "note": "分段布局上线"})
    assert decided.json()["status"] == "adopted"
    assert ops.get(base, status="adopted").json()["total"] == 1
    client = Client()
    client.force_login(make_user(Role.OPERATIONS))
    response = client.post(
        "/experiments/new/",
        {"name": "横幅文案", "subject": "banner", "control": "满减", "challenger": "限时"},
        follow=True,
    )
    assert "已创建A/B测试" in response.content.decode()
    new = Experiment.objects.get(name="横幅文案")
    response = client.post(
        f"/experiments/{new.pk}/results/",
        {"variant": "A", "visitors": "abc", "conversions": "1"},
        follow=True,
    )
    assert "请填写非负整数" in response.content.decode()
    client.post(f"/experiments/{new.pk}/results/", {"variant": "A", "visitors": "500", "conversions": "20"})
    html = client.get(f"/experiments/{new.pk}/").content.decode()
    assert "4.0%" in html
    assert "继续测试" in html
    response = client.post(
        f"/experiments/{new.pk}/decide/", {"adopt": "0", "note": "样本不足，放弃"}, follow=True
    )
    assert "测试已结束" in response.content.decode()
    assert "横幅文案" in client.get("/experiments/?status=rejected").content.decode()


@pytest.fixture
def ops_client(make_user):
    client = Client()
    client.force_login(make_user(Role.OPERATIONS))
    return client


@pytest.mark.django_db
def test_data_07_refused_new_test_keeps_what_was_typed_and_saves_nothing(store, ops_client):
    response = ops_client.post(
        "/experiments/new/",
        {
            "name": "主图场景化",
            "subject": "main_image",
            "control": "白底图",
            "challenger": " ",
            "hypothesis": "场景图提升点击",
        },
    )
    assert response.status_code == 422  # was a redirect to an empty form
    html = response.content.decode()
    assert 'value="主图场景化"' in html
    assert 'value="白底图"' in html
    assert 'value="场景图提升点击"' in html
    assert '<option value="main_image" selected' in html
    assert '<span class="err">必填</span>' in html
    assert not Experiment.objects.exists()


@pytest.mark.django_db
def test_data_07_refused_results_and_decision_keep_what_was_typed(store, ops_client):
    experiment = _experiment(store)
    response = ops_client.post(
        f"/experiments/{experiment.pk}/results/", {"variant": "B", "visitors": "1200", "conversions": "1300"}
    )
    assert response.status_code == 422  # was a redirect to an empty form
    html = response.content.decode()
    assert '<option value="B" selected' in html
    assert 'value="1200"' in html
    assert 'value="1300"' in html
    assert '<span class="err">须在 0 与访客数之间</span>' in html
    assert not experiment.variants.filter(visitors__gt=0).exists()
    response = ops_client.post(
        f"/experiments/{experiment.pk}/decide/", {"adopt": "1", "note": "场景图更好看"}
    )  # no evidence yet: adopting is refused
    assert response.status_code == 422
    assert 'value="场景图更好看"' in response.content.decode()
    experiment.refresh_from_db()
    assert experiment.status == "running"
