"""Catalog SOP checks on database rows: LIST-02 live-copy scan, LIST-07, LIST-08, SEL-02."""

from __future__ import annotations

import datetime as dt

import pytest

from storeops.catalog import services as cs
from storeops.catalog.models import Product, SalesDaily
from storeops.core.errors import ValidationError
from storeops.sop.models import Finding
from storeops.sop.services import checks_run
from storeops.stores import services as st
from tests.catalog.db_builders import ACTOR, a_business_license, a_dress_category, a_live_product, a_product

pytestmark = pytest.mark.django_db


@pytest.fixture
def dress(store, today):
    a_business_license(store, today)
    return a_dress_category(store)


def open_findings(rule: str) -> list[str]:
    return sorted(
        Finding.objects.filter(rule_id=rule).exclude(status="resolved").values_list("subject_key", flat=True)
    )


def test_list_02_a_new_banned_word_raises_a_finding_for_each_live_product_using_it(store, dress, channel):
    # given two live products, only one with 显瘦 in its title, and a draft that has it
    p1 = a_live_product(store, dress, channel, "P1")
    a_live_product(
        store, dress, channel, "P2", title="2024夏季新款法式碎花雪纺连衣裙女装收腰气质长裙海边度假沙滩裙"
    )
    a_product(store, dress, "P3")  # a draft is not live copy

    # when the word list gains 显瘦 and the scan runs
    cs.banned_words_update(actor=ACTOR, store=store, words="最\n显瘦")
    checks_run(rule="LIST-02", store=store, notify=False)

    # then only the live product with the word is flagged, critical, with its words
    finding = Finding.objects.get(rule_id="LIST-02")
    assert open_findings("LIST-02") == [f"product:{p1.pk}:banned_words"]
    assert finding.severity == "critical"
    assert finding.detail["words"] == {"title": ["显瘦"]}


def test_list_02_the_finding_resolves_itself_when_the_word_leaves_the_list(store, dress, channel):
    # given a flagged live product
    a_live_product(store, dress, channel, "P1")
    cs.banned_words_update(actor=ACTOR, store=store, words="显瘦")
    checks_run(rule="LIST-02", store=store, notify=False)

    # when the word is removed and the scan re-runs
    cs.banned_words_update(actor=ACTOR, store=store, words="最")
    checks_run(rule="LIST-02", store=store, notify=False)

    # then
    assert open_findings("LIST-02") == []
    assert Finding.objects.get(rule_id="LIST-02").resolution == "auto"


def test_list_02_the_word_list_task_rescans_the_store(store, dress, channel):
    # given a live product and a changed list
    from storeops.catalog.tasks import scan_live_copy

    p1 = a_live_product(store, dress, channel, "P1")
    cs.banned_words_update(actor=ACTOR, store=store, words="连衣裙")

    # when the task triggered by the change runs (synchronously here)
    raised = scan_live_copy.call_local(store.pk)

    # then
    assert raised == 1
    assert open_findings("LIST-02") == [f"product:{p1.pk}:banned_words"]


def _sales(product, channel, day, *, units=0, visitors=0, buyers=0, stock=None):
    SalesDaily.objects.create(
        store=product.store,
        product=product,
        channel=channel,
        day=day,
        units=units,
        visitors=visitors,
        buyers=buyers,
        stock_on_hand=stock,
    )


def test_list_07_a_product_past_launch_selling_two_units_a_month_with_stock_is_a_slow_mover(
    store, dress, channel, today
):
    # given two products listed 60 days ago with 50 units in stock; one sold 2, the other 40 in 30 days
    slow = a_live_product(store, dress, channel, "SLOW")
    fast = a_live_product(store, dress, channel, "FAST")
    Product.objects.filter(pk__in=[slow.pk, fast.pk]).update(listed_on=today - dt.timedelta(days=60))
    _sales(slow, channel, today - dt.timedelta(days=3), units=2, stock=50)
    _sales(fast, channel, today - dt.timedelta(days=3), units=40, stock=50)

    # when
    checks_run(rule="LIST-07", store=store, notify=False)

    # then
    finding = Finding.objects.get(rule_id="LIST-07")
    assert open_findings("LIST-07") == [f"product:{slow.pk}:slow_mover"]
    assert finding.detail == {
        "stage": "stable",
        "units": 2,
        "stock_on_hand": 50,
        "reasons": ["slow_mover_low_sales", "slow_mover_high_cover"],
    }


