"""Pure outreach rules (MEM-06): who may be messaged, when, and with what text. No Django."""

from __future__ import annotations

import datetime as dt
import enum
import math
import string
from collections.abc import Mapping
from decimal import Decimal

PLACEHOLDERS = frozenset({"product", "drop", "price", "coupon", "store"})
SMS_SEGMENT_CHARS = 70  # a Chinese SMS segment; longer texts are sent as 67-character parts
SMS_PART_CHARS = 67


class Skip(enum.StrEnum):
    NO_CONSENT = "no_consent"
    OPTED_OUT = "opted_out"
    FREQUENCY_CAP = "frequency_cap"
    NO_ADDRESS = "no_address"


def placeholders(body: str) -> set[str]:
    """The ``{name}`` fields of a template body (raises ValueError on a broken brace)."""
    return {name for _, name, _, _ in string.Formatter().parse(body) if name is not None}


def unknown_placeholders(body: str) -> set[str]:
    return placeholders(body) - PLACEHOLDERS


def render(body: str, values: Mapping[str, str], *, optout: str = "") -> str:
    """The text of one message: placeholders filled (a missing value renders empty), and the
    opt-out instruction appended when the channel needs one and the text does not carry it."""
    filled = string.Formatter().vformat(body, (), _Blank(values))
    if optout and optout not in filled:
        filled = f"{filled} {optout}"
    return filled.strip()


class _Blank(dict[str, str]):
    def __init__(self, values: Mapping[str, str]) -> None:
        super().__init__(values)

    def __missing__(self, key: str) -> str:
        return ""


def sms_parts(text: str) -> int:
    """How many SMS a text costs (70 characters fit in one; longer ones go in 67-character parts)."""
    if len(text) <= SMS_SEGMENT_CHARS:
        return 1
    return math.ceil(len(text) / SMS_PART_CHARS)


def decide(
    *,
    consent: str | None,
    address: str,
    sent_in_window: int,
    cap: int,
) -> Skip | None:
    """Why a marketing message must not go to this customer, or None to send it. Consent
    first (none on record = no consent), then a way to reach them, then the frequency cap
    (marketing messages already sent in the cap window)."""
    if consent == "opted_out":
        return Skip.OPTED_OUT
    if consent != "opted_in":
        return Skip.NO_CONSENT
    if not address:
        return Skip.NO_ADDRESS
    if sent_in_window >= cap:
        return Skip.FREQUENCY_CAP
    return None


def in_quiet_hours(local: dt.datetime, *, start_hour: int, end_hour: int) -> bool:
    """Whether ``local`` (store time) falls in the quiet hours [start, end) that wrap midnight
    when start > end (21 → 8); start == end means no quiet hours."""
    h = local.hour
    if start_hour == end_hour:
        return False
    if start_hour < end_hour:
        return start_hour <= h < end_hour
    return h >= start_hour or h < end_hour


def next_send_time(local: dt.datetime, *, start_hour: int, end_hour: int) -> dt.datetime:
    """The first moment at or after ``local`` outside the quiet hours."""
    if not in_quiet_hours(local, start_hour=start_hour, end_hour=end_hour):
        return local
    candidate = local.replace(hour=end_hour, minute=0, second=0, microsecond=0)
    if candidate <= local:
        candidate += dt.timedelta(days=1)
    return candidate


def is_price_drop(old: Decimal, new: Decimal, *, min_amount: Decimal, min_ratio: Decimal) -> bool:
    """A drop worth telling the customers who favourited the item: at least ``min_amount`` or
    at least ``min_ratio`` of the old price."""
    if old <= 0 or new >= old:
        return False
    drop = old - new
    return drop >= min_amount or drop / old >= min_ratio


def mask_address(address: str) -> str:
    """A phone as 138****1234, an e-mail as a***@example.com; anything else is cut to its ends."""
    if "@" in address:
        name, _, domain = address.partition("@")
        return f"{name[:1]}***@{domain}"
    if len(address) >= 7:
        return f"{address[:3]}****{address[-4:]}"
    return "****"


def rate(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"))
