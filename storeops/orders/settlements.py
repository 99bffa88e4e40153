"""Marketplace settlement reconciliation (平台结算对账, ORD-06): what a marketplace (Tmall, JD,
Douyin, Pinduoduo…) says it paid the shop for a channel's orders over a period, less its
commission (佣金/技术服务费) and the refunds it took back, matched against our orders.

Marketplace orders are paid through the provider ``marketplace``: the platform holds the
buyer's money and pays the shop later. Finance imports the platform's settlement report
(结算单/货款明细) of a period — one per store, channel and period
(:class:`~storeops.orders.models.SettlementReport`); importing the same period again replaces
it. The file is read through column aliases (one aliased layout, not each platform's exact
export: see :data:`COLUMNS`). The comparison is computed when read, per order number:

- ``unknown`` — the report names an order this channel does not have;
- ``amount_differs`` — what the channel's reports settled for the order in all (this report's
  settled − refunds taken back, plus the other reports' for the same order) is not what the
  order kept by our records (paid − refunded). An order settled in one period and refunded in
  the next matches once both reports are imported; one settled twice differs on both;
- ``matched``.

And ``not_settled``: orders of the channel completed (``completed_at``: the return window
passed after delivery, the marketplace's 确认收货) more than the playbook's
``settlement_wait_days`` before the report's period end — and not before the first period
imported for the channel — that no settlement report of the channel names. Commissions above
the channel's agreed rate (playbook ``settlement_commission_rate_max``, per channel; 0: not
checked) are listed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from storeops.audit.services import audit_record
from storeops.core.context import Actor
from storeops.core.errors import Conflict, NotFound, ValidationError
from storeops.core.files import header_columns, table_cells
from storeops.orders.imports import _Bad, _money, _when
from storeops.orders.models import Order, OrderStatus, SettlementLine, SettlementLineKind, SettlementReport
from storeops.orders.reconcile import MAX_ROWS, ZERO, _chunks, _day_bounds, expected_if_over
from storeops.stores.models import Channel, ChannelKind, Store
from storeops.stores.selectors import playbook_get

MAX_PERIOD_DAYS = 93
EARLIEST = dt.date(2000, 1, 1)  # a period before it is a typing slip (and no day's bounds overflow)
_TOTAL_LIMIT = Decimal("1e12")


class Mismatch:
    UNKNOWN = "unknown"
    AMOUNT_DIFFERS = "amount_differs"


MISMATCH_LABELS = {
    Mismatch.UNKNOWN: gettext_noop("本渠道无此订单"),
    Mismatch.AMOUNT_DIFFERS: gettext_noop("金额不符"),
}
DIFFERENCES = (Mismatch.UNKNOWN, Mismatch.AMOUNT_DIFFERS)


# --- parsing ---------------------------------------------------------------------------------------

# column → the header names it goes by (the first found is used). One aliased layout covering
# the names common in the platforms' settlement exports; not a claim to read each export as is.
COLUMNS: dict[str, tuple[str, ...]] = {
    "order": ("订单号", "订单编号", "主订单编号", "子订单编号", "商户订单号"),
    "amount": ("结算金额", "货款金额", "收入金额", "订单金额", "实收金额"),
    "commission": ("佣金", "技术服务费", "平台服务费", "平台佣金", "扣点"),
    "kind": ("类型", "业务类型", "收支类型"),
    "time": ("结算时间", "入账时间", "账务时间"),
}
_REQUIRED = ("order", "amount")
REFUND_WORDS = ("退款", "售后")


@dataclasses.dataclass(frozen=True, slots=True)
class SettlementRow:
    row: int
    order_number: str
    kind: str  # SettlementLineKind
    amount: Decimal
    commission: Decimal = ZERO
    settled_at: dt.datetime | None = None


def _unit(name: str) -> str:
    """A header name without its unit: 结算金额（元） and 结算金额(元) are 结算金额."""
    for unit in ("（元）", "(元)"):
        name = name.removesuffix(unit)
    return name.strip()


def _rows(file_name: str, data: bytes) -> Iterator[tuple[int, dict[str, str]]]:
    header: dict[str, int] | None = None
    for line, cells in enumerate(table_cells(file_name, data), start=1):
        if not any(cells) or cells[0].startswith("#"):
            continue
        if header is None:
            found = header_columns([_unit(cell) for cell in cells], COLUMNS)
            if all(name in found for name in _REQUIRED):
                header = found
            elif line >= 20:
                break
            continue
        if cells[0].startswith(("合计", "总计")):
            return
        yield line, {name: (cells[i] if i < len(cells) else "") for name, i in header.items()}
    if header is None:
        names = "、".join(COLUMNS[name][0] for name in _REQUIRED)
        raise ValidationError(
            _("找不到结算单表头（需要列：%(names)s）：请确认文件") % {"names": names},
            fields={"file": _("缺少表头")},
            code="settlement_header_missing",
        )


def _row(line: int, value: dict[str, str]) -> SettlementRow:
    number = value.get("order", "")
    if not number:
        raise _Bad("order", _("必填"))
    if len(number) > 64:
        raise _Bad("order", _("超过%(n)s个字符") % {"n": 64})
    raw = value.get("amount", "").strip()
    negative = raw.startswith("-")
    amount = _money(raw.lstrip("+-"), "amount")
    if amount == 0:
        raise _Bad("amount", _("金额不能为 0"))
    commission = (
        _money(value["commission"].strip().lstrip("+-"), "commission") if value.get("commission") else ZERO
    )
    when = _when(value.get("time", ""), "time")
    if when is not None and not EARLIEST.year <= when.year <= 2100:
        raise _Bad("time", _("时间不在 2000–2100 年之间：%(v)s") % {"v": value["time"]})
    refund = negative or any(word in value.get("kind", "") for word in REFUND_WORDS)
    return SettlementRow(
        row=line,
        order_number=number,
        kind=SettlementLineKind.REFUND if refund else SettlementLineKind.SETTLE,
        amount=amount,
        commission=commission,
        settled_at=when,
    )


def parse_settlement(data: bytes, *, file_name: str) -> list[SettlementRow]:
    """The lines of a settlement file (.csv or .xlsx). A row that cannot be read is a 422
    naming its line and column, and nothing is imported."""
    parsed: list[SettlementRow] = []
    errors: list[str] = []
    for line, value in _rows(file_name, data):
        if len(parsed) >= MAX_ROWS:
            raise ValidationError(
                _("结算单超过 %(n)s 行，请分开导入") % {"n": MAX_ROWS}, fields={"file": _("行数过多")}
            )
        try:
            parsed.append(_row(line, value))
        except _Bad as bad:
            column = COLUMNS[bad.field][0] if bad.field in COLUMNS else bad.field
            errors.append(
                _("第 %(line)s 行 %(field)s：%(message)s")
                % {"line": line, "field": column, "message": bad.message}
            )
            if len(errors) >= 20:
                break
    if errors:
        raise ValidationError(
            _("结算单有无法识别的行，未导入"),
            fields={"file": "；".join(errors)},
            code="settlement_rows_invalid",
        )
    if not parsed:
        raise ValidationError(_("结算单没有明细"), fields={"file": _("没有明细")}, code="settlement_empty")
    return parsed


# --- import ----------------------------------------------------------------------------------------


def settlement_period(
    rows: list[SettlementRow], start: dt.date | None, end: dt.date | None
) -> tuple[dt.date, dt.date]:
    """The period as given, or (when left out) the first and last days the lines were settled
    on. At most :data:`MAX_PERIOD_DAYS` days, start on or before end."""
    days = [timezone.localdate(r.settled_at) for r in rows if r.settled_at is not None]
    if start is None or end is None:
        if not days:
            missing = {k: _("必填") for k, v in (("period_start", start), ("period_end", end)) if v is None}
            raise ValidationError(_("请填写结算期间（文件没有结算时间）"), fields=missing)
        start = start or min(days)
        end = end or max(days)
    if start > end:
        raise ValidationError(_("开始日期晚于结束日期"), fields={"period_start": _("晚于结束日期")})
    if start < EARLIEST:
        raise ValidationError(
            _("结算期间不能早于 %(d)s") % {"d": EARLIEST.isoformat()}, fields={"period_start": _("日期过早")}
        )
    if end > timezone.localdate() + dt.timedelta(days=1):
        raise ValidationError(_("结算期间不能晚于今天"), fields={"period_end": _("日期在将来")})
    if (end - start).days + 1 > MAX_PERIOD_DAYS:
        raise ValidationError(
            _("结算期间最多 %(n)s 天") % {"n": MAX_PERIOD_DAYS}, fields={"period_start": _("范围过大")}
        )
    return start, end


def _channel(store: Store, channel_id: int | None) -> Channel:
    channel = Channel.objects.filter(store=store, pk=channel_id).first() if channel_id else None
    if channel is None:
        raise ValidationError(_("请选择渠道"), fields={"channel_id": _("未知的渠道")})
    if channel.kind == ChannelKind.OWN_WEB:
        raise ValidationError(
            _("自营网店没有平台结算单：请在收支对账中导入支付渠道对账单"),
            fields={"channel_id": _("不是平台渠道")},
        )
    return channel


def settlement_import(
    *,
    store: Store,
    channel_id: int | None,
    file_name: str,
    data: bytes,
    period_start: dt.date | None,
    period_end: dt.date | None,
    actor: Actor,
) -> SettlementReport:
    """Import (or replace) a channel's settlement report of a period, in one transaction."""
    channel = _channel(store, channel_id)
    rows = parse_settlement(data, file_name=file_name)
    start, end = settlement_period(rows, period_start, period_end)
    settled = sum((r.amount for r in rows if r.kind == SettlementLineKind.SETTLE), ZERO)
    refunds = sum((r.amount for r in rows if r.kind == SettlementLineKind.REFUND), ZERO)
    commission = sum(
        (r.commission if r.kind == SettlementLineKind.SETTLE else -r.commission for r in rows), ZERO
    )
    if max(settled, refunds, abs(commission)) >= _TOTAL_LIMIT:
        raise ValidationError(_("结算单金额合计过大，请检查文件"), fields={"file": _("金额过大")})
    with transaction.atomic():
        replaced = SettlementReport.objects.filter(
            store=store, channel=channel, period_start=start, period_end=end
        )
        previous = replaced.values("id", "file_name", "gross_amount", "net_amount").first()
        replaced.delete()
        try:
            report = SettlementReport.objects.create(
                store=store,
                channel=channel,
                period_start=start,
                period_end=end,
                file_name=file_name[:200],
                lines_count=len(rows),
                settled_amount=settled,
                refunds_amount=refunds,
                gross_amount=settled - refunds,
                commission_total=commission,
                net_amount=settled - refunds - commission,
                imported_by=actor.user if actor.user is not None and actor.user.pk else None,
                imported_at=timezone.now(),
            )
        except IntegrityError as exc:  # the same period imported by someone else at this moment
            raise Conflict(_("该期间结算单正在被他人导入，请稍后重试"), code="settlement_busy") from exc
        SettlementLine.objects.bulk_create(
            (
                SettlementLine(
                    report=report,
                    row=r.row,
                    order_number=r.order_number,
                    kind=r.kind,
                    amount=r.amount,
                    commission=r.commission,
                    settled_at=r.settled_at,
                )
                for r in rows
            ),
            batch_size=1000,
        )
        audit_record(
            actor=actor,
            action="settlement_report.import",
            obj=report,
            store_id=store.pk,
            before={k: str(v) for k, v in previous.items()} if previous else None,
            after={
                "channel": channel.code,
                "period": report.period,
                "file_name": file_name[:200],
                "lines": len(rows),
                "gross": str(report.gross_amount),
                "commission": str(report.commission_total),
                "net": str(report.net_amount),
            },
        )
    reconcile(report)  # its number of differences, for the list
    return report