def test_list_07_a_product_in_its_launch_month_is_never_a_slow_mover(store, dress, channel, today):
    # given a product listed 10 days ago that sold nothing with stock
    p = a_live_product(store, dress, channel, "NEW")
    Product.objects.filter(pk=p.pk).update(listed_on=today - dt.timedelta(days=10))
    _sales(p, channel, today, units=0, stock=100)

    # when
    checks_run(rule="LIST-07", store=store, notify=False)

    # then
    assert open_findings("LIST-07") == []


def test_list_08_product_converting_at_1_percent_in_a_3_percent_category_is_flagged(
    store, dress, channel, today
):
    # given category traffic: A 1% (10/1000), B 5% (50/1000) -> average 3%; playbook flags below 50% of it
    a = a_live_product(store, dress, channel, "A")
    b = a_live_product(store, dress, channel, "B")
    _sales(a, channel, today - dt.timedelta(days=1), visitors=1000, buyers=10, units=10)
    _sales(b, channel, today - dt.timedelta(days=1), visitors=1000, buyers=50, units=50)

    # when
    checks_run(rule="LIST-08", store=store, notify=False)

    # then
    finding = Finding.objects.get(rule_id="LIST-08")
    assert open_findings("LIST-08") == [f"product:{a.pk}:low_conversion"]
    assert finding.title == "商品 A 转化率 1.00% 低于类目「连衣裙」均值 3.00%，请优化主图/详情页"


def test_list_08_the_flag_ratio_is_a_playbook_setting(store, dress, channel, today):
    # given 2% vs a 3% category average (2/3 of it), flagged only when the ratio is raised to 1
    a = a_live_product(store, dress, channel, "A")
    b = a_live_product(store, dress, channel, "B")
    _sales(a, channel, today, visitors=1000, buyers=20)
    _sales(b, channel, today, visitors=1000, buyers=40)
    checks_run(rule="LIST-08", store=store, notify=False)
    before = open_findings("LIST-08")

    # when
    st.playbook_update(actor=ACTOR, store=store, values={"conversion_below_category_ratio": "1"})
    checks_run(rule="LIST-08", store=store, notify=False)

    # then
    assert before == []
    assert open_findings("LIST-08") == [f"product:{a.pk}:low_conversion"]


def test_list_08_the_minimum_visitors_before_judging_is_a_playbook_setting(store, dress, channel, today):
    # given A converts 1% and B 3%, with 150 visitors each
    a = a_live_product(store, dress, channel, "A")
    b = a_live_product(store, dress, channel, "B")
    _sales(a, channel, today, visitors=150, buyers=1)
    _sales(b, channel, today, visitors=150, buyers=5)
    checks_run(rule="LIST-08", store=store, notify=False)
    with_default = open_findings("LIST-08")

    # when the store asks for 200 visitors before judging
    st.playbook_update(actor=ACTOR, store=store, values={"low_conversion_min_visitors": "200"})
    checks_run(rule="LIST-08", store=store, notify=False)

    # then A is flagged at the default 100 and no longer once 150 visitors are too few
    assert with_default == [f"product:{a.pk}:low_conversion"]
    assert open_findings("LIST-08") == []


