"""Listing audit on database rows (SOP LIST-01…06, STORE-02/03) and the manual queue."""

from __future__ import annotations

import datetime as dt

import pytest

from storeops.audit.models import AuditEntry
from storeops.catalog import services as cs
from storeops.catalog.models import ListingAudit, ListingStatus, ProductStatus
from storeops.catalog.selectors import audit_queue, banned_word_scanner
from storeops.core.errors import Conflict, InvalidTransition, ValidationError
from storeops.pricing import services as ps
from storeops.stores import services as st
from tests.catalog.db_builders import ACTOR, a_business_license, a_dress_category, a_live_product, a_product

pytestmark = pytest.mark.django_db


@pytest.fixture
def dress(store, today):
    a_business_license(store, today)
    return a_dress_category(store)


def test_list_01_a_complete_product_with_valid_qualifications_is_approved_automatically(store, dress, today):
    # given a complete product in a category whose licence the store holds
    product = a_product(store, dress)

    # when it is submitted
    audit = cs.listing_submit(actor=ACTOR, product=product, today=today)

    # then it is approved with no reasons, and the step is in the operation log
    product.refresh_from_db()
    assert (audit.outcome, audit.passed, audit.reasons) == ("approved", True, [])
    assert product.status == ProductStatus.APPROVED
    assert AuditEntry.objects.filter(action="product.submit_audit", object_id=str(product.pk)).count() == 1


def test_list_02_banned_word_in_the_title_rejects_the_product_with_its_position(store, dress, today):
    # given a title with the superlative 最
    product = a_product(
        store, dress, title="2024夏季新款最美法式碎花雪纺连衣裙女装收腰显瘦长裙海边度假沙滩裙"
    )

    # when
    audit = cs.listing_submit(actor=ACTOR, product=product, today=today)

    # then
    product.refresh_from_db()
    assert product.status == ProductStatus.REJECTED
    banned = [r for r in audit.reasons if r["code"] == "banned_word"]
    assert [(r["field"], r["positions"]) for r in banned] == [("title", [[8, 9]])]
    assert banned[0]["message_zh"] == "标题含广告法禁用词“最”（第9字）"


def test_list_02_the_stores_edited_word_list_is_used_and_versioned(store, dress, today):
    # given the store bans 显瘦 and nothing else
    cs.banned_words_update(actor=ACTOR, store=store, words="显瘦\n# 注释\n")
    product = a_product(store, dress)

    # when
    audit = cs.listing_submit(actor=ACTOR, product=product, today=today)

    # then
    assert [r["message_zh"] for r in audit.reasons] == ["标题含广告法禁用词“显瘦”（第22–23字）"]
    assert audit.word_list_version == banned_word_scanner(store=store).version
    assert banned_word_scanner(store=store) is banned_word_scanner(store=store)  # cached per version


def test_store_03_missing_category_qualification_blocks_the_listing(store, today):
    # given a cosmetics category needing a cosmetics licence the store lacks
    a_business_license(store, today)
    cosmetics = a_dress_category(store, code="beauty", required_qualifications=["cosmetics_license"])
    product = a_product(store, cosmetics)

    # when
    audit = cs.listing_submit(actor=ACTOR, product=product, today=today)

    # then
    assert audit.outcome == "rejected"
    assert [r["code"] for r in audit.reasons] == ["qualification_missing"]


def test_store_02_an_expired_licence_blocks_listing_in_the_category(store, today):
    # given the only business licence expired yesterday
    a_business_license(store, today, valid_to=today - dt.timedelta(days=1))
    product = a_product(store, a_dress_category(store))

    # when
    audit = cs.listing_submit(actor=ACTOR, product=product, today=today)

    # then
    assert [r["code"] for r in audit.reasons] == ["qualification_expired"]
    assert audit.outcome == "rejected"


def test_list_03_efficacy_claim_needs_an_efficacy_report_document(store, dress, today):
    # given a product flagged as claiming efficacy, without documents, then with a report
    product = a_product(store, dress, has_efficacy_claim=True)
    first = cs.listing_submit(actor=ACTOR, product=product, today=today)
    cs.product_document_add(
        actor=ACTOR,
        product=product,
        kind="efficacy_report",
        title="功效检测报告",
        valid_from=today - dt.timedelta(days=10),
        valid_to=today + dt.timedelta(days=300),
    )

    # when it is submitted again
    second = cs.listing_submit(actor=ACTOR, product=product, today=today)

    # then
    assert [r["code"] for r in first.reasons] == ["efficacy_document_missing"]
    assert (second.outcome, second.reasons) == ("approved", [])


