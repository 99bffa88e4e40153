"""Listing audit (SOP LIST-01…05, STORE-02/03): may this product draft go live?

:func:`audit_listing` runs every check and returns all reasons at once, so the operator
fixes the draft in one pass. Reasons of severity ``BLOCK`` fail the audit; ``WARN`` reasons
(price outliers, by default) are shown but do not block.

Title structure (LIST-01, "core word + attribute words + scene words"): the draft names
the product's core word (e.g. 连衣裙) and carries the category's attribute and scene tag
vocabularies (SEL-04 tags, e.g. 碎花/雪纺 and 度假/通勤). The title must contain the core word
and at least ``min_attribute_words`` / ``min_scene_words`` words of each vocabulary. Word
order is not enforced: marketplace titles mix the parts freely and search ignores order.
An empty vocabulary means the category has none defined, and that part is not checked.
"""

from __future__ import annotations

import enum
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_CEILING, Decimal

from storeops.catalog.banned_words import BannedWordScanner
from storeops.catalog.rules.reasons import Reason, Severity
from storeops.core.money import Money

_FIELD_ZH = {"title": "标题", "description": "详情描述"}

DEFAULT_EFFICACY_KEYWORDS: tuple[str, ...] = (
    # 化妆品功效宣称（《化妆品功效宣称评价规范》）与特殊化妆品
    "美白",
    "祛斑",
    "淡斑",
    "防晒",
    "防脱",
    "生发",
    "育发",
    "祛痘",
    "抗皱",
    "紧致",
    "修护",
    "舒缓",
    "控油",
    "去屑",
    "抗衰老",
    # 保健食品功能声称
    "增强免疫力",
    "降血压",
    "降血糖",
    "降血脂",
    "改善睡眠",
    "缓解疲劳",
    "减肥",
    "抗氧化",
    "补钙",
)

DEFAULT_EFFICACY_DOCUMENT_KINDS = frozenset(
    {"efficacy_test_report", "cosmetic_registration", "health_food_registration"}
)


class ImageRole(enum.StrEnum):
    MAIN = "main"
    SCENE = "scene"  # usage-scene picture (LIST-04)
    DETAIL = "detail"


@dataclass(frozen=True, slots=True)
class ListingImage:
    name: str
    size_bytes: int
    role: ImageRole


@dataclass(frozen=True, slots=True)
class HeldQualification:
    """A qualification document the store holds; ``None`` dates mean open-ended."""

    kind: str
    valid_from: date | None = None
    valid_to: date | None = None

    def is_valid_on(self, day: date) -> bool:
        starts_ok = self.valid_from is None or self.valid_from <= day
        return starts_ok and (self.valid_to is None or day <= self.valid_to)


@dataclass(frozen=True, slots=True)
class ListingPolicy:
    """Playbook settings for the listing audit."""

    title_min_chars: int = 30
    title_max_chars: int = 60
    min_attribute_words: int = 1
    min_scene_words: int = 1
    efficacy_keywords: tuple[str, ...] = DEFAULT_EFFICACY_KEYWORDS
    efficacy_document_kinds: frozenset[str] = DEFAULT_EFFICACY_DOCUMENT_KINDS
    min_scene_images: int = 1
    require_qc_report: bool = True
    max_image_bytes: int = 100 * 1024  # 100 KB (KiB)
    # Price sanity (LIST-05): flag a price this far below / above the median reference.
    price_below_reference_max: Decimal = Decimal("0.30")
    price_above_reference_max: Decimal = Decimal("0.30")
    price_outlier_blocks: bool = False

    def __post_init__(self) -> None:
        if not 0 < self.title_min_chars <= self.title_max_chars:
            raise ValueError("need 0 < title_min_chars <= title_max_chars")
        if not Decimal(0) <= self.price_below_reference_max < 1:
            raise ValueError("price_below_reference_max must be in [0, 1)")
        if self.price_above_reference_max < 0 or self.max_image_bytes <= 0:
            raise ValueError("price_above_reference_max and max_image_bytes must be positive")


