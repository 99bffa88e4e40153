"""The seven job roles of SOP STORE-04 and what each may do.

Each role is a Django group. Its permissions are declared here as patterns over Django
permission names ``app_label.codename`` (``*`` matches any run of characters) and synced
to the group after every migration, so a new model's permissions reach the right roles
without a hand-written migration. The table is the single source of truth: the API, the
console and the admin all check Django permissions.
"""

from __future__ import annotations

import enum
from fnmatch import fnmatchcase

from django.utils.translation import gettext_lazy as _


class Role(enum.StrEnum):
    OWNER = "owner"
    OPERATIONS = "operations"
    MARKETING = "marketing"
    CUSTOMER_SERVICE = "customer_service"
    WAREHOUSE = "warehouse"
    FINANCE = "finance"
    ANALYST = "analyst"

    @property
    def label(self) -> str:
        return str(ROLE_LABELS[self])

    @property
    def group_name(self) -> str:
        return self.value


ROLE_LABELS = {
    Role.OWNER: _("店主/管理员"),
    Role.OPERATIONS: _("运营"),
    Role.MARKETING: _("推广"),
    Role.CUSTOMER_SERVICE: _("客服"),
    Role.WAREHOUSE: _("仓储"),
    Role.FINANCE: _("财务"),
    Role.ANALYST: _("数据分析"),
}

# Everyone who works in the store may read its stores/channels and the findings board.
_COMMON = ("stores.view_store", "stores.view_channel", "sop.view_finding", "stores.view_playbook")

