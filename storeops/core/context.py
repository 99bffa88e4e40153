"""Who is acting: passed explicitly into every service that changes data (for audit and
permission checks) instead of being read from a thread-local."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Actor:
    user: Any  # a django.contrib.auth user, or None for the system
    via: str = "console"  # console / api / token / cli / task / import
    token_name: str = ""

    @classmethod
    def system(cls, via: str = "task") -> Actor:
        return cls(user=None, via=via)

    @property
    def label(self) -> str:
        name = "system" if self.user is None else str(self.user.get_username())
        return f"{name} [{self.token_name}]" if self.token_name else name
