"""Carrier adapters: turn a carrier's tracking export rows or webhook payload into
:class:`TrackingEventDraft` objects, and verify webhook signatures.

A carrier with its own format gets its own adapter class registered in ``ADAPTERS``; every
carrier starts with :class:`GenericExportAdapter` (CSV/Excel tracking export and a JSON push
with the same field names, Chinese or English headers).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import io
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, Any, Protocol

from django.utils import timezone
from django.utils.translation import gettext as _

from storeops.core.files import csv_text, read_bytes, workbook_rows
from storeops.fulfilment.rules import Status, status_from_code

SIGNATURE_HEADER = "X-StoreOps-Signature"  # "sha256=<hex HMAC-SHA256 of the raw body>"


@dataclass(frozen=True, slots=True)
class TrackingEventDraft:
    tracking_no: str
    time: dt.datetime
    code: str
    status: Status | None
    location: str = ""
    description: str = ""
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def event_key(self) -> str:
        text = "\x1f".join(
            (self.time.astimezone(dt.UTC).isoformat(), self.code, self.location, self.description)
        )
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class RowProblem:
    line: int
    message: str


@dataclass(slots=True)
class ParseResult:
    drafts: list[TrackingEventDraft] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)


class CarrierAdapter(Protocol):
    name: str

    def parse_rows(self, rows: Iterable[tuple[int, Mapping[str, Any]]]) -> ParseResult:
        """(line number, row by header) of a tracking export → drafts and bad rows."""
        ...

    def parse_webhook(self, payload: Any) -> ParseResult:
        """A decoded JSON push → drafts and bad entries."""
        ...


# canonical field -> accepted headers / JSON keys (compared lower-cased)
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "tracking_no": ("tracking_no", "tracking_number", "waybill_no", "运单号", "快递单号", "单号"),
    "time": ("time", "event_time", "时间", "操作时间", "扫描时间"),
    "code": ("status", "code", "status_code", "状态", "状态码", "操作"),
    "location": ("location", "地点", "网点", "所在地"),
    "description": ("description", "desc", "描述", "轨迹描述", "详情"),
}
REQUIRED_FIELDS = ("tracking_no", "time")
_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M")


def parse_time(value: Any) -> dt.datetime:
    """An aware datetime from an ISO string, a common Chinese export format or an Excel cell.
    Naive times are in the server's time zone (Asia/Shanghai by default)."""
    if isinstance(value, dt.datetime):
        parsed = value
    else:
        text = str(value or "").strip()
        if not text:
            raise ValueError(_("缺少时间"))
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            for fmt in _TIME_FORMATS:
                try:
                    parsed = dt.datetime.strptime(text, fmt)  # noqa: DTZ007  (made aware below)
                    break
                except ValueError:
                    continue
            else:
                raise ValueError(_("时间格式无法识别：%(v)s") % {"v": text}) from None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def _canonical(row: Mapping[str, Any]) -> dict[str, Any]:
    lowered = {str(k).strip().lower(): v for k, v in row.items()}
    out: dict[str, Any] = {}
    for name, aliases in FIELD_ALIASES.items():
        for alias in aliases:
            if alias in lowered and lowered[alias] not in (None, ""):
                out[name] = lowered[alias]
                break
    return out


class GenericExportAdapter:
    """Tracking exports with columns 运单号/时间/状态/地点/描述 (or their English names)."""

    name = "generic"

    def _draft(self, row: Mapping[str, Any]) -> TrackingEventDraft:
        values = _canonical(row)
        missing = [f for f in REQUIRED_FIELDS if not str(values.get(f, "")).strip()]
        if missing:
            raise ValueError(_("缺少字段：%(f)s") % {"f": "、".join(missing)})
        code = str(values.get("code", "")).strip()[:40]
        return TrackingEventDraft(
            tracking_no=str(values["tracking_no"]).strip(),
            time=parse_time(values["time"]),
            code=code,
            status=status_from_code(code),
            location=str(values.get("location", "")).strip()[:100],
            description=str(values.get("description", "")).strip()[:300],
            raw={str(k): (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in row.items()},
        )

    def parse_rows(self, rows: Iterable[tuple[int, Mapping[str, Any]]]) -> ParseResult:
        result = ParseResult()
        for line, row in rows:
            try:
                result.drafts.append(self._draft(row))
            except ValueError as exc:
                result.problems.append(RowProblem(line, str(exc)))
        return result

    def parse_webhook(self, payload: Any) -> ParseResult:
        if isinstance(payload, Mapping) and isinstance(payload.get("events"), list):
            entries = payload["events"]
        elif isinstance(payload, list):
            entries = payload
        else:
            entries = [payload]
        result = ParseResult()
        for i, entry in enumerate(entries, start=1):
            if not isinstance(entry, Mapping):
                result.problems.append(RowProblem(i, _("推送内容格式错误")))
                continue
            try:
                result.drafts.append(self._draft(entry))
            except ValueError as exc:
                result.problems.append(RowProblem(i, str(exc)))
        return result


ADAPTERS: dict[str, CarrierAdapter] = {"generic": GenericExportAdapter()}


def adapter_get(name: str) -> CarrierAdapter:
    return ADAPTERS.get(name, ADAPTERS["generic"])


def read_rows(source: IO[bytes], filename: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, row by header) of a .csv (UTF-8, BOM allowed; GB18030 fallback) or .xlsx
    file. Excel date cells stay datetimes, so the scan time keeps its hour and minute. A file
    that cannot be read is a 422 (``core.files``)."""
    if filename.lower().endswith((".xlsx", ".xlsm")):
        rows = workbook_rows(source)
        header = [str(h or "").strip() for h in next(rows, ())]
        for line, values in enumerate(rows, start=2):
            if any(v not in (None, "") for v in values):
                yield line, dict(zip(header, values, strict=False))
        return
    reader = csv.reader(io.StringIO(csv_text(read_bytes(source))))
    header = [h.strip() for h in next(reader, [])]
    for line, cells in enumerate(reader, start=2):
        if any(c.strip() for c in cells):
            yield line, dict(zip(header, (c.strip() for c in cells), strict=False))


def signature_for(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_valid(secret: str, body: bytes, header: str) -> bool:
    """Constant-time check of ``sha256=<hex>`` (the bare hex is accepted too)."""
    if not secret or not header:
        return False
    given = header.strip()
    if not given.startswith("sha256="):
        given = "sha256=" + given
    return hmac.compare_digest(signature_for(secret, body), given.lower())