ROLE_PERMISSIONS: dict[Role, tuple[str, ...]] = {
    Role.OWNER: ("*",),
    # 运营: list/delist products, prices, promotions; owns most SOP findings.
    Role.OPERATIONS: (
        *_COMMON,
        "stores.view_*",
        "stores.add_qualification",
        "stores.change_qualification",
        "stores.change_launchplan",
        "stores.add_launchplan",
        "stores.change_playbook",
        "stores.add_playbook",
        "stores.add_platformrulechange",  # RISK-03: record, assess and close platform rule changes
        "stores.change_platformrulechange",
        "catalog.*",
        "pricing.*",
        "promotions.*",
        "marketing.view_*",
        "marketing.approve_operations",  # PROMO-05: the operations lead approves campaigns first
        "inventory.view_*",
        "orders.view_*",
        "orders.place_order",  # the own web shop's storefront token is an operations token
        "orders.review_order",
        "orders.change_order",
        "orders.cancel_order",
        "orders.freeze_account",  # RISK-01: confirm order brushing, freeze/lift accounts
        "analytics.add_experiment",  # DATA-07: A/B tests
        "analytics.change_experiment",
        "analytics.add_customersnapshot",  # MEM-04: take the segment snapshot, act on segments,
        "analytics.run_segment_action",  # export a segment's customer list
        "analytics.export_segment",
        "analytics.add_operationsreport",  # DATA-06: generate operations reports on demand
        "orders.import_orders",  # marketplace order import (issue 6)
        "orders.*_orderimportmapping",
        "orders.add_invoicerequest",  # ORD-07: record a customer's invoice request
        "aftersales.view_*",  # AS-05: return rates per product
        "analytics.view_*",
        "behaviour.view_*",  # DATA-04/05: funnel, paths, traffic sources
        "behaviour.ingest_event",  # the own web shop's storefront token posts behaviour events
        "behaviour.add_sourcecost",  # DATA-04: what a traffic source cost
        "behaviour.change_sourcecost",
        "outreach.view_*",  # MEM-06: campaigns and their conversion
        "service.view_*",  # complaints and reviews feed listings and the CS-04 report
        "members.*",  # MEM-01/02/03/05: members, points, tier coupons, referral
        "service.add_incident",  # RISK-04: operations leads the system-failure playbook
        "service.change_incident",
        "audit.view_auditentry",
        "sop.change_finding",
        "sop.run_checks",
        "recommend.*",  # REC-01/02: neighbours and their rebuild
    ),
    # 推广: campaigns, ads, outreach.
    Role.MARKETING: (
        *_COMMON,
        # not "marketing.*": the operations and finance approvals of PROMO-05 belong to those roles
        "marketing.add_*",
        "marketing.change_*",
        "marketing.delete_*",
        "marketing.view_*",
        "marketing.approve_marketing",
        "promotions.view_*",
        "catalog.view_*",
        "analytics.view_*",
        "members.*",  # MEM-01/02/03/05: members, points, tier coupons, referral
        "analytics.run_segment_action",  # MEM-04: segment coupons and the outreach list
        "analytics.export_segment",
        "behaviour.view_*",  # DATA-04: traffic sources and their spend
        "behaviour.add_sourcecost",
        "behaviour.change_sourcecost",
        "outreach.*",  # MEM-06: templates, consent, campaigns, gateway receipts
        "sop.change_finding",
        "recommend.view_*",  # REC-01/02: which products are recommended together
    ),
    # 客服: tickets, after-sales within limits.
    Role.CUSTOMER_SERVICE: (
        *_COMMON,
        # every service permission except service.supervise_ticket (transferring another
        # agent's ticket, CS-02 首问负责制): supervisors get it per user, owners have "*"
        "service.view_*",
        "service.add_*",
        "service.change_*",
        "service.delete_*",
        "aftersales.*",
        "orders.view_*",
        "!orders.view_paymentstatement*",  # the providers' statements are finance data (ORD-06)
        "!orders.view_settlement*",  # the marketplaces' settlement reports too (ORD-06)
        "orders.review_order",
        "orders.change_order",
        "orders.cancel_order",
        "orders.add_invoicerequest",  # ORD-07: record a customer's invoice request
        "catalog.view_*",
        "members.view_*",
        "members.adjust_points",  # MEM-02: within the playbook's points_adjust_limit
        "members.redeem_points",  # a customer's points redemption taken by the agent
        "analytics.view_customersnapshot",  # MEM-04: high-value customers get dedicated service
        "outreach.view_consent",  # MEM-06: a customer asks service to stop (or start) messages
        "outreach.change_consent",
        "privacy.view_datarequest",  # DATA-09: record customers' personal-data requests, send the
        "privacy.add_datarequest",  # copy, refuse with a reason (deleting is the owner's)
        "privacy.change_datarequest",
        "privacy.export_personal_data",
        "sop.change_finding",
    ),
    # 仓储: stock, counts, shipments.
    Role.WAREHOUSE: (
        *_COMMON,
        "inventory.*",
        "fulfilment.*",
        "orders.view_*",
        "!orders.view_paymentstatement*",  # the providers' statements are finance data (ORD-06)
        "!orders.view_settlement*",  # the marketplaces' settlement reports too (ORD-06)
        "orders.ship_order",
        "aftersales.view_*",
        "aftersales.handle_returns",  # AS-04: returned parcels, QC, exchange shipments
        "catalog.view_*",
        "catalog.set_sku_shipping",  # LOG-03: SKU weight and fragility, as weighed (not catalog.change_sku)
        "sop.change_finding",
    ),
    # 财务: read-only orders and finance data; approves budgets.
    Role.FINANCE: (
        *_COMMON,
        "*.view_*",
        "!privacy.*",  # customers' personal-data requests (DATA-09) are not finance data
        "marketing.approve_budget",
        "orders.issue_invoice",  # ORD-07: issue, reject and reverse invoices
        "orders.reconcile_payments",  # ORD-06: provider statements, applying a missed payment
        "orders.reconcile_settlements",  # ORD-06: marketplace settlement reports
    ),
    # 数据分析: read-only analytics.
    Role.ANALYST: (
        *_COMMON,
        "analytics.view_*",
        "behaviour.view_*",  # DATA-04/05: funnel, paths, traffic sources
        "outreach.view_*",
        "pricing.view_*",  # DATA-08: profitability needs the unit costs
        "fulfilment.view_*",
        "marketing.view_*",
        "promotions.view_*",
        "catalog.view_*",
        "orders.view_*",
        "inventory.view_*",
        "aftersales.view_*",  # AS-05: return rates and reasons
        "service.view_*",  # CS-04 complaint analysis
        "members.view_*",  # MEM-01/02/05: tiers, points, referral statistics
        "recommend.view_*",  # REC-01: the neighbour tables
    ),
}

# Never granted by pattern: editing the operation log is impossible for everyone (STORE-05).
_NEVER = ("audit.add_auditentry", "audit.change_auditentry", "audit.delete_auditentry")


def role_grants(role: Role, permission: str) -> bool:
    """Does ``role`` get ``permission`` (``app_label.codename``)? A pattern starting with ``!``
    takes back what a wider pattern of the same role gives."""
    if permission in _NEVER:
        return False
    patterns = ROLE_PERMISSIONS[role]
    if any(p.startswith("!") and fnmatchcase(permission, p[1:]) for p in patterns):
        return False
    return any(fnmatchcase(permission, p) for p in patterns if not p.startswith("!"))
