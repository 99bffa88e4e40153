"""Demo operations data on top of the demo catalogue: warehouses with stock, carriers,
promotions and coupons, and a few days of web-shop orders in every state — all created
through the real services (reservation, payment callbacks, review, shipping, refunds), so
the console, the checks and the reports have something true to show on first start."""

from __future__ import annotations

import datetime as dt
import io
import random
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING

from storeops.core.context import Actor
from storeops.core.errors import InvalidTransition
from storeops.demo.aftersales_demo import load_aftersales_demo
from storeops.demo.service_demo import load_service_demo
from storeops.fulfilment import services as fulfilment
from storeops.inventory import services as inventory
from storeops.orders import invoices, payments
from storeops.orders import services as orders
from storeops.orders.groups import GroupRequest
from storeops.promotions import services as promotions
from storeops.stores.models import Channel, Store

if TYPE_CHECKING:
    from storeops.catalog.models import Product

WAREHOUSES = [
    ("hz", "杭州主仓", "浙江", Decimal("30.27"), Decimal("120.16")),
    ("gz", "广州仓", "广东", Decimal("23.13"), Decimal("113.26")),
    ("bj", "北京仓", "北京", Decimal("39.90"), Decimal("116.41")),
]
CARRIERS = [("SF", "顺丰速运"), ("ZTO", "中通快递"), ("YTO", "圆通速递")]
ADDRESSES = [
    ("浙江省", "杭州市", "西湖区", "文三路 90 号东部软件园 3 号楼"),
    ("上海市", "上海市", "浦东新区", "世纪大道 100 号环球金融中心 18 楼"),
    ("广东省", "深圳市", "南山区", "科技园南区深南大道 9996 号"),
    ("北京市", "北京市", "朝阳区", "建国路 88 号 SOHO 现代城 2 号楼"),
    ("四川省", "成都市", "武侯区", "天府大道北段 1700 号"),
    ("江苏省", "南京市", "鼓楼区", "中山北路 30 号"),
]
NAMES = ["王芳", "李娜", "张伟", "刘洋", "陈静", "杨帆", "赵磊", "黄敏", "周杰", "吴婷"]


def load_operations_demo(
    *,
    store: Store,
    channels: Mapping[str, Channel],
    products: Mapping[str, Product],
    now: dt.datetime,
    actor: Actor,
) -> None:
    rng = random.Random(20261122)  # noqa: S311 - demo data, the same every time
    skus = [
        sku for product in products.values() for sku in product.skus.filter(is_active=True).order_by("code")
    ]
    warehouses = [
        inventory.warehouse_create(
            actor=actor, store=store, code=code, name=name, region=region, latitude=lat, longitude=lon
        )
        for code, name, region, lat, lon in WAREHOUSES
    ]
    for i, sku in enumerate(skus):
        # the main warehouse holds most; a few SKUs run low (INV-01 replenishment alerts)
        main = 3 if i % 7 == 0 else 80 + (i * 13) % 120
        inventory.stock_receive(
            actor=actor, sku=sku, warehouse=warehouses[0], quantity=main, reason="期初入库"
        )
        if i % 2 == 0:
            inventory.stock_receive(
                actor=actor, sku=sku, warehouse=warehouses[1], quantity=30 + i % 40, reason="期初入库"
            )
        if i % 3 == 0:
            inventory.stock_receive(
                actor=actor, sku=sku, warehouse=warehouses[2], quantity=20, reason="期初入库"
            )
    carriers = {
        code: fulfilment.carrier_create(
            actor=actor, code=code, name=name, secret=f"demo-{code.lower()}-secret"
        )
        for code, name in CARRIERS
    }
    # LOG-03 carrier rules: what each carrier takes (none of the demo's addresses is remote)
    fulfilment.carrier_rule_set(
        actor=actor,
        store=store,
        carrier=carriers["YTO"],
        excluded_provinces="新疆、西藏",
        note="偏远地区不发",
    )
    fulfilment.carrier_rule_set(actor=actor, store=store, carrier=carriers["ZTO"], max_weight_kg="30")
    fulfilment.carrier_rule_set(actor=actor, store=store, carrier=carriers["SF"], fragile="prefer")
    offer = promotions.offer_create(
        actor=actor,
        store=store,
        kind="tiered_reduction",
        title_zh="满200减30，满300减50",
        title_en="30 off 200, 50 off 300",
        params={"tiers": [{"threshold": "200", "amount": "30"}, {"threshold": "300", "amount": "50"}]},
        starts_at=now - dt.timedelta(days=10),
        ends_at=now + dt.timedelta(days=5),
    )
    promotions.offer_set_status(actor=actor, offer=offer, status="active")
    template = promotions.coupon_template_create(
        actor=actor, store=store, name="满100减10", kind="store_threshold", threshold="100", amount="10"
    )
    web = channels["web"]
    customers = [f"demo-c{n:03d}" for n in range(1, 25)]
    for customer in customers[:8]:
        promotions.coupon_issue(actor=actor, template=template, customer_ref=customer)
    placed = _orders(store=store, channel=web, skus=skus, customers=customers, now=now, actor=actor, rng=rng)
    # after-sales on the delivered orders, then customer service (tickets link to both)
    cases = load_aftersales_demo(store=store, orders=placed["delivered"], now=now, actor=actor)
    load_service_demo(store=store, channels=channels, orders=placed, cases=cases, now=now, actor=actor)
    _invoices(placed["shipped"][:2], now=now, actor=actor)
    _limited_offers(store=store, channel=web, skus=skus, now=now, actor=actor)
    _payment_statement(store=store, channel=web, skus=skus, now=now, actor=actor)
    _marketplace_settlement(store=store, channel=channels["tmall"], skus=skus, now=now, actor=actor)


