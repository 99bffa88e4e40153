"""How outreach messages leave StoreOps: SMS, e-mail and push gateways implement
:class:`OutreachSender` and are listed in the setting ``STOREOPS_OUTREACH_SENDERS``; for each
message the first sender of its channel that accepts it carries it (the next ones are
fallbacks). The gateway reports delivery later to ``POST /outreach/{store}/receipts`` with the
``message_id`` it was given. :class:`LogSender` is the default: it writes a masked line to the
log and accepts everything, so an installation without a gateway contract still keeps the full
record of who would have been messaged and why others were not."""

from __future__ import annotations

import logging
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from storeops.outreach.rules import mask_address

log = logging.getLogger("storeops.outreach")


class OutreachSender(Protocol):
    channels: frozenset[str]  # the channels this gateway carries (sms / email / push)

    def send(self, *, message_id: int, channel: str, address: str, text: str) -> bool:
        """Hand one message to the gateway; True if it was accepted."""
        ...


class LogSender:
    channels = frozenset({"sms", "email", "push"})

    def send(self, *, message_id: int, channel: str, address: str, text: str) -> bool:
        log.info("outreach #%s %s to %s: %s", message_id, channel, mask_address(address), text)
        return True


def senders_for(channel: str) -> list[OutreachSender]:
    senders: list[OutreachSender] = [import_string(path)() for path in settings.STOREOPS_OUTREACH_SENDERS]
    return [s for s in senders if channel in s.channels]
