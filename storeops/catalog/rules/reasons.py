"""The reason type every catalog rule returns: why something failed or was flagged."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Severity(enum.StrEnum):
    BLOCK = "block"  # the listing cannot pass audit
    WARN = "warn"  # flagged for an operator to look at; does not block


@dataclass(frozen=True, slots=True)
class Reason:
    """One finding of a rule: SOP ``rule`` id, stable English ``code``, the ``field`` it is
    about, bilingual messages, and for text findings the ``(start, end)`` character spans
    (``text[start:end]``, 0-based) it points at."""

    rule: str
    code: str
    field: str
    message_zh: str
    message_en: str
    positions: tuple[tuple[int, int], ...] = ()
    severity: Severity = Severity.BLOCK