def _marketplace_settlement(*, store, channel, skus, now: dt.datetime, actor: Actor) -> None:
    """Three Tmall orders imported from the channel's export six days ago, shipped and
    delivered, and the platform's settlement report of the last seven days (ORD-06): 5 %
    commission (the channel's agreed rate in its playbook), one order settled 10.00 short —
    the settlement page and the ORD-06 check show that one difference."""
    from django.utils import timezone

    from storeops.orders import imports, settlements
    from storeops.orders import selectors as order_selectors
    from storeops.stores import services as stores

    paid_at = now - dt.timedelta(days=6)
    amounts = (Decimal("129.00"), Decimal("89.00"), Decimal("199.00"))
    numbers = [f"TM{paid_at:%Y%m%d}{n:04d}" for n in range(1, len(amounts) + 1)]
    rows = [
        "订单编号,收货人姓名,联系手机,收货地址,商家编码,购买数量,实付款,订单付款时间",
        *(
            f"{number},{NAMES[n]},1390000{n:04d},{' '.join(ADDRESSES[n])},{skus[n + 1].code},1,{amount},"
            f"{timezone.localtime(paid_at):%Y-%m-%d %H:%M:%S}"
            for n, (number, amount) in enumerate(zip(numbers, amounts, strict=True))
        ),
    ]
    report = imports.orders_import(
        actor=actor,
        store=store,
        channel=channel,
        source=io.BytesIO("\n".join(rows).encode()),
        filename=f"tmall-orders-{paid_at:%Y%m%d}.csv",
        now=paid_at,
    )
    if not report.ok:
        raise RuntimeError("demo Tmall import failed: " + "; ".join(str(e) for e in report.errors[:5]))
    for number in numbers:
        order = order_selectors.order_detail(store, number, channel_id=channel.pk)
        order = orders.order_auto_review(actor=actor, order=order, now=paid_at + dt.timedelta(minutes=5))
        if order.status == "on_hold":  # new buyers of a marketplace shop: checked by hand, let through
            order = orders.order_approve(
                actor=actor, order=order, note="天猫订单人工核对通过", now=paid_at + dt.timedelta(minutes=20)
            )
        order = orders.order_allocate(actor=actor, order=order, now=paid_at + dt.timedelta(hours=1))
        shipped = orders.order_ship(
            actor=actor,
            order=order,
            carrier_code="SF",
            tracking_numbers=f"SF{number[-10:]}",
            now=paid_at + dt.timedelta(hours=6),
        )
        for o in shipped:
            orders.order_deliver(actor=actor, order=o, at=paid_at + dt.timedelta(days=2))
    stores.playbook_update(
        actor=actor, store=store, channel=channel, values={"settlement_commission_rate_max": "0.05"}
    )
    settled_at = timezone.localtime(paid_at + dt.timedelta(days=3))
    lines = ["订单编号,业务类型,结算金额,技术服务费,结算时间"]
    for n, (number, amount) in enumerate(zip(numbers, amounts, strict=True)):
        settled = amount - Decimal("10.00") if n == len(numbers) - 1 else amount  # the platform paid less
        commission = (settled * Decimal("0.05")).quantize(Decimal("0.01"))
        lines.append(f"{number},交易成功,{settled},-{commission},{settled_at:%Y-%m-%d %H:%M:%S}")
    today = timezone.localdate(now)
    settlements.settlement_import(
        store=store,
        channel_id=channel.pk,
        file_name=f"tmall-settlement-{today:%Y%m%d}.csv",
        data="\n".join(lines).encode(),
        period_start=today - dt.timedelta(days=7),
        period_end=today - dt.timedelta(days=1),
        actor=actor,
    )