def test_list_04_missing_scene_image_qc_report_and_a_large_image_are_all_reported(store, dress, today):
    # given a product with only an oversized main image
    product = a_product(store, dress, complete=False)
    cs.product_image_add(actor=ACTOR, product=product, role="main", name="main.jpg", size_bytes=150 * 1024)

    # when
    audit = cs.listing_submit(actor=ACTOR, product=product, today=today)

    # then
    assert [r["code"] for r in audit.reasons] == [
        "scene_image_missing",
        "qc_report_missing",
        "image_too_large",
    ]


def test_list_04_the_image_limit_comes_from_the_playbook(store, dress, today):
    # given a 150 KB limit and a 120 KB scene image
    st.playbook_update(actor=ACTOR, store=store, values={"image_max_kb": 150})
    product = a_product(store, dress)
    cs.product_image_add(actor=ACTOR, product=product, role="scene", name="big.jpg", size_bytes=120 * 1024)

    # when
    audit = cs.listing_submit(actor=ACTOR, product=product, today=today)

    # then
    assert audit.outcome == "approved"


def test_list_05_price_far_below_competitors_goes_to_the_manual_queue_and_is_approved_there(
    store, dress, today, owner
):
    # given competitors at 300 and 320 while we sell at 199 (more than 30% below the median 310)
    product = a_product(store, dress)
    for name, price in (("A", "300.00"), ("B", "320.00")):
        cp = ps.competitor_product_create(
            actor=ACTOR, store=store, competitor=name, name="连衣裙", product=product
        )
        ps.competitor_price_record(actor=ACTOR, competitor_product=cp, price=price)

    # when submitted, then reviewed
    audit = cs.listing_submit(actor=ACTOR, product=product, today=today)
    queued = list(audit_queue(store_id=store.pk))
    from storeops.core.context import Actor

    reviewed = cs.listing_review(actor=Actor(user=owner), audit=audit, approve=True, comment="清仓价，已确认")

    # then
    product.refresh_from_db()
    assert audit.outcome == "manual"
    assert [r["code"] for r in audit.reasons] == ["price_far_below_reference"]
    assert queued == [audit]
    assert (reviewed.decision, reviewed.reviewed_by, product.status) == (
        "approve",
        owner,
        ProductStatus.APPROVED,
    )
    assert list(audit_queue(store_id=store.pk)) == []


def test_list_05_rejecting_from_the_queue_needs_a_comment(store, dress, today):
    # given a queued audit
    product = a_product(store, dress)
    cp = ps.competitor_product_create(actor=ACTOR, store=store, competitor="A", name="裙", product=product)
    ps.competitor_price_record(actor=ACTOR, competitor_product=cp, price="400.00")
    audit = cs.listing_submit(actor=ACTOR, product=product, today=today)

    # when rejected without a comment, then refused; with one, rejected
    with pytest.raises(ValidationError):
        cs.listing_review(actor=ACTOR, audit=audit, approve=False, comment=" ")
    cs.listing_review(actor=ACTOR, audit=audit, approve=False, comment="价格偏低，请核实成本")
    product.refresh_from_db()
    assert product.status == ProductStatus.REJECTED
    with pytest.raises(InvalidTransition):
        cs.listing_review(actor=ACTOR, audit=audit, approve=True, comment="")


def test_list_01_changing_the_copy_of_an_approved_product_needs_a_new_audit(store, dress, today):
    # given an approved product
    product = a_product(store, dress)
    cs.listing_submit(actor=ACTOR, product=product, today=today)

    # when its title changes
    product = cs.product_update(actor=ACTOR, product=product, title=product.title + "新")

    # then it is a draft again
    assert product.status == ProductStatus.DRAFT


def test_list_02_a_live_product_cannot_take_a_banned_word_into_its_copy(store, dress, channel):
    # given a live product
    product = a_live_product(store, dress, channel)

    # when its description gets 顶级, then the change is refused and nothing is saved
    with pytest.raises(ValidationError) as err:
        cs.product_update(actor=ACTOR, product=product, description="顶级面料")
    product.refresh_from_db()
    assert err.value.fields == {"description": "详情描述含广告法禁用词“顶级”（第1–2字）"}
    assert product.description.startswith("法式碎花")


