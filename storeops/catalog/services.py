"""Every change to the catalog: categories, products and SKUs, images, documents, tags, the
banned-word list, the listing audit and its manual queue, channel listings (scheduled),
suppliers and their records. Atomic, validated before writing, audited.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Min
from django.utils import timezone
from django.utils.translation import gettext as _

from storeops.audit.services import audit_record, snapshot
from storeops.catalog.banned_words import parse_word_list, word_list_version
from storeops.catalog.models import (
    AuditOutcome,
    BannedWordList,
    Category,
    CertificationKind,
    ChannelListing,
    DelistReason,
    ImageRole,
    ListingAudit,
    ListingStatus,
    Product,
    ProductDocument,
    ProductImage,
    ProductStatus,
    ProductSupplier,
    RemainingStockAction,
    SalesDaily,
    Sku,
    Supplier,
    SupplierCertification,
    SupplyRecord,
    Tag,
    TagKind,
)
from storeops.catalog.rules import (
    TAG_NAME_MAX,
    AuditResult,
    Reason,
    Severity,
    TagTextError,
    audit_listing,
    meets_selection_margin,
    parse_tags,
    price_band_of,
    tags_by_kind,
)
from storeops.catalog.rules.tags import FORBIDDEN_IN_NAME
from storeops.catalog.selectors import (
    QualificationBlock,
    banned_word_scanner,
    listing_draft,
    listing_policy,
    listing_qualification_blocks,
    listings_due,
    selection_policy,
)
from storeops.core.context import Actor
from storeops.core.errors import Conflict, InvalidTransition, ValidationError
from storeops.core.money import Money
from storeops.pricing.selectors import sku_full_cost
from storeops.pricing.services import parse_amount, prices_initial_record
from storeops.stores.models import Channel, QualificationKind, Store
from storeops.stores.playbook import PlaybookSettings
from storeops.stores.selectors import playbook_get, playbook_get_by_id

# ---- categories --------------------------------------------------------------------------

_CATEGORY_LISTS = ("required_qualifications", "required_parameters", "attribute_words", "scene_words")


def _clean_words(values: Iterable[Any] | None) -> list[str]:
    return list(dict.fromkeys(str(v).strip() for v in (values or []) if str(v).strip()))


def _category_validate(
    store: Store, data: dict[str, Any], category: Category | None = None
) -> dict[str, Any]:
    errors: dict[str, str] = {}
    for key in ("code", "name"):
        if key in data and not str(data[key] or "").strip():
            errors[key] = _("必填")
    for key in _CATEGORY_LISTS:
        if key in data:
            data[key] = _clean_words(data[key])
    unknown = [k for k in data.get("required_qualifications", []) if k not in QualificationKind.values]
    if unknown:
        errors["required_qualifications"] = _("未知的资质类型：%(k)s") % {"k": "、".join(unknown)}
    parent = data.get("parent")
    if parent is not None:
        if parent.store_id != store.pk:
            errors["parent"] = _("上级类目不属于该店铺")
        elif category is not None:
            node = parent
            while node is not None:
                if node.pk == category.pk:
                    errors["parent"] = _("上级类目不能是自己或下级类目")
                    break
                node = node.parent
    code = data.get("code")
    if (
        code
        and Category.objects.filter(store=store, code=code)
        .exclude(pk=category.pk if category else None)
        .exists()
    ):
        errors["code"] = _("类目编码已存在")
    if errors:
        raise ValidationError(_("类目信息有误"), fields=errors)
    return data


def category_create(
    *,
    actor: Actor,
    store: Store,
    code: str,
    name: str,
    parent: Category | None = None,
    required_qualifications: Iterable[str] = (),
    required_parameters: Iterable[str] = (),
    attribute_words: Iterable[str] = (),
    scene_words: Iterable[str] = (),
) -> Category:
    data = _category_validate(
        store,
        {
            "code": code,
            "name": name,
            "parent": parent,
            "required_qualifications": required_qualifications,
            "required_parameters": required_parameters,
            "attribute_words": attribute_words,
            "scene_words": scene_words,
        },
    )
    with transaction.atomic():
        category = Category.objects.create(store=store, **data)
        audit_record(
            actor=actor, action="category.create", obj=category, store_id=store.pk, after=snapshot(category)
        )
    return category


def category_update(*, actor: Actor, category: Category, **changes: Any) -> Category:
    allowed = {"name", "parent", *_CATEGORY_LISTS}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError(_("未知字段"), fields={k: _("未知字段") for k in unknown})
    data = _category_validate(category.store, dict(changes), category)
    with transaction.atomic():
        locked = Category.objects.select_for_update().get(pk=category.pk)
        before = snapshot(locked)
        for key, value in data.items():
            setattr(locked, key, value)
        locked.save()
        audit_record(
            actor=actor,
            action="category.update",
            obj=locked,
            store_id=locked.store_id,
            before=before,
            after=snapshot(locked),
        )
    return locked


# ---- products and SKUs -------------------------------------------------------------------

_COPY_FIELDS = ("title", "description", "core_word", "parameters", "has_efficacy_claim", "category")
SEASON_FIELDS = ("season_start_month", "season_end_month", "season_uplift")
SEASON_UPLIFT_MAX = Decimal("100")


def _season_uplift(value: Any) -> Decimal | None:
    """A season uplift > 0 and ≤ 100 to 0.01, or None when ``value`` is not one."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        uplift = Decimal(str(value).strip())
    except ArithmeticError:
        return None
    if not uplift.is_finite() or not 0 < uplift <= SEASON_UPLIFT_MAX:
        return None
    return uplift.quantize(Decimal("0.01"))


def product_season_clean(current: Product | None, changes: dict[str, Any]) -> dict[str, Any]:
    """INV-06: a product's season (旺季) — start and end months 1..12 (both or neither; the end
    may be before the start: 11 → 2 is November to February) and the demand multiplier in
    season used until a year of sales can be learned from (> 0, ≤ 100, or empty). Returns the
    cleaned values; a ``ValidationError`` names each bad field."""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    for key in ("season_start_month", "season_end_month"):
        if key in changes:
            value = changes[key]
            text = "" if value is None or isinstance(value, bool) else str(value).strip()
            if value in (None, ""):
                out[key] = None
            elif not text.isdigit() or not 1 <= int(text) <= 12:
                errors[key] = _("月份须为 1–12 的整数")
            else:
                out[key] = int(text)
    if "season_uplift" in changes:
        value = changes["season_uplift"]
        uplift = _season_uplift(value)
        if value in (None, ""):
            out["season_uplift"] = None
        elif uplift is None:
            errors["season_uplift"] = _("旺季需求倍数须大于 0 且不超过 100")
        else:
            out["season_uplift"] = uplift
    if not errors:
        start = out.get("season_start_month", getattr(current, "season_start_month", None))
        end = out.get("season_end_month", getattr(current, "season_end_month", None))
        if (start is None) != (end is None):
            missing = "season_end_month" if end is None else "season_start_month"
            errors[missing] = _("旺季开始与结束月份须同时填写")
    if errors:
        raise ValidationError(_("旺季设置有误"), fields=errors)
    return out