def test_sel_02_supplier_with_6_percent_stock_outs_and_key_product_with_one_supplier_raise_findings(
    store, dress, today
):
    # given supplier S1 stocked out on 3 of 50 orders (6%), S2 on 0 of 50; a key product supplied by S2 only
    s1 = cs.supplier_create(actor=ACTOR, store=store, code="S1", name="一号工厂", payment_term_days=30)
    s2 = cs.supplier_create(actor=ACTOR, store=store, code="S2", name="二号工厂", payment_term_days=60)
    day = today - dt.timedelta(days=20)
    for i in range(50):
        cs.supply_record_add(
            actor=ACTOR,
            supplier=s1,
            ordered_on=day,
            due_on=day,
            delivered_on=day,
            stocked_out=i < 3,
            qc_samples=10,
            qc_passed=10,
        )
        cs.supply_record_add(
            actor=ACTOR,
            supplier=s2,
            ordered_on=day,
            due_on=day,
            delivered_on=day,
            qc_samples=10,
            qc_passed=10,
        )
    key = a_product(store, dress, "KEY", is_key=True)
    cs.product_supplier_link(actor=ACTOR, product=key, supplier=s2, is_primary=True)

    # when
    checks_run(rule="SEL-02", store=store, notify=False)

    # then
    assert open_findings("SEL-02") == [f"product:{key.pk}:suppliers", f"supplier:{s1.pk}"]
    assert (
        Finding.objects.get(subject_key=f"supplier:{s1.pk}").title
        == "供应商 一号工厂 未达标：缺货率6%，应低于5%"
    )

    # and when a second supplier is linked, the key-product finding resolves
    cs.product_supplier_link(actor=ACTOR, product=key, supplier=s1)
    checks_run(rule="SEL-02", store=store, notify=False)
    assert open_findings("SEL-02") == [f"supplier:{s1.pk}"]


def test_sel_02_ranking_puts_the_reliable_certified_supplier_first(store, today):
    # given S1 with ISO 9001 and a clean record, S2 with a 90% QC pass rate
    from storeops.catalog.selectors import supplier_ranking
    from storeops.stores.selectors import playbook_get

    s1 = cs.supplier_create(
        actor=ACTOR, store=store, code="S1", name="甲", payment_term_days=60, small_batch_customisation=True
    )
    s2 = cs.supplier_create(actor=ACTOR, store=store, code="S2", name="乙", payment_term_days=60)
    cs.supplier_certification_add(
        actor=ACTOR, supplier=s1, kind="iso9001", valid_from=today - dt.timedelta(days=1)
    )
    day = today - dt.timedelta(days=5)
    cs.supply_record_add(
        actor=ACTOR, supplier=s1, ordered_on=day, due_on=day, delivered_on=day, qc_samples=100, qc_passed=100
    )
    cs.supply_record_add(
        actor=ACTOR, supplier=s2, ordered_on=day, due_on=day, delivered_on=day, qc_samples=100, qc_passed=90
    )

    # when
    ranking = supplier_ranking(store=store, today=today, playbook=playbook_get(store=store))

    # then: S1 scores full marks; S2 loses QC (0) and ISO/small batch
    assert [(s.code, str(score.score)) for s, score in ranking] == [("S1", "100.00"), ("S2", "55.00")]


def test_sel_02_scorecard_weights_and_the_full_score_payment_term_are_playbook_settings(store, today):
    # given S2 of the test above (90 % QC, no ISO, no small batch) with a 30-day payment term
    from storeops.catalog.selectors import supplier_ranking
    from storeops.stores.selectors import playbook_get
    from storeops.stores.services import playbook_update

    s2 = cs.supplier_create(actor=ACTOR, store=store, code="S2", name="乙", payment_term_days=30)
    day = today - dt.timedelta(days=5)
    cs.supply_record_add(
        actor=ACTOR, supplier=s2, ordered_on=day, due_on=day, delivered_on=day, qc_samples=100, qc_passed=90
    )
    # when the store weighs only stock-outs and delivery, and 30 days is a full-score term
    playbook_update(
        actor=ACTOR,
        store=store,
        values={
            "supplier_weight_qc": "0",
            "supplier_weight_payment_terms": "0",
            "supplier_weight_iso9001": "0",
            "supplier_weight_small_batch": "0",
            "supplier_payment_term_full_score_days": 30,
        },
    )
    ((_, score),) = supplier_ranking(store=store, today=today, playbook=playbook_get(store=store))
    # then S2 scores full marks on what is weighed
    assert str(score.score) == "100.00"
    # and weights that are all 0 are refused
    with pytest.raises(ValidationError):
        playbook_update(
            actor=ACTOR,
            store=store,
            values={"supplier_weight_stock_out": "0", "supplier_weight_on_time": "0"},
        )