def test_list_06_scheduled_listing_and_delisting_run_once_when_due(store, dress, channel, today):
    # given an approved product scheduled to list in an hour and to delist a day later
    from django.utils import timezone

    now = timezone.now()
    product = a_product(store, dress)
    cs.listing_submit(actor=ACTOR, product=product, today=today)
    listing = cs.listing_schedule(
        actor=ACTOR,
        product=product,
        channel=channel,
        list_at=now + dt.timedelta(hours=1),
        delist_at=now + dt.timedelta(days=1),
        delist_reason="season_end",
        remaining_stock_action="clearance",
        now=now,
    )

    # when the scheduler runs before, at and twice after the listing time, then after the delisting time
    early = cs.listings_run_due(now=now)
    due = cs.listings_run_due(now=now + dt.timedelta(hours=1))
    again = cs.listings_run_due(now=now + dt.timedelta(hours=2))
    product.refresh_from_db()
    live_status = product.status
    end = cs.listings_run_due(now=now + dt.timedelta(days=1, minutes=1))

    # then each step happened exactly once
    listing.refresh_from_db()
    product.refresh_from_db()
    runs = [(r.listed, r.delisted, r.held) for r in (early, due, again, end)]
    assert runs == [(0, 0, 0), (1, 0, 0), (0, 0, 0), (0, 1, 0)]
    assert live_status == ProductStatus.LIVE
    # the reason and stock action given when scheduling are the ones used (LIST-06)
    assert (listing.status, listing.delist_reason, listing.remaining_stock_action) == (
        ListingStatus.DELISTED,
        "season_end",
        "clearance",
    )
    assert product.status == ProductStatus.DELISTED


def test_list_06_delisting_records_the_reason_and_the_remaining_stock_action(store, dress, channel):
    # given a live product
    product = a_live_product(store, dress, channel)
    listing = product.listings.get()

    # when delisted for season end with clearance of the rest
    listing = cs.listing_delist(
        actor=ACTOR, listing=listing, reason="season_end", remaining_stock_action="clearance", note="夏季结束"
    )

    # then
    product.refresh_from_db()
    assert (listing.status, listing.delist_reason, listing.remaining_stock_action, listing.delist_note) == (
        "delisted",
        "season_end",
        "clearance",
        "夏季结束",
    )
    assert product.status == ProductStatus.DELISTED
    assert AuditEntry.objects.filter(action="listing.delist", object_id=str(listing.pk)).count() == 1


def test_list_06_an_unaudited_product_cannot_be_listed(store, dress, channel):
    # given a draft
    product = a_product(store, dress)

    # when / then
    with pytest.raises(InvalidTransition):
        cs.listing_schedule(actor=ACTOR, product=product, channel=channel)
    assert ListingAudit.objects.count() == 0


# ---- STORE-02: an expired required qualification blocks listing at listing time -------------


def _approved_with_licence_until(store, today, valid_to):
    """An approved dress whose category requires the business licence, held until ``valid_to``."""
    a_business_license(store, today, valid_to=valid_to)
    product = a_product(store, a_dress_category(store))
    cs.listing_submit(actor=ACTOR, product=product, today=today)
    product.refresh_from_db()
    assert product.status == ProductStatus.APPROVED
    return product


def test_store_02_listing_now_after_the_required_licence_expired_is_a_409_naming_it(store, channel, today):
    # given a product approved while the licence was valid; the licence ends tomorrow
    from django.utils import timezone

    product = _approved_with_licence_until(store, today, today + dt.timedelta(days=1))
    later = timezone.now() + dt.timedelta(days=3)

    # when it is listed three days later
    with pytest.raises(Conflict) as err:
        cs.listing_schedule(actor=ACTOR, product=product, channel=channel, now=later)

    # then it is refused naming the document and its expiry, and nothing is written
    expiry = (today + dt.timedelta(days=1)).isoformat()
    assert err.value.code == "qualification_invalid"
    assert err.value.fields == {"qualifications": f"类目要求的资质 营业执照 已于 {expiry} 过期"}
    assert product.listings.count() == 0
    product.refresh_from_db()
    assert product.status == ProductStatus.APPROVED