def settlement_list(*, store: Store, channel_id: int | None = None) -> QuerySet[SettlementReport]:
    qs = SettlementReport.objects.filter(store=store).select_related("channel", "store", "imported_by")
    return qs.filter(channel_id=channel_id) if channel_id else qs


def settlement_get(*, store: Store, report_id: int) -> SettlementReport:
    report = settlement_list(store=store).filter(pk=report_id).first()
    if report is None:
        raise NotFound(_("结算单不存在"))
    return report


def channel_choices(*, store: Store) -> list[tuple[int, str]]:
    """The store's marketplace channels (the ones that settle): (id, name)."""
    return list(
        Channel.objects.filter(store=store).exclude(kind=ChannelKind.OWN_WEB).values_list("pk", "name")
    )


# --- matching --------------------------------------------------------------------------------------


@dataclasses.dataclass(slots=True)
class Item:
    """One order number of the report, and how it compares with our order."""

    result: str  # "matched" or a Mismatch value
    order_number: str
    settled: Decimal  # settled on this report for the order
    refunded: Decimal  # refunds taken back on this report
    commission: Decimal
    rows: list[int]
    order_id: int | None = None
    store_amount: Decimal | None = None  # our order's paid − refunded
    store_status: str = ""
    elsewhere: Decimal = ZERO  # settled − refunds taken back for the order on the channel's other reports

    @property
    def net(self) -> Decimal:
        return self.settled - self.refunded

    @property
    def label(self) -> str:
        return _(MISMATCH_LABELS[self.result]) if self.result in MISMATCH_LABELS else _("一致")

    @property
    def is_difference(self) -> bool:
        return self.result in DIFFERENCES

    @property
    def status_label(self) -> str:
        """Our order's status, in the reader's language."""
        return str(dict(OrderStatus.choices).get(self.store_status, self.store_status))


