"""The reply scripts library (CS-03): create, update, delete."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from storeops.audit.services import audit_record, snapshot
from storeops.core.context import Actor
from storeops.core.errors import Conflict, ValidationError
from storeops.service import rules
from storeops.service.models import ReplyScript, TicketCategory
from storeops.stores.models import Store

# ---- CS-03: reply scripts ------------------------------------------------------------------------

_SCRIPT_FIELDS = ("title", "body", "keywords", "category", "is_quick", "auto_answer", "is_active")


def _script_clean(data: dict[str, Any]) -> dict[str, Any]:  # noqa: PLR0912  (one validation pass)
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    if "title" in data:
        out["title"] = str(data["title"] or "").strip()
        if not out["title"] or len(out["title"]) > 100:
            errors["title"] = _("标题为 1–100 个字符")
    if "body" in data:
        out["body"] = str(data["body"] or "").strip()
        if not out["body"]:
            errors["body"] = _("必填")
        elif len(out["body"]) > 2000:
            errors["body"] = _("最多 2000 个字符")
    if "keywords" in data:
        words = rules.parse_keywords(data["keywords"] or "")
        if len(words) > 50 or any(len(w) > 30 for w in words):
            errors["keywords"] = _("最多 50 个关键词，每个不超过 30 个字符")
        out["keywords"] = list(words)
    if "category" in data:
        out["category"] = str(data["category"] or "")
        if out["category"] and out["category"] not in TicketCategory.values:
            errors["category"] = _("未知的分类")
    for flag in ("is_quick", "auto_answer", "is_active"):
        if flag in data:
            if not isinstance(data[flag], bool):
                errors[flag] = _("应为是/否")
            out[flag] = bool(data[flag])
    if out.get("auto_answer") and "keywords" in out and not out["keywords"]:
        errors["keywords"] = _("自动回答的话术至少需要一个关键词")
    if errors:
        raise ValidationError(_("话术信息有误，未保存"), fields=errors)
    return out


def script_create(
    *,
    actor: Actor,
    store: Store,
    title: str,
    body: str,
    keywords: str | Sequence[str] = "",
    category: str = "",
    is_quick: bool = False,
    auto_answer: bool = False,
) -> ReplyScript:
    data = _script_clean(
        {
            "title": title,
            "body": body,
            "keywords": keywords,
            "category": category,
            "is_quick": is_quick,
            "auto_answer": auto_answer,
        }
    )
    with transaction.atomic():
        if ReplyScript.objects.filter(store=store, title=data["title"]).exists():
            raise Conflict(_("同名话术已存在"), fields={"title": _("已存在")})
        script = ReplyScript.objects.create(store=store, **data)
        audit_record(
            actor=actor, action="reply_script.create", obj=script, store_id=store.pk, after=snapshot(script)
        )
    return script


def script_update(*, actor: Actor, script: ReplyScript, **changes: Any) -> ReplyScript:
    unknown = set(changes) - set(_SCRIPT_FIELDS)
    if unknown:
        raise ValidationError(_("未知字段"), fields={k: _("未知字段") for k in sorted(unknown)})
    data = _script_clean(changes)
    with transaction.atomic():
        locked = ReplyScript.objects.select_for_update().get(pk=script.pk)
        merged_keywords = data.get("keywords", locked.keywords)
        if data.get("auto_answer", locked.auto_answer) and not merged_keywords:
            raise ValidationError(
                _("话术信息有误，未保存"), fields={"keywords": _("自动回答的话术至少需要一个关键词")}
            )
        if (
            "title" in data
            and ReplyScript.objects.filter(store_id=locked.store_id, title=data["title"])
            .exclude(pk=locked.pk)
            .exists()
        ):
            raise Conflict(_("同名话术已存在"), fields={"title": _("已存在")})
        before = snapshot(locked)
        for key, value in data.items():
            setattr(locked, key, value)
        locked.updated_at = timezone.now()
        locked.save()
        audit_record(
            actor=actor,
            action="reply_script.update",
            obj=locked,
            store_id=locked.store_id,
            before=before,
            after=snapshot(locked),
        )
    return locked


def script_delete(*, actor: Actor, script: ReplyScript) -> None:
    with transaction.atomic():
        before = snapshot(script)
        pk, store_id, title = script.pk, script.store_id, script.title
        script.delete()
        audit_record(
            actor=actor,
            action="reply_script.delete",
            object_type="service.replyscript",
            object_id=pk,
            object_repr=title,
            store_id=store_id,
            before=before,
            after={},
        )
