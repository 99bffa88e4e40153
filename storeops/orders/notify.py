"""How customers are told about their orders (ORD-04): SMS gateways, call-centre queues,
in-app messages implement :class:`CustomerNotifier` and are listed in the setting
``STOREOPS_CUSTOMER_NOTIFIERS``. :class:`LogNotifier` writes to the log and is the default,
so an installation without an SMS contract still records every notification it owes."""

from __future__ import annotations

import logging
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

log = logging.getLogger("storeops.notify.customer")


class CustomerNotifier(Protocol):
    def send(self, *, phone: str, channel: str, text: str) -> bool:
        """Send ``text`` to ``phone`` by ``channel`` (sms / phone / message); True if accepted."""
        ...


class LogNotifier:
    def send(self, *, phone: str, channel: str, text: str) -> bool:
        masked = phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else "****"
        log.info("customer %s via %s: %s", masked, channel, text)
        return True


def configured_notifiers() -> list[CustomerNotifier]:
    return [import_string(path)() for path in settings.STOREOPS_CUSTOMER_NOTIFIERS]
