"""The customer-service routes and pages in the permission matrix (tests/test_permission_matrix.py)."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from storeops.accounts.roles import Role
from storeops.accounts.services import user_create
from storeops.core.context import Actor
from storeops.service import services
from tests.conftest import PASSWORD
from tests.service.builders import ACTOR, a_script

_T = "/service/{store}/tickets"
_S = "/service/{store}/scripts"
_I = "/service/{store}/incidents"
UPLOAD_SERVICE_ROUTES = {("POST", "/service/{store_id}/nps/import")}

SERVICE_API_CASES = {
    ("GET", "/service/{store_id}/tickets"): (_T + "?status=active&tier=general", None),
    ("GET", "/service/{store_id}/tickets/{ticket_id}"): (_T + "/{sv_ticket}", None),
    ("POST", "/service/{store_id}/tickets"): (
        _T,
        {"channel_id": "{channel}", "customer_ref": "c5", "subject": "物流慢", "category": "logistics"},
    ),
    ("POST", "/service/{store_id}/tickets/{ticket_id}/messages"): (
        _T + "/{sv_ticket}/messages",
        {"body": "您好"},
    ),
    ("POST", "/service/{store_id}/tickets/{ticket_id}/transfer"): (
        _T + "/{sv_ticket}/transfer",
        {"to_user_id": "{sv_boss}", "reason": "交接"},
    ),
    ("POST", "/service/{store_id}/tickets/{ticket_id}/escalate"): (
        _T + "/{sv_ticket}/escalate",
        {"tier": "serious", "reason": "质量问题"},
    ),
    ("POST", "/service/{store_id}/tickets/{ticket_id}/statement"): (
        _T + "/{sv_crisis}/statement",
        {"text": "情况说明"},
    ),
    ("POST", "/service/{store_id}/tickets/{ticket_id}/resolve"): (
        _T + "/{sv_ticket}/resolve",
        {"note": "已处理"},
    ),
    ("POST", "/service/{store_id}/tickets/{ticket_id}/close"): (_T + "/{sv_resolved}/close", {}),
    ("POST", "/service/{store_id}/tickets/{ticket_id}/reopen"): (
        _T + "/{sv_closed}/reopen",
        {"reason": "未解决"},
    ),
    ("GET", "/service/{store_id}/scripts"): (_S, None),
    ("POST", "/service/{store_id}/scripts"): (_S, {"title": "新话术", "body": "您好", "keywords": ["你好"]}),
    ("PATCH", "/service/{store_id}/scripts/{script_id}"): (_S + "/{sv_script}", {"is_quick": True}),
    ("DELETE", "/service/{store_id}/scripts/{script_id}"): (_S + "/{sv_script}", None),
    ("POST", "/service/{store_id}/reply-suggestions"): (
        "/service/{store}/reply-suggestions",
        {"text": "快递没动"},
    ),
    ("GET", "/service/{store_id}/reviews"): ("/service/{store}/reviews", None),
    ("POST", "/service/{store_id}/reviews"): (
        "/service/{store}/reviews",
        {"channel_id": "{channel}", "order_ref": "O-R1", "sku_code": "S1", "customer_ref": "c1", "rating": 5},
    ),
    ("GET", "/service/{store_id}/report"): ("/service/{store}/report", None),
    # DATA-01: net promoter score
    ("GET", "/service/{store_id}/nps"): ("/service/{store}/nps?band=detractor&q=慢", None),
    ("POST", "/service/{store_id}/nps"): ("/service/{store}/nps", {"score": 9, "channel_id": "{channel}"}),
    ("POST", "/service/{store_id}/nps/import"): (
        "/service/{store}/nps/import",
        {"file": "推荐意愿,意见\n3,物流太慢\n"},
    ),
    ("GET", "/service/{store_id}/nps/weekly"): ("/service/{store}/nps/weekly?weeks=4", None),
    # RISK-02: mass negative-review attacks
    ("GET", "/service/{store_id}/review-attacks"): ("/service/{store}/review-attacks?status=open", None),
    ("GET", "/service/{store_id}/review-attacks/{attack_id}"): (
        "/service/{store}/review-attacks/{sv_attack}",
        None,
    ),
    ("POST", "/service/{store_id}/review-attacks/{attack_id}/steps"): (
        "/service/{store}/review-attacks/{sv_attack}/steps",
        {"step": "evidence", "note": "已截图存档"},
    ),
    # RISK-04: system failures
    ("GET", "/service/{store_id}/incidents"): (_I + "?status=open", None),
    ("POST", "/service/{store_id}/incidents"): (
        _I,
        {"title": "网店宕机", "started_at": "2026-01-01T09:00:00+08:00"},
    ),
    ("GET", "/service/{store_id}/incidents/{incident_id}"): (_I + "/{sv_incident}", None),
    ("POST", "/service/{store_id}/incidents/{incident_id}/failover"): (
        _I + "/{sv_incident}/failover",
        {"note": "切换备用通道"},
    ),
    ("POST", "/service/{store_id}/incidents/{incident_id}/recover"): (
        _I + "/{sv_incident}/recover",
        {"ended_at": "2026-01-01T10:00:00+08:00"},
    ),
    ("POST", "/service/{store_id}/incidents/{incident_id}/notice"): (
        _I + "/{sv_incident}/notice",
        {"text": "抱歉，系统故障已恢复"},
    ),
    ("POST", "/service/{store_id}/incidents/{incident_id}/compensate"): (
        _I + "/{sv_incident}/compensate",
        {"template_id": "{sv_coupon_template}"},
    ),
    ("POST", "/service/{store_id}/incidents/{incident_id}/close"): (
        _I + "/{sv_recovered}/close",
        {"note": "复盘"},
    ),
}

SERVICE_CONSOLE_CASES = {
    "console:service_desk": ("GET", "/service/?status=active&overdue=1", None),
    "console:service_ticket_new": (
        "POST",
        "/service/tickets/new/",
        {"channel": "{channel}", "customer_ref": "c9", "subject": "少件", "category": "logistics"},
    ),
    "console:service_ticket_detail": ("GET", "/service/tickets/{sv_ticket}/", None),
    "console:service_ticket_action": ("POST", "/service/tickets/{sv_ticket}/reply/", {"body": "您好"}),
    "console:service_scripts": ("GET", "/service/scripts/?test=快递没动", None),
    "console:service_script_action": ("POST", "/service/scripts/{sv_script}/quick/", {}),
    "console:service_report": ("GET", "/service/report/", None),
    "console:service_report_export": ("GET", "/service/report.xlsx", None),
    "console:service_reviews": ("GET", "/service/reviews/", None),
    "console:service_nps": ("GET", "/service/nps/?band=promoter&weeks=4", None),
    "console:service_nps_record": ("POST", "/service/nps/record/", {"score": "9"}),
    "console:service_nps_import": ("POST", "/service/nps/import/", {}, 422),  # no file: refused
    "console:service_review_attacks": ("GET", "/service/review-attacks/?status=open", None),
    "console:service_review_attack": ("GET", "/service/review-attacks/{sv_attack}/", None),
    "console:service_review_attack_step": (
        "POST",
        "/service/review-attacks/{sv_attack}/step/",
        {"step": "evidence", "note": "已截图存档"},
    ),
    "console:incidents": ("GET", "/service/incidents/?status=open", None),
    "console:incident_open": (
        "POST",
        "/service/incidents/open/",
        {"title": "网店宕机", "started_at": "2026-01-01T09:00"},
    ),
    "console:incident_detail": ("GET", "/service/incidents/{sv_incident}/", None),
    "console:incident_failover": ("POST", "/service/incidents/{sv_incident}/failover/", {"note": "切换"}),
    "console:incident_recover": (
        "POST",
        "/service/incidents/{sv_incident}/recover/",
        {"ended_at": "2026-01-01T10:00"},
    ),
    "console:incident_notice": ("POST", "/service/incidents/{sv_incident}/notice/", {"text": "抱歉"}),
    "console:incident_compensate": (
        "POST",
        "/service/incidents/{sv_incident}/compensate/",
        {"template_id": "{sv_coupon_template}"},
    ),
    "console:incident_close": ("POST", "/service/incidents/{sv_recovered}/close/", {"note": "复盘"}),
}


def service_world(store, channel, owner):
    """Tickets owned by the customer-service user of the matrix (first contact), one resolved,
    one closed, one crisis; a reply script; incidents; a negative-review attack (RISK-02)."""
    name = f"u_{Role.CUSTOMER_SERVICE.value}"
    agent = get_user_model().objects.filter(username=name).first() or user_create(
        actor=ACTOR,
        username=f"u_{Role.CUSTOMER_SERVICE.value}",
        password=PASSWORD,
        roles=[Role.CUSTOMER_SERVICE],
        email=f"u_{Role.CUSTOMER_SERVICE.value}@example.com",
    )
    as_agent = Actor(user=agent)

    def ticket(**kw):
        return services.ticket_open(
            actor=as_agent,
            store=store,
            channel=channel,
            customer_ref="c1",
            subject="快递三天没动",
            category="logistics",
            **kw,
        )

    resolved = services.ticket_resolve(actor=as_agent, ticket=ticket(), note="已处理")
    closed = services.ticket_close(
        actor=as_agent, ticket=services.ticket_resolve(actor=as_agent, ticket=ticket(), note="ok")
    )
    import datetime as dt

    from storeops.promotions import services as promo

    start = dt.datetime(2026, 1, 1, 1, 0, tzinfo=dt.UTC)
    incident = services.incident_open(actor=ACTOR, store=store, title="支付中断", started_at=start)
    recovered = services.incident_open(actor=ACTOR, store=store, title="网店宕机", started_at=start)
    services.incident_recover(actor=ACTOR, incident=recovered, ended_at=start + dt.timedelta(hours=1))
    template = promo.coupon_template_create(
        actor=ACTOR, store=store, name="故障补偿", kind="no_threshold", amount="5"
    )
    for n in range(10):  # the playbook's review_attack_count: a burst of one-star reviews
        services.review_create(
            actor=ACTOR,
            store=store,
            channel=channel,
            order_ref=f"O-ATK{n}",
            sku_code="S1",
            customer_ref=f"atk{n}",
            rating=1,
            text="差",
            created_at=start + dt.timedelta(minutes=n),
        )
    from storeops.service.models import ReviewAttack

    return {
        "sv_attack": ReviewAttack.objects.get(store=store).pk,
        "sv_incident": incident.pk,
        "sv_recovered": recovered.pk,
        "sv_coupon_template": template.pk,
        "sv_ticket": ticket().pk,
        "sv_resolved": resolved.pk,
        "sv_closed": closed.pk,
        "sv_crisis": ticket(tier="crisis").pk,
        "sv_script": a_script(store).pk,
        "sv_boss": owner.pk,
    }
