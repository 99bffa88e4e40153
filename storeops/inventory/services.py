"""Every change to warehouses, stock and channel stock shares (SOP INV-03).

Stock balances change only here, and only through :func:`_move`: one conditional UPDATE of the
stock row whose WHERE clause requires the balance after the change to be valid
(``on_hand >= 0``, ``reserved >= 0``, ``reserved <= on_hand``), plus the ledger line, in one
transaction. There is no read-then-write, so no interleaving of writers can oversell; the
CHECK constraints on :class:`Stock` are the backstop. On PostgreSQL the update and the ledger
insert are a single statement (a data-modifying CTE; for reservations, the hot path of flash
sales, the ``inventory_stock_reserve`` function of migration 0002, prepared once per
connection), so a movement costs one round trip.

The ledger (:class:`StockMove`, append-only, with actor and reason) is the operation log of
stock movements; configuration changes (warehouses, channel rules) and manual movements
(receipts, adjustments, transfers) are also written to the audit log.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from storeops.audit.services import audit_record, snapshot
from storeops.core.context import Actor
from storeops.core.errors import Conflict, ValidationError
from storeops.core.idempotency import clean_key, fingerprint, key_reused, once
from storeops.inventory.models import (
    ChannelStockOffer,
    ChannelStockRule,
    IdempotentRequest,
    MoveKind,
    ShareMode,
    Stock,
    StockMove,
    Warehouse,
    Zone,
)
from storeops.stores.models import Channel, Store

if TYPE_CHECKING:
    from storeops.catalog.models import Sku

log = logging.getLogger(__name__)


class InsufficientStock(Conflict):
    """The requested units are not available (the reservation would oversell)."""

    code = "insufficient_stock"

    def __init__(
        self, message: Any = "", *, fields: Mapping[str, Any] | None = None, code: str | None = None
    ):
        # As DomainError, except that a lazy message stays lazy until it is shown: most attempts
        # in a flash sale are refused, and translating on every refusal is a cost for nothing.
        self.message = message
        self.fields = dict(fields or {})
        if code is not None:
            self.code = code  # type: ignore[misc]
        Exception.__init__(self, message)


_NOT_ENOUGH_TO_RESERVE = gettext_lazy("库存不足，无法预占")
_NOT_ENOUGH = gettext_lazy("库存不足")


# ---- warehouses -----------------------------------------------------------------------------


def warehouse_create(
    *,
    actor: Actor,
    store: Store,
    code: str,
    name: str,
    region: str = "",
    address: str = "",
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
) -> Warehouse:
    errors: dict[str, str] = {}
    if not code:
        errors["code"] = _("必填")
    if not name:
        errors["name"] = _("必填")
    if latitude is not None and not Decimal(-90) <= Decimal(latitude) <= Decimal(90):
        errors["latitude"] = _("纬度应在 -90 到 90 之间")
    if longitude is not None and not Decimal(-180) <= Decimal(longitude) <= Decimal(180):
        errors["longitude"] = _("经度应在 -180 到 180 之间")
    if errors:
        raise ValidationError(_("仓库信息有误"), fields=errors)
    if Warehouse.objects.filter(store=store, code=code).exists():
        raise ValidationError(_("仓库编码已存在"), fields={"code": _("仓库编码已存在")})
    with transaction.atomic():
        wh = Warehouse.objects.create(
            store=store,
            code=code,
            name=name,
            region=region,
            address=address,
            latitude=latitude,
            longitude=longitude,
        )
        audit_record(actor=actor, action="warehouse.create", obj=wh, store_id=store.pk, after=snapshot(wh))
    return wh


# ---- the one way a balance changes ------------------------------------------------------------


def _stock_row(*, sku: Sku, warehouse: Warehouse, zone: str, create: bool) -> Stock:
    if sku.store_id != warehouse.store_id:
        raise ValidationError(
            _("SKU 与仓库不属于同一店铺"), fields={"warehouse": _("SKU 与仓库不属于同一店铺")}
        )
    if zone not in Zone.values:
        raise ValidationError(_("未知的库区"), fields={"zone": _("未知的库区")})
    found = Stock.objects.filter(sku=sku, warehouse=warehouse, zone=zone).first()
    if found is not None:
        return found
    if not create:
        raise InsufficientStock(_("该仓库没有此 SKU 的库存"), fields={"quantity": _("库存不足")})
    try:
        with transaction.atomic():
            return Stock.objects.create(sku=sku, warehouse=warehouse, zone=zone)
    except IntegrityError:  # created by a concurrent writer in the meantime
        return Stock.objects.get(sku=sku, warehouse=warehouse, zone=zone)


# The balance after the change must be valid: on_hand >= 0, reserved >= 0, reserved <= on_hand.
_UPDATE = (
    "UPDATE inventory_stock SET on_hand = on_hand + %s, reserved = reserved + %s, updated_at = %s "
    "WHERE id = %s AND on_hand + %s >= 0 AND reserved + %s >= 0 AND reserved + %s <= on_hand + %s"
)
_MOVE_COLUMNS = (
    "stock_id, kind, quantity, on_hand_delta, reserved_delta, on_hand_after, reserved_after, "
    "reason, reference, actor_label, via, created_at"
)


def _move(
    *,
    actor: Actor,
    stock_id: int,
    kind: str,
    quantity: int,
    on_hand_delta: int,
    reserved_delta: int,
    reason: str,
    reference: str,
) -> StockMove | None:
    """Apply the deltas to one stock row if the result is a valid balance, and write the
    ledger line. Returns ``None`` (nothing written) when the balance would become invalid."""
    now = timezone.now()
    cond: list[Any] = [stock_id, on_hand_delta, reserved_delta, reserved_delta, on_hand_delta]
    update_args: list[Any] = [on_hand_delta, reserved_delta, now, *cond]
    labels = (reason[:200], reference[:100], actor.label[:150], actor.via[:20])
    meta: list[Any] = [*labels, now]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # one statement: the conditional UPDATE and its ledger line commit together
            cursor.execute(
                f"WITH u AS ({_UPDATE} RETURNING id, on_hand, reserved) "  # noqa: S608 (constants only)
                f"INSERT INTO inventory_stockmove ({_MOVE_COLUMNS}) "
                "SELECT u.id, %s, %s, %s, %s, u.on_hand, u.reserved, %s, %s, %s, %s, %s FROM u "
                "RETURNING id, on_hand_after, reserved_after",
                [*update_args, kind, quantity, on_hand_delta, reserved_delta, *meta],
            )
            row = cursor.fetchone()
            if row is None:
                return None
            move_id, on_hand_after, reserved_after = row
        else:
            with transaction.atomic():
                cursor.execute(_UPDATE + " RETURNING on_hand, reserved", update_args)
                row = cursor.fetchone()
                if row is None:
                    return None
                on_hand_after, reserved_after = row
                cursor.execute(
                    f"INSERT INTO inventory_stockmove ({_MOVE_COLUMNS}) "  # noqa: S608 (constants only)
                    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
                    [
                        stock_id,
                        kind,
                        quantity,
                        on_hand_delta,
                        reserved_delta,
                        on_hand_after,
                        reserved_after,
                        *meta,
                    ],
                )
                (move_id,) = cursor.fetchone()
    return StockMove(
        id=move_id,
        stock_id=stock_id,
        kind=kind,
        quantity=quantity,
        on_hand_delta=on_hand_delta,
        reserved_delta=reserved_delta,
        on_hand_after=on_hand_after,
        reserved_after=reserved_after,
        reason=labels[0],
        reference=labels[1],
        actor_label=labels[2],
        via=labels[3],
        created_at=now,
    )


def _positive(quantity: int) -> None:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        raise ValidationError(_("数量必须是正整数"), fields={"quantity": _("数量必须是正整数")})


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("请填写原因"), fields={"reason": _("必填")})
    return reason


def _audit_move(actor: Actor, move: StockMove, warehouse: Warehouse) -> None:
    audit_record(
        actor=actor,
        action=f"stock.{move.kind}",
        object_type="inventory.stock",
        object_id=move.stock_id,
        object_repr=f"stock {move.stock_id}",
        store_id=warehouse.store_id,
        before={"on_hand": move.on_hand_before, "reserved": move.reserved_before},
        after={"on_hand": move.on_hand_after, "reserved": move.reserved_after},
        note=f"{move.reason} {move.reference}".strip(),
    )


def stock_receive(
    *,
    actor: Actor,
    sku: Sku,
    warehouse: Warehouse,
    quantity: int,
    reason: str,
    reference: str = "",
    zone: str = Zone.SELLABLE,
    kind: str = MoveKind.RECEIPT,
) -> StockMove:
    """Goods in (purchase receipt; with ``kind=RETURN`` a customer return, usually to QC)."""
    _positive(quantity)
    reason = _reason(reason)
    if kind not in (MoveKind.RECEIPT, MoveKind.RETURN):
        raise ValidationError(_("入库类型有误"), fields={"kind": _("入库类型有误")})
    stock = _stock_row(sku=sku, warehouse=warehouse, zone=zone, create=True)
    with transaction.atomic():
        move = _move(
            actor=actor,
            stock_id=stock.pk,
            kind=kind,
            quantity=quantity,
            on_hand_delta=quantity,
            reserved_delta=0,
            reason=reason,
            reference=reference,
        )
        assert move is not None  # adding units never makes a balance invalid
        _audit_move(actor, move, warehouse)
    return move


def stock_return(
    *, actor: Actor, sku: Sku, warehouse: Warehouse, quantity: int, reference: str, reason: str = "退货"
) -> StockMove:
    """A customer return: the units go to the QC zone until inspected."""
    return stock_receive(
        actor=actor,
        sku=sku,
        warehouse=warehouse,
        quantity=quantity,
        reason=reason,
        reference=reference,
        zone=Zone.QC,
        kind=MoveKind.RETURN,
    )


def stock_lock_for_reservations(*, store: Store, sku_ids: Iterable[int]) -> None:
    """Lock the sellable stock rows of ``sku_ids`` in every warehouse of ``store`` in the order
    every reservation takes them — warehouse id, then SKU id (``orders.services`` sorts an
    order's legs so). A long transaction that reserves for many orders (a marketplace import
    batch) calls it first: it would otherwise take the rows in file order while checkouts take
    them sorted, and a checkout holding one row and waiting for another the batch holds would
    deadlock with it (PostgreSQL aborts one of them). PostgreSQL only: SQLite's write
    transactions run one at a time."""
    ids = sorted({int(i) for i in sku_ids})
    if not ids or connections[DEFAULT_DB_ALIAS].vendor != "postgresql":
        return
    locked = (
        Stock.objects.filter(warehouse__store_id=store.pk, sku_id__in=ids, zone=Zone.SELLABLE)
        .order_by("warehouse_id", "sku_id")
        .select_for_update(of=("self",))
        .values_list("pk", flat=True)
    )
    list(locked)


def stock_reserve(
    *,
    actor: Actor,
    sku: Sku,
    warehouse: Warehouse,
    quantity: int,
    reference: str,
    reason: str = gettext_noop("订单预占"),  # the ledger page shows system reasons translated
) -> StockMove:
    """Reserve sellable units for an order: one conditional UPDATE; raises
    :class:`InsufficientStock` when fewer than ``quantity`` units are available.

    On PostgreSQL the stock row is found in the same (prepared) statement as the reservation:
    one round trip per leg."""
    _positive(quantity)
    conn = connections[DEFAULT_DB_ALIAS]
    if conn.vendor != "postgresql" or sku.store_id != warehouse.store_id:
        stock = _stock_row(sku=sku, warehouse=warehouse, zone=Zone.SELLABLE, create=False)
        return stock_reserve_row(
            actor=actor, stock_id=stock.pk, quantity=quantity, reference=reference, reason=reason
        )
    now = timezone.now()
    labels = (reason[:200], reference[:100], actor.label[:150], actor.via[:20])
    cursor = _pg_cursor(conn)
    try:
        cursor.execute(
            _RESERVE_PG_BY_SKU, (quantity, now, *labels, sku.pk, warehouse.pk, Zone.SELLABLE), prepare=True
        )
        row = cursor.fetchone()
    except Exception:
        with conn.wrap_database_errors:  # the same Django exception types as a Django cursor
            raise
    if row is None:
        if not Stock.objects.filter(sku=sku, warehouse=warehouse, zone=Zone.SELLABLE).exists():
            raise InsufficientStock(_("该仓库没有此 SKU 的库存"), fields={"quantity": _("库存不足")})
        raise InsufficientStock(_NOT_ENOUGH_TO_RESERVE, fields={"quantity": _NOT_ENOUGH})
    return StockMove(
        id=row[1],
        stock_id=row[0],
        kind=MoveKind.RESERVATION,
        quantity=quantity,
        on_hand_delta=0,
        reserved_delta=quantity,
        on_hand_after=row[2],
        reserved_after=row[3],
        reason=labels[0],
        reference=labels[1],
        actor_label=labels[2],
        via=labels[3],
        created_at=now,
    )


# The reservation hot path on PostgreSQL (flash sales): the same guarantee as :func:`_move` —
# the conditional UPDATE (``on_hand - reserved >= q``, i.e. _move's condition for the deltas
# (0, +q)) and its ledger line in one statement, CHECK constraints behind it — through the
# ``inventory_stock_reserve`` function (migration 0002). The function inserts the ledger line
# only when the UPDATE matched, so a refused attempt (most attempts in a flash sale) costs the
# UPDATE alone; the statement is bound server-side and prepared once per connection.
_RESERVE_PG = (
    "SELECT out_move_id, out_on_hand, out_reserved FROM inventory_stock_reserve(%s, %s, %s, %s, %s, %s, %s)"
)


# stock_reserve by (SKU, warehouse): the sellable row (unique per SKU, warehouse and zone) is
# looked up in the reservation's own statement.
_RESERVE_PG_BY_SKU = (
    "SELECT s.id, r.out_move_id, r.out_on_hand, r.out_reserved FROM inventory_stock s "
    "CROSS JOIN LATERAL inventory_stock_reserve(s.id, %s, %s, %s, %s, %s, %s) r "
    "WHERE s.sku_id = %s AND s.warehouse_id = %s AND s.zone = %s"
)


def _pg_cursor(conn: Any) -> Any:
    """A server-side-binding psycopg cursor on Django's current connection (cached while the
    connection lives), preparing on its first run: Django's own cursors bind on the client
    when ``DATABASE_PREPARE=0`` and then cannot prepare, and otherwise prepare a statement
    only after a few runs (settings: ``prepare_threshold``). It shares
    the connection, so it takes part in any open ``transaction.atomic()`` block. (It bypasses
    Django's query log and execute wrappers: ``assertNumQueries`` does not see it.)"""
    raw = conn.connection
    if raw is None:
        conn.ensure_connection()
        raw = conn.connection
    cached = getattr(conn, "_storeops_reserve_cursor", None)
    if cached is not None and cached[0] is raw and not cached[1].closed:
        return cached[1]
    import psycopg

    cursor = psycopg.Cursor(raw)
    conn._storeops_reserve_cursor = (raw, cursor)
    return cursor


def stock_reserve_row(
    *, actor: Actor, stock_id: int, quantity: int, reference: str, reason: str = gettext_noop("订单预占")
) -> StockMove:
    """:func:`stock_reserve` for a known stock row id (the flash-sale hot path)."""
    _positive(quantity)
    conn = connections[DEFAULT_DB_ALIAS]  # one lookup: the ``connection`` proxy costs one per attribute
    if conn.vendor != "postgresql":
        move = _move(
            actor=actor,
            stock_id=stock_id,
            kind=MoveKind.RESERVATION,
            quantity=quantity,
            on_hand_delta=0,
            reserved_delta=quantity,
            reason=reason,
            reference=reference,
        )
    else:
        now = timezone.now()
        labels = (reason[:200], reference[:100], actor.label[:150], actor.via[:20])
        cursor = _pg_cursor(conn)
        try:
            cursor.execute(_RESERVE_PG, (stock_id, quantity, now, *labels), prepare=True)
            row = cursor.fetchone()
        except Exception:
            with conn.wrap_database_errors:  # the same Django exception types as a Django cursor
                raise
        move = None
        if row is not None:
            move = StockMove(
                id=row[0],
                stock_id=stock_id,
                kind=MoveKind.RESERVATION,
                quantity=quantity,
                on_hand_delta=0,
                reserved_delta=quantity,
                on_hand_after=row[1],
                reserved_after=row[2],
                reason=labels[0],
                reference=labels[1],
                actor_label=labels[2],
                via=labels[3],
                created_at=now,
            )
    if move is None:
        raise InsufficientStock(_NOT_ENOUGH_TO_RESERVE, fields={"quantity": _NOT_ENOUGH})
    return move


def _reserved_move(
    *, actor: Actor, sku: Sku, warehouse: Warehouse, quantity: int, reference: str, reason: str, ship: bool
) -> StockMove:
    _positive(quantity)
    stock = _stock_row(sku=sku, warehouse=warehouse, zone=Zone.SELLABLE, create=False)
    move = _move(
        actor=actor,
        stock_id=stock.pk,
        kind=MoveKind.SHIPMENT if ship else MoveKind.RELEASE,
        quantity=quantity,
        on_hand_delta=-quantity if ship else 0,
        reserved_delta=-quantity,
        reason=reason,
        reference=reference,
    )
    if move is None:
        raise Conflict(_("预占数量不足"), fields={"quantity": _("超过已预占数量")}, code="not_reserved")
    return move


def stock_release(
    *, actor: Actor, sku: Sku, warehouse: Warehouse, quantity: int, reference: str, reason: str = "取消预占"
) -> StockMove:
    """Give reserved units back (order cancelled or unpaid)."""
    return _reserved_move(
        actor=actor,
        sku=sku,
        warehouse=warehouse,
        quantity=quantity,
        reference=reference,
        reason=reason,
        ship=False,
    )


def stock_ship(
    *,
    actor: Actor,
    sku: Sku,
    warehouse: Warehouse,
    quantity: int,
    reference: str,
    reason: str = gettext_noop("发货出库"),
) -> StockMove:
    """Reserved units leave the warehouse."""
    return _reserved_move(
        actor=actor,
        sku=sku,
        warehouse=warehouse,
        quantity=quantity,
        reference=reference,
        reason=reason,
        ship=True,
    )


def stock_adjust(
    *,
    actor: Actor,
    sku: Sku,
    warehouse: Warehouse,
    delta: int,
    reason: str,
    zone: str = Zone.SELLABLE,
    reference: str = "",
) -> StockMove:
    """A count correction (INV-05): on-hand changes by ``delta``; reserved units cannot be
    counted away."""
    if isinstance(delta, bool) or not isinstance(delta, int) or delta == 0:
        raise ValidationError(_("调整数量不能为 0"), fields={"delta": _("调整数量不能为 0")})
    reason = _reason(reason)
    stock = _stock_row(sku=sku, warehouse=warehouse, zone=zone, create=delta > 0)
    with transaction.atomic():
        move = _move(
            actor=actor,
            stock_id=stock.pk,
            kind=MoveKind.ADJUSTMENT,
            quantity=abs(delta),
            on_hand_delta=delta,
            reserved_delta=0,
            reason=reason,
            reference=reference,
        )
        if move is None:
            raise InsufficientStock(
                _("调整后库存将小于 0 或小于已预占数量"), fields={"delta": _("超过可用库存")}
            )
        _audit_move(actor, move, warehouse)
    return move


def stock_transfer(
    *,
    actor: Actor,
    sku: Sku,
    from_warehouse: Warehouse,
    to_warehouse: Warehouse,
    quantity: int,
    reason: str,
    from_zone: str = Zone.SELLABLE,
    to_zone: str = Zone.SELLABLE,
    reference: str = "",
) -> tuple[StockMove, StockMove]:
    """Move available units between warehouses or zones (e.g. QC → sellable after inspection)."""
    _positive(quantity)
    reason = _reason(reason)
    if from_warehouse.pk == to_warehouse.pk and from_zone == to_zone:
        raise ValidationError(_("调出与调入位置相同"), fields={"to_warehouse": _("调出与调入位置相同")})
    source = _stock_row(sku=sku, warehouse=from_warehouse, zone=from_zone, create=False)
    target = _stock_row(sku=sku, warehouse=to_warehouse, zone=to_zone, create=True)
    common: dict[str, Any] = {"actor": actor, "quantity": quantity, "reason": reason, "reference": reference}
    with transaction.atomic():
        # rows are locked in id order, so two opposite transfers cannot deadlock each other
        moves: dict[str, StockMove | None] = {}
        for stock_id in sorted((source.pk, target.pk)):
            if stock_id == source.pk:
                moves["out"] = _move(
                    **common,
                    stock_id=source.pk,
                    kind=MoveKind.TRANSFER_OUT,
                    on_hand_delta=-quantity,
                    reserved_delta=0,
                )
                if moves["out"] is None:
                    raise InsufficientStock(_("可用库存不足，无法调拨"), fields={"quantity": _("库存不足")})
            else:
                moves["in"] = _move(
                    **common,
                    stock_id=target.pk,
                    kind=MoveKind.TRANSFER_IN,
                    on_hand_delta=quantity,
                    reserved_delta=0,
                )
        out, into = moves["out"], moves["in"]
        assert out is not None
        assert into is not None  # adding units never makes a balance invalid
        _audit_move(actor, out, from_warehouse)
        _audit_move(actor, into, to_warehouse)
    return out, into


# ---- channel stock shares (INV-03, issue item 8) ---------------------------------------------


@dataclass(frozen=True, slots=True)
class ShareRule:
    channel_id: int
    mode: str
    ratio: Decimal
    fixed_quantity: int
    reserve: int


def channel_shares(available: int, rules: Sequence[ShareRule]) -> dict[int, int]:
    """Units offered to each channel out of ``available``.

    The largest reserve among the rules is kept back first; fixed quantities are served
    next (in channel order), then ratios of the pool (rounded down). Every grant is capped by
    what is left, so the offers never sum to more than the warehouse can ship.
    """
    pool = max(0, available - max((r.reserve for r in rules), default=0))
    left = pool
    offers: dict[int, int] = {}
    ordered = sorted(rules, key=lambda r: (r.mode != ShareMode.FIXED, r.channel_id))
    for rule in ordered:
        want = (
            rule.fixed_quantity
            if rule.mode == ShareMode.FIXED
            else math.floor(Decimal(pool) * Decimal(rule.ratio))
        )
        grant = max(0, min(want, left))
        offers[rule.channel_id] = grant
        left -= grant
    return offers


def channel_stock_rule_set(
    *,
    actor: Actor,
    channel: Channel,
    sku: Sku | None = None,
    mode: str = ShareMode.RATIO,
    ratio: Decimal = Decimal(0),
    fixed_quantity: int = 0,
    reserve: int = 0,
) -> ChannelStockRule:
    errors: dict[str, str] = {}
    if mode not in ShareMode.values:
        errors["mode"] = _("未知的分配方式")
    if not Decimal(0) <= Decimal(ratio) <= Decimal(1):
        errors["ratio"] = _("比例应在 0 到 1 之间")
    if fixed_quantity < 0:
        errors["fixed_quantity"] = _("不能为负数")
    if reserve < 0:
        errors["reserve"] = _("不能为负数")
    if sku is not None and sku.store_id != channel.store_id:
        errors["sku"] = _("SKU 不属于该店铺")
    if errors:
        raise ValidationError(_("渠道库存规则有误"), fields=errors)
    with transaction.atomic():
        Channel.objects.select_for_update().get(pk=channel.pk)  # one writer per channel's rules
        rule = ChannelStockRule.objects.filter(channel=channel, sku=sku).first()
        before = snapshot(rule) if rule else None
        if rule is None:
            rule = ChannelStockRule(channel=channel, sku=sku)
        rule.mode, rule.ratio, rule.fixed_quantity, rule.reserve = (
            mode,
            Decimal(ratio),
            fixed_quantity,
            reserve,
        )
        rule.save()
        audit_record(
            actor=actor,
            action="channel_stock_rule.set",
            obj=rule,
            store_id=channel.store_id,
            before=before,
            after=snapshot(rule),
        )
    return rule


class ChannelStockAdapter(Protocol):
    """Pushes offered quantities to a marketplace (or writes an export file)."""

    def push(self, channel: Channel, quantities: Mapping[str, int]) -> None: ...


class LogAdapter:
    """The default adapter: records the push in the log (the offers table is the export)."""

    def push(self, channel: Channel, quantities: Mapping[str, int]) -> None:
        log.info("channel stock push %s: %s", channel.code, dict(quantities))


def channel_stock_recompute(
    *,
    store: Store,
    sku_ids: Iterable[int] | None = None,
    adapter: ChannelStockAdapter | None = None,
) -> dict[tuple[int, int], int]:
    """Recompute every channel's offer for the store's SKUs (or only ``sku_ids``) from the
    current sellable available stock, store the offers and push the ones that changed."""
    from storeops.inventory.selectors import available_by_sku

    adapter = adapter or LogAdapter()
    rules = list(ChannelStockRule.objects.filter(channel__store=store, channel__is_active=True))
    if not rules:
        return {}
    defaults = {r.channel_id: r for r in rules if r.sku_id is None}
    specific: dict[int, dict[int, ChannelStockRule]] = {}
    for r in rules:
        if r.sku_id is not None:
            specific.setdefault(r.sku_id, {})[r.channel_id] = r
    # SKUs that have stock in the store (a SKU never received offers nothing anyway)
    stocked = Stock.objects.filter(warehouse__store=store)
    if sku_ids is not None:
        stocked = stocked.filter(sku_id__in=list(sku_ids))
    sku_codes = dict(stocked.values_list("sku_id", "sku__code").distinct())
    available = available_by_sku(sku_ids=list(sku_codes))
    result: dict[tuple[int, int], int] = {}
    changed: dict[int, dict[str, int]] = {}
    now = timezone.now()
    with transaction.atomic():
        existing = {
            (o.channel_id, o.sku_id): o
            for o in ChannelStockOffer.objects.filter(sku_id__in=list(sku_codes)).select_for_update()
        }
        for sku_id, code in sku_codes.items():
            applicable = {**defaults, **specific.get(sku_id, {})}
            shares = channel_shares(
                available.get(sku_id, 0),
                [
                    ShareRule(r.channel_id, r.mode, r.ratio, r.fixed_quantity, r.reserve)
                    for r in applicable.values()
                ],
            )
            for channel_id, qty in shares.items():
                result[(channel_id, sku_id)] = qty
                offer = existing.get((channel_id, sku_id))
                if offer is None:
                    ChannelStockOffer.objects.create(
                        channel_id=channel_id, sku_id=sku_id, quantity=qty, computed_at=now
                    )
                elif offer.quantity != qty:
                    offer.quantity, offer.computed_at = qty, now
                    offer.save(update_fields=["quantity", "computed_at"])
                else:
                    continue
                changed.setdefault(channel_id, {})[code] = qty
    channels = {c.pk: c for c in Channel.objects.filter(pk__in=list(changed))}
    for channel_id, quantities in changed.items():
        adapter.push(channels[channel_id], quantities)
        ChannelStockOffer.objects.filter(channel_id=channel_id, sku__code__in=list(quantities)).update(
            pushed_at=timezone.now()
        )
    return result


# ---- retried API bookings (Idempotency-Key) ---------------------------------------------------

IDEMPOTENCY_KEEP_DAYS = 7  # a retry is recognised for a week (integrations are promised 24 h)


def booking_once(
    *, store: Store, endpoint: str, key: str | None, request: Any, book: Callable[[], Any]
) -> tuple[Any, bool]:
    """Book a stock movement asked for through the API at most once per idempotency ``key``
    of the store and ``endpoint`` (``storeops.core.idempotency``, as the checkout does).

    ``book()`` books it (through the services above) and returns the answer's JSON body,
    which is kept with the key in the same transaction. Returns ``(answer, created)``: a
    retry — also one that arrives while the first is still being booked — gets the first
    answer (``created=False``) and books nothing; the key used for a different ``request``
    (its JSON-able content) is a 409 ``idempotency_key_reused``. No key: ``book()`` simply
    runs. An error keeps nothing, so a retry after it tries again."""
    key = clean_key(key)
    signed = fingerprint(request)

    def find() -> Any:
        row = (
            IdempotentRequest.objects.filter(store=store, endpoint=endpoint, key=key)
            .only("fingerprint", "response")
            .first()
        )
        if row is None:
            return None
        if row.fingerprint != signed:
            raise key_reused(_("该幂等键已用于另一笔内容不同的库存操作，请换一个幂等键"))
        return row.response

    def run() -> Any:
        # the key is claimed first: a concurrent request with it waits on the unique index and
        # fails once this one commits, before it books anything (then it answers as a retry)
        claim = (
            IdempotentRequest.objects.create(store=store, endpoint=endpoint, key=key, fingerprint=signed)
            if key is not None
            else None
        )
        answer = book()
        if claim is not None:
            claim.response = answer
            claim.save(update_fields=["response"])
        return answer

    return once(key=key, find=find, run=run)


def idempotency_purge(*, now: dt.datetime | None = None) -> int:
    """Forget the idempotency keys of API bookings older than ``IDEMPOTENCY_KEEP_DAYS`` (daily
    task); returns how many."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=IDEMPOTENCY_KEEP_DAYS)
    deleted, _rows = IdempotentRequest.objects.filter(created_at__lt=cutoff).delete()
    return deleted
