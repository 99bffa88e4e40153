"""Read-only access to the operation log: there is deliberately no write route."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from storeops.accounts.access import perm
from storeops.audit import selectors
from storeops.core.api import Page, paginate

router = Router(tags=["audit"])


class AuditOut(Schema):
    id: int
    at: dt.datetime
    actor_label: str
    via: str
    action: str
    object_type: str
    object_id: str
    object_repr: str
    store_id: int | None
    before: Any
    after: Any
    note: str


@router.get("/", response=Page[AuditOut], auth=perm("audit.view_auditentry"))
def audit_list(
    request: HttpRequest,
    store_id: int | None = None,
    action: str = "",
    object_type: str = "",
    object_id: str = "",
    actor: str = "",
    q: str = "",
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    page: int = 1,
    page_size: int = 50,
) -> dict[str, Any]:
    qs = selectors.audit_list(
        store_id=store_id,
        action=action,
        object_type=object_type,
        object_id=object_id,
        actor=actor,
        q=q,
        since=since,
        until=until,
    )
    return paginate(qs, page, page_size)