@dataclasses.dataclass(slots=True)
class Settlement:
    report: SettlementReport
    items: list[Item]

    @property
    def differences(self) -> list[Item]:
        return [i for i in self.items if i.is_difference]

    def count(self, result: str) -> int:
        return sum(1 for i in self.items if i.result == result)


def reconcile(report: SettlementReport) -> Settlement:
    """Each order number of the report against the channel's order (differences first): the
    order's lines on all of the channel's reports together against what the order kept."""
    per_order: dict[str, Item] = {}
    for number, kind, amount, commission, row in report.lines.values_list(
        "order_number", "kind", "amount", "commission", "row"
    ):
        item = per_order.setdefault(number, Item("matched", number, ZERO, ZERO, ZERO, []))
        if kind == SettlementLineKind.REFUND:
            item.refunded += amount
            item.commission -= commission
        else:
            item.settled += amount
            item.commission += commission
        item.rows.append(row)
    orders = Order.objects.filter(store_id=report.store_id, channel_id=report.channel_id)
    others = SettlementLine.objects.filter(
        report__store_id=report.store_id, report__channel_id=report.channel_id
    ).exclude(report_id=report.pk)
    ours: dict[str, tuple[int, Decimal, Decimal, str]] = {}
    for chunk in _chunks(list(per_order)):
        for number, kind, amount in others.filter(order_number__in=chunk).values_list(
            "order_number", "kind", "amount"
        ):
            per_order[number].elsewhere += -amount if kind == SettlementLineKind.REFUND else amount
        for pk, number, paid, refunded, status in orders.filter(number__in=chunk).values_list(
            "pk", "number", "paid_amount", "refunded_amount", "status"
        ):
            ours[number] = (pk, paid, refunded, status)
    for number, item in per_order.items():
        mine = ours.get(number)
        if mine is None:
            item.result = Mismatch.UNKNOWN
            continue
        item.order_id, paid, refunded, item.store_status = mine
        item.store_amount = paid - refunded
        if item.store_amount != item.net + item.elsewhere:
            item.result = Mismatch.AMOUNT_DIFFERS
    rank = {Mismatch.UNKNOWN: 0, Mismatch.AMOUNT_DIFFERS: 1}
    items = sorted(per_order.values(), key=lambda i: (rank.get(i.result, 9), min(i.rows), i.order_number))
    result = Settlement(report, items)
    differences = len(result.differences)
    if report.differences != differences or report.compared_at is None:
        report.differences, report.compared_at = differences, timezone.now()
        SettlementReport.objects.filter(pk=report.pk).update(
            differences=differences, compared_at=report.compared_at
        )
    return result


