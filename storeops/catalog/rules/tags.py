"""SEL-04 product tags as text, and the price band of a price (pure; no Django).

Tags are written ``kind:name`` and several are joined by ``; `` — ``style:法式; scene:露营野餐``.
The kind is its code (``category``, ``price_band``, ``style``, ``scene``) or its Chinese name
(类目, 价格带, 风格, 使用场景 or 场景); full-width ``：`` / ``；`` and new lines are accepted too.
That is the form of the import/export ``tags`` column, the API's ``tags`` lists and the console's
tag field.

Price bands (价格带) can be derived from the price: the playbook's edges ``50,100,200`` make the
bands ``0-50元``, ``50-100元``, ``100-200元`` and ``200元以上``; a price on an edge belongs to the
band above it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

# kind codes in display order, with the names a person may type
TAG_KIND_ALIASES: dict[str, tuple[str, ...]] = {
    "category": ("category", "类目"),
    "price_band": ("price_band", "价格带"),
    "style": ("style", "风格"),
    "scene": ("scene", "使用场景", "场景"),
}
TAG_NAME_MAX = 50
_KIND_ORDER = {kind: n for n, kind in enumerate(TAG_KIND_ALIASES)}
_BY_ALIAS = {alias.lower(): kind for kind, aliases in TAG_KIND_ALIASES.items() for alias in aliases}
_SEPARATORS = re.compile(r"[;；\n\r]+")
# characters a tag name cannot hold: they separate tags in the text form
FORBIDDEN_IN_NAME = (";", "；", "\n", "\r")


class TagTextError(ValueError):
    """A part of a tag text that is not ``kind:name``; ``part`` is the part as typed and
    ``problem`` one of ``"format"``, ``"kind"``, ``"name_too_long"``."""

    def __init__(self, part: str, problem: str):
        super().__init__(f"{problem}: {part}")
        self.part = part
        self.problem = problem


def tag_kind(text: str) -> str | None:
    """The kind code of ``text`` (a code or a Chinese name), or None."""
    return _BY_ALIAS.get(text.strip().lower())


def parse_tags(text: str) -> list[tuple[str, str]]:
    """``"style:法式; 场景：露营"`` → ``[("style", "法式"), ("scene", "露营")]`` (duplicates
    dropped, order kept). Raises :class:`TagTextError` on the first bad part."""
    out: dict[tuple[str, str], None] = {}
    for part in filter(None, (p.strip() for p in _SEPARATORS.split(text or ""))):
        kind_text, sep, name = part.replace("：", ":").partition(":")
        name = name.strip()
        if not sep or not name:
            raise TagTextError(part, "format")
        kind = tag_kind(kind_text)
        if kind is None:
            raise TagTextError(part, "kind")
        if len(name) > TAG_NAME_MAX:
            raise TagTextError(part, "name_too_long")
        out[(kind, name)] = None
    return list(out)


def tags_by_kind(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """``[(kind, name), …]`` → ``{kind: [name, …]}`` (what the catalog service takes)."""
    out: dict[str, list[str]] = {}
    for kind, name in pairs:
        out.setdefault(kind, []).append(name)
    return out


def sorted_tags(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Kinds in display order (category, price band, style, scene), then names."""
    return sorted(set(pairs), key=lambda p: (_KIND_ORDER.get(p[0], len(_KIND_ORDER)), p[0], p[1]))


def format_tags(pairs: Iterable[tuple[str, str]]) -> str:
    """``[("style", "法式"), ("scene", "露营")]`` → ``"style:法式; scene:露营"`` (display order)."""
    return "; ".join(f"{kind}:{name}" for kind, name in sorted_tags(pairs))


# ---- price bands ---------------------------------------------------------------------------


def price_band_edges(text: str) -> tuple[Decimal, ...]:
    """``"50, 100, 200"`` (comma, Chinese comma, 、, semicolon, space or new line between) as
    increasing positive amounts. Empty text: no edges (bands are set by hand). Raises
    ValueError naming the part that is not an amount, or when not increasing."""
    parts = re.split(r"[,，、;；\s]+", (text or "").strip())
    edges: list[Decimal] = []
    for part in filter(None, parts):
        try:
            value = Decimal(part.removesuffix("元"))
        except InvalidOperation:
            raise ValueError(f"不是金额 / not an amount: {part}") from None
        if not value.is_finite() or value <= 0 or value >= Decimal("1e9"):
            raise ValueError(f"须为正数金额 / must be a positive amount: {part}")
        if edges and value <= edges[-1]:
            raise ValueError(f"须从小到大 / must increase: {part}")
        edges.append(value)
    return tuple(edges)


def _amount_text(value: Decimal) -> str:
    return f"{value.normalize():f}"


def price_band_names(edges: tuple[Decimal, ...]) -> list[str]:
    """Every band of ``edges``, cheapest first (empty without edges)."""
    if not edges:
        return []
    bounds = (Decimal(0), *edges)
    names = [f"{_amount_text(lo)}-{_amount_text(hi)}元" for lo, hi in zip(bounds, edges, strict=False)]
    return [*names, f"{_amount_text(edges[-1])}元以上"]


def price_band_of(price: Decimal, edges: tuple[Decimal, ...]) -> str | None:
    """The band name of ``price`` (None without edges)."""
    if not edges:
        return None
    names = price_band_names(edges)
    for n, edge in enumerate(edges):
        if price < edge:
            return names[n]
    return names[-1]