@dataclass(frozen=True)
class ListingDraft:
    """Everything the audit needs about one product draft, loaded by the caller.

    ``required_qualifications`` and ``required_parameters`` come from the category;
    ``store_qualifications`` are the store's documents; ``document_kinds`` are the kinds
    attached to this product (efficacy test reports, registrations…);
    ``reference_prices`` are market/competitor prices of comparable items.
    """

    title: str
    description: str
    core_word: str
    price: Money
    attribute_vocabulary: tuple[str, ...] = ()
    scene_vocabulary: tuple[str, ...] = ()
    required_qualifications: tuple[str, ...] = ()
    store_qualifications: tuple[HeldQualification, ...] = ()
    has_efficacy_claim: bool = False
    document_kinds: frozenset[str] = frozenset()
    required_parameters: tuple[str, ...] = ()
    parameters: Mapping[str, str] = field(default_factory=dict)
    images: tuple[ListingImage, ...] = ()
    qc_report_attached: bool = False
    reference_prices: tuple[Money, ...] = ()

    def __post_init__(self) -> None:
        if not self.core_word.strip():
            raise ValueError("a listing draft needs its core word")


@dataclass(frozen=True, slots=True)
class AuditResult:
    passed: bool
    reasons: tuple[Reason, ...]

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(reason.code for reason in self.reasons)


def audit_listing(
    draft: ListingDraft, policy: ListingPolicy, scanner: BannedWordScanner, *, today: date
) -> AuditResult:
    """Run the listing audit; ``today`` decides which qualifications are still valid."""
    reasons = (
        *check_title(draft, policy),
        *check_banned_words(draft, scanner),
        *check_efficacy_documents(draft, policy),
        *check_detail_completeness(draft, policy),
        *check_price_sanity(draft, policy),
        *check_qualifications(draft, today=today),
    )
    passed = all(reason.severity is not Severity.BLOCK for reason in reasons)
    return AuditResult(passed=passed, reasons=reasons)


def check_title(draft: ListingDraft, policy: ListingPolicy) -> list[Reason]:
    """LIST-01: length within bounds; core word, attribute words and scene words present."""
    reasons: list[Reason] = []
    title = draft.title.strip()
    length = len(title)
    if length < policy.title_min_chars:
        reasons.append(
            _reason(
                "LIST-01",
                "title_too_short",
                "title",
                f"标题{length}个字，少于{policy.title_min_chars}个字",
                f"Title has {length} characters, fewer than {policy.title_min_chars}",
            )
        )
    elif length > policy.title_max_chars:
        reasons.append(
            _reason(
                "LIST-01",
                "title_too_long",
                "title",
                f"标题{length}个字，多于{policy.title_max_chars}个字",
                f"Title has {length} characters, more than {policy.title_max_chars}",
            )
        )
    if draft.core_word not in title:
        reasons.append(
            _reason(
                "LIST-01",
                "title_missing_core_word",
                "title",
                f"标题缺少核心词“{draft.core_word}”",
                f"Title lacks the core word '{draft.core_word}'",
            )
        )
    parts = (
        ("attribute", "属性词", draft.attribute_vocabulary, policy.min_attribute_words),
        ("scene", "场景词", draft.scene_vocabulary, policy.min_scene_words),
    )
    for part, part_zh, vocabulary, needed in parts:
        if not vocabulary:
            continue
        found = sum(1 for word in set(vocabulary) if word and word in title)
        if found < needed:
            examples = "、".join(vocabulary[:3])
            reasons.append(
                _reason(
                    "LIST-01",
                    f"title_missing_{part}_word",
                    "title",
                    f"标题需至少{needed}个{part_zh}（如：{examples}），现有{found}个",
                    f"Title needs at least {needed} {part} word(s) (e.g. {', '.join(vocabulary[:3])}); "
                    f"found {found}",
                )
            )
    return reasons


def check_banned_words(draft: ListingDraft, scanner: BannedWordScanner) -> list[Reason]:
    """LIST-02: one reason per banned word per field, with every position it occurs at."""
    reasons: list[Reason] = []
    for field_name, text in (("title", draft.title), ("description", draft.description)):
        spans: dict[str, list[tuple[int, int]]] = {}
        for match in scanner.scan(text):
            spans.setdefault(match.word, []).append((match.start, match.end))
        for word, positions in sorted(spans.items(), key=lambda item: item[1][0]):
            reasons.append(
                _reason(
                    "LIST-02",
                    "banned_word",
                    field_name,
                    f"{_FIELD_ZH[field_name]}含广告法禁用词“{word}”（{_spans_zh(positions)}）",
                    f"The {field_name} contains the banned word '{word}' at {_spans_en(positions)}",
                    positions=tuple(positions),
                )
            )
    return reasons