SKU_WEIGHT_MAX_G = 1_000_000  # one tonne: anything heavier is a typo (kg typed as grams)


def sku_shipping_clean(raw: Mapping[str, Any]) -> dict[str, Any]:
    """LOG-03: the SKU's ``weight_g`` (whole grams > 0; empty or null = unknown) and
    ``is_fragile`` (true/false), those of the two present in ``raw``, validated."""
    out: dict[str, Any] = {}
    errors: dict[str, str] = {}
    if "weight_g" in raw:
        value = raw["weight_g"]
        if value is None or (isinstance(value, str) and not value.strip()):
            out["weight_g"] = None
        else:
            try:
                grams = int(str(value).strip()) if not isinstance(value, bool | float) else None
            except ValueError:
                grams = None
            if grams is None or not 0 < grams <= SKU_WEIGHT_MAX_G:
                errors["weight_g"] = _("重量以克计，须为 1 到 %(n)s 的整数") % {"n": SKU_WEIGHT_MAX_G}
            else:
                out["weight_g"] = grams
    if "is_fragile" in raw:
        if not isinstance(raw["is_fragile"], bool):
            errors["is_fragile"] = _("须为 true 或 false")
        else:
            out["is_fragile"] = raw["is_fragile"]
    if errors:
        raise ValidationError(_("SKU信息有误"), fields=errors)
    return out


