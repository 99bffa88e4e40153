"""Payment reconciliation (支付对账, ORD-06): what each payment provider says it collected and
refunded on a day, matched against our payments and refunds, and the daily money ledger.

A provider's statement (对账单) is imported by finance — the WeChat Pay trade bill (交易账单),
the Alipay business detail (业务明细) or a generic CSV — and kept one per store, provider and
day (:class:`~storeops.orders.models.PaymentStatement`). The comparison is computed when it
is read, so a payment applied afterwards shows as matched without importing again. What
differs:

- ``unknown`` — the provider has a reference we never issued;
- ``not_in_store`` — the provider collected (or refunded) money our records do not show as
  collected (or refunded): a lost callback. A payment can be *applied from the statement*
  (:func:`statement_apply`), through the same code as a provider's callback: the order is paid
  if it still can be, otherwise the money goes back at once;
- ``not_in_statement`` — we recorded money that day that the provider's statement lacks
  (unless another imported statement of the provider has it: a payment settled around
  midnight lands on either day's statement, shown as ``other_day``);
- ``amount_differs`` — both have it, with different amounts.

The daily ledger (:func:`ledger`) sums, per local day and provider, what was collected and
refunded by our records, beside the day's statement when there is one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NamedTuple

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from storeops.audit.services import audit_record
from storeops.core.context import Actor
from storeops.core.errors import Conflict, NotFound, ValidationError
from storeops.core.files import header_columns, table_cells
from storeops.orders import payments as pay
from storeops.orders.imports import _Bad, _money, _when
from storeops.orders.models import (
    OrderEvent,
    Payment,
    PaymentRefund,
    PaymentStage,
    PaymentStatement,
    PaymentStatementLine,
    PaymentStatus,
    RefundStatus,
    StatementFormat,
    StatementLineKind,
)
from storeops.stores.models import Store

MAX_ROWS = 200_000
CENT = Decimal("0.01")
ZERO = Decimal("0.00")
_TOTAL_LIMIT = Decimal("1e12")  # a statement's totals fit its money columns (14 digits, 2 decimals)
# references looked up per query (an IN list SQLite and PostgreSQL both take comfortably)
BATCH = 500

# statuses of a payment whose money the provider collected (a RETURNED one was collected and
# handed back; a FAILED one with a provider transaction collected another amount, handed back)
_COLLECTED = (PaymentStatus.SUCCEEDED, PaymentStatus.RETURNED)


class Mismatch:
    UNKNOWN = "unknown"
    NOT_IN_STORE = "not_in_store"
    NOT_IN_STATEMENT = "not_in_statement"
    AMOUNT_DIFFERS = "amount_differs"
    OTHER_DAY = "other_day"  # not a difference: the provider put it on another day's statement


# untranslated (the findings translate them for each reader); ``Item.label`` translates
MISMATCH_LABELS = {
    Mismatch.UNKNOWN: gettext_noop("本系统无此单号"),
    Mismatch.NOT_IN_STORE: gettext_noop("渠道已收/退款，本系统未记录"),
    Mismatch.NOT_IN_STATEMENT: gettext_noop("本系统已记录，对账单无此笔"),
    Mismatch.AMOUNT_DIFFERS: gettext_noop("金额不符"),
    Mismatch.OTHER_DAY: gettext_noop("跨日入账"),
}
DIFFERENCES = (Mismatch.UNKNOWN, Mismatch.NOT_IN_STORE, Mismatch.NOT_IN_STATEMENT, Mismatch.AMOUNT_DIFFERS)


# --- parsing ---------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class StatementRow:
    row: int
    kind: str  # StatementLineKind
    reference: str
    amount: Decimal
    fee: Decimal = Decimal(0)  # a payment's fee is a charge (+); a refund's, fee handed back (−)
    payment_reference: str = ""
    provider_txn_id: str = ""
    occurred_at: dt.datetime | None = None


# column → the header names it goes by in each format (the first found is used)
_COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    StatementFormat.WECHATPAY: {
        "time": ("交易时间",),
        "txn": ("微信订单号",),
        "reference": ("商户订单号",),
        "status": ("交易状态",),
        "amount": ("应结订单金额", "总金额", "订单金额"),
        "refund_reference": ("商户退款单号",),
        "refund_amount": ("退款金额", "申请退款金额"),
        "refund_status": ("退款状态",),
        "fee": ("手续费",),
    },
    StatementFormat.ALIPAY: {
        "time": ("完成时间", "创建时间", "发生时间"),
        "txn": ("支付宝交易号",),
        "reference": ("商户订单号",),
        "type": ("业务类型", "账务类型"),
        "amount": ("订单金额（元）", "订单金额(元)", "订单金额"),
        "refund_reference": ("退款批次号/请求号", "退款请求号"),
        "fee": ("服务费（元）", "服务费(元)", "服务费"),
    },
    StatementFormat.GENERIC: {
        "kind": ("类型", "kind"),
        "reference": ("单号", "reference"),
        "payment_reference": ("原支付单号", "payment_reference"),
        "txn": ("渠道交易号", "provider_txn_id"),
        "amount": ("金额", "amount"),
        "fee": ("手续费", "fee"),
        "time": ("时间", "occurred_at"),
    },
}
_REQUIRED: dict[str, tuple[str, ...]] = {
    StatementFormat.WECHATPAY: ("reference", "status", "amount", "refund_reference", "refund_amount"),
    StatementFormat.ALIPAY: ("reference", "type", "amount", "refund_reference"),
    StatementFormat.GENERIC: ("kind", "reference", "amount"),
}
_GENERIC_KINDS: dict[str, str] = {
    "收款": StatementLineKind.PAYMENT,
    "支付": StatementLineKind.PAYMENT,
    "payment": StatementLineKind.PAYMENT,
    "退款": StatementLineKind.REFUND,
    "refund": StatementLineKind.REFUND,
}


def _magnitude(raw: str, name: str) -> Decimal:
    """An amount without its sign: Alipay writes refunds and fees as negatives, WeChat Pay a
    refund's fee as one; the row's kind says which way the money went."""
    return _money(raw.strip().lstrip("+-"), name)


def parse_statement(data: bytes, *, file_name: str, file_format: str) -> list[StatementRow]:
    """The collections and refunds of a statement file. Rows that are not money movements
    (WeChat's closed or revoked trades, refunds still in progress, comment and total lines)
    are skipped; a row that cannot be read is a 422 naming its line and column, and nothing
    is imported."""
    if file_format not in _COLUMNS:
        raise ValidationError(_("不支持的对账单格式"), fields={"file_format": _("不支持的格式")})
    aliases = _COLUMNS[file_format]
    parsed: list[StatementRow] = []
    errors: list[str] = []
    seen: set[tuple[str, str]] = set()
    for line, value in _data_rows(file_name, data, file_format):
        if len(parsed) >= MAX_ROWS:
            raise ValidationError(
                _("对账单超过 %(n)s 行，请按天分开导入") % {"n": MAX_ROWS}, fields={"file": _("行数过多")}
            )
        try:
            row = _row(file_format, line, value)
        except _Bad as bad:
            column = aliases[bad.field][0] if bad.field in aliases else bad.field
            errors.append(
                _("第 %(line)s 行 %(field)s：%(message)s")
                % {"line": line, "field": column, "message": bad.message}
            )
            if len(errors) >= 20:
                break
            continue
        if row is None:
            continue
        if (row.kind, row.reference) in seen:
            errors.append(_("第 %(line)s 行：单号 %(r)s 重复") % {"line": line, "r": row.reference})
            continue
        seen.add((row.kind, row.reference))
        parsed.append(row)
    if errors:
        raise ValidationError(
            _("对账单有无法识别的行，未导入"),
            fields={"file": "；".join(errors)},
            code="statement_rows_invalid",
        )
    return parsed


def _data_rows(file_name: str, data: bytes, file_format: str) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, {column: text}) of each detail row: after the header (looked for in the
    first 20 lines), up to the totals."""
    aliases = _COLUMNS[file_format]
    header: dict[str, int] | None = None
    for line, cells in enumerate(table_cells(file_name, data), start=1):
        if not any(cells) or cells[0].startswith("#"):
            continue  # blank, or Alipay's comment and end-of-list lines
        if header is None:
            found = header_columns(cells, aliases)
            if all(name in found for name in _REQUIRED[file_format]):
                header = found
            elif line >= 20:
                break
            continue
        if cells[0].startswith(("总交易单数", "总笔数", "合计")):
            return  # WeChat's (and Alipay's) totals follow the detail
        yield line, {name: (cells[i] if i < len(cells) else "") for name, i in header.items()}
    if header is None:
        names = "、".join(aliases[name][0] for name in _REQUIRED[file_format])
        raise ValidationError(
            _("找不到对账单表头（需要列：%(names)s）：请确认文件格式") % {"names": names},
            fields={"file": _("缺少表头"), "file_format": _("与文件不符？")},
            code="statement_header_missing",
        )


def _text(value: dict[str, str], name: str, *, required: bool = True) -> str:
    text = value.get(name, "")
    if required and not text:
        raise _Bad(name, _("必填"))
    if len(text) > 64 and name in ("reference", "refund_reference", "payment_reference"):
        raise _Bad(name, _("超过%(n)s个字符") % {"n": 64})
    return text


def _row(file_format: str, line: int, value: dict[str, str]) -> StatementRow | None:
    when = _when(value.get("time", ""), "time")
    txn = value.get("txn", "")[:100]
    fee = _magnitude(value["fee"], "fee") if value.get("fee") else Decimal(0)
    if file_format == StatementFormat.WECHATPAY:
        status = value["status"].upper()
        if status == "SUCCESS":
            amount = _magnitude(value["amount"], "amount")
            return _positive(
                line, StatementLineKind.PAYMENT, _text(value, "reference"), amount, fee, "", txn, when
            )
        if status == "REFUND":
            if value.get("refund_status", "SUCCESS").upper() not in ("SUCCESS", ""):
                return None  # still in progress, or failed: no money moved
            return _positive(
                line,
                StatementLineKind.REFUND,
                _text(value, "refund_reference"),
                _magnitude(value["refund_amount"], "refund_amount"),
                -fee,
                _text(value, "reference", required=False),
                txn,
                when,
            )
        if status in ("REVOKED", "CLOSED", "NOTPAY", "USERPAYING", "PAYERROR"):
            return None  # nothing collected
        raise _Bad("status", _("未知的交易状态：%(v)s") % {"v": value["status"]})
    if file_format == StatementFormat.ALIPAY:
        kind = value["type"]
        if kind in ("交易", "在线支付", "收款"):
            return _positive(
                line,
                StatementLineKind.PAYMENT,
                _text(value, "reference"),
                _magnitude(value["amount"], "amount"),
                fee,
                "",
                txn,
                when,
            )
        if kind in ("退款", "交易退款"):
            return _positive(
                line,
                StatementLineKind.REFUND,
                _text(value, "refund_reference"),
                _magnitude(value["amount"], "amount"),
                -fee,
                _text(value, "reference", required=False),
                txn,
                when,
            )
        return None  # transfers, withdrawals: not trades
    generic = _GENERIC_KINDS.get(value["kind"].lower())
    if generic is None:
        raise _Bad("kind", _("类型应为 收款 或 退款：%(v)s") % {"v": value["kind"]})
    return _positive(
        line,
        generic,
        _text(value, "reference"),
        _magnitude(value["amount"], "amount"),
        fee if generic == StatementLineKind.PAYMENT else -fee,
        _text(value, "payment_reference", required=False),
        txn,
        when,
    )


def _positive(
    line: int,
    kind: str,
    reference: str,
    amount: Decimal,
    fee: Decimal,
    payment_reference: str,
    txn: str,
    when: dt.datetime | None,
) -> StatementRow:
    if amount == 0:
        raise _Bad("amount", _("金额不能为 0"))
    return StatementRow(
        row=line,
        kind=kind,
        reference=reference,
        amount=amount,
        fee=fee,
        payment_reference=payment_reference,
        provider_txn_id=txn,
        occurred_at=when,
    )


# --- import ----------------------------------------------------------------------------------------


def statement_import(
    *,
    store: Store,
    provider: str,
    file_name: str,
    data: bytes,
    file_format: str,
    statement_date: dt.date | None,
    actor: Actor,
) -> PaymentStatement:
    """Import (or replace) the provider's statement of a day. Without ``statement_date`` the
    day is the one most of the rows happened on."""
    if provider not in settings.STOREOPS_PAYMENT_PROVIDERS:
        raise ValidationError(
            _("未知的支付渠道"), fields={"provider": _("未配置的支付渠道：%(p)s") % {"p": provider}}
        )
    rows = parse_statement(data, file_name=file_name, file_format=file_format)
    if statement_date is None:
        days = Counter(timezone.localdate(r.occurred_at) for r in rows if r.occurred_at is not None)
        if not days:
            raise ValidationError(_("请填写账单日期"), fields={"statement_date": _("必填")})
        statement_date = days.most_common(1)[0][0]
    payments = [r for r in rows if r.kind == StatementLineKind.PAYMENT]
    refunds = [r for r in rows if r.kind == StatementLineKind.REFUND]
    if max(sum(r.amount for r in payments), sum(r.amount for r in refunds)) >= _TOTAL_LIMIT:
        raise ValidationError(_("对账单金额合计过大，请检查文件"), fields={"file": _("金额过大")})
    with transaction.atomic():
        replaced = PaymentStatement.objects.filter(
            store=store, provider=provider, statement_date=statement_date
        )
        previous = replaced.values("id", "file_name", "payments_amount", "refunds_amount").first()
        replaced.delete()
        try:
            statement = PaymentStatement.objects.create(
                store=store,
                provider=provider,
                statement_date=statement_date,
                file_name=file_name[:200],
                file_format=file_format,
                payments_count=len(payments),
                payments_amount=sum((r.amount for r in payments), Decimal(0)),
                refunds_count=len(refunds),
                refunds_amount=sum((r.amount for r in refunds), Decimal(0)),
                fees=sum((r.fee for r in rows), Decimal(0)),
                imported_by=actor.user if actor.user is not None and actor.user.pk else None,
                imported_at=timezone.now(),
            )
        except IntegrityError as exc:  # the same day imported by someone else at this moment
            raise Conflict(_("该日对账单正在被他人导入，请稍后重试"), code="statement_busy") from exc
        PaymentStatementLine.objects.bulk_create(
            (
                PaymentStatementLine(
                    statement=statement,
                    row=r.row,
                    kind=r.kind,
                    reference=r.reference,
                    payment_reference=r.payment_reference,
                    provider_txn_id=r.provider_txn_id,
                    amount=r.amount,
                    fee=r.fee,
                    occurred_at=r.occurred_at,
                )
                for r in rows
            ),
            batch_size=1000,
        )
        audit_record(
            actor=actor,
            action="payment_statement.import",
            obj=statement,
            store_id=store.pk,
            before={k: str(v) for k, v in previous.items()} if previous else None,
            after={
                "provider": provider,
                "statement_date": statement_date.isoformat(),
                "file_name": file_name[:200],
                "payments": f"{len(payments)} / {statement.payments_amount}",
                "refunds": f"{len(refunds)} / {statement.refunds_amount}",
                "fees": str(statement.fees),
            },
        )
    reconcile(statement)  # its number of differences, for the ledger
    return statement


def statement_list(*, store: Store, provider: str = "") -> QuerySet[PaymentStatement]:
    qs = PaymentStatement.objects.filter(store=store).select_related("imported_by")
    return qs.filter(provider=provider) if provider else qs


def statement_get(*, store: Store, statement_id: int) -> PaymentStatement:
    statement = statement_list(store=store).filter(pk=statement_id).first()
    if statement is None:
        raise NotFound(_("对账单不存在"))
    return statement


FORMAT_CHOICES = StatementFormat.choices


def provider_choices() -> list[tuple[str, str]]:
    """The configured payment providers: (name, label)."""
    return [(name, pay.provider_label(name)) for name in settings.STOREOPS_PAYMENT_PROVIDERS]


# --- matching --------------------------------------------------------------------------------------


@dataclasses.dataclass(slots=True)
class Item:
    """One statement line or one of our records, and how they compare."""

    result: str  # "matched" or a Mismatch value
    kind: str  # StatementLineKind
    reference: str
    statement_amount: Decimal | None = None
    store_amount: Decimal | None = None
    order_number: str = ""
    order_id: int | None = None
    store_status: str = ""
    settled_on: dt.date | None = None
    row: int | None = None
    can_apply: bool = False  # a collection our payment missed: apply it from the statement

    @property
    def label(self) -> str:
        return _(MISMATCH_LABELS[self.result]) if self.result in MISMATCH_LABELS else _("一致")

    @property
    def status_label(self) -> str:
        """Our record's status, in the reader's language."""
        labels = RefundStatus if self.kind == StatementLineKind.REFUND else PaymentStatus
        return str(dict(labels.choices).get(self.store_status, self.store_status))

    @property
    def is_difference(self) -> bool:
        return self.result in DIFFERENCES


@dataclasses.dataclass(slots=True)
class Reconciliation:
    statement: PaymentStatement
    items: list[Item]

    @property
    def differences(self) -> list[Item]:
        return [i for i in self.items if i.is_difference]

    def count(self, result: str) -> int:
        return sum(1 for i in self.items if i.result == result)


def _day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    return start, timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))


