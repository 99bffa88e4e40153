"""Net promoter score answers (净推荐值, DATA-01): recorded one by one (the web shop's survey
through the API, or typed in after a phone survey) or imported from a survey tool's export.

An answer is a score 0–10 to "how likely are you to recommend us to a friend?". The same
answer (its survey id, ``external_ref``) and the same order (``order_ref``) are counted once:
the API refuses a repeat with 409; an import skips the rows already recorded (and repeats
within the file) and reports how many, so importing the same export twice adds nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from storeops.audit.services import audit_record
from storeops.core.context import Actor
from storeops.core.errors import Conflict, ValidationError
from storeops.core.files import datetime_cell, header_columns, table_cells
from storeops.service.models import NpsResponse, NpsSource
from storeops.service.rules import NPS_MAX_SCORE, NPS_MIN_SCORE
from storeops.stores.models import Channel, Store

MAX_COMMENT = 1000
MAX_IMPORT_ROWS = 100_000
EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
# an answer dated a little ahead of this server's clock is a clock skew, not the future
CLOCK_SKEW = dt.timedelta(minutes=10)
BATCH = 500

# column → the header names it goes by in a survey export (the first one found is used)
COLUMNS: dict[str, tuple[str, ...]] = {
    "score": ("推荐意愿", "推荐分", "推荐度", "NPS", "NPS评分", "分数", "score"),
    "time": ("答卷时间", "提交答卷时间", "提交时间", "作答时间", "时间", "responded_at"),
    "customer": ("顾客", "顾客编号", "会员号", "用户ID", "customer_ref"),
    "order": ("订单号", "订单编号", "order_ref"),
    "comment": ("意见", "原因", "推荐理由", "备注", "comment"),
    "external": ("答卷编号", "答卷ID", "序号", "external_ref"),
    "channel": ("渠道", "渠道编码", "channel"),
}


def _score(value: object) -> int:
    """An answer's score: a whole number 0–10 (a spreadsheet's 9.0 is 9). ValueError else."""
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int):
        number = value
    else:
        text = str(value).strip()
        number = int(float(text)) if text and float(text).is_integer() else int(text)
    if not NPS_MIN_SCORE <= number <= NPS_MAX_SCORE:
        raise ValueError(value)
    return number


def _check(
    *,
    score: object,
    customer_ref: str,
    order_ref: str,
    external_ref: str,
    comment: str,
    responded_at: dt.datetime,
    now: dt.datetime,
) -> tuple[int, dict[str, str]]:
    errors: dict[str, str] = {}
    try:
        number = _score(score)
    except (TypeError, ValueError, OverflowError):
        number = -1
        errors["score"] = _("推荐意愿为 0–10 的整数")
    for name, value in (
        ("customer_ref", customer_ref),
        ("order_ref", order_ref),
        ("external_ref", external_ref),
    ):
        if len(value) > 64:
            errors[name] = _("最多 %(n)s 个字符") % {"n": 64}
    if len(comment) > MAX_COMMENT:
        errors["comment"] = _("最多 %(n)s 个字符") % {"n": MAX_COMMENT}
    if timezone.is_naive(responded_at):
        errors["responded_at"] = _("请带时区")
    elif responded_at > now + CLOCK_SKEW:
        errors["responded_at"] = _("答卷时间不能在将来")
    elif responded_at < EARLIEST:
        errors["responded_at"] = _("答卷时间不能早于 2000 年")
    return number, errors


def _duplicate(store: Store, *, order_ref: str, external_ref: str) -> dict[str, str]:
    found: dict[str, str] = {}
    if external_ref and NpsResponse.objects.filter(store=store, external_ref=external_ref).exists():
        found["external_ref"] = _("该答卷已录入")
    if order_ref and NpsResponse.objects.filter(store=store, order_ref=order_ref).exists():
        found["order_ref"] = _("该订单已有 NPS 答卷")
    return found


def nps_record(
    *,
    actor: Actor,
    store: Store,
    score: object,
    channel: Channel | None = None,
    customer_ref: str = "",
    order_ref: str = "",
    external_ref: str = "",
    comment: str = "",
    responded_at: dt.datetime | None = None,
    source: str = NpsSource.API,
    now: dt.datetime | None = None,
) -> NpsResponse:
    """Record one answer. Bad input is a ValidationError naming the fields; an answer or
    order already recorded is a Conflict (409), and nothing is written."""
    now = now or timezone.now()
    customer_ref, order_ref, external_ref = customer_ref.strip(), order_ref.strip(), external_ref.strip()
    comment = comment.strip()
    responded_at = responded_at or now
    number, errors = _check(
        score=score,
        customer_ref=customer_ref,
        order_ref=order_ref,
        external_ref=external_ref,
        comment=comment,
        responded_at=responded_at,
        now=now,
    )
    if channel is not None and channel.store_id != store.pk:
        errors["channel_id"] = _("渠道不属于该店铺")
    if source not in NpsSource.values:
        errors["source"] = _("未知的来源")
    if errors:
        raise ValidationError(_("NPS 答卷信息有误，未保存"), fields=errors)
    with transaction.atomic():
        duplicate = _duplicate(store, order_ref=order_ref, external_ref=external_ref)
        if duplicate:
            raise Conflict(_("该答卷已录入，未重复计入"), fields=duplicate, code="nps_duplicate")
        try:
            with transaction.atomic():
                answer = NpsResponse.objects.create(
                    store=store,
                    channel=channel,
                    score=number,
                    comment=comment,
                    customer_ref=customer_ref,
                    order_ref=order_ref,
                    external_ref=external_ref,
                    source=source,
                    responded_at=responded_at,
                    created_by=actor.label[:150],
                )
        except IntegrityError as exc:  # the same answer recorded by another request meanwhile
            raise Conflict(_("该答卷已录入，未重复计入"), code="nps_duplicate") from exc
        audit_record(
            actor=actor,
            action="nps.record",
            obj=answer,
            store_id=store.pk,
            after={"score": number, "source": source, "order_ref": order_ref, "external_ref": external_ref},
        )
    return answer


# --- import ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NpsImportResult:
    rows: int  # answers read from the file
    imported: int
    duplicates: int  # already recorded, or repeated within the file: skipped


def _rows(file_name: str, data: bytes) -> Iterator[tuple[int, dict[str, str]]]:
    header: dict[str, int] | None = None
    for line, cells in enumerate(table_cells(file_name, data), start=1):
        if not any(cells):
            continue
        if header is None:
            found = header_columns(cells, COLUMNS)
            if "score" in found:
                header = found
            elif line >= 20:
                break
            continue
        yield line, {name: (cells[i] if i < len(cells) else "") for name, i in header.items()}
    if header is None:
        optional = "、".join(names[0] for key, names in COLUMNS.items() if key != "score")
        raise ValidationError(
            _("找不到答卷表头（需要列：%(required)s；可选：%(optional)s）")
            % {"required": COLUMNS["score"][0], "optional": optional},
            fields={"file": _("缺少表头")},
            code="nps_header_missing",
        )


def _channels(store: Store) -> dict[str, Channel]:
    by_name: dict[str, Channel] = {}
    for channel in Channel.objects.filter(store=store):
        by_name.setdefault(channel.name, channel)
        by_name[channel.code] = channel  # a code wins over another channel's name
    return by_name


def nps_import(
    *, actor: Actor, store: Store, file_name: str, data: bytes, now: dt.datetime | None = None
) -> NpsImportResult:
    """Import a survey export (.csv or .xlsx; columns by :data:`COLUMNS`). A row that cannot
    be read is a 422 naming its line and column, and nothing is imported. A row without a time
    is dated now; rows already recorded are skipped and counted."""
    now = now or timezone.now()
    channels = _channels(store)
    answers: list[NpsResponse] = []
    errors: list[str] = []
    for line, value in _rows(file_name, data):
        if len(answers) >= MAX_IMPORT_ROWS:
            raise ValidationError(
                _("答卷超过 %(n)s 行，请分开导入") % {"n": MAX_IMPORT_ROWS}, fields={"file": _("行数过多")}
            )
        problems: dict[str, str] = {}
        try:
            when = datetime_cell(value.get("time", "")) or now
        except ValueError:
            when = now
            problems["time"] = _("时间格式应为 YYYY-MM-DD HH:MM:SS：%(v)s") % {"v": value["time"]}
        number, more = _check(
            score=value.get("score", ""),
            customer_ref=value.get("customer", ""),
            order_ref=value.get("order", ""),
            external_ref=value.get("external", ""),
            comment=value.get("comment", ""),
            responded_at=when,
            now=now,
        )
        problems.update({_IMPORT_FIELD.get(k, k): v for k, v in more.items()})
        channel = None
        if value.get("channel"):
            channel = channels.get(value["channel"])
            if channel is None:
                problems["channel"] = _("未知的渠道：%(v)s") % {"v": value["channel"]}
        for name, message in problems.items():
            errors.append(
                _("第 %(line)s 行 %(field)s：%(message)s")
                % {"line": line, "field": COLUMNS[name][0], "message": message}
            )
        if len(errors) >= 20:
            break
        if not problems:
            answers.append(
                NpsResponse(
                    store=store,
                    channel=channel,
                    score=number,
                    comment=value.get("comment", ""),
                    customer_ref=value.get("customer", ""),
                    order_ref=value.get("order", ""),
                    external_ref=value.get("external", ""),
                    source=NpsSource.IMPORT,
                    responded_at=when,
                    created_by=actor.label[:150],
                )
            )
    if errors:
        raise ValidationError(
            _("答卷文件有无法识别的行，未导入"),
            fields={"file": "；".join(errors[:20])},
            code="nps_rows_invalid",
        )
    if not answers:
        raise ValidationError(_("答卷文件没有答卷"), fields={"file": _("没有答卷")}, code="nps_empty")
    with transaction.atomic():
        fresh = _new_answers(store, answers)
        try:
            NpsResponse.objects.bulk_create(fresh, batch_size=BATCH)
        except IntegrityError as exc:  # the same answers imported by someone else at this moment
            raise Conflict(_("答卷正在被他人导入，请稍后重试"), code="nps_busy") from exc
        result = NpsImportResult(rows=len(answers), imported=len(fresh), duplicates=len(answers) - len(fresh))
        audit_record(
            actor=actor,
            action="nps.import",
            object_type="service.npsresponse",
            object_repr=file_name[:200],
            store_id=store.pk,
            after={"file_name": file_name[:200], "rows": result.rows, "imported": result.imported},
        )
    return result


_IMPORT_FIELD = {
    "customer_ref": "customer",
    "order_ref": "order",
    "external_ref": "external",
    "responded_at": "time",
}


def _new_answers(store: Store, answers: list[NpsResponse]) -> list[NpsResponse]:
    """The answers not recorded yet: none whose survey id or order is already in the store,
    and of repeats within the file the first."""
    seen_ext: set[str] = set()
    seen_order: set[str] = set()
    for start in range(0, len(answers), BATCH):
        chunk = answers[start : start + BATCH]
        ext = [a.external_ref for a in chunk if a.external_ref]
        orders = [a.order_ref for a in chunk if a.order_ref]
        for e, o in (
            NpsResponse.objects.filter(store=store)
            .filter(Q(external_ref__in=ext) | Q(order_ref__in=orders))
            .values_list("external_ref", "order_ref")
        ):
            seen_ext.add(e)
            seen_order.add(o)
    fresh = []
    for answer in answers:
        if (answer.external_ref and answer.external_ref in seen_ext) or (
            answer.order_ref and answer.order_ref in seen_order
        ):
            continue
        if answer.external_ref:
            seen_ext.add(answer.external_ref)
        if answer.order_ref:
            seen_order.add(answer.order_ref)
        fresh.append(answer)
    return fresh
