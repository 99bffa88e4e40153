"""Demo after-sales on the delivered demo orders, through the after-sales services only: a
small refund-only request that was approved and refunded automatically (AS-03), requests
waiting for a person (one of them close to its refund deadline, so AS-02 raises a finding),
a return waiting for the goods, a return received and waiting for QC, a return inspected
(one unit passed, one failed → defective stock) and refunded, a rejected request and an
exchange of a size."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model

from storeops.aftersales import services as aftersales
from storeops.core.context import Actor
from storeops.stores.models import Store

# The customer asks from the web shop; the service desk decides; the warehouse receives and
# inspects the goods.
CUSTOMER = Actor.system("api")


def _user_actor(username: str, fallback: Actor) -> Actor:
    user = get_user_model().objects.filter(username=username).first()
    return Actor(user=user, via="console") if user is not None else fallback


def _unit_price(line: Any) -> Decimal:
    return line.paid_total / line.quantity


def _sibling(line: Any) -> Any | None:
    """Another active SKU of the same product at the same price (the next size up)."""
    return (
        line.sku.product.skus.filter(is_active=True, price=line.sku.price, code__gt=line.sku.code)
        .order_by("code")
        .first()
    )


def _pick(
    pool: list[Any], match: Callable[[Any], bool], *, delivered_before: dt.datetime | None = None
) -> tuple[Any, Any] | tuple[None, None]:
    """The oldest delivered order (and its line) with a line that ``match``es; taken from the pool."""
    for order in pool:
        if delivered_before is not None and order.delivered_at > delivered_before:
            continue
        line = next((ln for ln in order.lines.select_related("sku").order_by("pk") if match(ln)), None)
        if line is not None:
            pool.remove(order)
            return order, line
    return None, None


def _sku(prefix: str, *, qty: int = 1, below: Decimal | None = None) -> Callable[[Any], bool]:
    def match(line: Any) -> bool:
        return (
            line.sku.code.startswith(prefix)
            and line.quantity >= qty
            and (below is None or _unit_price(line) < below)
        )

    return match


def load_aftersales_demo(
    *, store: Store, orders: Sequence[Any], now: dt.datetime, actor: Actor
) -> dict[str, Any]:
    """Open the demo's after-sale cases; returns them by scenario name (for the service demo)."""
    agent = _user_actor("demo_customer_service", actor)
    warehouse = _user_actor("demo_warehouse", actor)
    pool = sorted(orders, key=lambda o: o.delivered_at)
    cases: dict[str, Any] = {}
    hours = dt.timedelta(hours=1)

    def request(order: Any, line: Any, at: dt.datetime, **kw: Any) -> Any:
        return aftersales.case_request(
            actor=CUSTOMER,
            order=order,
            customer_ref=order.customer_ref,
            units={line.pk: kw.pop("qty", 1)},
            idempotency_key=f"demo-as-{order.number}",
            now=min(at, now),
            **kw,
        )

    # 1. refund-only above the automatic limit, asked 21 h ago: 3 h left of the 24 h refund
    #    deadline, inside the 4 h warning window — AS-02 warns, the queue shows it first.
    order, line = _pick(pool, _sku("YOGA-004"), delivered_before=now - 21 * hours)
    if order is not None:
        cases["due_soon"] = request(
            order,
            line,
            now - 21 * hours,
            kind="refund_only",
            reason="not_as_described",
            reason_text="燕麦色实物明显发灰，和详情页色差很大；吊牌已经剪了不方便寄回，申请仅退款一条。",
            images=["https://img.example.com/aftersales/pants-color-1.jpg"],
        )

    # 2. a small refund-only request (< 50 CNY): approved and refunded at once (AS-03).
    order, line = _pick(pool, _sku("YOGA-002", below=Decimal("50")))
    if order is None:
        order, line = _pick(pool, lambda ln: _unit_price(ln) < Decimal("50"))
    if order is not None:
        cases["auto_refunded"] = request(
            order,
            line,
            order.delivered_at + 2 * hours,
            kind="refund_only",
            reason="damaged",
            reason_text="快递外箱被压扁，其中一块瑜伽砖边角压坏掉渣了，照片已上传。",
            images=[
                "https://img.example.com/aftersales/yoga-brick-1.jpg",
                "https://img.example.com/aftersales/yoga-brick-2.jpg",
            ],
        )

    # 3. a return of two units: received, QC passes one and fails one (defective stock), refunded.
    order, line = _pick(pool, _sku("HOME-001", qty=2))
    if order is None:
        order, line = _pick(pool, lambda ln: ln.quantity >= 2)
    if order is not None:
        at = order.delivered_at + hours
        case = request(
            order,
            line,
            at,
            kind="return",
            reason="quality",
            qty=2,
            reason_text="两个收纳箱有一个箱盖卡扣断了，盖不严；另一个也不想要了，一起退。",
        )
        case = aftersales.case_approve(
            actor=agent, case=case, note="同意退货，退货地址已发送，运费险已生效。", now=at + 0.7 * hours
        )
        case = aftersales.case_receive(
            actor=warehouse, case=case, tracking_no="SF1357924680", now=now - 5 * hours
        )
        cases["inspected"] = aftersales.case_inspect(
            actor=warehouse,
            case=case,
            results={line.pk: (1, 1)},
            note="一个箱盖卡扣断裂，转残次品；另一个完好无损，回可售库存。",
            now=now - 4 * hours,
        )

    # 4. a no-reason return, approved: waiting for the customer's parcel.
    order, line = _pick(pool, _sku("YOGA-001"))
    if order is not None:
        at = order.delivered_at + 3 * hours
        case = request(
            order,
            line,
            at,
            kind="return",
            reason="no_reason",
            reason_text="家里已经有一张瑜伽垫了，买重复了，未拆封。",
        )
        cases["awaiting_goods"] = aftersales.case_approve(
            actor=agent, case=case, note="符合七天无理由退货，请保持商品完好、附件齐全寄回。", now=at + hours
        )

    # 5. rejected with the reason the customer sees.
    order, line = _pick(pool, _sku("COFFEE"))
    if order is not None:
        at = order.delivered_at + 2 * hours
        case = request(
            order,
            line,
            at,
            kind="return",
            reason="no_reason",
            reason_text="口味太苦了，喝不惯，想退掉。",
        )
        cases["rejected"] = aftersales.case_reject(
            actor=agent,
            case=case,
            reason="食品类商品（挂耳咖啡）拆封后不支持七天无理由退货；如有质量问题，请上传照片后重新申请。",
            now=at + hours,
        )

    # 6. an exchange of a size, waiting for a person.
    order, line = _pick(pool, lambda ln: ln.sku.code.startswith("YOGA-004") and _sibling(ln) is not None)
    if order is not None:
        cases["exchange_requested"] = request(
            order,
            line,
            order.delivered_at + 4 * hours,
            kind="exchange",
            reason="size",
            replacements={line.pk: _sibling(line).pk},
            reason_text="平时穿 M 码，这款偏小有点勒腰，想换大一码。",
        )

    # 7. a return whose parcel arrived 90 minutes ago: waiting for QC, refund clock running.
    order, line = _pick(pool, _sku("HOME-004"))
    if order is not None:
        at = order.delivered_at + 0.5 * hours
        case = request(
            order,
            line,
            at,
            kind="return",
            reason="quality",
            reason_text="沥水架有一处焊点开裂，放上碗后整体晃动，担心用久了会塌。",
            images=["https://img.example.com/aftersales/rack-weld.jpg"],
        )
        case = aftersales.case_approve(
            actor=agent, case=case, note="质量问题，同意退货退款，运费由我们承担。", now=at + 0.5 * hours
        )
        cases["received"] = aftersales.case_receive(
            actor=warehouse, case=case, tracking_no="ZTO7788990011", now=now - 1.5 * hours
        )

    # 8. a refund-only request asked an hour ago, waiting for a person (well within the SLA).
    order, line = _pick(pool, lambda ln: _unit_price(ln) >= Decimal("50"))
    if order is not None:
        cases["refund_requested"] = request(
            order,
            line,
            now - hours,
            kind="refund_only",
            reason="not_received",
            reason_text="物流显示已签收，但家门口、快递柜和小区驿站都没有找到包裹，申请退款。",
        )
    return cases
