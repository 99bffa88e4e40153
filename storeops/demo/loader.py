"""A small demo store: channels, qualifications (one expiring, one expired), launch plans,
one user per role — enough for the checks to find real problems on first start."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from storeops.accounts.roles import Role
from storeops.accounts.services import user_create
from storeops.analytics import services as analytics
from storeops.core.context import Actor
from storeops.demo.analytics_ops_demo import load_segments_and_reports_demo
from storeops.demo.behaviour_demo import load_behaviour_demo
from storeops.demo.catalog_demo import _now_for, load_catalog_demo
from storeops.demo.marketing_demo import load_marketing_demo
from storeops.demo.members_demo import load_members_demo
from storeops.demo.operations_demo import load_operations_demo
from storeops.demo.outreach_demo import load_outreach_demo
from storeops.demo.recommend_demo import load_recommend_demo
from storeops.stores import services as stores
from storeops.stores.models import ChannelKind, KpiMetric, LaunchStep, QualificationKind, Store

DEMO_STORE = "demo"
DEMO_PASSWORD = "storeops-demo"  # noqa: S105 - printed to the operator on purpose; demo data only


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: Role


def demo_logins() -> list[DemoLogin]:
    return [DemoLogin(f"demo_{role.value}", DEMO_PASSWORD, role) for role in Role]


def demo_load(*, today: dt.date | None = None) -> tuple[Store, bool]:
    """Create the demo store and users if missing. Returns (store, created)."""
    today = today or timezone.localdate()
    existing = Store.objects.filter(code=DEMO_STORE).first()
    if existing is not None:
        return existing, False
    actor = Actor.system("cli")
    User = get_user_model()  # noqa: N806
    with transaction.atomic():
        for login in demo_logins():
            if not User.objects.filter(username=login.username).exists():
                user_create(
                    actor=actor,
                    username=login.username,
                    password=login.password,
                    roles=[login.role],
                    email=f"{login.username}@example.com",
                    is_superuser=login.role == Role.OWNER,
                )
        store = stores.store_create(
            actor=actor, code=DEMO_STORE, name="悦享生活旗舰店", legal_name="杭州悦享生活电子商务有限公司"
        )
        channels = {}
        for kind, code, name in [
            (ChannelKind.OWN_WEB, "web", "悦享官网商城"),
            (ChannelKind.TMALL, "tmall", "悦享生活天猫旗舰店"),
            (ChannelKind.JD, "jd", "悦享生活京东自营店"),
            (ChannelKind.DOUYIN, "douyin", "悦享生活抖音小店"),
            (ChannelKind.PINDUODUO, "pdd", "悦享生活拼多多店"),
        ]:
            channels[code] = stores.channel_create(actor=actor, store=store, kind=kind, code=code, name=name)
        for kind, title, issuer, valid_from, valid_to in [
            (
                QualificationKind.BUSINESS_LICENSE,
                "营业执照",
                "杭州市市场监督管理局",
                today - dt.timedelta(days=900),
                None,
            ),
            (
                QualificationKind.TRADEMARK,
                "“悦享”商标注册证",
                "国家知识产权局",
                today - dt.timedelta(days=700),
                today + dt.timedelta(days=2200),
            ),
            (
                QualificationKind.BRAND_AUTHORIZATION,
                "某进口咖啡品牌授权书",
                "品牌方",
                today - dt.timedelta(days=345),
                today + dt.timedelta(days=20),
            ),
            (
                QualificationKind.FOOD_LICENSE,
                "食品经营许可证",
                "杭州市市场监督管理局",
                today - dt.timedelta(days=1830),
                today - dt.timedelta(days=5),
            ),
            (
                QualificationKind.QC_REPORT,
                "瑜伽垫质检报告",
                "SGS 通标标准技术服务有限公司",
                today - dt.timedelta(days=100),
                today + dt.timedelta(days=265),
            ),
        ]:
            stores.qualification_create(
                actor=actor,
                store=store,
                kind=kind,
                title=title,
                issuer=issuer,
                valid_from=valid_from,
                valid_to=valid_to,
            )
        # RISK-03: platform rule changes — one overdue, one being adjusted, one done.
        known = _now_for(today)
        for platform, title, summary, hours_ago, state in (
            (
                "tmall",
                "天猫《虚假宣传违规处理规则》修订",
                "功效类描述须附检测报告，否则按虚假宣传扣 6 分；7 日后生效。",
                20,  # due in 4 hours: a warning (the demo's one critical finding is STORE-02's)
                "new",
            ),
            (
                "douyin",
                "抖音电商直播间禁用极限词清单更新",
                "新增“全网最低”“史上最强”等 12 个词，主播话术与商品标题均适用。",
                6,
                "adjusting",
            ),
            ("jd", "京东生鲜类目发货时效调整", "生鲜订单须 12 小时内发货。", 50, "not_applicable"),
        ):
            change = stores.rule_change_record(
                actor=actor,
                store=store,
                platform=platform,
                title=title,
                summary=summary,
                announced_at=known - dt.timedelta(hours=hours_ago),
                effective_on=today + dt.timedelta(days=7),
                now=known,
            )
            if state == "adjusting":
                stores.rule_change_assess(
                    actor=actor,
                    change=change,
                    applies=True,
                    assessment="主播话术库和 4 个商品标题需修改",
                    now=known,
                )
            elif state == "not_applicable":
                stores.rule_change_assess(
                    actor=actor, change=change, applies=False, assessment="本店不售生鲜", now=known
                )
        # DATA-07: two A/B tests this month — one with a clear winner, one still undecided.
        for name, subject, control, challenger, a, b in (
            (
                "瑜伽裤主图：白底 vs 场景",
                "main_image",
                "白底平铺图",
                "健身房场景模特图",
                (9800, 294),
                (9750, 351),
            ),
            ("首页横幅文案", "banner", "满199减20", "第二件半价", (4200, 126), (4150, 129)),
        ):
            experiment = analytics.experiment_create(
                actor=actor,
                store=store,
                name=name,
                subject=subject,
                control=control,
                challenger=challenger,
                now=known - dt.timedelta(days=6),
            )
            for code, (visitors, conversions) in (("A", a), ("B", b)):
                analytics.experiment_record(
                    actor=actor,
                    experiment=experiment,
                    variant=code,
                    visitors=visitors,
                    conversions=conversions,
                )
        # Douyin shop is being launched: checklist partly done, go-live date already passed.
        plan = stores.launch_plan_create(
            actor=actor,
            channel=channels["douyin"],
            planned_go_live=today - dt.timedelta(days=2),
            market_research="抖音家居类目30天增长38%，竞争度0.42，适合入驻。",
        )
        stores.launch_targets_set(
            actor=actor,
            plan=plan,
            months=3,
            targets={
                (m, metric): value
                for m in (1, 2, 3)
                for metric, value in (
                    (KpiMetric.GMV, Decimal(200000 * m)),
                    (KpiMetric.NEW_USERS, Decimal(3000 * m)),
                    (KpiMetric.CONVERSION, Decimal("0.02")),
                )
            },
        )
        for step in (
            LaunchStep.MARKET_RESEARCH,
            LaunchStep.QUALIFICATIONS,
            LaunchStep.TEST_REGISTER,
            LaunchStep.TEST_BROWSE,
        ):
            stores.launch_step_complete(actor=actor, plan=plan, step=step)
        # STORE-07: the own web shop went live 20 days ago after its full-chain test; its first
        # month is measured to date from its orders and visitors (the launch plan page).
        web_plan = stores.launch_plan_create(
            actor=actor,
            channel=channels["web"],
            planned_go_live=today - dt.timedelta(days=21),
            market_research="自营官网承接老客复购与会员运营，目标人群25–40岁城市白领，家居、咖啡类目为主。",
        )
        stores.launch_targets_set(
            actor=actor,
            plan=web_plan,
            months=3,
            targets={
                (m, metric): value
                for m in (1, 2, 3)
                for metric, value in (
                    (KpiMetric.GMV, Decimal(20000 * m)),
                    (KpiMetric.NEW_USERS, Decimal(60 * m)),
                    (KpiMetric.CONVERSION, Decimal("0.03")),
                )
            },
        )
        for days_before, step, note in (
            (30, LaunchStep.MARKET_RESEARCH, ""),
            (28, LaunchStep.QUALIFICATIONS, ""),
            (25, LaunchStep.KPI_TARGETS, ""),
            (23, LaunchStep.TEST_REGISTER, "手机号注册、验证码正常"),
            (23, LaunchStep.TEST_BROWSE, "首页、类目、搜索、详情页正常"),
            (22, LaunchStep.TEST_ORDER, "下单、优惠券抵扣正常"),
            (22, LaunchStep.TEST_PAY, "支付宝、微信沙箱支付成功"),
            (21, LaunchStep.TEST_AFTERSALES, "仅退款、退货退款流程走通"),
        ):
            stores.launch_step_complete(
                actor=actor,
                plan=web_plan,
                step=step,
                note=note,
                now=known - dt.timedelta(days=days_before),
            )
        stores.launch_go_live(actor=actor, plan=web_plan, today=today - dt.timedelta(days=20))
        # Pinduoduo ships faster than the store default.
        stores.playbook_update(
            actor=actor, store=store, channel=channels["pdd"], values={"ship_promise_hours": 24}
        )
        # SEL-04: price band tags follow the lowest SKU price (0-50元, 50-100元, 100-200元, 200元以上)
        stores.playbook_update(actor=actor, store=store, values={"tag_price_band_edges": "50,100,200"})
        products = load_catalog_demo(store=store, channels=channels, today=today, actor=actor)
        now = _now_for(today)
        load_operations_demo(store=store, channels=channels, products=products, now=now, actor=actor)
        load_members_demo(store=store, now=now, actor=actor)  # MEM-01/02/03/05
        load_segments_and_reports_demo(store=store, today=today, actor=actor)
        load_behaviour_demo(store=store, channels=channels, products=products, now=now, actor=actor)
        load_recommend_demo(store=store, actor=actor)
        load_outreach_demo(store=store, now=now, actor=actor)  # MEM-06
        load_marketing_demo(store=store, channels=channels, products=products, now=now)  # PROMO-05/06
    return store, True
