"""The check registry: each SOP rule that watches the business registers one check.

A check is a function ``(ctx: CheckContext) -> Iterable[FindingDraft]`` that reports the
subjects currently breaking the rule. The runner turns drafts into persisted findings,
de-duplicated by (store, rule, subject); a subject that is no longer reported is
resolved automatically. Checks must be idempotent and cheap to re-run.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from storeops.accounts.roles import Role


class Severity(enum.StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class Schedule(enum.StrEnum):
    FREQUENT = "frequent"  # every 5 minutes (order/refund SLAs)
    HOURLY = "hourly"
    DAILY = "daily"


@dataclass(frozen=True, slots=True)
class FindingDraft:
    subject_key: str  # stable identity of what is wrong, e.g. "qualification:12"
    title: str  # one line for the board, in the store's language
    severity: Severity = Severity.WARNING
    subject_type: str = ""
    subject_id: str = ""
    channel_id: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    due_at: dt.datetime | None = None  # None: the playbook's SLA for the severity
    # Optional: the untranslated message (gettext_noop) and its parameters, so each reader
    # sees the title in their own language. A parameter given as {"msgid": "…"} is itself
    # translated (e.g. a choice label); other values are shown as they are.
    title_key: str = ""
    title_params: dict[str, Any] = field(default_factory=dict)
    # An event rather than a state (an alarming review, a message): once a person resolved
    # its finding, the same subject is not raised again while the check still reports it.
    once: bool = False


@dataclass(frozen=True, slots=True)
class CheckContext:
    """What a check runs with. ``playbook`` is the store's; a row that belongs to a channel (an
    order, a case, a parcel, a campaign…) is judged by its channel's (:meth:`playbook_for`).
    The channels' playbooks are read from the database with the store's stored values."""

    store: Any  # storeops.stores.models.Store
    playbook: Any  # storeops.stores.playbook.PlaybookSettings (store level)
    now: dt.datetime
    # the channels' playbooks, read on first use (see _channel_books)
    _books: dict[int | None, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def playbook_for(self, channel_id: int | None) -> Any:
        """The playbook in force for a row of ``channel_id``: the store's values with the
        channel's overrides; the store's own (:attr:`playbook`) for ``None`` or a channel that
        overrides nothing. Every channel of the store is read in one query, the first time."""
        if channel_id is None:
            return self.playbook
        return self._channel_books().get(channel_id, self.playbook)

    def channel_playbooks(self) -> dict[int, Any]:
        """The playbook of each channel that overrides something (by channel id); the other
        channels follow the store's."""
        return {c: b for c, b in self._channel_books().items() if c is not None}

    def playbooks(self) -> list[Any]:
        """The store's playbook and each channel's that overrides something: a check bounds its
        query by the widest value among them, then judges each row with :meth:`playbook_for`."""
        return [self.playbook, *self.channel_playbooks().values()]

    def _channel_books(self) -> dict[int | None, Any]:
        if not self._books:  # filled once: it always holds the store's key (None)
            from storeops.stores.selectors import playbooks_by_channel

            self._books.update(playbooks_by_channel(store_id=self.store.pk))
        return self._books

    @property
    def today(self) -> dt.date:
        from django.utils import timezone

        return timezone.localdate(self.now)


CheckFn = Callable[[CheckContext], Iterable[FindingDraft]]


@dataclass(frozen=True, slots=True)
class Check:
    rule: str
    title: str
    owner_role: Role
    schedule: Schedule
    fn: CheckFn


def render_title(key: str, params: dict[str, Any]) -> str:
    """``key % params`` in the active language; ``{"msgid": …}`` parameters are translated and
    ``{"zh": …, "en": …}`` parameters (texts the pure rules give in both languages) are picked."""
    from django.utils.translation import get_language, gettext

    english = not (get_language() or "zh-hans").startswith("zh")

    def value(v: Any) -> Any:
        if isinstance(v, dict) and "msgid" in v:
            return gettext(v["msgid"])
        if isinstance(v, dict) and "zh" in v and "en" in v:
            return v["en"] if english else v["zh"]
        return v

    return gettext(key) % {k: value(v) for k, v in params.items()}


def msgid(label: Any) -> dict[str, str]:
    """A title parameter that is itself translatable, from a lazy label (e.g. a choice label)."""
    from django.utils import translation

    with translation.override(None):
        return {"msgid": str(label)}


def titled(key: str, **params: Any) -> dict[str, Any]:
    """Keyword arguments for :class:`FindingDraft`: the title rendered now (stored, in the
    store's language) plus its key and parameters for rendering per reader later."""
    return {"title": render_title(key, params), "title_key": key, "title_params": params}


_REGISTRY: dict[str, Check] = {}


def register_check(
    *, rule: str, title: str, owner_role: Role, schedule: Schedule = Schedule.DAILY
) -> Callable[[CheckFn], CheckFn]:
    def decorate(fn: CheckFn) -> CheckFn:
        if rule in _REGISTRY and _REGISTRY[rule].fn is not fn:
            raise RuntimeError(f"check {rule} registered twice")
        _REGISTRY[rule] = Check(rule=rule, title=title, owner_role=owner_role, schedule=schedule, fn=fn)
        return fn

    return decorate


def all_checks() -> list[Check]:
    return sorted(_REGISTRY.values(), key=lambda c: c.rule)


def get_check(rule: str) -> Check:
    try:
        return _REGISTRY[rule.upper()]
    except KeyError:
        raise KeyError(rule) from None