def test_store_02_a_listing_scheduled_for_after_the_expiry_is_refused_when_scheduled(store, channel, today):
    # given the licence ends tomorrow
    from django.utils import timezone

    product = _approved_with_licence_until(store, today, today + dt.timedelta(days=1))
    now = timezone.now()

    # when the listing is planned for in five days / for in one hour
    with pytest.raises(Conflict):
        cs.listing_schedule(
            actor=ACTOR, product=product, channel=channel, list_at=now + dt.timedelta(days=5), now=now
        )
    soon = cs.listing_schedule(
        actor=ACTOR, product=product, channel=channel, list_at=now + dt.timedelta(hours=1), now=now
    )

    # then only the one the licence still covers is scheduled
    assert soon.status == ListingStatus.SCHEDULED


def test_store_02_a_listing_due_after_the_expiry_waits_reported_until_renewed(store, channel, today):
    # given a listing scheduled in an hour while the licence (ending tomorrow) is valid
    from django.utils import timezone

    from storeops.sop.models import Finding

    product = _approved_with_licence_until(store, today, today + dt.timedelta(days=1))
    now = timezone.now()
    listing = cs.listing_schedule(
        actor=ACTOR, product=product, channel=channel, list_at=now + dt.timedelta(hours=1), now=now
    )

    # when the scheduler only runs three days later, and again a minute after
    first = cs.listings_run_due(now=now + dt.timedelta(days=3))
    second = cs.listings_run_due(now=now + dt.timedelta(days=3, minutes=1))

    # then the listing is held (not live), with its reason, audited once, and a STORE-02 finding
    listing.refresh_from_db()
    product.refresh_from_db()
    assert (first.listed, first.held, second.listed, second.held) == (0, 1, 0, 1)
    assert listing.status == ListingStatus.SCHEDULED
    assert product.status == ProductStatus.APPROVED
    assert "营业执照" in listing.held_reason
    assert "过期" in listing.held_reason
    assert AuditEntry.objects.filter(action="listing.held", object_id=str(listing.pk)).count() == 1
    held = Finding.objects.get(rule_id="STORE-02", subject_key=f"listing:{listing.pk}:held")
    assert held.status == "open"
    assert "P1" in held.title

    # when the licence is renewed and the scheduler runs again
    a_business_license(store, today, title="营业执照（换发）", valid_to=today + dt.timedelta(days=800))
    renewed = cs.listings_run_due(now=now + dt.timedelta(days=3, minutes=2))

    # then it goes live, the reason is cleared and the finding resolves itself
    listing.refresh_from_db()
    held.refresh_from_db()
    assert (renewed.listed, renewed.held) == (1, 0)
    assert (listing.status, listing.held_reason) == (ListingStatus.LIVE, "")
    assert (held.status, held.resolution) == ("resolved", "auto")


# ---- LIST-06: a delisting planned at listing time records its reason and the stock's fate ----


def test_list_06_a_planned_delisting_without_reason_or_stock_action_is_refused(store, dress, channel, today):
    # given an approved product
    from django.utils import timezone

    product = a_product(store, dress)
    cs.listing_submit(actor=ACTOR, product=product, today=today)
    now = timezone.now()

    # when it is scheduled with a delisting time but no reason / stock action
    with pytest.raises(ValidationError) as err:
        cs.listing_schedule(
            actor=ACTOR, product=product, channel=channel, delist_at=now + dt.timedelta(days=30), now=now
        )

    # then both are named and nothing is written
    assert err.value.fields == {
        "delist_reason": "请选择下架原因",
        "remaining_stock_action": "请选择剩余库存处理方式",
    }
    assert product.listings.count() == 0


def test_list_06_reason_other_needs_a_note_and_a_reason_needs_a_delisting_time(store, dress, channel, today):
    product = a_product(store, dress)
    cs.listing_submit(actor=ACTOR, product=product, today=today)
    from django.utils import timezone

    now = timezone.now()
    with pytest.raises(ValidationError) as other:
        cs.listing_schedule(
            actor=ACTOR,
            product=product,
            channel=channel,
            delist_at=now + dt.timedelta(days=30),
            delist_reason="other",
            remaining_stock_action="return_to_supplier",
            now=now,
        )
    with pytest.raises(ValidationError) as no_time:
        cs.listing_schedule(actor=ACTOR, product=product, channel=channel, delist_reason="stock_out", now=now)

    assert other.value.fields == {"delist_note": "原因为“其他”时请填写说明"}
    assert set(no_time.value.fields) == {"delist_at"}
    assert product.listings.count() == 0