def _payment_statement(*, store, channel, skus, now: dt.datetime, actor: Actor) -> None:
    """Yesterday's statement of the test gateway as a WeChat Pay bill (ORD-06): every
    collection and refund our records show that day (fee 0.6 %, but 1 % on the largest
    collection: the fee check raises it), and one more collection whose callback never
    reached us — the reconciliation page offers to apply it."""
    from django.utils import timezone

    from storeops.orders import reconcile

    day = timezone.localdate(now) - dt.timedelta(days=1)
    evening = timezone.make_aware(dt.datetime.combine(day, dt.time(21, 30)))
    lost, _ = orders.order_place(
        actor=actor,
        store=store,
        channel=channel,
        customer=promotions.Shopper(customer_ref="demo-c030"),
        lines=[promotions.CartItem(skus[5].code, 1)],
        address=orders.AddressIn(
            receiver="孙八", phone="13800005555", province="江苏省", city="南京市", district="鼓楼区",
            address="中山路1号",
        ),
        idempotency_key="demo-lost-callback",
        now=evening,
    )  # fmt: skip
    lost_payment = orders.payment_start(actor=actor, order=lost, now=evening)
    paid, refunds = reconcile.records_on(store_id=store.pk, provider="test", day=day)
    rows = [("SUCCESS", p.reference, p.amount, "", Decimal(0), p.settled_at) for p in paid]
    # charged at another rate than agreed: the day's largest collection, so that 1 % against the
    # agreed 0.6 % is more than a cent of rounding whatever orders the day happens to have
    dear = max(paid, key=lambda p: p.amount).reference if paid else ""
    rows.append(("SUCCESS", lost_payment.reference, lost_payment.amount, "", Decimal(0), evening))
    rows += [
        ("REFUND", r.payment.reference, r.payment.amount, r.reference, r.amount, r.created_at)
        for r in refunds
    ]
    lines = [
        "交易时间,微信订单号,商户订单号,交易状态,应结订单金额,商户退款单号,退款金额,退款状态,手续费",
        *(
            ",".join(
                f"`{v}"
                for v in (
                    timezone.localtime(at).strftime("%Y-%m-%d %H:%M:%S"),
                    f"4200{ref}",
                    ref,
                    status,
                    amount,
                    refund_ref,
                    refund_amount,
                    "SUCCESS" if refund_ref else "",
                    (-1 if refund_ref else 1)
                    * ((refund_amount or amount) * Decimal("0.01" if ref == dear else "0.006")).quantize(
                        Decimal("0.01")
                    ),
                )
            )
            for status, ref, amount, refund_ref, refund_amount, at in rows
        ),
        "总交易单数,应结订单总金额,退款总金额,手续费总金额",
    ]
    reconcile.statement_import(
        store=store,
        provider="test",
        file_name=f"wechatpay-{day:%Y%m%d}.csv",
        data="\n".join(lines).encode(),
        file_format="wechatpay",
        statement_date=day,
        actor=actor,
    )