@dataclasses.dataclass(frozen=True, slots=True)
class NotSettled:
    order_id: int
    number: str
    completed_at: dt.datetime
    amount: Decimal  # paid − refunded: what the platform owes for it


def not_settled(*, channel: Channel, as_of: dt.date, wait_days: int) -> list[NotSettled]:
    """Orders of ``channel`` completed more than ``wait_days`` before the end of ``as_of`` (and
    not before the first period imported for the channel) that keep money by our records and
    that no settlement report of the channel names; oldest first."""
    first = (
        SettlementReport.objects.filter(store_id=channel.store_id, channel=channel)
        .order_by("period_start")
        .values_list("period_start", flat=True)
        .first()
    )
    if first is None:
        return []
    since, _x = _day_bounds(first)
    _y, end = _day_bounds(as_of)
    cutoff = end - dt.timedelta(days=wait_days)
    if cutoff <= since:
        return []
    candidates = list(
        Order.objects.filter(
            store_id=channel.store_id,
            channel=channel,
            completed_at__gte=since,
            completed_at__lt=cutoff,
            paid_amount__gt=F("refunded_amount"),
        )
        .order_by("completed_at", "pk")
        .values_list("pk", "number", "completed_at", "paid_amount", "refunded_amount")
    )
    named: set[str] = set()
    lines = SettlementLine.objects.filter(report__store_id=channel.store_id, report__channel=channel)
    for chunk in _chunks([number for _pk, number, *_rest in candidates]):
        named.update(lines.filter(order_number__in=chunk).values_list("order_number", flat=True))
    return [
        NotSettled(pk, number, completed_at, paid - refunded)
        for pk, number, completed_at, paid, refunded in candidates
        if number not in named
    ]


