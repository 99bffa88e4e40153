"""Demo customer service, through the service's services only: a reply-script library, tickets
in every tier and state (answered by the FAQ bot, resolved with a compensation coupon, one
escalated to a crisis and handed to the owner, some open within their deadline, some about to
miss or past it so CS-01/CS-02 raise findings), reviews of the delivered orders with photo
rewards, the review invitations sweep and one stored root-cause report."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from django.contrib.auth import get_user_model
from django.test.utils import override_settings
from django.utils import timezone

from storeops.core.context import Actor
from storeops.fulfilment import selectors as fulfilment_selectors
from storeops.fulfilment import services as fulfilment
from storeops.fulfilment.carriers import TrackingEventDraft
from storeops.fulfilment.rules import Status as ParcelStatus
from storeops.promotions import services as promotions
from storeops.service import selectors as service_selectors
from storeops.service import services as service
from storeops.service.rules import render_script
from storeops.stores import services as stores
from storeops.stores.models import Channel, Store

# (title, category, keywords, quick, auto-answer, body)
SCRIPTS = [
    (
        "物流查询",
        "logistics",
        "物流,快递,到哪了,物流单号,查件",
        True,
        True,
        "亲，您的订单 {order} 已从仓库发出，物流单号可在「我的订单 → 查看物流」中查看；江浙沪一般"
        " 1–2 天送达，其他地区 2–4 天。如果超过 48 小时没有更新，请告诉我们，我们马上联系快递核实。",
    ),
    (
        "催发货",
        "logistics",
        "催发货,什么时候发货,还没发货,发货太慢",
        True,
        False,
        "亲，非常抱歉让您久等了！已为您加急催促仓库，订单 {order} 预计今天 18:00 前发出，"
        "发出后会短信通知您物流单号。",
    ),
    (
        "签收未收到",
        "logistics",
        "显示签收,没收到,未收到,丢件,驿站",
        False,
        False,
        "亲，给您添麻烦了！我们已联系快递核实签收情况，请您先看一下门口、快递柜和小区驿站；"
        "24 小时内没有结果的话，我们直接为您补发或退款。",
    ),
    (
        "退换货政策",
        "other",
        "退货,换货,退换,七天无理由,无理由",
        True,
        True,
        "亲，本店支持签收后 7 天无理由退换货（食品拆封后、贴身衣物剪标后除外）。请在「我的订单 → 申请售后」"
        "提交申请，审核通过后按页面地址寄回；仓库签收质检后 24 小时内原路退款。",
    ),
    (
        "发票",
        "service",
        "发票,开票,专票,普票,抬头,税号",
        True,
        True,
        "亲，本店可开具电子普通发票和增值税专用发票。请在「我的订单 → 申请开票」填写抬头和税号，电子普票在"
        "确认收货后 1–3 个工作日发送到您的邮箱；专票需要提供开户行和账号，纸质专票随后邮寄。",
    ),
    (
        "尺码建议",
        "other",
        "尺码,码数,多大码,穿什么码,身高,体重",
        True,
        True,
        "亲，瑜伽裤是修身版型：身高 155–162cm、体重 45–52kg 选 S；163–168cm、52–58kg 选 M；"
        "169–175cm、58–65kg 选 L。介于两个尺码之间、喜欢宽松一点的建议选大一码。",
    ),
    (
        "优惠券使用",
        "price",
        "优惠券,满减券,用不了券,领券,券用不了",
        True,
        True,
        "亲，「满100减10」店铺券需要订单中商品实付满 100 元才能使用，每笔订单限用一张，不能和补偿券叠加；"
        "结算页「优惠券」处可以看到每张券不可用的原因。",
    ),
    (
        "价格保护",
        "price",
        "降价,差价,价保,保价",
        False,
        False,
        "亲，本店支持下单后 7 天内价格保护：同一商品同规格降价的，"
        "可以为您退还差价（限时秒杀和优惠券抵扣除外）。"
        "请提供订单号 {order}，我们马上为您核实。",
    ),
    (
        "质量问题致歉",
        "quality",
        "质量问题,坏了,破损,开裂,异味,起球,掉色",
        True,
        False,
        "亲，非常抱歉给您带来不好的体验！麻烦您拍一下问题部位的照片发给我们，核实后为您办理退货退款或换新，"
        "来回运费由我们承担。",
    ),
    (
        "售后进度",
        "service",
        "退款进度,退款到账,什么时候退款,售后进度",
        False,
        True,
        "亲，仅退款审核通过后会立即原路退回；退货在仓库签收并质检后 24 小时内退款。到账时间以支付渠道为准，"
        "一般 1–3 个工作日。",
    ),
    (
        "安抚致歉",
        "",
        "",
        True,
        False,
        "亲，非常抱歉给您带来不便，您的问题我已经记录并交给专人跟进，今天之内一定给您答复，请您放心。",
    ),
]

# Review texts written for the demo (the labelled review set in ../shared/data has no licence
# to redistribute, so it stays in tests and benchmarks): pants (瑜伽裤) get the clothing ones,
# the other SKUs the general ones, each with the rating a customer would give.
PANTS_REVIEWS = [
    (5, "瑜伽裤弹性很好，蹲下也不透，颜色和图片一样，已经回购第二条"),
    (1, "洗了一次就起球了，颜色和详情页差很多，很失望"),
    (5, "面料顺滑不闷汗，高腰设计很收腹，客服推荐的尺码刚好合适"),
    (4, "尺码合适，就是实物颜色比图片略深一点，整体满意"),
    (5, "做工精细，走线整齐，穿着跑步也不往下掉"),
    (3, "质量还可以，就是腰有点松，希望以后出小一码"),
    (4, "颜色是想要的那种，宽松不勒，价格也合适"),
    (2, "裤脚线头多，面料摸起来比较粗糙"),
]
OTHER_REVIEWS = [
    (5, "包装很严实，第二天就到了，快递小哥还帮忙送上楼，推荐！"),
    (2, "东西一般，物流走了五天才到"),
    (5, "品质很好，价格实惠，活动时买很划算"),
    (4, "性价比挺高，用了一周没发现问题"),
    (5, "朋友推荐来买的，包装完好，发货很快"),
    (3, "用着还行，没有特别惊艳，胜在便宜"),
    (1, "外包装破损，里面的东西也有划痕，联系客服还在处理中"),
    (5, "做工扎实，和描述一致，非常满意"),
    (4, "之前买过一次，这次活动又囤了两件，包装不错"),
    (5, "回购第二次了，质量稳定，快递也给力"),
    (4, "款式好看，质量不错，送人也体面"),
    (3, "还可以吧，到货速度挺快，其他一般"),
]


def _user_actor(username: str, fallback: Actor) -> Actor:
    user = get_user_model().objects.filter(username=username).first()
    return Actor(user=user, via="console") if user is not None else fallback


def load_service_demo(
    *,
    store: Store,
    channels: Mapping[str, Channel],
    orders: Mapping[str, Sequence[Any]],
    cases: Mapping[str, Any],
    now: dt.datetime,
    actor: Actor,
) -> None:
    """Load the customer-service demo. ``orders`` has the demo's ``shipped`` and ``delivered``
    web-shop orders; ``cases`` the after-sale cases of the after-sales demo by scenario."""
    web = channels["web"]
    agent = _user_actor("demo_customer_service", actor)
    compensation = promotions.coupon_template_create(
        actor=actor, store=store, name="20元无门槛补偿券", kind="no_threshold", amount="20", valid_days=30
    )
    reward = promotions.coupon_template_create(
        actor=actor,
        store=store,
        name="5元优惠券（满50可用）",
        kind="store_threshold",
        threshold="50",
        amount="5",
        valid_days=30,
    )
    stores.playbook_update(
        actor=actor,
        store=store,
        values={
            "complaint_compensation_coupon_template": compensation.pk,
            "review_reward_coupon_template": reward.pk,
        },
    )
    scripts = {
        title: service.script_create(
            actor=actor,
            store=store,
            title=title,
            body=body,
            keywords=keywords,
            category=category,
            is_quick=quick,
            auto_answer=auto,
        )
        for title, category, keywords, quick, auto, body in SCRIPTS
    }
    _tickets(store=store, web=web, orders=orders, cases=cases, scripts=scripts, now=now, agent=agent)
    _reviews(store=store, web=web, delivered=orders["delivered"], now=now, actor=actor)
    _nps(store=store, channels=channels, now=now, actor=actor)
    _sign_parcels(store=store, delivered=orders["delivered"], actor=actor)
    service.review_invitations_send(actor=Actor.system("task"), now=now, store=store)
    today = timezone.localdate(now)
    start, end = service_selectors.report_period(today - dt.timedelta(days=6), today)
    service.report_generate(actor=actor, store=store, start=start, end=end)
    _incident(store=store, web=web, orders=orders["delivered"], template_id=compensation.pk, actor=actor)


def _incident(*, store: Store, web: Channel, orders: Sequence[Any], template_id: int, actor: Actor) -> None:
    """RISK-04: a payment outage on the web shop, handled through the whole playbook."""
    if not orders:
        return
    first = min(orders, key=lambda o: o.created_at)
    start = first.created_at - dt.timedelta(minutes=10)
    incident = service.incident_open(
        actor=actor,
        store=store,
        title="网店支付回调中断",
        description="支付网关证书过期，付款成功后订单仍显示待付款，约 40 分钟。",
        started_at=start,
        channel_ids=[web.pk],
        now=start + dt.timedelta(minutes=15),
    )
    service.incident_failover(
        actor=actor,
        incident=incident,
        note="切换到备用支付通道，并手工核对已付款订单",
        now=start + dt.timedelta(minutes=20),
    )
    incident = service.incident_recover(
        actor=actor,
        incident=incident,
        ended_at=start + dt.timedelta(minutes=40),
        now=start + dt.timedelta(minutes=45),
    )
    service.incident_notify(
        actor=actor,
        incident=incident,
        text="非常抱歉，本店支付系统今日短暂故障，您的订单已正常处理，20元补偿券已发放到您的账户。",
        now=start + dt.timedelta(minutes=50),
    )
    service.incident_compensate(
        actor=actor, incident=incident, template_id=template_id, now=start + dt.timedelta(minutes=50)
    )
    service.incident_close(
        actor=actor,
        incident=incident,
        note="原因：支付证书过期未提醒。改进：证书加入资质到期提醒（提前 30 天）。",
        now=start + dt.timedelta(hours=2),
    )


def _tickets(  # noqa: PLR0915 - one story per ticket, told in order
    *,
    store: Store,
    web: Channel,
    orders: Mapping[str, Sequence[Any]],
    cases: Mapping[str, Any],
    scripts: Mapping[str, Any],
    now: dt.datetime,
    agent: Actor,
) -> None:
    h = dt.timedelta(hours=1)
    m = dt.timedelta(minutes=1)
    delivered = list(orders["delivered"])
    shipped = list(orders["shipped"])

    def ref(rows: Sequence[Any], i: int) -> str:
        return rows[i % len(rows)].number if rows else ""

    def sku(order: Any) -> str:
        line = order.lines.order_by("pk").first() if order is not None else None
        return line.sku_code if line is not None else ""

    def case_order(name: str) -> tuple[str, str, str, str]:
        case = cases.get(name)
        if case is None:
            return "", "demo-c099", "", ""
        line = case.lines.select_related("order_line").first()
        return case.order.number, case.customer_ref, case.number, line.order_line.sku_code if line else ""

    def open_(at: dt.datetime, **kw: Any) -> Any:
        return service.ticket_open(actor=agent, store=store, channel=web, opened_at=at, **kw)

    def reply(ticket: Any, at: dt.datetime, body: str = "", script: str = "") -> None:
        s = scripts.get(script)
        text = body or render_script(s.body, {"order": ticket.order_ref, "customer": ticket.customer_ref})
        service.ticket_reply(actor=agent, ticket=ticket, body=text, script=s, at=at)

    # -- inquiries answered by the FAQ bot (CS-03), then resolved and closed
    for days, customer, category, subject, question, note in (
        (
            5,
            "demo-c016",
            "service",
            "公司报销需要开专票",
            "你好，公司报销要开增值税专用发票，可以开吗？抬头和税号发给谁？",
            "已按顾客提供的抬头和税号开具专票，快递寄出。",
        ),
        (
            4,
            "demo-c017",
            "logistics",
            "咨询快递到哪了",
            "请问我的快递到哪了？物流单号是多少？",
            "顾客已在订单页查到物流，无需跟进。",
        ),
        (
            2,
            "demo-c018",
            "other",
            "瑜伽裤尺码咨询",
            "身高165体重55kg，瑜伽裤穿什么码合适？",
            "按尺码表建议选 M 码，顾客已下单。",
        ),
        (
            1,
            "demo-c019",
            "price",
            "满减券用不了",
            "领的满减券用不了，结算页显示不可用是怎么回事？",
            "顾客凑单满 100 元后已成功用券。",
        ),
    ):
        at = now - days * 24 * h
        ticket = open_(
            at, customer_ref=customer, subject=subject, category=category, kind="inquiry", medium="chat"
        )
        service.ticket_customer_message(actor=Actor.system("api"), ticket=ticket, body=question, at=at)
        ticket = service.ticket_resolve(actor=agent, ticket=ticket, note=note, at=at + 12 * m)
        if days > 1:
            service.ticket_close(actor=agent, ticket=ticket, at=at + 2 * h)

    # -- a general logistics complaint just opened: waiting for its first answer, within SLA
    open_(
        now - 40 * m,
        customer_ref=shipped[0].customer_ref if shipped else "demo-c020",
        order_ref=ref(shipped, 0),
        sku_code=sku(shipped[0] if shipped else None),
        subject="三天了物流还没更新",
        category="logistics",
        message="下单三天了，物流信息一直停在“已揽收”，到底发没发？",
    )

    # -- a general complaint nobody answered for 3 hours: CS-01 first answer overdue (warning)
    order_ref, customer, _case, sku_code = case_order("refund_requested")
    open_(
        now - 3 * h,
        customer_ref=customer,
        order_ref=order_ref,
        sku_code=sku_code,
        subject="显示签收但没收到包裹",
        category="logistics",
        message="快递显示昨天已签收，可我根本没收到，门口和驿站都找过了。",
    )

    # -- a general price complaint answered but unresolved for 26 h: CS-02 overdue (warning)
    t = open_(
        now - 26 * h,
        customer_ref=delivered[0].customer_ref if delivered else "demo-c021",
        order_ref=ref(delivered, 0),
        sku_code=sku(delivered[0] if delivered else None),
        subject="刚买第二天就降价，要求补差价",
        category="price",
        message="我前天 99 买的瑜伽裤，今天活动价 79，能不能把差价退给我？",
    )
    reply(t, now - 25 * h - 45 * m, script="价格保护")

    # -- a general service complaint in progress, within its deadline
    t = open_(
        now - 5 * h,
        customer_ref="demo-c022",
        subject="客服回复太慢",
        category="service",
        message="昨晚在线咨询等了半个小时都没人回复，体验很差。",
    )
    reply(t, now - 4 * h - 50 * m, script="安抚致歉")

    # -- serious quality complaint resolved with a refund (after-sales) and a compensation coupon
    order_ref, customer, number, sku_code = case_order("inspected")
    at = now - 23 * h
    t = open_(
        at,
        customer_ref=customer,
        order_ref=order_ref,
        sku_code=sku_code,
        tier="serious",
        medium="chat",
        subject="收纳箱箱盖卡扣断裂",
        category="quality",
        message="刚收到的收纳箱，箱盖卡扣一掰就断，盖都盖不上，什么质量！",
    )
    reply(t, at + 8 * m, script="质量问题致歉")
    service.ticket_resolve(
        actor=agent,
        ticket=t,
        note="已为顾客办理退货退款，另赠送 20 元无门槛补偿券致歉。",
        refund_ref=number,
        compensate=True,
        at=at + 3 * h,
    )

    # -- serious quality complaint solved late (the 4 h deadline was missed: see the report)
    order_ref, customer, number, sku_code = case_order("auto_refunded")
    at = now - 30 * h
    t = open_(
        at,
        customer_ref=customer,
        order_ref=order_ref,
        sku_code=sku_code,
        tier="serious",
        subject="瑜伽砖收到就压坏了",
        category="quality",
        message="瑜伽砖边角压坏了，还掉渣，外箱也破了，要求处理。",
    )
    reply(t, at + 25 * m, script="质量问题致歉")
    service.ticket_resolve(
        actor=agent,
        ticket=t,
        note="顾客已申请仅退款并自动退回一块的货款，已致歉。",
        refund_ref=number,
        at=at + 9 * h,
    )

    # -- serious quality complaint, answered, 20 minutes left to solve it: CS-01 (info)
    order_ref, customer, _case, sku_code = case_order("received")
    t = open_(
        now - 3 * h - 40 * m,
        customer_ref=customer,
        order_ref=order_ref,
        sku_code=sku_code,
        tier="serious",
        subject="沥水架焊点开裂，担心伤人",
        category="quality",
        message="沥水架焊点开裂了，放上碗就晃，万一塌了砸到人怎么办？",
    )
    reply(
        t, now - 3 * h - 30 * m, body="非常抱歉！退货已安排上门取件，仓库收到后马上质检退款，请您先停止使用。"
    )

    # -- serious service complaint escalated to a crisis (posted online), handed to the owner
    t = open_(
        now - 2 * h,
        customer_ref="demo-c023",
        tier="serious",
        subject="顾客称被客服辱骂并发帖曝光",
        category="service",
        message="你们客服说话阴阳怪气，我已经把聊天截图发到小红书了！",
    )
    reply(t, now - 2 * h + 10 * m, script="安抚致歉")
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        # the demo records the emergency alert but mails nobody
        service.ticket_escalate(
            actor=agent,
            ticket=t,
            tier="crisis",
            reason="小红书帖子 2 小时阅读量过万，评论区出现跟帖，升级危机处理。",
            at=now - 90 * m,
        )
    owner = get_user_model().objects.filter(username="demo_owner").first()
    if owner is not None:
        service.ticket_transfer(actor=agent, ticket=t, to_user=owner, reason="危机客诉，由店长统一对外口径。")

    # -- a crisis a few days ago: statement published in time, solved and closed
    at = now - 4 * 24 * h
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        t = open_(
            at,
            customer_ref="demo-c024",
            tier="crisis",
            subject="抖音视频质疑瑜伽垫有刺鼻气味",
            category="quality",
            message="多位顾客在抖音评论区反映瑜伽垫有刺鼻气味，怀疑材料不环保。",
        )
    reply(t, at + 15 * m, body="已下架同批次商品送检，并私信视频作者说明情况。")
    service.ticket_publish_statement(
        actor=agent,
        ticket=t,
        text="关于 TPE 瑜伽垫气味的说明：该批次已送 SGS 检测，结果符合国家标准；"
        "新品拆封后的轻微气味通风 1–2 天即可散去。"
        "介意的顾客可无理由退货，运费由我们承担。",
        at=at + 6 * h,
    )
    t = service.ticket_resolve(
        actor=agent,
        ticket=t,
        note="检测报告已公开，视频作者已更新说明，舆情平息。",
        no_remedy_reason="检测合格、商品无质量问题；介意气味的顾客按无理由退货处理，无需另行退款或补偿。",
        at=at + 20 * h,
    )
    service.ticket_close(actor=agent, ticket=t, at=at + 26 * h)

    # -- a general logistics complaint solved in time and closed
    at = now - 3 * 24 * h
    t = open_(
        at,
        customer_ref="demo-c012",
        subject="快递员没打电话就放快递柜",
        category="logistics",
        message="快递员没打招呼就把包裹放进快递柜，超时还要收费。",
    )
    reply(t, at + 20 * m, body="已向快递网点投诉并要求送货上门，快递柜超时费由我们承担。")
    t = service.ticket_resolve(actor=agent, ticket=t, note="快递已重新派送上门，顾客满意。", at=at + 90 * m)
    service.ticket_close(actor=agent, ticket=t, at=at + 3 * h)


def _sign_parcels(*, store: Store, delivered: Sequence[Any], actor: Actor) -> None:
    """The carriers' tracking of the delivered orders' parcels (picked up, signed for): the
    shipments the LOG-02 review invitations sweep starts from."""
    by_carrier: dict[Any, list[TrackingEventDraft]] = {}
    for order in delivered:
        for shipment in fulfilment_selectors.order_shipments(
            store=store, channel=order.channel_id, order_number=order.number
        ):
            picked = order.shipped_at + dt.timedelta(hours=2)
            by_carrier.setdefault(shipment.carrier, []).extend(
                [
                    TrackingEventDraft(
                        shipment.tracking_no, picked, "PICKUP", ParcelStatus.PICKED_UP, "杭州", "快递员已揽收"
                    ),
                    TrackingEventDraft(
                        shipment.tracking_no,
                        order.delivered_at,
                        "SIGNED",
                        ParcelStatus.DELIVERED,
                        order.city,
                        "已签收，签收人：本人",
                    ),
                ]
            )
    for carrier, drafts in by_carrier.items():
        fulfilment.tracking_events_ingest(
            actor=actor, carrier=carrier, drafts=drafts, source="demo", store=store
        )


NPS_COMMENTS = {
    "promoter": ("面料舒服，已经推荐给同事", "发货快，客服耐心", "回购第三次了"),
    "passive": ("还可以，价格再低点更好", "尺码偏小一点"),
    "detractor": ("物流太慢，等了五天", "退货流程太麻烦", "和图片色差大"),
}


def _nps(*, store: Store, channels: Mapping[str, Channel], now: dt.datetime, actor: Actor) -> None:
    """Eight weeks of NPS answers (DATA-01): the web shop's survey after delivery (API) and a
    survey tool's export (imported), improving from about 10 to about 35 over the weeks; the
    current week has few answers so far (shown, not judged)."""
    import random

    rng = random.Random(8)  # noqa: S311 (repeatable demo data, not secrets)
    today = timezone.localdate(now)
    monday = today - dt.timedelta(days=today.weekday())
    csv_rows = ["答卷编号,提交答卷时间,推荐意愿,渠道,推荐理由"]
    for weeks_ago in range(7, -1, -1):
        start = monday - dt.timedelta(weeks=weeks_ago)
        count = 6 if weeks_ago == 0 else 32 + rng.randrange(12)
        promoters = 0.38 + 0.035 * (7 - weeks_ago)
        for k in range(count):
            at = timezone.make_aware(dt.datetime.combine(start, dt.time(9))) + dt.timedelta(
                hours=rng.randrange(24 * 7)
            )
            if at > now:
                at = now - dt.timedelta(minutes=5 * (k + 1))
            draw = rng.random()
            if draw < promoters:
                score, band = rng.choice((9, 10, 10)), "promoter"
            elif draw < promoters + 0.3:
                score, band = rng.choice((7, 8)), "passive"
            else:
                score, band = rng.choice((2, 4, 5, 6, 6)), "detractor"
            comment = rng.choice(NPS_COMMENTS[band]) if k % 4 == 0 else ""
            if k % 2:  # the survey tool's answers, imported below
                channel = channels["tmall"].code if "tmall" in channels else ""
                when = f"{timezone.localtime(at):%Y-%m-%d %H:%M:%S}"
                csv_rows.append(f"WJX-{weeks_ago}-{k},{when},{score},{channel},{comment}")
                continue
            service.nps_record(
                actor=Actor.system("api"),
                store=store,
                score=score,
                channel=channels["web"],
                comment=comment,
                responded_at=at,
                now=now,
            )
    service.nps_import(
        actor=actor, store=store, file_name="问卷星导出.csv", data="\n".join(csv_rows).encode(), now=now
    )


def _reviews(*, store: Store, web: Channel, delivered: Sequence[Any], now: dt.datetime, actor: Actor) -> None:
    """About twenty reviews on the lines of the delivered orders (the two oldest orders are left
    for the review invitations); every third one with photos earns the reward coupon."""
    pants, other = iter(PANTS_REVIEWS), iter(OTHER_REVIEWS)
    n = 0
    for order in sorted(delivered, key=lambda o: o.delivered_at)[2:]:
        for line in order.lines.select_related("sku").order_by("pk"):
            picked = next(pants if line.sku.code.startswith("YOGA-004") else other, None)
            if picked is None:
                continue
            rating, text = picked
            n += 1
            photos = [f"https://img.example.com/reviews/{order.number}-{k}.jpg" for k in (1, 2)]
            service.review_create(
                actor=Actor.system("api"),
                store=store,
                channel=web,
                order_ref=order.number,
                sku_code=line.sku.code,
                customer_ref=order.customer_ref,
                rating=rating,
                text=text,
                images=photos if n % 3 == 0 and rating >= 4 else [],
                created_at=min(order.delivered_at + dt.timedelta(hours=1 + n % 3), now),
            )