def _sku_validate(store: Store, skus: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    errors: dict[str, str] = {}
    cleaned: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, raw in enumerate(skus):
        code = str(raw.get("code", "")).strip()
        prefix = f"skus.{i}"
        if not code:
            errors[f"{prefix}.code"] = _("必填")
            continue
        if code in seen:
            errors[f"{prefix}.code"] = _("SKU编码重复")
        seen.add(code)
        try:
            price = parse_amount(raw.get("price"), "price")
            cost = parse_amount(raw.get("cost", "0"), "cost")
        except ValidationError as exc:
            errors.update({f"{prefix}.{k}": v for k, v in exc.fields.items()})
            continue
        attributes = raw.get("attributes") or {}
        if not isinstance(attributes, dict):
            errors[f"{prefix}.attributes"] = _("规格必须是键值对")
            continue
        try:
            shipping = sku_shipping_clean(raw)
        except ValidationError as exc:
            errors.update({f"{prefix}.{k}": v for k, v in exc.fields.items()})
            continue
        cleaned.append(
            {
                "code": code,
                "price": price,
                "cost": cost,
                "barcode": str(raw.get("barcode", "")).strip(),
                "attributes": {str(k): str(v) for k, v in attributes.items()},
                **shipping,
            }
        )
    taken = set(Sku.objects.filter(store=store, code__in=seen).values_list("code", flat=True))
    for i, raw in enumerate(skus):
        if str(raw.get("code", "")).strip() in taken:
            errors[f"skus.{i}.code"] = _("SKU编码已存在")
    if errors:
        raise ValidationError(_("SKU信息有误"), fields=errors)
    return cleaned


def _product_validate(store: Store, data: dict[str, Any]) -> None:
    errors: dict[str, str] = {}
    for key in ("code", "core_word", "title"):
        if key in data and not str(data[key] or "").strip():
            errors[key] = _("必填")
    if "title" in data and len(str(data["title"])) > 200:
        errors["title"] = _("标题过长")
    if "core_word" in data and len(str(data["core_word"])) > 30:
        errors["core_word"] = _("核心词过长")
    category = data.get("category")
    if category is not None and category.store_id != store.pk:
        errors["category"] = _("类目不属于该店铺")
    if "parameters" in data and not isinstance(data["parameters"], dict):
        errors["parameters"] = _("参数表必须是键值对")
    if "description" in data and data["description"] is None:  # may be empty, never null
        errors["description"] = _("不能为 null，留空请传空字符串")
    for flag in ("has_efficacy_claim", "is_key"):
        if flag in data and not isinstance(data[flag], bool):
            errors[flag] = _("须为 true 或 false")
    if errors:
        raise ValidationError(_("商品信息有误"), fields=errors)


def product_create(
    *,
    actor: Actor,
    store: Store,
    category: Category,
    code: str,
    core_word: str,
    title: str,
    skus: list[Mapping[str, Any]],
    description: str = "",
    has_efficacy_claim: bool = False,
    parameters: dict[str, Any] | None = None,
    is_key: bool = False,
    tags: Mapping[str, Iterable[str]] | None = None,
) -> Product:
    """A new product draft with its SKUs; the SKUs' initial prices start the price history.
    ``tags`` (SEL-04) per kind, as :func:`product_tags_set` takes them."""
    data = {
        "code": code.strip(),
        "core_word": core_word.strip(),
        "title": title.strip(),
        "category": category,
        "parameters": parameters or {},
    }
    _product_validate(store, data)
    if Product.objects.filter(store=store, code=data["code"]).exists():
        raise ValidationError(_("商品编码已存在"), fields={"code": _("商品编码已存在")})
    if not skus:
        raise ValidationError(_("至少需要一个SKU"), fields={"skus": _("至少需要一个SKU")})
    clean_skus = _sku_validate(store, skus)
    with transaction.atomic():
        product = Product.objects.create(
            store=store, description=description, has_efficacy_claim=has_efficacy_claim, is_key=is_key, **data
        )
        rows = [Sku.objects.create(store=store, product=product, **s) for s in clean_skus]
        prices_initial_record(actor=actor, skus=rows)
        audit_record(
            actor=actor,
            action="product.create",
            obj=product,
            store_id=store.pk,
            after={**snapshot(product), "skus": [s["code"] for s in clean_skus]},
        )
        if tags or playbook_get_by_id(store_id=store.pk).price_band_edges:
            product_tags_set(actor=actor, product=product, tags=tags or {})
    return product


def sku_add(
    *,
    actor: Actor,
    product: Product,
    code: str,
    price: Any,
    cost: Any = "0",
    attributes: dict[str, str] | None = None,
    barcode: str = "",
    weight_g: int | None = None,
    is_fragile: bool = False,
) -> Sku:
    clean = _sku_validate(
        product.store,
        [
            {
                "code": code,
                "price": price,
                "cost": cost,
                "attributes": attributes or {},
                "barcode": barcode,
                "weight_g": weight_g,
                "is_fragile": is_fragile,
            }
        ],
    )[0]
    with transaction.atomic():
        sku = Sku.objects.create(store_id=product.store_id, product=product, **clean)
        prices_initial_record(actor=actor, skus=[sku])
        audit_record(
            actor=actor, action="sku.create", obj=sku, store_id=product.store_id, after=snapshot(sku)
        )
        product_price_band_refresh(actor=actor, product_id=product.pk, store_id=product.store_id)
    return sku


def sku_shipping_update(*, actor: Actor, sku: Sku, **changes: Any) -> Sku:
    """Set a SKU's weight (``weight_g``) and/or fragility (``is_fragile``), which the carrier
    choice reads (LOG-03). Audited; nothing else of the SKU changes here."""
    unknown = set(changes) - {"weight_g", "is_fragile"}
    if unknown:
        raise ValidationError(_("未知字段或不能在此修改"), fields={k: _("不能在此修改") for k in unknown})
    clean = sku_shipping_clean(changes)
    with transaction.atomic():
        locked = Sku.objects.select_for_update().get(pk=sku.pk)
        before = snapshot(locked)
        for key, value in clean.items():
            setattr(locked, key, value)
        locked.save(update_fields=[*clean] or None)
        audit_record(
            actor=actor,
            action="sku.shipping_update",
            obj=locked,
            store_id=locked.store_id,
            before=before,
            after=snapshot(locked),
        )
    return locked


def product_update(
    *, actor: Actor, product: Product, today: dt.date | None = None, **changes: Any
) -> Product:
    """Change a product's fields. Prices change only through pricing (PRICE-03).

    The season (``season_start_month``, ``season_end_month``, ``season_uplift``; INV-06) is
    validated by :func:`product_season_clean`. Copy changes (title, description, core word,
    parameters, efficacy claim, category) send an audited/rejected product back to draft for
    a new audit; a live product keeps selling only
    if the changed copy passes the audit, else the change is refused with the reasons.
    ``tags`` (SEL-04, per kind) replace the product's tags in the same transaction; they are
    not copy (no new audit).
    """
    tags = changes.pop("tags", None)
    allowed = {*_COPY_FIELDS, "is_key", *SEASON_FIELDS}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError(_("未知字段或不能在此修改"), fields={k: _("不能在此修改") for k in unknown})
    _product_validate(product.store, changes)
    changes.update(product_season_clean(product, changes))
    today = today or timezone.localdate()
    with transaction.atomic():
        locked = Product.objects.select_for_update().select_related("store", "category").get(pk=product.pk)
        before = snapshot(locked)
        copy_changed = any(k in _COPY_FIELDS and getattr(locked, k) != v for k, v in changes.items())
        if copy_changed and locked.status == ProductStatus.LIVE:
            result = _run_audit(
                locked, today, overrides={k: v for k, v in changes.items() if k in _COPY_FIELDS}
            )
            if not result.passed:
                raise ValidationError(
                    _("修改后的内容未通过上架审核，未保存"), fields=_reasons_as_fields(result.reasons)
                )
        for key, value in changes.items():
            setattr(locked, key, value)
        if copy_changed and locked.status in (
            ProductStatus.APPROVED,
            ProductStatus.REJECTED,
            ProductStatus.PENDING_AUDIT,
        ):
            locked.status = ProductStatus.DRAFT
        if changes or tags is None:
            locked.save()
            audit_record(
                actor=actor,
                action="product.update",
                obj=locked,
                store_id=locked.store_id,
                before=before,
                after=snapshot(locked),
            )
        if tags is not None:
            product_tags_set(actor=actor, product=locked, tags=tags)
    return locked


def product_image_add(
    *, actor: Actor, product: Product, role: str, name: str, size_bytes: int, url: str = "", position: int = 0
) -> ProductImage:
    errors = {}
    if role not in ImageRole.values:
        errors["role"] = _("未知的图片用途")
    if not name.strip():
        errors["name"] = _("必填")
    if size_bytes <= 0:
        errors["size_bytes"] = _("图片大小必须大于0")
    if errors:
        raise ValidationError(_("图片信息有误"), fields=errors)
    with transaction.atomic():
        image = ProductImage.objects.create(
            product=product, role=role, name=name.strip(), size_bytes=size_bytes, url=url, position=position
        )
        audit_record(
            actor=actor,
            action="product.image_add",
            obj=product,
            store_id=product.store_id,
            after=snapshot(image),
        )
    return image


def product_document_add(
    *,
    actor: Actor,
    product: Product,
    kind: str,
    title: str,
    number: str = "",
    issuer: str = "",
    valid_from: dt.date | None = None,
    valid_to: dt.date | None = None,
) -> ProductDocument:
    errors = {}
    if kind not in QualificationKind.values:
        errors["kind"] = _("未知的文件类型")
    if not title.strip():
        errors["title"] = _("必填")
    if valid_from and valid_to and valid_to < valid_from:
        errors["valid_to"] = _("到期日期不能早于生效日期")
    if errors:
        raise ValidationError(_("文件信息有误"), fields=errors)
    with transaction.atomic():
        doc = ProductDocument.objects.create(
            product=product,
            kind=kind,
            title=title.strip(),
            number=number,
            issuer=issuer,
            valid_from=valid_from,
            valid_to=valid_to,
        )
        audit_record(
            actor=actor,
            action="product.document_add",
            obj=product,
            store_id=product.store_id,
            after=snapshot(doc),
        )
    return doc


# ---- tags (SEL-04) ---------------------------------------------------------------------------


def _tag_name(name: Any, field: str = "name") -> str:
    """A tag name: stripped, not empty, at most 50 characters, no ``;`` (it separates tags)."""
    text = str(name or "").strip()
    if not text:
        raise ValidationError(_("标签信息有误"), fields={field: _("必填")})
    if len(text) > TAG_NAME_MAX:
        raise ValidationError(
            _("标签信息有误"), fields={field: _("标签名称最多 %(n)s 个字") % {"n": TAG_NAME_MAX}}
        )
    if any(c in text for c in FORBIDDEN_IN_NAME):
        raise ValidationError(_("标签信息有误"), fields={field: _("标签名称不能包含分号或换行")})
    return text


def tag_text_problem(exc: TagTextError) -> str:
    """What is wrong with a part of a tag text, for people."""
    if exc.problem == "kind":
        return _("未知的标签类型：%(p)s（可选：类目、价格带、风格、使用场景）") % {"p": exc.part}
    if exc.problem == "name_too_long":
        return _("标签名称最多 %(n)s 个字：%(p)s") % {"n": TAG_NAME_MAX, "p": exc.part}
    return _("标签格式应为 类型:名称，多个用分号分隔：%(p)s") % {"p": exc.part}


def tags_parse(text: str | Iterable[str], field: str = "tags") -> dict[str, list[str]]:
    """SEL-04: tags typed as ``kind:name; kind:name`` (a text, or a list of them) → per kind,
    as :func:`product_tags_set` takes them; a bad part is a ValidationError on ``field``."""
    texts = [text] if isinstance(text, str) else list(text)
    try:
        return tags_by_kind(pair for t in texts for pair in parse_tags(str(t)))
    except TagTextError as exc:
        raise ValidationError(_("标签信息有误"), fields={field: tag_text_problem(exc)}) from exc


def _tag_kind(kind: Any, field: str = "kind") -> str:
    if kind not in TagKind.values:
        raise ValidationError(
            _("标签信息有误"),
            fields={field: _("未知的标签类型，可选：%(k)s") % {"k": ", ".join(TagKind.values)}},
        )
    return str(kind)


def _tag_taken(store_id: int, kind: str, name: str, exclude: int | None = None) -> bool:
    return Tag.objects.filter(store_id=store_id, kind=kind, name=name).exclude(pk=exclude).exists()


def tag_create(*, actor: Actor, store: Store, kind: str, name: str) -> Tag:
    """SEL-04: a new tag of the store (unique per store, kind and name)."""
    kind, name = _tag_kind(kind), _tag_name(name)
    if _tag_taken(store.pk, kind, name):
        raise ValidationError(_("标签已存在"), fields={"name": _("该类型下已有同名标签")})
    with transaction.atomic():
        tag = Tag.objects.create(store=store, kind=kind, name=name)
        audit_record(actor=actor, action="tag.create", obj=tag, store_id=store.pk, after=snapshot(tag))
    return tag


def tag_update(*, actor: Actor, tag: Tag, **changes: Any) -> Tag:
    """Rename a tag or move it to another kind (``name``, ``kind``); its products keep it."""
    unknown = set(changes) - {"name", "kind"}
    if unknown:
        raise ValidationError(_("未知字段"), fields={k: _("未知字段") for k in unknown})
    with transaction.atomic():
        locked = Tag.objects.select_for_update().get(pk=tag.pk)
        kind = _tag_kind(changes["kind"]) if "kind" in changes else locked.kind
        name = _tag_name(changes["name"]) if "name" in changes else locked.name
        if _tag_taken(locked.store_id, kind, name, exclude=locked.pk):
            raise ValidationError(_("标签已存在"), fields={"name": _("该类型下已有同名标签")})
        before = snapshot(locked)
        locked.kind, locked.name = kind, name
        locked.save()
        audit_record(
            actor=actor,
            action="tag.update",
            obj=locked,
            store_id=locked.store_id,
            before=before,
            after=snapshot(locked),
        )
    return locked


def tag_delete(*, actor: Actor, tag: Tag) -> int:
    """Delete a tag; it is taken off its products. Returns how many products had it."""
    with transaction.atomic():
        locked = Tag.objects.select_for_update().get(pk=tag.pk)
        products = sorted(locked.products.values_list("code", flat=True))
        before = snapshot(locked)
        audit_record(
            actor=actor,
            action="tag.delete",
            obj=locked,
            store_id=locked.store_id,
            before={**before, "products": products},
        )
        locked.delete()
    return len(products)


def _price_band_wanted(product: Product, playbook: PlaybookSettings) -> str | None:
    """The band of the product's lowest active SKU price, with the playbook's edges (None
    without edges or without an active SKU)."""
    edges = playbook.price_band_edges
    if not edges:
        return None
    prices = [s.price for s in Sku.objects.filter(product=product, is_active=True).only("price")]
    return price_band_of(min(prices), edges) if prices else None


def _tags_snapshot(tags: Iterable[Tag]) -> list[str]:
    return sorted(f"{t.kind}:{t.name}" for t in tags)


def product_tags_set(*, actor: Actor, product: Product, tags: Mapping[str, Iterable[str]]) -> list[Tag]:
    """SEL-04: replace the product's tags, given per kind (category, price band, style,
    scene); a tag not there yet is created. With price band edges in the playbook the price
    band is the one of the product's price: another one is refused, none keeps it."""
    errors: dict[str, str] = {}
    wanted: list[tuple[str, str]] = []
    for kind, names in tags.items():
        if kind not in TagKind.values:
            errors[kind] = _("未知的标签类型")
            continue
        for name in _clean_words(names):
            try:
                wanted.append((kind, _tag_name(name, field=kind)))
            except ValidationError as exc:
                errors.update(exc.fields)
    if errors:
        raise ValidationError(_("标签信息有误"), fields=errors)
    band = _price_band_wanted(product, playbook_get_by_id(store_id=product.store_id))
    if band is not None:
        typed = {name for kind, name in wanted if kind == TagKind.PRICE_BAND}
        if typed - {band}:
            raise ValidationError(
                _("标签信息有误"),
                fields={"price_band": _("价格带按售价自动计算（%(b)s），不能手动设置") % {"b": band}},
            )
        wanted = [*(p for p in wanted if p[0] != TagKind.PRICE_BAND), (TagKind.PRICE_BAND, band)]
    with transaction.atomic():
        Product.objects.select_for_update().filter(pk=product.pk).exists()
        before = _tags_snapshot(Tag.objects.filter(products=product))
        rows = [
            Tag.objects.get_or_create(store_id=product.store_id, kind=kind, name=name)[0]
            for kind, name in dict.fromkeys(wanted)
        ]
        product.tags.set(rows)
        after = _tags_snapshot(rows)
        if after != before:
            audit_record(
                actor=actor,
                action="product.tags_set",
                obj=product,
                store_id=product.store_id,
                before={"tags": before},
                after={"tags": after},
            )
    return rows


def product_price_band_refresh(*, actor: Actor, product_id: int, store_id: int) -> None:
    """Keep the product's price band tag on the band of its lowest active SKU price (when the
    playbook has price band edges; else nothing changes: one query). Called when a base price
    or the SKUs change."""
    playbook = playbook_get_by_id(store_id=store_id)
    if not playbook.price_band_edges:
        return
    product = Product.objects.select_related("store").get(pk=product_id)
    band = _price_band_wanted(product, playbook)
    tags = list(Tag.objects.filter(products=product))
    if [t.name for t in tags if t.kind == TagKind.PRICE_BAND] == ([band] if band else []):
        return
    kept = [(t.kind, t.name) for t in tags if t.kind != TagKind.PRICE_BAND]
    product_tags_set(actor=actor, product=product, tags=tags_by_kind(kept))


def price_bands_refresh(*, actor: Actor, store: Store) -> int:
    """Put every product of the store in the price band of its lowest active SKU price (the
    playbook's edges changed, or the nightly run); without edges nothing changes. One query
    for the prices, one per changed band. Returns the products whose band changed."""
    edges = playbook_get_by_id(store_id=store.pk).price_band_edges
    if not edges:
        return 0
    lowest = dict(
        Sku.objects.filter(store=store, is_active=True)
        .values("product_id")
        .annotate(low=Min("price"))
        .values_list("product_id", "low")
    )
    through = Product.tags.through
    current: dict[int, list[int]] = {}
    for product_id, tag_id in through.objects.filter(
        product__store=store, tag__kind=TagKind.PRICE_BAND
    ).values_list("product_id", "tag_id"):
        current.setdefault(product_id, []).append(tag_id)
    with transaction.atomic():
        bands = {t.name: t for t in Tag.objects.filter(store=store, kind=TagKind.PRICE_BAND)}
        changes: dict[int, tuple[list[int], Tag | None]] = {}
        for product_id in set(lowest) | set(current):
            name = price_band_of(lowest[product_id], edges) if product_id in lowest else None
            if name is not None and name not in bands:
                bands[name] = Tag.objects.create(store=store, kind=TagKind.PRICE_BAND, name=name)
            tag = bands[name] if name is not None else None
            if current.get(product_id, []) != ([tag.pk] if tag else []):
                changes[product_id] = (current.get(product_id, []), tag)
        if not changes:
            return 0
        changed = sorted(changes)
        band_ids = [t.pk for t in bands.values()]
        for start in range(0, len(changed), 500):  # bounded IN lists
            through.objects.filter(product_id__in=changed[start : start + 500], tag_id__in=band_ids).delete()
        through.objects.bulk_create(
            [through(product_id=p, tag_id=tag.pk) for p, (_old, tag) in changes.items() if tag is not None],
            batch_size=2000,
        )
        names = {t.pk: t.name for t in bands.values()}
        audit_record(
            actor=actor,
            action="catalog.price_bands_refresh",
            object_type="catalog.product",
            object_id="price_bands",
            object_repr=_("按售价更新价格带 %(n)s 个商品") % {"n": len(changes)},
            store_id=store.pk,
            after={
                "edges": [str(e) for e in edges],
                "changed": {
                    str(p): [[names.get(t, "") for t in old], tag.name if tag else ""]
                    for p, (old, tag) in sorted(changes.items())[:200]
                },
            },
        )
    return len(changes)


# ---- banned words (LIST-02) -----------------------------------------------------------------


def banned_words_update(*, actor: Actor, store: Store, words: str) -> BannedWordList:
    """Replace the store's word list (one a line) and re-scan all live copy after commit."""
    parsed = parse_word_list(words)
    if not parsed:
        raise ValidationError(_("禁用词列表不能为空"), fields={"words": _("至少填写一个词")})
    text = "\n".join(parsed)
    version = word_list_version(parsed)
    with transaction.atomic():
        row, _created = BannedWordList.objects.select_for_update().get_or_create(
            store=store, defaults={"words": text, "version": version}
        )
        before = {"version": row.version if not _created else "", "words": len(parse_word_list(row.words))}
        row.words, row.version = text, version
        row.save()
        audit_record(
            actor=actor,
            action="banned_words.update",
            obj=row,
            store_id=store.pk,
            before=before,
            after={"version": version, "words": len(parsed)},
        )
        store_id = store.pk
        transaction.on_commit(lambda: _enqueue_live_copy_scan(store_id))
    return row


def _enqueue_live_copy_scan(store_id: int) -> None:
    from storeops.catalog.tasks import scan_live_copy

    scan_live_copy(store_id)


# ---- listing audit (LIST-01..05, STORE-02/03) -----------------------------------------------


def _reason_json(reason: Reason) -> dict[str, Any]:
    return {
        "rule": reason.rule,
        "code": reason.code,
        "field": reason.field,
        "message_zh": reason.message_zh,
        "message_en": reason.message_en,
        "positions": [list(p) for p in reason.positions],
        "severity": reason.severity.value,
    }


def _reasons_as_fields(reasons: Iterable[Reason]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for r in reasons:
        if r.severity is Severity.BLOCK:
            fields[r.field] = f"{fields[r.field]}；{r.message_zh}" if r.field in fields else r.message_zh
    return fields


def _selection_margin_reasons(product: Product, playbook: PlaybookSettings) -> list[Reason]:
    """SEL-03: a SKU whose price leaves less than the selection margin over its full cost
    (PRICE-02) is flagged for a person to decide. SKUs without a known cost are skipped."""
    policy = selection_policy(playbook)
    reasons = []
    for sku in product.skus.select_related("store").order_by("code"):
        cost = sku_full_cost(sku=sku)
        price = Money(sku.price, cost.currency)
        if cost.amount > 0 and not meets_selection_margin(price, cost, policy):
            margin = (price.amount - cost.amount) / price.amount if price.amount else Decimal(0)
            reasons.append(
                Reason(
                    rule="SEL-03",
                    code="margin_below_selection_minimum",
                    field="price",
                    message_zh=f"SKU {sku.code} 毛利率 {margin:.1%}，低于选品最低毛利率 "
                    f"{policy.min_gross_margin:.0%}（售价 {price.amount} 元，全成本 {cost.amount} 元）",
                    message_en=f"SKU {sku.code} gross margin {margin:.1%} is below the selection minimum "
                    f"{policy.min_gross_margin:.0%} (price {price.amount}, full cost {cost.amount})",
                    severity=Severity.WARN,
                )
            )
    return reasons


def _run_audit(product: Product, today: dt.date, overrides: dict[str, Any] | None = None) -> AuditResult:
    playbook = playbook_get(store=product.store)
    draft = listing_draft(product=product, today=today, overrides=overrides)
    result = audit_listing(
        draft, listing_policy(playbook), banned_word_scanner(store=product.store), today=today
    )
    extra = _selection_margin_reasons(product, playbook)
    return AuditResult(passed=result.passed, reasons=(*result.reasons, *extra)) if extra else result


_SUBMITTABLE = (ProductStatus.DRAFT, ProductStatus.REJECTED, ProductStatus.APPROVED, ProductStatus.DELISTED)


def listing_submit(*, actor: Actor, product: Product, today: dt.date | None = None) -> ListingAudit:
    """Run the listing audit and move the product on: blocked → rejected; passed with
    warnings (e.g. a price outlier, LIST-05) → the manual queue; clean → approved."""
    today = today or timezone.localdate()
    with transaction.atomic():
        locked = Product.objects.select_for_update().select_related("store", "category").get(pk=product.pk)
        if locked.status not in _SUBMITTABLE:
            raise InvalidTransition(_("当前状态“%(s)s”不能提交审核") % {"s": locked.get_status_display()})
        result = _run_audit(locked, today)
        if not result.passed:
            outcome, status = AuditOutcome.REJECTED, ProductStatus.REJECTED
        elif result.reasons:
            outcome, status = AuditOutcome.MANUAL, ProductStatus.PENDING_AUDIT
        else:
            outcome, status = AuditOutcome.APPROVED, ProductStatus.APPROVED
        audit = ListingAudit.objects.create(
            product=locked,
            submitted_by=actor.label[:150],
            passed=result.passed,
            outcome=outcome,
            reasons=[_reason_json(r) for r in result.reasons],
            word_list_version=banned_word_scanner(store=locked.store).version,
        )
        before = locked.status
        locked.status = status
        locked.save(update_fields=["status", "updated_at"])
        audit_record(
            actor=actor,
            action="product.submit_audit",
            obj=locked,
            store_id=locked.store_id,
            before={"status": before},
            after={"status": status, "outcome": outcome, "reasons": list(result.codes)},
        )
    return audit


def listing_review(*, actor: Actor, audit: ListingAudit, approve: bool, comment: str) -> ListingAudit:
    """The manual decision on a queued audit; a comment is required when rejecting."""
    if not approve and not comment.strip():
        raise ValidationError(_("驳回时请填写审核意见"), fields={"comment": _("必填")})
    with transaction.atomic():
        locked = ListingAudit.objects.select_for_update().select_related("product").get(pk=audit.pk)
        product = Product.objects.select_for_update().get(pk=locked.product_id)
        if (
            locked.outcome != AuditOutcome.MANUAL
            or locked.decision
            or product.status != ProductStatus.PENDING_AUDIT
        ):
            raise InvalidTransition(_("该审核不在人工审核队列中"))
        locked.decision = ListingAudit.Decision.APPROVE if approve else ListingAudit.Decision.REJECT
        locked.comment = comment.strip()
        locked.reviewed_by = actor.user if actor.user is not None and actor.user.pk else None
        locked.reviewed_at = timezone.now()
        locked.save(update_fields=["decision", "comment", "reviewed_by", "reviewed_at"])
        product.status = ProductStatus.APPROVED if approve else ProductStatus.REJECTED
        product.save(update_fields=["status", "updated_at"])
        audit_record(
            actor=actor,
            action="product.review",
            obj=product,
            store_id=product.store_id,
            before={"status": ProductStatus.PENDING_AUDIT},
            after={"status": product.status, "decision": locked.decision},
            note=locked.comment,
        )
    return locked


# ---- channel listings (LIST-06) ----------------------------------------------------------------

_LISTABLE = (ProductStatus.APPROVED, ProductStatus.LIVE, ProductStatus.DELISTED)


def _delist_plan_errors(reason: str, remaining_stock_action: str, note: str) -> dict[str, str]:
    """LIST-06: a delisting records why and what happens to the remaining stock."""
    errors = {}
    if reason not in DelistReason.values:
        errors["reason"] = _("请选择下架原因")
    if remaining_stock_action not in RemainingStockAction.values:
        errors["remaining_stock_action"] = _("请选择剩余库存处理方式")
    if reason == DelistReason.OTHER and not note.strip():
        errors["note"] = _("原因为“其他”时请填写说明")
    return errors


def _qualification_blocks_message(blocks: list[QualificationBlock]) -> str:
    return "；".join(b.message for b in blocks)


def listing_schedule(
    *,
    actor: Actor,
    product: Product,
    channel: Channel,
    list_at: dt.datetime | None = None,
    delist_at: dt.datetime | None = None,
    delist_reason: str = "",
    remaining_stock_action: str = "",
    delist_note: str = "",
    now: dt.datetime | None = None,
) -> ChannelListing:
    """List an audited product on a channel now (``list_at`` empty or past) or at a time,
    optionally with a planned delisting time, which needs its reason and what happens to
    the remaining stock (LIST-06). Refused while a qualification the product's category
    requires is expired (or missing) on the listing day (STORE-02)."""
    now = now or timezone.now()
    if channel.store_id != product.store_id:
        raise ValidationError(_("渠道不属于该店铺"), fields={"channel": _("渠道不属于该店铺")})
    errors: dict[str, str] = {}
    if list_at and delist_at and delist_at <= list_at:
        errors["delist_at"] = _("下架时间必须晚于上架时间")
    if delist_at is not None:
        errors.update(
            {
                {"reason": "delist_reason", "note": "delist_note"}.get(k, k): v
                for k, v in _delist_plan_errors(delist_reason, remaining_stock_action, delist_note).items()
            }
        )
    elif delist_reason or remaining_stock_action or delist_note.strip():
        errors["delist_at"] = _("填写了下架原因，请同时填写计划下架时间")
    if errors:
        raise ValidationError(_("上架计划有误，未保存"), fields=errors)
    with transaction.atomic():
        locked = Product.objects.select_for_update().get(pk=product.pk)
        if locked.status not in _LISTABLE:
            raise InvalidTransition(_("商品未通过上架审核，不能上架"))
        day = timezone.localdate(max(list_at or now, now))
        blocks = listing_qualification_blocks(product=locked, day=day)
        if blocks:
            message = _qualification_blocks_message(blocks)
            raise Conflict(
                _("类目要求的资质无效，不能上架：%(why)s") % {"why": message},
                fields={"qualifications": message},
                code="qualification_invalid",
            )
        listing, _created = ChannelListing.objects.select_for_update().get_or_create(
            product=locked, channel=channel
        )
        if listing.status == ListingStatus.LIVE:
            raise Conflict(_("商品已在该渠道在售"))
        before = snapshot(listing)
        listing.status = ListingStatus.SCHEDULED
        listing.list_at, listing.delist_at = list_at or now, delist_at
        listing.delist_reason = delist_reason if delist_at else ""
        listing.remaining_stock_action = remaining_stock_action if delist_at else ""
        listing.delist_note = delist_note.strip()[:300] if delist_at else ""
        listing.held_reason = ""
        listing.save()
        audit_record(
            actor=actor,
            action="listing.schedule",
            obj=listing,
            store_id=locked.store_id,
            before=before,
            after=snapshot(listing),
        )
        if listing.list_at <= now:
            _go_live(actor, listing, locked, now)
    listing.refresh_from_db()
    return listing


def _go_live(actor: Actor, listing: ChannelListing, product: Product, now: dt.datetime) -> None:
    listing.status, listing.listed_at, listing.held_reason = ListingStatus.LIVE, now, ""
    listing.save(update_fields=["status", "listed_at", "held_reason"])
    before = product.status
    product.status = ProductStatus.LIVE
    if product.listed_on is None:
        product.listed_on = timezone.localdate(now)
    product.save(update_fields=["status", "listed_on", "updated_at"])
    audit_record(
        actor=actor,
        action="listing.go_live",
        obj=listing,
        store_id=product.store_id,
        before={"product_status": before},
        after={"status": "live", "listed_at": now},
    )


def listing_delist(
    *,
    actor: Actor,
    listing: ChannelListing,
    reason: str,
    remaining_stock_action: str,
    note: str = "",
    at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> ChannelListing:
    """Delist now or at ``at``; the reason and what happens to the remaining stock are required."""
    now = now or timezone.now()
    errors = _delist_plan_errors(reason, remaining_stock_action, note)
    if errors:
        raise ValidationError(_("下架信息不完整"), fields=errors)
    with transaction.atomic():
        locked = ChannelListing.objects.select_for_update().get(pk=listing.pk)
        if locked.status == ListingStatus.DELISTED:
            raise InvalidTransition(_("商品已下架"))
        before = snapshot(locked)
        locked.delist_reason, locked.remaining_stock_action = reason, remaining_stock_action
        locked.delist_note = note.strip()[:300]
        locked.delist_at = at or now
        if locked.status == ListingStatus.SCHEDULED and locked.list_at and locked.delist_at <= locked.list_at:
            locked.list_at = None  # cancelling a planned listing
        locked.save()
        audit_record(
            actor=actor,
            action="listing.schedule_delist",
            obj=locked,
            store_id=locked.product.store_id,
            before=before,
            after=snapshot(locked),
        )
        if locked.delist_at <= now:
            _take_down(actor, locked, now)
    locked.refresh_from_db()
    return locked


def _take_down(actor: Actor, listing: ChannelListing, now: dt.datetime) -> None:
    listing.status, listing.delisted_at = ListingStatus.DELISTED, now
    if not listing.delist_reason:
        # Only a delisting planned before LIST-06 asked for its reason at scheduling time
        # (listing_schedule and listing_delist both require it now) lacks one.
        listing.delist_reason = DelistReason.OTHER
        listing.remaining_stock_action = listing.remaining_stock_action or RemainingStockAction.KEEP
        listing.delist_note = listing.delist_note or _("计划下架")
    listing.save(
        update_fields=["status", "delisted_at", "delist_reason", "remaining_stock_action", "delist_note"]
    )
    product = Product.objects.select_for_update().get(pk=listing.product_id)
    still_live = ChannelListing.objects.filter(product=product, status=ListingStatus.LIVE).exists()
    if not still_live and product.status == ProductStatus.LIVE:
        product.status = ProductStatus.DELISTED
        product.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=actor,
        action="listing.delist",
        obj=listing,
        store_id=product.store_id,
        after={
            "status": "delisted",
            "reason": listing.delist_reason,
            "remaining_stock_action": listing.remaining_stock_action,
        },
    )


@dataclass(frozen=True, slots=True)
class ListingRun:
    """What one run of the scheduled listings did: ``held`` are the listings whose time has
    come but whose category requires a qualification that is expired or missing (STORE-02):
    they stay scheduled, with the reason on the listing and in a STORE-02 finding."""

    listed: int
    delisted: int
    held: int = 0


def listings_run_due(*, now: dt.datetime | None = None) -> ListingRun:
    """Execute every scheduled listing/delisting whose time has come (idempotent: each row is
    re-checked under a lock, so concurrent or repeated runs act once)."""
    now = now or timezone.now()
    actor = Actor.system("task")
    to_list, to_delist = listings_due(now=now)
    listed = delisted = held = 0
    stores: set[int] = set()
    for pk in list(to_list.values_list("pk", flat=True)):
        with transaction.atomic():
            listing = (
                ChannelListing.objects.select_for_update()
                .filter(pk=pk, status=ListingStatus.SCHEDULED, list_at__lte=now)
                .first()
            )
            if listing is None:
                continue
            product = Product.objects.select_for_update().get(pk=listing.product_id)
            if product.status not in _LISTABLE:
                continue  # re-audit pending: the listing waits
            blocks = listing_qualification_blocks(product=product, day=timezone.localdate(now))
            if blocks:
                held += 1
                if _hold(actor, listing, product.store_id, _qualification_blocks_message(blocks)[:300]):
                    stores.add(product.store_id)
                continue
            if listing.held_reason:
                stores.add(product.store_id)  # its STORE-02 finding resolves now
            _go_live(actor, listing, product, now)
            listed += 1
    for pk in list(to_delist.values_list("pk", flat=True)):
        with transaction.atomic():
            listing = (
                ChannelListing.objects.select_for_update()
                .filter(pk=pk, status=ListingStatus.LIVE, delist_at__lte=now)
                .first()
            )
            if listing is None:
                continue
            _take_down(actor, listing, now)
            delisted += 1
    for store_id in sorted(stores):
        _report_held(store_id, now)
    return ListingRun(listed, delisted, held)


def _hold(actor: Actor, listing: ChannelListing, store_id: int, reason: str) -> bool:
    """Keep a due listing waiting with its reason; audited (and True) when the reason is new,
    so a listing held for days is recorded once, not every minute."""
    if listing.held_reason == reason:
        return False
    before = listing.held_reason
    listing.held_reason = reason
    listing.save(update_fields=["held_reason"])
    audit_record(
        actor=actor,
        action="listing.held",
        obj=listing,
        store_id=store_id,
        before={"held_reason": before},
        after={"held_reason": reason},
    )
    return True


def _report_held(store_id: int, now: dt.datetime) -> None:
    """Raise (or resolve) the STORE-02 findings of held listings now, not at the next daily run."""
    from storeops.sop.services import checks_run  # sop runs every app's checks: import at use
    from storeops.stores.selectors import store_get

    store = store_get(store_id=store_id)
    if store is not None:
        checks_run(rule="STORE-02", store=store, now=now)


# ---- suppliers (SEL-02) ------------------------------------------------------------------------


def supplier_create(
    *,
    actor: Actor,
    store: Store,
    code: str,
    name: str,
    contact: str = "",
    phone: str = "",
    payment_term_days: int = 0,
    small_batch_customisation: bool = False,
) -> Supplier:
    errors = {k: _("必填") for k, v in (("code", code), ("name", name)) if not v.strip()}
    if payment_term_days < 0:
        errors["payment_term_days"] = _("账期不能为负")
    if Supplier.objects.filter(store=store, code=code.strip()).exists():
        errors["code"] = _("供应商编码已存在")
    if errors:
        raise ValidationError(_("供应商信息有误"), fields=errors)
    with transaction.atomic():
        supplier = Supplier.objects.create(
            store=store,
            code=code.strip(),
            name=name.strip(),
            contact=contact,
            phone=phone,
            payment_term_days=payment_term_days,
            small_batch_customisation=small_batch_customisation,
        )
        audit_record(
            actor=actor, action="supplier.create", obj=supplier, store_id=store.pk, after=snapshot(supplier)
        )
    return supplier


def supplier_certification_add(
    *,
    actor: Actor,
    supplier: Supplier,
    kind: str,
    valid_from: dt.date,
    valid_to: dt.date | None = None,
    number: str = "",
) -> SupplierCertification:
    if kind not in CertificationKind.values:
        raise ValidationError(_("未知的认证类型"), fields={"kind": _("未知的认证类型")})
    if valid_to is not None and valid_to < valid_from:
        raise ValidationError(
            _("到期日期不能早于生效日期"), fields={"valid_to": _("到期日期不能早于生效日期")}
        )
    with transaction.atomic():
        cert = SupplierCertification.objects.create(
            supplier=supplier, kind=kind, valid_from=valid_from, valid_to=valid_to, number=number
        )
        audit_record(
            actor=actor,
            action="supplier.certification_add",
            obj=supplier,
            store_id=supplier.store_id,
            after=snapshot(cert),
        )
    return cert


def supply_record_add(
    *,
    actor: Actor,
    supplier: Supplier,
    ordered_on: dt.date,
    due_on: dt.date,
    delivered_on: dt.date | None = None,
    stocked_out: bool = False,
    qc_samples: int = 0,
    qc_passed: int = 0,
    reference: str = "",
    product: Product | None = None,
) -> SupplyRecord:
    errors = {}
    if due_on < ordered_on:
        errors["due_on"] = _("约定交期不能早于下单日期")
    if qc_samples < 0 or qc_passed < 0 or qc_passed > qc_samples:
        errors["qc_passed"] = _("合格数必须在0到抽检数之间")
    if product is not None and product.store_id != supplier.store_id:
        errors["product"] = _("商品不属于该店铺")
    if errors:
        raise ValidationError(_("供货记录有误"), fields=errors)
    with transaction.atomic():
        record = SupplyRecord.objects.create(
            supplier=supplier,
            ordered_on=ordered_on,
            due_on=due_on,
            delivered_on=delivered_on,
            stocked_out=stocked_out,
            qc_samples=qc_samples,
            qc_passed=qc_passed,
            reference=reference,
            product=product,
        )
        audit_record(
            actor=actor,
            action="supplier.record_add",
            obj=supplier,
            store_id=supplier.store_id,
            after=snapshot(record),
        )
    return record


def product_supplier_link(
    *, actor: Actor, product: Product, supplier: Supplier, is_primary: bool = False
) -> ProductSupplier:
    if supplier.store_id != product.store_id:
        raise ValidationError(_("供应商不属于该店铺"), fields={"supplier": _("供应商不属于该店铺")})
    if ProductSupplier.objects.filter(product=product, supplier=supplier).exists():
        raise Conflict(_("该供应商已关联此商品"))
    with transaction.atomic():
        link = ProductSupplier.objects.create(product=product, supplier=supplier, is_primary=is_primary)
        audit_record(
            actor=actor,
            action="product.supplier_link",
            obj=product,
            store_id=product.store_id,
            after={"supplier": supplier.pk, "is_primary": is_primary},
        )
    return link


def sales_daily_add(
    *, store_id: int, channel_id: int, product_id: int, day: dt.date, units: int, revenue: Decimal
) -> None:
    """Add a paid order's units and revenue to the day's sales row (created on first sale).
    One conditional UPDATE, then an INSERT when the row is new (a concurrent INSERT of the
    same row is caught by the unique constraint and retried as an UPDATE). Visitors and
    buyers come from the channels' traffic statistics, not from orders."""
    from django.db import IntegrityError
    from django.db.models import F

    def bump() -> int:
        return SalesDaily.objects.filter(
            store_id=store_id, channel_id=channel_id, product_id=product_id, day=day
        ).update(units=F("units") + units, revenue=F("revenue") + revenue)

    if bump():
        return
    try:
        with transaction.atomic():
            SalesDaily.objects.create(
                store_id=store_id,
                channel_id=channel_id,
                product_id=product_id,
                day=day,
                units=units,
                revenue=revenue,
            )
    except IntegrityError:
        bump()
