"""How the service app reaches people.

* Staff (the crisis emergency group, CS-01) through the SOP notification channels
  (``sop.notify``: e-mail plus ``STOREOPS_NOTIFICATION_CHANNELS``).
* Customers (review invitations, LOG-02) through the customer notifiers listed in
  ``STOREOPS_CUSTOMER_NOTIFIERS`` (SMS gateways, marketplace in-app messages …), the same
  setting the orders app uses. They are loaded by dotted path, so this app does not import
  the orders app.
"""

from __future__ import annotations

from typing import Any, Protocol

from django.conf import settings
from django.utils.module_loading import import_string


class CustomerNotifier(Protocol):
    def send(self, *, phone: str, channel: str, text: str) -> bool: ...


def customer_notifiers() -> list[Any]:
    return [import_string(path)() for path in settings.STOREOPS_CUSTOMER_NOTIFIERS]