def check_efficacy_documents(draft: ListingDraft, policy: ListingPolicy) -> list[Reason]:
    """LIST-03: an efficacy claim (flagged, or a keyword in the copy) needs a test report or
    registration document attached."""
    if draft.document_kinds & policy.efficacy_document_kinds:
        return []
    reasons: list[Reason] = []
    kinds = "、".join(sorted(policy.efficacy_document_kinds))
    for field_name, text in (("title", draft.title), ("description", draft.description)):
        spans = _keyword_spans(text, policy.efficacy_keywords)
        if spans:
            words = "、".join(dict.fromkeys(text[start:end] for start, end in spans))
            reasons.append(
                _reason(
                    "LIST-03",
                    "efficacy_document_missing",
                    field_name,
                    f"{_FIELD_ZH[field_name]}宣称功效“{words}”，需附功效检测报告或注册/备案凭证",
                    f"The {field_name} claims efficacy ({words}); attach one of: {kinds}",
                    positions=spans,
                )
            )
    if draft.has_efficacy_claim and not reasons:
        reasons.append(
            _reason(
                "LIST-03",
                "efficacy_document_missing",
                "documents",
                "商品宣称功效，需附功效检测报告或注册/备案凭证",
                f"The product claims efficacy; attach one of: {kinds}",
            )
        )
    return reasons


def check_detail_completeness(draft: ListingDraft, policy: ListingPolicy) -> list[Reason]:
    """LIST-04: parameter table, usage-scene images, QC report, main image, image sizes."""
    reasons: list[Reason] = []
    if not draft.parameters:
        reasons.append(
            _reason("LIST-04", "parameter_table_missing", "parameters", "缺少参数表", "No parameter table")
        )
    else:
        missing = [key for key in draft.required_parameters if not draft.parameters.get(key, "").strip()]
        if missing:
            reasons.append(
                _reason(
                    "LIST-04",
                    "parameter_missing",
                    "parameters",
                    f"参数表缺少：{'、'.join(missing)}",
                    f"Parameter table lacks: {', '.join(missing)}",
                )
            )
    if not any(image.role is ImageRole.MAIN for image in draft.images):
        reasons.append(_reason("LIST-04", "main_image_missing", "images", "缺少主图", "No main image"))
    scene_images = sum(1 for image in draft.images if image.role is ImageRole.SCENE)
    if scene_images < policy.min_scene_images:
        reasons.append(
            _reason(
                "LIST-04",
                "scene_image_missing",
                "images",
                f"使用场景图{scene_images}张，至少需要{policy.min_scene_images}张",
                f"{scene_images} usage-scene image(s); at least {policy.min_scene_images} needed",
            )
        )
    if policy.require_qc_report and not draft.qc_report_attached:
        reasons.append(
            _reason("LIST-04", "qc_report_missing", "documents", "缺少质检报告", "No QC report attached")
        )
    limit_kb = _kb(policy.max_image_bytes)
    reasons.extend(
        _reason(
            "LIST-04",
            "image_too_large",
            "images",
            f"图片“{image.name}”为{_kb(image.size_bytes)}KB，超过{limit_kb}KB",
            f"Image '{image.name}' is {_kb(image.size_bytes)} KB, over {limit_kb} KB",
        )
        for image in draft.images
        if image.size_bytes > policy.max_image_bytes
    )
    return reasons


def check_price_sanity(draft: ListingDraft, policy: ListingPolicy) -> list[Reason]:
    """LIST-05: a non-positive price blocks; a price far from the median reference is flagged."""
    if draft.price.amount <= 0:
        return [_reason("LIST-05", "price_not_positive", "price", "售价必须大于0", "Price must be positive")]
    reference = median_price(draft.reference_prices)
    if reference is None:
        return []
    severity = Severity.BLOCK if policy.price_outlier_blocks else Severity.WARN
    low = reference.amount * (1 - policy.price_below_reference_max)
    high = reference.amount * (1 + policy.price_above_reference_max)
    price, ref = draft.price.quantize().amount, reference.quantize().amount
    if draft.price.amount < low:
        pct = _percent(policy.price_below_reference_max)
        return [
            _reason(
                "LIST-05",
                "price_far_below_reference",
                "price",
                f"售价{price}元比市场参考价中位数{ref}元低{pct}%以上",
                f"Price {price} is more than {pct}% below the median reference price {ref}",
                severity=severity,
            )
        ]
    if draft.price.amount > high:
        pct = _percent(policy.price_above_reference_max)
        return [
            _reason(
                "LIST-05",
                "price_far_above_reference",
                "price",
                f"售价{price}元比市场参考价中位数{ref}元高{pct}%以上",
                f"Price {price} is more than {pct}% above the median reference price {ref}",
                severity=severity,
            )
        ]
    return []


