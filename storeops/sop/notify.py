"""Notification channels for findings.

E-mail goes through Django's mail backends. Other channels (SMS, WeCom/DingTalk/Feishu
robots, …) implement :class:`NotificationChannel` and are listed in the setting
``STOREOPS_NOTIFICATION_CHANNELS``; :class:`LogChannel` writes to the log and is the
default beside e-mail.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.core.mail import send_mail
from django.utils.module_loading import import_string

log = logging.getLogger("storeops.notify")


@dataclass(frozen=True, slots=True)
class Message:
    subject: str
    body: str
    recipients: tuple[str, ...]  # addresses meaningful to the channel (e-mail, phone, user name)


class NotificationChannel(Protocol):
    name: str

    def recipients_for(self, users: list) -> tuple[str, ...]: ...

    def send(self, message: Message) -> None: ...


class EmailChannel:
    name = "email"

    def recipients_for(self, users: list) -> tuple[str, ...]:
        return tuple(sorted({u.email for u in users if u.email}))

    def send(self, message: Message) -> None:
        if message.recipients:
            send_mail(message.subject, message.body, settings.DEFAULT_FROM_EMAIL, list(message.recipients))


class LogChannel:
    """Writes notifications to the ``storeops.notify`` log (the console/log implementation)."""

    name = "log"

    def recipients_for(self, users: list) -> tuple[str, ...]:
        return tuple(sorted(u.get_username() for u in users))

    def send(self, message: Message) -> None:
        log.info("notify %s: %s", ",".join(message.recipients), message.subject)


def configured_channels() -> list[NotificationChannel]:
    extra = [import_string(path)() for path in settings.STOREOPS_NOTIFICATION_CHANNELS]
    return [EmailChannel(), *extra]