def _limited_offers(*, store, channel, skus, now: dt.datetime, actor: Actor) -> None:
    """PROMO-01: a running flash sale (20 units, 2 per buyer) one buyer took 2 units of, a
    three-person group buy with one paid member and one who joined but has not paid yet (the
    order page shows the group; its orders wait for it to form), and a presale (定金膨胀: a
    deposit of 10 % of the price counts double) one buyer paid the deposit of, the balance
    due from in three days."""
    flash_sku, group_sku, presale_sku = skus[1], skus[2], skus[4]
    flash = promotions.offer_create(
        actor=actor,
        store=store,
        kind="flash_sale",
        title_zh="限时秒杀",
        title_en="Flash sale",
        params={
            "price": str((flash_sku.price * Decimal("0.6")).quantize(Decimal("0.01"))),
            "per_buyer_limit": 2,
        },
        stock_cap=20,
        product_ids=[flash_sku.product_id],
        starts_at=now - dt.timedelta(hours=2),
        ends_at=now + dt.timedelta(hours=22),
    )
    promotions.offer_set_status(actor=actor, offer=flash, status="active")
    group = promotions.offer_create(
        actor=actor,
        store=store,
        kind="group_buy",
        title_zh="三人团",
        title_en="Group of three",
        params={
            "price": str((group_sku.price * Decimal("0.7")).quantize(Decimal("0.01"))),
            "group_size": 3,
            "time_limit_hours": 24,
        },
        product_ids=[group_sku.product_id],
        starts_at=now - dt.timedelta(days=1),
    )
    promotions.offer_set_status(actor=actor, offer=group, status="active")
    presale = promotions.offer_create(
        actor=actor,
        store=store,
        kind="presale",
        title_zh="新品预售：定金翻倍",
        title_en="Presale: the deposit counts double",
        params={
            "deposit": str((presale_sku.price * Decimal("0.1")).quantize(Decimal("0.01"))),
            "multiplier": "2",
            "balance_starts": (now + dt.timedelta(days=3)).isoformat(),
            "balance_ends": (now + dt.timedelta(days=5)).isoformat(),
        },
        product_ids=[presale_sku.product_id],
        starts_at=now - dt.timedelta(days=1),
        ends_at=now + dt.timedelta(days=3),
    )
    promotions.offer_set_status(actor=actor, offer=presale, status="active")
    gateway = payments.TestGateway()
    address = orders.AddressIn(
        receiver="周婷",
        phone="13800138123",
        province="浙江省",
        city="杭州市",
        district="西湖区",
        address="文一西路88号",
    )

    def place(customer: str, sku, qty: int, minutes_ago: int, group_request=None, pay: bool = True):
        at = now - dt.timedelta(minutes=minutes_ago)
        order, _ = orders.order_place(
            actor=actor,
            store=store,
            channel=channel,
            customer=promotions.Shopper(customer_ref=customer),
            lines=[promotions.CartItem(sku.code, qty)],
            address=address,
            now=at,
            group=group_request,
        )
        if pay:
            payment = orders.payment_start(actor=actor, order=order, now=at)
            body, headers = gateway.callback(reference=payment.reference, amount=payment.amount)
            orders.payment_callback(
                provider="test", body=body, headers=headers, now=at + dt.timedelta(minutes=1)
            )
        return order

    place("demo-c030", flash_sku, 2, minutes_ago=8)
    leader = place("demo-c031", group_sku, 1, minutes_ago=40, group_request=GroupRequest(offer_id=group.pk))
    place(
        "demo-c032",
        group_sku,
        1,
        minutes_ago=5,
        group_request=GroupRequest(code=leader.group.code),
        pay=False,
    )
    place("demo-c033", presale_sku, 1, minutes_ago=90)  # the deposit is paid, the balance later