def median_price(prices: Iterable[Money]) -> Money | None:
    """The median of ``prices`` (mean of the middle two for an even count); ``None`` if empty."""
    listed = list(prices)
    if not listed:
        return None
    currency = listed[0].currency
    if any(price.currency != currency for price in listed):
        raise ValueError("reference prices must share one currency")
    return Money(statistics.median(price.amount for price in listed), currency)


@dataclass(frozen=True, slots=True)
class QualificationProblem:
    """A category-required qualification the store does not hold valid on a day:
    ``problem`` is ``missing``, ``expired`` (``valid_to`` is the latest expiry) or
    ``not_yet_valid``."""

    kind: str
    problem: str
    valid_to: date | None = None


def qualification_problems(
    required: Iterable[str], held: Iterable[HeldQualification], *, day: date
) -> list[QualificationProblem]:
    """STORE-02/03: each required kind must be held by a document valid on ``day``."""
    documents = list(held)
    problems: list[QualificationProblem] = []
    for kind in dict.fromkeys(required):
        mine = [q for q in documents if q.kind == kind]
        if any(q.is_valid_on(day) for q in mine):
            continue
        expired = [q.valid_to for q in mine if q.valid_to is not None and q.valid_to < day]
        if not mine:
            problems.append(QualificationProblem(kind, "missing"))
        elif expired:
            problems.append(QualificationProblem(kind, "expired", max(expired)))
        else:
            problems.append(QualificationProblem(kind, "not_yet_valid"))
    return problems


def check_qualifications(draft: ListingDraft, *, today: date) -> list[Reason]:
    """STORE-03 (and STORE-02's block): each category-required qualification must be held
    and valid today."""
    reasons: list[Reason] = []
    for p in qualification_problems(draft.required_qualifications, draft.store_qualifications, day=today):
        kind = p.kind
        if p.problem == "missing":
            reasons.append(
                _reason(
                    "STORE-03",
                    "qualification_missing",
                    "qualifications",
                    f"类目要求的资质“{kind}”缺失",
                    f"The category requires the qualification '{kind}', which the store lacks",
                )
            )
        elif p.problem == "expired":
            assert p.valid_to is not None
            reasons.append(
                _reason(
                    "STORE-03",
                    "qualification_expired",
                    "qualifications",
                    f"类目要求的资质“{kind}”已于{p.valid_to.isoformat()}过期",
                    f"The required qualification '{kind}' expired on {p.valid_to.isoformat()}",
                )
            )
        else:
            reasons.append(
                _reason(
                    "STORE-03",
                    "qualification_not_yet_valid",
                    "qualifications",
                    f"类目要求的资质“{kind}”尚未生效",
                    f"The required qualification '{kind}' is not valid yet",
                )
            )
    return reasons


def _reason(
    rule: str,
    code: str,
    field_name: str,
    message_zh: str,
    message_en: str,
    *,
    positions: tuple[tuple[int, int], ...] = (),
    severity: Severity = Severity.BLOCK,
) -> Reason:
    return Reason(rule, code, field_name, message_zh, message_en, positions, severity)


def _keyword_spans(text: str, keywords: Iterable[str]) -> tuple[tuple[int, int], ...]:
    spans: list[tuple[int, int]] = []
    for keyword in keywords:
        start = text.find(keyword) if keyword else -1
        while start != -1:
            spans.append((start, start + len(keyword)))
            start = text.find(keyword, start + 1)
    return tuple(sorted(spans))


def _spans_zh(spans: Iterable[tuple[int, int]]) -> str:
    """0-based spans as 1-based character numbers: ``第3字、第10–11字``."""
    return "、".join(f"第{s + 1}字" if e - s == 1 else f"第{s + 1}–{e}字" for s, e in spans)


def _spans_en(spans: Iterable[tuple[int, int]]) -> str:
    return ", ".join(f"character {s + 1}" if e - s == 1 else f"characters {s + 1}-{e}" for s, e in spans)


def _kb(size_bytes: int) -> str:
    """Bytes as KB, one decimal rounded up (so an oversized image never shows the limit):
    ``102400`` -> ``"100"``, ``102401`` -> ``"100.1"``."""
    kb = (Decimal(size_bytes) / 1024).quantize(Decimal("0.1"), rounding=ROUND_CEILING)
    return f"{kb.normalize():f}"


def _percent(ratio: Decimal) -> str:
    return f"{(ratio * 100).normalize():f}"
