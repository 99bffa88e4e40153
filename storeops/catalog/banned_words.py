"""Banned-word scanner for listing copy (SOP LIST-02: Advertising-Law absolute terms).

One Aho–Corasick automaton (``pyahocorasick``) is built per word list and then scans any
number of texts in time linear in the text, whatever the list's size. Matching ignores
Latin letter case and full-width/half-width differences (``１００％`` matches ``100%``), and
reports overlapping matches (``最佳`` yields both ``最`` and ``最佳``).

Positions are Python ``str`` indices into the text as given: ``text[m.start:m.end]`` is
the matched copy. Normalisation maps one character to exactly one character, so no offset
bookkeeping is needed.

The scanner is immutable; :attr:`BannedWordScanner.version` (a hash of the sorted word
list, also available without building via :func:`word_list_version`) lets callers keep one
scanner per word-list version in a cache.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import ahocorasick  # type: ignore[import-not-found, unused-ignore]

DEFAULT_WORDS_RESOURCE = "default_banned_words.txt"

# Full-width ASCII variants U+FF01..U+FF5E sit at a fixed offset from U+0021..U+007E.
_FULL_WIDTH_FIRST, _FULL_WIDTH_LAST, _FULL_WIDTH_OFFSET = 0xFF01, 0xFF5E, 0xFEE0
_IDEOGRAPHIC_SPACE = "\u3000"


def _fold_char(char: str) -> str:
    """One character's matching form: lower case, half width. Always one character."""
    code = ord(char)
    if _FULL_WIDTH_FIRST <= code <= _FULL_WIDTH_LAST:
        char = chr(code - _FULL_WIDTH_OFFSET)
    elif char == _IDEOGRAPHIC_SPACE:
        char = " "
    lowered = char.lower()
    return lowered if len(lowered) == 1 else char


def normalise(text: str) -> str:
    """The matching form of ``text``: same length, case and width folded per character."""
    return "".join(_fold_char(char) for char in text)


def word_list_version(words: Iterable[str]) -> str:
    """A short stable hash of a word list (order and duplicates ignored), for cache keys."""
    unique = sorted({word.strip() for word in words if word.strip()})
    return hashlib.sha256("\n".join(unique).encode("utf-8")).hexdigest()[:16]


def load_default_words() -> tuple[str, ...]:
    """The bundled default list (one word a line, ``#`` starts a comment)."""
    text = resources.files("storeops.catalog").joinpath(DEFAULT_WORDS_RESOURCE).read_text("utf-8")
    return parse_word_list(text)


def parse_word_list(text: str) -> tuple[str, ...]:
    """Words from a one-per-line text; blank lines and ``#`` comments skipped, order kept."""
    words: dict[str, None] = {}
    for line in text.splitlines():
        word = line.split("#", 1)[0].strip()
        if word:
            words.setdefault(word, None)
    return tuple(words)


@dataclass(frozen=True, slots=True)
class Match:
    """One occurrence of a banned ``word`` at ``text[start:end]`` (end exclusive)."""

    word: str
    start: int
    end: int


class BannedWordScanner:
    """An immutable Aho–Corasick matcher over one banned-word list."""

    __slots__ = ("_automaton", "_fold_needed", "_fold_table", "_words", "version")

    def __init__(self, words: Iterable[str]) -> None:
        listed = [word.strip() for word in words if word.strip()]
        self.version: str = word_list_version(listed)
        # Keys are the folded forms; the first spelling of each folded form is reported.
        by_key: dict[str, str] = {}
        for word in listed:
            by_key.setdefault(normalise(word), word)
        self._words: tuple[str, ...] = tuple(by_key.values())
        self._automaton: Any = ahocorasick.Automaton()
        for key, word in by_key.items():
            self._automaton.add_word(key, (word, len(key)))
        if by_key:
            self._automaton.make_automaton()
        self._fold_table, self._fold_needed = _fold_plan(by_key)

    @classmethod
    def from_words(cls, words: Iterable[str]) -> BannedWordScanner:
        return cls(words)

    @classmethod
    def default(cls) -> BannedWordScanner:
        """A scanner over the bundled default list (``default_banned_words.txt``)."""
        return cls(load_default_words())

    @property
    def words(self) -> tuple[str, ...]:
        """The distinct words matched (after folding case and width), in list order."""
        return self._words

    def __len__(self) -> int:
        return len(self._words)

    def _fold(self, text: str) -> str:
        folded = text.lower()
        if len(folded) != len(text):  # e.g. "İ" lowers to two characters
            folded = "".join(char if len(low := char.lower()) != 1 else low for char in text)
        if self._fold_needed is not None and self._fold_needed.search(folded):
            folded = folded.translate(self._fold_table)
        return folded

    def scan(self, text: str) -> list[Match]:
        """Every occurrence of every word in ``text``, overlaps included, by end position."""
        if not self._words or not text:
            return []
        matches: list[Match] = []
        for last, (word, length) in self._automaton.iter(self._fold(text)):
            matches.append(Match(word, last - length + 1, last + 1))
        return matches

    def words_in(self, texts: Mapping[str, str]) -> dict[str, tuple[str, ...]]:
        """The distinct words found in each named text (field name -> words in order of first
        occurrence); texts without a banned word are left out."""
        found: dict[str, tuple[str, ...]] = {}
        for name, text in texts.items():
            words = tuple(dict.fromkeys(m.word for m in self.scan(text or "")))
            if words:
                found[name] = words
        return found

    def scan_many(self, texts: Iterable[str]) -> list[list[Match]]:
        """:meth:`scan` for each text, in order."""
        return [self.scan(text) for text in texts]

    def __repr__(self) -> str:
        return f"BannedWordScanner(words={len(self._words)}, version={self.version!r})"


def _fold_plan(by_key: dict[str, str]) -> tuple[dict[int, str], re.Pattern[str] | None]:
    """The width-folding table a text needs after ``str.lower()``, limited to characters
    that occur in some word: texts whose full-width characters cannot be part of a match
    (the common ``，（）！`` punctuation, usually) skip the per-character translation."""
    used = set("".join(by_key))
    table: dict[int, str] = {}
    candidates = [chr(code) for code in range(_FULL_WIDTH_FIRST, _FULL_WIDTH_LAST + 1)]
    for char in [*candidates, _IDEOGRAPHIC_SPACE]:
        folded = _fold_char(char)
        if folded in used:
            table[ord(char.lower())] = folded
    if not table:
        return table, None
    pattern = re.compile("[" + "".join(re.escape(chr(code)) for code in sorted(table)) + "]")
    return table, pattern