def _invoices(shipped: list, *, now: dt.datetime, actor: Actor) -> None:
    """ORD-07: two personal e-invoice requests on shipped orders — one issued by finance, one
    waiting in the finance queue (/orders/invoices/)."""
    for n, order in enumerate(shipped):
        request = invoices.invoice_request(
            actor=actor,
            order=order,
            kind="electronic",
            title_type="personal",
            title=order.receiver,
            email=f"{order.customer_ref}@example.com",
            now=now - dt.timedelta(hours=3 - n),
        )
        if n == 0:
            invoices.invoice_issue(
                actor=actor, invoice=request, invoice_number="25332000000012345678", now=now
            )


def _orders(*, store, channel, skus, customers, now, actor, rng) -> dict[str, list]:
    """About 40 orders over the last three days, in every state an operator meets. Returns the
    shipped and the delivered ones (oldest first) for the after-sales and service demos."""
    gateway = payments.TestGateway()
    placed: dict[str, list] = {"shipped": [], "delivered": []}
    for n in range(40):
        placed_at = now - dt.timedelta(hours=72 - n * 1.7)
        customer = customers[n % len(customers)]
        province, city, district, street = ADDRESSES[n % len(ADDRESSES)]
        phone = "138" + f"{rng.randrange(10**8):08d}"
        if n in (31, 34):
            phone = "1380000"  # too short: the automatic review holds it (ORD-01/ORD-04)
        lines = [
            promotions.CartItem(sku.code, rng.choice((1, 1, 1, 2)))
            for sku in rng.sample(skus, k=rng.choice((1, 1, 2, 3)))
        ]
        try:
            order, _ = orders.order_place(
                actor=actor,
                store=store,
                channel=channel,
                customer=promotions.Shopper(customer_ref=customer),
                lines=lines,
                address=orders.AddressIn(
                    receiver=NAMES[n % len(NAMES)],
                    phone=phone,
                    province=province,
                    city=city,
                    district=district,
                    address=street,
                ),
                idempotency_key=f"demo-{n}",
                now=placed_at,
                # where the order came from (RISK-01): documentation addresses, one phone each
                client_ip=f"203.0.113.{10 + n}",
                device_id=f"app-{customer}",
            )
        except inventory.InsufficientStock:
            continue  # the low-stock SKUs ran out: a real shop sees that too
        if n % 11 == 3:
            continue  # left unpaid: the sweep closes it after the timeout
        payment = orders.payment_start(actor=actor, order=order, now=placed_at)
        body, headers = gateway.callback(reference=payment.reference, amount=payment.amount)
        paid_at = placed_at + dt.timedelta(minutes=3)
        orders.payment_callback(provider="test", body=body, headers=headers, now=paid_at)
        order.refresh_from_db()
        if order.status != "paid":
            continue
        if n >= 36:
            continue  # paid just now: waiting for the automatic review
        order = orders.order_auto_review(actor=actor, order=order, now=paid_at + dt.timedelta(minutes=2))
        if order.status != "reviewed" or n >= 30:
            continue  # held for manual review, or waiting to be allocated
        order = orders.order_allocate(actor=actor, order=order, now=paid_at + dt.timedelta(hours=1))
        if order.status != "allocated" or n >= 24:
            continue
        shipped_at = paid_at + dt.timedelta(hours=6)
        warehouses = {a.warehouse_id for line in order.lines.all() for a in line.allocations.all()}
        carrier = CARRIERS[n % len(CARRIERS)][0]
        numbers = {w: f"{carrier}{order.number[-8:]}{i}" for i, w in enumerate(sorted(warehouses))}
        try:
            shipped = orders.order_ship(
                actor=actor, order=order, carrier_code=carrier, tracking_numbers=numbers, now=shipped_at
            )
        except InvalidTransition:
            continue  # shipped with an earlier order of the same buyer (merged parcel)
        if n < 14:
            for o in shipped:
                placed["delivered"].append(
                    orders.order_deliver(actor=actor, order=o, at=shipped_at + dt.timedelta(hours=40))
                )
        else:
            placed["shipped"].extend(shipped)
    orders.orders_close_unpaid(now=now, store=store)
    return placed
