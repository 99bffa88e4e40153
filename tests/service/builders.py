"""Builders for customer-service tests: tickets at given times, scripts, delivered orders."""

from __future__ import annotations

import datetime as dt

from storeops.core.context import Actor
from storeops.service import services

ACTOR = Actor.system("cli")
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def at(hours: float = 0, *, minutes: float = 0, seconds: float = 0) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours, minutes=minutes, seconds=seconds)


def agent(make_user, name: str = "agent1"):
    from storeops.accounts.roles import Role

    return make_user(Role.CUSTOMER_SERVICE, username=name)


def a_ticket(store, channel, *, actor: Actor = ACTOR, opened: dt.datetime = T0, **kw):
    data = {
        "customer_ref": "c1",
        "subject": "快递三天没动",
        "category": "logistics",
        "tier": "general",
        "message": "我的快递三天没有物流更新了",
        **kw,
    }
    return services.ticket_open(actor=actor, store=store, channel=channel, opened_at=opened, **data)


def a_script(
    store,
    title: str = "物流查询",
    *,
    keywords="物流,快递,没动",
    body="亲爱的{customer}，订单{order}的物流我们正在跟进。",
    **kw,
):
    return services.script_create(actor=ACTOR, store=store, title=title, body=body, keywords=keywords, **kw)
