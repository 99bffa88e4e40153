"""Listing audit: SOP LIST-01…05 and STORE-02/03."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from storeops.catalog.banned_words import BannedWordScanner
from storeops.catalog.rules import (
    HeldQualification,
    ImageRole,
    ListingDraft,
    ListingImage,
    ListingPolicy,
    Reason,
    Severity,
    audit_listing,
)
from storeops.core.money import Money

TODAY = date(2026, 3, 15)
POLICY = ListingPolicy()
SCANNER = BannedWordScanner.from_words(["最", "最佳", "第一", "顶级", "100%"])
GOOD_TITLE = "2024夏季新款法式碎花雪纺连衣裙女装收腰显瘦气质长裙海边度假沙滩裙"  # 34 characters


def a_good_draft() -> ListingDraft:
    return ListingDraft(
        title=GOOD_TITLE,
        description="法式碎花雪纺面料，轻薄透气，适合海边度假与日常通勤。",
        core_word="连衣裙",
        price=Money("199.00"),
        attribute_vocabulary=("碎花", "雪纺", "收腰"),
        scene_vocabulary=("度假", "通勤", "约会"),
        required_qualifications=("business_licence",),
        store_qualifications=(HeldQualification("business_licence", date(2024, 1, 1), date(2027, 1, 1)),),
        required_parameters=("尺码", "面料"),
        parameters={"尺码": "S/M/L", "面料": "雪纺"},
        images=(
            ListingImage("main.jpg", 80_000, ImageRole.MAIN),
            ListingImage("beach.jpg", 90_000, ImageRole.SCENE),
            ListingImage("detail.jpg", 60_000, ImageRole.DETAIL),
        ),
        qc_report_attached=True,
        reference_prices=(Money("189.00"), Money("209.00"), Money("199.00")),
    )


def audit(draft: ListingDraft, policy: ListingPolicy = POLICY):
    return audit_listing(draft, policy, SCANNER, today=TODAY)


def test_list_01_a_complete_compliant_draft_passes_the_audit():
    # given
    draft = a_good_draft()

    # when
    result = audit(draft)

    # then
    assert result.passed is True
    assert result.reasons == ()


def test_list_01_title_shorter_than_minimum_is_rejected():
    # given a 17-character title
    draft = replace(a_good_draft(), title="碎花雪纺连衣裙女装海边度假沙滩长裙")

    # when
    result = audit(draft)

    # then
    assert result.passed is False
    assert result.reasons == (
        Reason(
            "LIST-01",
            "title_too_short",
            "title",
            "标题17个字，少于30个字",
            "Title has 17 characters, fewer than 30",
        ),
    )


def test_list_01_title_longer_than_maximum_is_rejected():
    # given
    title = GOOD_TITLE + "显瘦" * 14  # 34 + 28 = 62 characters
    draft = replace(a_good_draft(), title=title)

    # when
    result = audit(draft)

    # then
    assert result.codes == ("title_too_long",)
    assert result.reasons[0].message_zh == "标题62个字，多于60个字"


@pytest.mark.parametrize("length", [30, 60])
def test_list_01_title_length_bounds_are_inclusive(length):
    # given a 26-character title padded to exactly the bound
    title = (GOOD_TITLE.replace("女装收腰显瘦气质长裙", "收腰") + "显" * 40)[:length]
    draft = replace(a_good_draft(), title=title)

    # when
    result = audit(draft)

    # then
    assert len(title) == length
    assert result.passed is True


def test_list_01_title_length_follows_the_policy():
    # given a store that allows 20-character titles
    draft = replace(a_good_draft(), title="法式碎花雪纺连衣裙女装收腰海边度假长裙款")  # 20 characters

    # when
    default = audit(draft)
    relaxed = audit(draft, replace(POLICY, title_min_chars=20))

    # then
    assert default.codes == ("title_too_short",)
    assert relaxed.passed is True


def test_list_01_surrounding_spaces_do_not_count_towards_title_length():
    # given 28 characters of text padded with spaces
    draft = replace(a_good_draft(), title="  " + GOOD_TITLE[:28] + "   ")

    # when
    result = audit(draft)

    # then
    assert "title_too_short" in result.codes


def test_list_01_title_without_the_core_word_is_rejected():
    # given
    draft = replace(a_good_draft(), title=GOOD_TITLE.replace("连衣裙", "半身裙"))

    # when
    result = audit(draft)

    # then
    assert result.reasons == (
        Reason(
            "LIST-01",
            "title_missing_core_word",
            "title",
            "标题缺少核心词“连衣裙”",
            "Title lacks the core word '连衣裙'",
        ),
    )


def test_list_01_title_without_a_scene_word_is_rejected():
    # given the title's only scene word removed
    draft = replace(a_good_draft(), title=GOOD_TITLE.replace("度假", "风格"))

    # when
    result = audit(draft)

    # then
    assert result.codes == ("title_missing_scene_word",)
    assert result.reasons[0].message_zh == "标题需至少1个场景词（如：度假、通勤、约会），现有0个"


def test_list_01_title_needs_as_many_attribute_words_as_the_policy_asks():
    # given a title with two attribute words (碎花, 雪纺; 收腰 counts too -> three)
    draft = a_good_draft()

    # when
    three = audit(draft, replace(POLICY, min_attribute_words=3))
    four = audit(draft, replace(POLICY, min_attribute_words=4))

    # then
    assert three.passed is True
    assert four.codes == ("title_missing_attribute_word",)
    assert four.reasons[0].message_zh == "标题需至少4个属性词（如：碎花、雪纺、收腰），现有3个"


def test_list_01_parts_without_a_vocabulary_are_not_checked():
    # given a category with no tag vocabularies
    draft = replace(
        a_good_draft(),
        title=GOOD_TITLE.replace("度假", "风格").replace("碎花", "印花"),
        attribute_vocabulary=(),
        scene_vocabulary=(),
    )

    # when / then
    assert audit(draft).passed is True


def test_list_01_a_draft_needs_a_core_word():
    # when / then
    with pytest.raises(ValueError, match="core word"):
        replace(a_good_draft(), core_word=" ")


def test_list_02_banned_words_in_title_are_rejected_with_every_position():
    # given
    title = "最佳" + GOOD_TITLE + "第一"
    draft = replace(a_good_draft(), title=title)

    # when
    result = audit(draft)

    # then
    assert result.passed is False
    assert [(r.code, r.field, r.positions) for r in result.reasons] == [
        ("banned_word", "title", ((0, 1),)),
        ("banned_word", "title", ((0, 2),)),
        ("banned_word", "title", ((36, 38),)),
    ]
    assert result.reasons[1].message_zh == "标题含广告法禁用词“最佳”（第1–2字）"
    assert result.reasons[2].message_en == "The title contains the banned word '第一' at characters 37-38"


def test_list_02_a_word_repeated_in_the_description_is_one_reason_with_all_positions():
    # given
    draft = replace(a_good_draft(), description="顶级面料，顶级做工，１００％桑蚕丝")

    # when
    result = audit(draft)

    # then
    assert [(r.field, r.positions, r.message_zh) for r in result.reasons] == [
        ("description", ((0, 2), (5, 7)), "详情描述含广告法禁用词“顶级”（第1–2字、第6–7字）"),
        ("description", ((10, 14),), "详情描述含广告法禁用词“100%”（第11–14字）"),
    ]


def test_list_03_efficacy_keyword_without_a_document_is_rejected():
    # given
    draft = replace(a_good_draft(), description="温和配方，美白淡斑，持久美白")

    # when
    result = audit(draft)

    # then
    assert result.reasons == (
        Reason(
            "LIST-03",
            "efficacy_document_missing",
            "description",
            "详情描述宣称功效“美白、淡斑”，需附功效检测报告或注册/备案凭证",
            "The description claims efficacy (美白、淡斑); attach one of: "
            "cosmetic_registration、efficacy_test_report、health_food_registration",
            positions=((5, 7), (7, 9), (12, 14)),
        ),
    )


def test_list_03_efficacy_claim_with_a_test_report_attached_passes():
    # given
    draft = replace(
        a_good_draft(),
        description="温和配方，美白淡斑",
        has_efficacy_claim=True,
        document_kinds=frozenset({"efficacy_test_report"}),
    )

    # when / then
    assert audit(draft).passed is True


def test_list_03_a_flagged_efficacy_claim_without_keywords_still_needs_a_document():
    # given
    draft = replace(a_good_draft(), has_efficacy_claim=True, document_kinds=frozenset({"invoice"}))

    # when
    result = audit(draft)

    # then
    assert [(r.rule, r.code, r.field) for r in result.reasons] == [
        ("LIST-03", "efficacy_document_missing", "documents")
    ]


def test_list_04_missing_parameter_table_is_rejected():
    # given
    draft = replace(a_good_draft(), parameters={})

    # when
    result = audit(draft)

    # then
    assert result.codes == ("parameter_table_missing",)


def test_list_04_missing_or_blank_required_parameters_are_listed():
    # given
    draft = replace(a_good_draft(), required_parameters=("尺码", "面料", "颜色"), parameters={"尺码": " "})

    # when
    result = audit(draft)

    # then
    assert result.reasons == (
        Reason(
            "LIST-04",
            "parameter_missing",
            "parameters",
            "参数表缺少：尺码、面料、颜色",
            "Parameter table lacks: 尺码, 面料, 颜色",
        ),
    )


def test_list_04_main_image_scene_image_and_qc_report_are_required():
    # given only a detail image and no QC report
    draft = replace(
        a_good_draft(), images=(ListingImage("d.jpg", 1_000, ImageRole.DETAIL),), qc_report_attached=False
    )

    # when
    result = audit(draft)

    # then
    assert result.codes == ("main_image_missing", "scene_image_missing", "qc_report_missing")
    assert result.reasons[1].message_zh == "使用场景图0张，至少需要1张"


def test_list_04_images_over_100_kb_are_rejected_and_exactly_100_kb_passes():
    # given
    images = (
        ListingImage("main.jpg", 102_400, ImageRole.MAIN),
        ListingImage("scene.jpg", 102_401, ImageRole.SCENE),
        ListingImage("big.png", 150_000, ImageRole.DETAIL),
    )
    draft = replace(a_good_draft(), images=images)

    # when
    result = audit(draft)

    # then
    assert [r.message_zh for r in result.reasons] == [
        "图片“scene.jpg”为100.1KB，超过100KB",
        "图片“big.png”为146.5KB，超过100KB",
    ]


def test_list_04_image_size_limit_follows_the_policy():
    # given
    draft = a_good_draft()

    # when
    result = audit(draft, replace(POLICY, max_image_bytes=85_000))

    # then
    assert result.reasons[0].message_zh == "图片“beach.jpg”为87.9KB，超过83.1KB"


def test_list_05_price_far_below_the_median_reference_is_flagged_but_does_not_block():
    # given references with median 200.00; 30% below is 140.00
    draft = replace(
        a_good_draft(),
        price=Money("139.99"),
        reference_prices=(Money("150.00"), Money("200.00"), Money("260.00"), Money("200.00")),
    )

    # when
    result = audit(draft)

    # then
    assert result.passed is True
    assert result.reasons == (
        Reason(
            "LIST-05",
            "price_far_below_reference",
            "price",
            "售价139.99元比市场参考价中位数200.00元低30%以上",
            "Price 139.99 is more than 30% below the median reference price 200.00",
            severity=Severity.WARN,
        ),
    )


def test_list_05_price_at_the_band_edges_is_not_flagged():
    # given median 200.00: band 140.00 to 260.00 inclusive
    base = replace(a_good_draft(), reference_prices=(Money("200.00"),))

    # when / then
    assert audit(replace(base, price=Money("140.00"))).reasons == ()
    assert audit(replace(base, price=Money("260.00"))).reasons == ()
    assert audit(replace(base, price=Money("260.01"))).codes == ("price_far_above_reference",)


def test_list_05_median_of_an_even_number_of_references_is_the_mean_of_the_middle_two():
    # given references 100, 120, 180, 300 -> median 150, 30% above is 195
    draft = replace(
        a_good_draft(),
        price=Money("195.01"),
        reference_prices=(Money("300"), Money("100"), Money("180"), Money("120")),
    )

    # when
    result = audit(draft)

    # then
    assert result.reasons[0].message_zh == "售价195.01元比市场参考价中位数150.00元高30%以上"


def test_list_05_store_can_make_price_outliers_block():
    # given
    draft = replace(a_good_draft(), price=Money("99.00"))

    # when
    result = audit(draft, replace(POLICY, price_outlier_blocks=True))

    # then
    assert result.passed is False
    assert result.reasons[0].severity is Severity.BLOCK


def test_list_05_no_reference_prices_means_no_price_check_but_price_must_be_positive():
    # given
    draft = replace(a_good_draft(), reference_prices=())

    # when / then
    assert audit(replace(draft, price=Money("1.00"))).passed is True
    assert audit(replace(draft, price=Money("0"))).codes == ("price_not_positive",)


def test_store_03_missing_category_qualification_blocks_the_listing():
    # given a cosmetics category that needs an industry licence the store lacks
    draft = replace(a_good_draft(), required_qualifications=("business_licence", "cosmetics_licence"))

    # when
    result = audit(draft)

    # then
    assert result.passed is False
    assert result.reasons == (
        Reason(
            "STORE-03",
            "qualification_missing",
            "qualifications",
            "类目要求的资质“cosmetics_licence”缺失",
            "The category requires the qualification 'cosmetics_licence', which the store lacks",
        ),
    )


def test_store_02_expired_qualification_blocks_from_the_day_after_valid_to():
    # given a licence valid until yesterday, and one valid until today
    expired = HeldQualification("business_licence", date(2024, 1, 1), date(2026, 3, 14))
    last_day = HeldQualification("business_licence", date(2024, 1, 1), TODAY)

    # when
    result_expired = audit(replace(a_good_draft(), store_qualifications=(expired,)))
    result_last_day = audit(replace(a_good_draft(), store_qualifications=(last_day,)))

    # then
    assert result_expired.reasons[0].message_zh == "类目要求的资质“business_licence”已于2026-03-14过期"
    assert result_last_day.passed is True


def test_store_03_a_renewed_qualification_replaces_the_expired_one():
    # given
    held = (
        HeldQualification("business_licence", date(2021, 1, 1), date(2025, 12, 31)),
        HeldQualification("business_licence", date(2026, 1, 1), None),
    )

    # when / then
    assert audit(replace(a_good_draft(), store_qualifications=held)).passed is True


def test_store_03_a_qualification_not_yet_valid_does_not_count():
    # given
    held = (HeldQualification("business_licence", date(2026, 4, 1), None),)

    # when
    result = audit(replace(a_good_draft(), store_qualifications=held))

    # then
    assert result.codes == ("qualification_not_yet_valid",)


def test_list_04_every_problem_is_reported_in_one_audit():
    # given a draft that breaks several rules at once
    draft = replace(
        a_good_draft(),
        title="最好的裙子",
        parameters={},
        images=(),
        qc_report_attached=False,
        store_qualifications=(),
    )

    # when
    result = audit(draft)

    # then
    assert result.codes == (
        "title_too_short",
        "title_missing_core_word",
        "title_missing_attribute_word",
        "title_missing_scene_word",
        "banned_word",
        "parameter_table_missing",
        "main_image_missing",
        "scene_image_missing",
        "qc_report_missing",
        "qualification_missing",
    )


def test_list_01_policy_rejects_inverted_title_bounds():
    # when / then
    with pytest.raises(ValueError, match="title_min_chars"):
        ListingPolicy(title_min_chars=61, title_max_chars=60)
    assert ListingPolicy().max_image_bytes == 102_400
    assert ListingPolicy().price_below_reference_max == Decimal("0.30")