def report_not_settled(report: SettlementReport) -> list[NotSettled]:
    """:func:`not_settled` as of the report's period end, with the channel's wait days."""
    wait = playbook_get(store=report.store, channel=report.channel).settlement_wait_days
    return not_settled(channel=report.channel, as_of=report.period_end, wait_days=wait)


# --- commission (ORD-06) -----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class CommissionOver:
    """A settled line whose commission is above the channel's agreed rate."""

    row: int
    order_number: str
    amount: Decimal
    commission: Decimal
    expected: Decimal  # the amount at the agreed rate, to the cent (half up)

    @property
    def over(self) -> Decimal:
        return self.commission - self.expected


def commission_rate(report: SettlementReport) -> Decimal:
    """The agreed commission rate of the report's channel (playbook, per channel; 0: not checked)."""
    return playbook_get(store=report.store, channel=report.channel).settlement_commission_rate_max


def commission_over(report: SettlementReport, *, rate: Decimal) -> list[CommissionOver]:
    """The settled lines charged a commission above ``rate`` by more than a cent; 0: none."""
    if rate <= 0:
        return []
    lines = (
        report.lines.filter(kind=SettlementLineKind.SETTLE, commission__gt=0)
        .order_by("row")
        .values_list("row", "order_number", "amount", "commission")
    )
    over = []
    for row, number, amount, commission in lines:
        if (expected := expected_if_over(amount, commission, rate)) is not None:
            over.append(CommissionOver(row, number, amount, commission, expected))
    return over


def counts(result: Settlement) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for item in result.items:
        out[item.result] += 1
    return dict(out)