def _chunks(values: list[str]) -> Iterator[list[str]]:
    for i in range(0, len(values), BATCH):
        yield values[i : i + BATCH]


def _handed_back(payment_ids: Iterable[int]) -> dict[int, Decimal]:
    """Per payment, the refunds that went back through it. For a payment that collected another
    amount than it asked for (FAILED with a provider transaction), that is what the provider
    collected: it was handed back in full."""
    ids = list(payment_ids)
    if not ids:
        return {}
    totals = (
        PaymentRefund.objects.filter(payment_id__in=ids, status=RefundStatus.SUCCEEDED)
        .values_list("payment_id")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    return {pk: _cents(total) for pk, total in totals}


def _collected_amounts(payments: Iterable[Payment]) -> dict[int, Decimal]:
    """What the provider collected for each payment: its amount, or what was handed back (see
    :func:`_handed_back`)."""
    payments = list(payments)
    odd = {p.pk for p in payments if p.status == PaymentStatus.FAILED and p.provider_txn_id}
    back = _handed_back(odd)
    return {p.pk: back.get(p.pk, ZERO) if p.pk in odd else p.amount for p in payments}


def _was_collected(payment: Payment) -> bool:
    return payment.status in _COLLECTED or (
        payment.status == PaymentStatus.FAILED and bool(payment.provider_txn_id)
    )


def records_on(
    *, store_id: int, provider: str, day: dt.date, payments: bool = True, refunds: bool = True
) -> tuple[list[Payment], list[PaymentRefund]]:
    """Our side of a day: the payments whose money the provider collected, settled that local
    day, and the refunds made that day (with their orders)."""
    start, end = _day_bounds(day)
    collected: list[Payment] = []
    returned: list[PaymentRefund] = []
    if payments:
        settled = Payment.objects.filter(
            provider=provider, order__store_id=store_id, settled_at__gte=start, settled_at__lt=end
        ).select_related("order")
        collected = [p for p in settled if _was_collected(p)]
    if refunds:
        returned = list(
            PaymentRefund.objects.filter(
                payment__provider=provider,
                order__store_id=store_id,
                status=RefundStatus.SUCCEEDED,
                created_at__gte=start,
                created_at__lt=end,
            ).select_related("order", "payment")
        )
    return collected, returned


def reconcile(statement: PaymentStatement) -> Reconciliation:
    """Compare the statement with our payments and refunds (every line, and every record of
    ours on that day that the statement lacks)."""
    lines = [_Line(*values) for values in statement.lines.values_list("kind", "reference", "amount", "row")]
    items = [
        *_collections(statement, [ln for ln in lines if ln.kind == StatementLineKind.PAYMENT]),
        *_refunds(statement, [ln for ln in lines if ln.kind == StatementLineKind.REFUND]),
    ]
    rank = {
        Mismatch.NOT_IN_STORE: 0,
        Mismatch.UNKNOWN: 1,
        Mismatch.AMOUNT_DIFFERS: 2,
        Mismatch.NOT_IN_STATEMENT: 3,
    }
    items.sort(key=lambda i: (rank.get(i.result, 9), i.kind, i.row or 0, i.reference))
    result = Reconciliation(statement, items)
    differences = len(result.differences)
    if statement.differences != differences or statement.compared_at is None:
        statement.differences, statement.compared_at = differences, timezone.now()
        PaymentStatement.objects.filter(pk=statement.pk).update(
            differences=differences, compared_at=statement.compared_at
        )
    return result


def _settled_on(when: dt.datetime | None) -> dt.date | None:
    return timezone.localdate(when) if when is not None else None


@dataclasses.dataclass(frozen=True, slots=True)
class _Ours:
    """Our side of one reference: a payment or a refund, as the comparison needs it."""

    reference: str
    order_number: str
    order_id: int
    status: str
    amount: Decimal | None  # what moved; None: no money moved by our records
    settled_on: dt.date | None


class _Line(NamedTuple):
    kind: str
    reference: str
    amount: Decimal
    row: int


# read as values, not models: a busy day's statement has tens of thousands of lines
_PAYMENT_VALUES = (
    "pk",
    "reference",
    "order_id",
    "order__number",
    "status",
    "amount",
    "settled_at",
    "provider_txn_id",
)
_REFUND_VALUES = ("reference", "order_id", "order__number", "status", "amount", "created_at")


def _payment_sides(payments: QuerySet[Payment]) -> list[_Ours]:
    rows = list(payments.values_list(*_PAYMENT_VALUES))
    odd = {pk for pk, _r, _o, _n, status, _a, _s, txn in rows if status == PaymentStatus.FAILED and txn}
    back = _handed_back(odd)
    sides = []
    for pk, reference, order_id, number, status, amount, settled_at, _txn in rows:
        moved = amount if status in _COLLECTED else back.get(pk, ZERO) if pk in odd else None
        sides.append(_Ours(reference, number, order_id, status, moved, _settled_on(settled_at)))
    return sides


def _refund_sides(refunds: QuerySet[PaymentRefund]) -> list[_Ours]:
    return [
        _Ours(
            ref,
            number,
            order_id,
            status,
            amount if status == RefundStatus.SUCCEEDED else None,
            _settled_on(at),
        )
        for ref, order_id, number, status, amount, at in refunds.values_list(*_REFUND_VALUES)
    ]


def _collections(statement: PaymentStatement, lines: list[_Line]) -> Iterator[Item]:
    mine = Payment.objects.filter(provider=statement.provider, order__store_id=statement.store_id)
    found: list[_Ours] = []
    for chunk in _chunks([ln.reference for ln in lines]):
        found += _payment_sides(mine.filter(reference__in=chunk))
    start, end = _day_bounds(statement.statement_date)
    that_day = _payment_sides(mine.filter(settled_at__gte=start, settled_at__lt=end))
    yield from _compare(
        statement,
        StatementLineKind.PAYMENT,
        lines,
        ours={o.reference: o for o in found},
        that_day=[o for o in that_day if o.amount is not None],
    )


def _refunds(statement: PaymentStatement, lines: list[_Line]) -> Iterator[Item]:
    mine = PaymentRefund.objects.filter(
        payment__provider=statement.provider, order__store_id=statement.store_id
    )
    found: list[_Ours] = []
    for chunk in _chunks([ln.reference for ln in lines]):
        found += _refund_sides(mine.filter(reference__in=chunk))
    start, end = _day_bounds(statement.statement_date)
    that_day = _refund_sides(
        mine.filter(status=RefundStatus.SUCCEEDED, created_at__gte=start, created_at__lt=end)
    )
    yield from _compare(
        statement, StatementLineKind.REFUND, lines, ours={o.reference: o for o in found}, that_day=that_day
    )


def _compare(
    statement: PaymentStatement,
    kind: str,
    lines: list[_Line],
    *,
    ours: dict[str, _Ours],
    that_day: list[_Ours],
) -> Iterator[Item]:
    """Each line against our record of its reference, then our records of the statement's day
    that no line names. A collection our payment never recorded can be applied."""
    day = statement.statement_date
    for ln in lines:
        mine = ours.get(ln.reference)
        if mine is None:
            yield Item(Mismatch.UNKNOWN, kind, ln.reference, statement_amount=ln.amount, row=ln.row)
            continue
        if mine.amount is None:
            result = Mismatch.NOT_IN_STORE
        elif mine.amount != ln.amount:
            result = Mismatch.AMOUNT_DIFFERS
        else:
            result = "matched" if mine.settled_on == day else Mismatch.OTHER_DAY
        yield Item(
            result,
            kind,
            ln.reference,
            statement_amount=ln.amount,
            store_amount=mine.amount,
            order_number=mine.order_number,
            order_id=mine.order_id,
            store_status=mine.status,
            settled_on=mine.settled_on,
            row=ln.row,
            can_apply=result == Mismatch.NOT_IN_STORE and kind == StatementLineKind.PAYMENT,
        )
    named = {ln.reference for ln in lines}
    missing = [m for m in that_day if m.reference not in named]
    elsewhere = _on_other_statements(statement, kind, [m.reference for m in missing])
    for m in missing:
        yield Item(
            Mismatch.OTHER_DAY if m.reference in elsewhere else Mismatch.NOT_IN_STATEMENT,
            kind,
            m.reference,
            store_amount=m.amount,
            order_number=m.order_number,
            order_id=m.order_id,
            store_status=m.status,
            settled_on=day,
        )


def _on_other_statements(statement: PaymentStatement, kind: str, references: list[str]) -> set[str]:
    found: set[str] = set()
    for refs in _chunks(references):
        found.update(
            PaymentStatementLine.objects.filter(
                reference__in=refs,
                kind=kind,
                statement__store_id=statement.store_id,
                statement__provider=statement.provider,
            )
            .exclude(statement=statement)
            .values_list("reference", flat=True)
        )
    return found


# --- provider fees (ORD-06) --------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class FeeOver:
    """A collection whose fee on the statement is above the agreed rate."""

    row: int
    reference: str
    amount: Decimal
    fee: Decimal
    expected: Decimal  # the amount at the agreed rate, to the cent (half up, as providers round)

    @property
    def over(self) -> Decimal:
        return self.fee - self.expected


def expected_if_over(amount: Decimal, charged: Decimal, rate: Decimal) -> Decimal | None:
    """What ``amount`` costs at the agreed ``rate`` (to the cent, half up, as providers and
    platforms round) when ``charged`` is above it by more than a cent; None otherwise."""
    expected = (amount * rate).quantize(CENT, ROUND_HALF_UP)
    return expected if charged - expected > CENT else None


def fees_over_rate(statement: PaymentStatement, *, rate: Decimal) -> list[FeeOver]:
    """The statement's collections charged a fee above ``rate`` (the playbook's
    ``fee_rate`` of the statement's provider) by more than a cent of rounding; 0: not checked."""
    if rate <= 0:
        return []
    lines = (
        statement.lines.filter(kind=StatementLineKind.PAYMENT, fee__gt=0)
        .order_by("row")
        .values_list("row", "reference", "amount", "fee")
    )
    over = []
    for row, reference, amount, fee in lines:
        if (expected := expected_if_over(amount, fee, rate)) is not None:
            over.append(FeeOver(row, reference, amount, fee, expected))
    return over


# --- applying a collection the callbacks missed ------------------------------------------------------


def statement_apply(*, statement: PaymentStatement, reference: str, actor: Actor) -> str:
    """Apply a collection on the statement that our payment never recorded (its callback was
    lost), exactly as the provider's callback would have been: the order is paid if it still
    can take the money, otherwise the money goes back at once (``refunded_late``). Applying
    the same line twice changes nothing (``duplicate``)."""
    from storeops.orders import services

    line = statement.lines.filter(kind=StatementLineKind.PAYMENT, reference=reference).first()
    if line is None:
        raise NotFound(_("对账单中没有这笔收款：%(r)s") % {"r": reference})
    payment = Payment.objects.filter(
        reference=reference, provider=statement.provider, order__store_id=statement.store_id
    ).first()
    if payment is None:
        raise Conflict(_("本系统没有这笔支付单，无法补记：%(r)s") % {"r": reference}, code="unknown_payment")
    if _was_collected(payment):
        raise Conflict(_("这笔支付已入账，无需补记"), code="already_collected")
    data = pay.CallbackData(
        event_id=f"statement:{statement.pk}:{line.row}",
        reference=reference,
        outcome="succeeded",
        provider_txn_id=line.provider_txn_id or f"statement:{reference}",
        amount=line.amount,
        # a line without its time: the day's last second (the latest the money can have come)
        collected_at=line.occurred_at or _day_bounds(statement.statement_date)[1] - dt.timedelta(seconds=1),
    )
    result = services.payment_receive(
        provider=statement.provider,
        data=data,
        payload={
            "source": "statement",
            "statement": statement.pk,
            "statement_date": statement.statement_date.isoformat(),
            "row": line.row,
            "by": actor.label,
        },
        actor=actor,
    )
    audit_record(
        actor=actor,
        action="payment_statement.apply",
        obj=statement,
        store_id=statement.store_id,
        after={
            "reference": reference,
            "amount": str(line.amount),
            "result": result.result,
            "order": result.order_number,
        },
    )
    reconcile(statement)
    return result.result


# --- the daily ledger ------------------------------------------------------------------------------


@dataclasses.dataclass(slots=True)
class LedgerRow:
    day: dt.date
    provider: str
    payments_count: int = 0
    payments_amount: Decimal = Decimal(0)
    deposits_amount: Decimal = Decimal(0)  # of which presale deposits (PROMO-01)
    refunds_count: int = 0
    refunds_amount: Decimal = Decimal(0)
    statement: PaymentStatement | None = None
    differences: int | None = None  # None: no statement imported

    @property
    def net(self) -> Decimal:
        return self.payments_amount - self.refunds_amount

    @property
    def provider_label(self) -> str:
        return pay.provider_label(self.provider)


def _cents(total: Any) -> Decimal:
    """A SUM as exact cents (SQLite adds decimals as floats)."""
    return Decimal(str(total)).quantize(CENT)


MAX_LEDGER_DAYS = 400


def ledger_period(start: dt.date | None, end: dt.date | None, *, days: int = 30) -> tuple[dt.date, dt.date]:
    """The ledger's period: the last ``days`` days by default; at most ``MAX_LEDGER_DAYS``."""
    end = end or timezone.localdate()
    start = start or end - dt.timedelta(days=days - 1)
    if start > end:
        raise ValidationError(_("开始日期晚于结束日期"), fields={"start": _("晚于结束日期")})
    if (end - start).days >= MAX_LEDGER_DAYS:
        raise ValidationError(
            _("时间范围最多 %(n)s 天") % {"n": MAX_LEDGER_DAYS}, fields={"start": _("范围过大")}
        )
    return start, end


def ledger(*, store: Store, start: dt.date, end: dt.date, provider: str = "") -> list[LedgerRow]:
    """Per local day (newest first) and provider: what our records collected and refunded,
    and the day's statement with its number of differences. ``start``–``end`` inclusive."""
    lo, _x = _day_bounds(start)
    _y, hi = _day_bounds(end)
    tz = timezone.get_current_timezone()
    rows: dict[tuple[dt.date, str], LedgerRow] = {}

    def row(day: dt.date, name: str) -> LedgerRow:
        return rows.setdefault((day, name), LedgerRow(day, name))

    where = Q(order__store=store, settled_at__gte=lo, settled_at__lt=hi)
    if provider:
        where &= Q(provider=provider)
    for day, name, stage, count, total in (
        Payment.objects.filter(where, status__in=_COLLECTED)
        .annotate(day=TruncDate("settled_at", tzinfo=tz))
        .values_list("day", "provider", "stage")
        .annotate(n=Count("id"), total=Sum("amount"))
        .order_by()
    ):
        r = row(day, name)
        r.payments_count += count
        r.payments_amount += _cents(total)
        if stage == PaymentStage.DEPOSIT:
            r.deposits_amount += _cents(total)
    odd = list(Payment.objects.filter(where, status=PaymentStatus.FAILED).exclude(provider_txn_id=""))
    collected = _collected_amounts(odd)
    for p in odd:
        assert p.settled_at is not None
        r = row(timezone.localdate(p.settled_at), p.provider)
        r.payments_count += 1
        r.payments_amount += collected[p.pk]
    where = Q(order__store=store, status=RefundStatus.SUCCEEDED, created_at__gte=lo, created_at__lt=hi)
    if provider:
        where &= Q(payment__provider=provider)
    for day, name, count, total in (
        PaymentRefund.objects.filter(where)
        .annotate(day=TruncDate("created_at", tzinfo=tz))
        .values_list("day", "payment__provider")
        .annotate(n=Count("id"), total=Sum("amount"))
        .order_by()
    ):
        r = row(day, name)
        r.refunds_count += count
        r.refunds_amount += _cents(total)
    statements = PaymentStatement.objects.filter(
        store=store, statement_date__gte=start, statement_date__lte=end
    )
    if provider:
        statements = statements.filter(provider=provider)
    for statement in statements:
        r = row(statement.statement_date, statement.provider)
        r.statement = statement
        if statement.differences is None:  # never compared yet
            reconcile(statement)
        r.differences = statement.differences
    return sorted(rows.values(), key=lambda r: (r.day, r.provider), reverse=True)


def deposits_kept(*, store: Store, start: dt.date, end: dt.date) -> Decimal:
    """Presale deposits kept (定金不退, PROMO-01) in the period: money the store keeps without
    an order — part of the period's net collections, shown apart for finance."""
    lo, _x = _day_bounds(start)
    _y, hi = _day_bounds(end)
    amounts = OrderEvent.objects.filter(
        order__store=store, kind="deposit_kept", created_at__gte=lo, created_at__lt=hi
    ).values_list("data", flat=True)
    return sum((Decimal(str(d.get("amount", "0"))) for d in amounts), Decimal(0))


def totals(rows: Iterable[LedgerRow]) -> dict[str, Decimal | int]:
    acc: dict[str, Any] = defaultdict(Decimal)
    for r in rows:
        acc["payments_count"] += r.payments_count
        acc["payments_amount"] += r.payments_amount
        acc["deposits_amount"] += r.deposits_amount
        acc["refunds_count"] += r.refunds_count
        acc["refunds_amount"] += r.refunds_amount
    acc["net"] = acc["payments_amount"] - acc["refunds_amount"]
    acc["payments_count"] = int(acc["payments_count"])
    acc["refunds_count"] = int(acc["refunds_count"])
    return dict(acc)
