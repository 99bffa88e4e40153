"""Domain errors: our own exception types with a stable code and a translatable message.

Services raise these; the API (``storeops.config.api``) and the console map them to HTTP
responses once. Domain code never raises HTTP or Django form errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar


class DomainError(Exception):
    """Base class. ``code`` is stable (for integrations), ``message`` is for people."""

    code: ClassVar[str] = "error"
    http_status: ClassVar[int] = 400

    def __init__(
        self, message: Any = "", *, fields: Mapping[str, Any] | None = None, code: str | None = None
    ):
        # ``message`` may be a lazy translation string; it is rendered in the user's language on output.
        self.message = message
        self.fields: dict[str, Any] = dict(fields or {})
        if code is not None:
            self.code = code  # type: ignore[misc]
        super().__init__(str(message))


class ValidationError(DomainError):
    code = "validation_error"
    http_status = 422


class NotFound(DomainError):
    code = "not_found"
    http_status = 404


class InvalidSignature(DomainError):
    """A signed push (payment or carrier callback) whose signature is missing or wrong."""

    code = "invalid_signature"
    http_status = 401


class PermissionDenied(DomainError):
    code = "permission_denied"
    http_status = 403


class Conflict(DomainError):
    """The request conflicts with the current state (invalid transition, duplicate, stale)."""

    code = "conflict"
    http_status = 409


class InvalidTransition(Conflict):
    code = "invalid_transition"
