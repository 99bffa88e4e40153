"""Every change of customer-service data. Atomic, validated and audited.

* Tickets (CS-01/02): open, messages (agent reply, customer message with FAQ auto-answer),
  transfer (首问负责制), escalate (crisis → emergency group + statement deadline), statement,
  resolve (optional compensation coupon through promotions), close, reopen. Transitions follow
  :data:`rules.TRANSITIONS`; anything else is :class:`InvalidTransition`.
* Reply scripts (CS-03): create, update, delete.
* Reports (CS-04): generate and store a period's root-cause report.
* System failures (RISK-04): open, failover, recover, notice to the customers touched,
  compensation coupon, close with the post-mortem.
* Mass negative-review attacks (RISK-02): opened when a review completes a burst; the
  playbook's steps (preserve evidence → appeal → communicate) recorded in order.
* Reviews and invitations (LOG-02): a review with photos earns the playbook's reward coupon;
  :func:`review_invitations_send` is the idempotent periodic sweep.
"""

from storeops.service.services.attacks import review_attack_detect, review_attack_step
from storeops.service.services.incidents import (
    NOTICE_CHANNELS,
    incident_affected_orders,
    incident_close,
    incident_compensate,
    incident_failover,
    incident_notify,
    incident_open,
    incident_recover,
)
from storeops.service.services.nps import NpsImportResult, nps_import, nps_record
from storeops.service.services.reports import report_generate, reports_generate_weekly
from storeops.service.services.reviews import (
    INVITATION_LOOKBACK,
    INVITATION_MAX_ATTEMPTS,
    InvitationResult,
    review_create,
    review_invitations_send,
)
from storeops.service.services.scripts import script_create, script_delete, script_update
from storeops.service.services.tickets import (
    EMERGENCY_ROLES,
    HANDLE,
    SUPERVISE,
    CustomerMessageResult,
    sla_policy,
    ticket_close,
    ticket_customer_message,
    ticket_escalate,
    ticket_open,
    ticket_publish_statement,
    ticket_reopen,
    ticket_reply,
    ticket_resolve,
    ticket_transfer,
)

__all__ = [
    "EMERGENCY_ROLES",
    "HANDLE",
    "INVITATION_LOOKBACK",
    "INVITATION_MAX_ATTEMPTS",
    "NOTICE_CHANNELS",
    "SUPERVISE",
    "CustomerMessageResult",
    "InvitationResult",
    "NpsImportResult",
    "incident_affected_orders",
    "incident_close",
    "incident_compensate",
    "incident_failover",
    "incident_notify",
    "incident_open",
    "incident_recover",
    "nps_import",
    "nps_record",
    "report_generate",
    "reports_generate_weekly",
    "review_attack_detect",
    "review_attack_step",
    "review_create",
    "review_invitations_send",
    "script_create",
    "script_delete",
    "script_update",
    "sla_policy",
    "ticket_close",
    "ticket_customer_message",
    "ticket_escalate",
    "ticket_open",
    "ticket_publish_statement",
    "ticket_reopen",
    "ticket_reply",
    "ticket_resolve",
    "ticket_transfer",
]
