"""Reading uploaded tables (.csv and .xlsx) the same way in every import: the encodings the
exports of Chinese marketplaces and Excel use, and a clear error for a file that is not one."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator
from typing import IO, Any

from django.utils import timezone
from django.utils.translation import gettext as _

from storeops.core.errors import ValidationError


def csv_text(data: bytes) -> str:
    """The text of a CSV file: UTF-8 (with or without BOM) or GB18030, a superset of the GBK
    Excel on Chinese Windows saves. Anything else is a 422 naming the file."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise ValidationError(
            _("无法识别文件编码：请另存为 UTF-8 或 GBK 编码的 CSV，或 Excel（.xlsx）"),
            fields={"file": _("不是 UTF-8 或 GBK 编码的文本")},
        ) from None


def workbook_rows(source: Any) -> Iterator[tuple[Any, ...]]:
    """The rows (cell values) of the first sheet of an .xlsx file, read-only; a file that is
    not a workbook is a 422 naming the file."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(source, read_only=True, data_only=True)
    except Exception as exc:  # zipfile.BadZipFile, KeyError, openpyxl's own errors: not a workbook
        raise ValidationError(
            _("不是有效的 Excel 文件（.xlsx）"), fields={"file": _("文件损坏或不是 .xlsx 格式")}
        ) from exc
    try:
        yield from book.active.iter_rows(values_only=True)
    finally:
        book.close()


def read_bytes(source: IO[bytes] | IO[str]) -> bytes:
    """All of an uploaded file (a text handle's content as UTF-8)."""
    data = source.read()
    return data.encode("utf-8") if isinstance(data, str) else data


def table_cells(file_name: str, data: bytes) -> Iterator[list[str]]:
    """The rows of an uploaded .xlsx (by its name) or CSV as stripped strings. WeChat Pay
    prefixes every value with a backtick so that spreadsheets keep long numbers as text: dropped."""
    if file_name.lower().endswith(".xlsx"):
        rows: Iterable[Iterable[Any]] = workbook_rows(io.BytesIO(data))
    else:
        rows = csv.reader(io.StringIO(csv_text(data)))
    for raw in rows:
        yield [("" if value is None else str(value)).strip().lstrip("`").strip() for value in raw]


def header_columns(cells: list[str], aliases: dict[str, tuple[str, ...]]) -> dict[str, int]:
    """Which column each field is in: ``aliases`` maps a field to the header names it goes by
    (the first one present wins). Fields with none of their names are left out."""
    found: dict[str, int] = {}
    for name, names in aliases.items():
        for alias in names:
            if alias in cells:
                found[name] = cells.index(alias)
                break
    return found


DATETIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M",
                    "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d", "%Y/%m/%d")  # fmt: skip


def datetime_cell(raw: str) -> dt.datetime | None:
    """A time written in a table (the formats of :data:`DATETIME_FORMATS`), aware in the current
    time zone when it has none; None for an empty cell. Raises ValueError for anything else."""
    raw = raw.strip()
    if not raw:
        return None
    for fmt in DATETIME_FORMATS:
        try:
            value = dt.datetime.strptime(raw, fmt)  # noqa: DTZ007 (made aware below: store time)
        except ValueError:
            continue
        return timezone.make_aware(value) if timezone.is_naive(value) else value
    raise ValueError(raw)
