"""Project-wide middleware of the API."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class ApiErrorShapeMiddleware:
    """A 405 under /api/ in the API's error shape (ninja answers a plain-text "Method not
    allowed"). Last in ``MIDDLEWARE``, so the caller's language is still active."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code == 405
            and request.path.startswith("/api/")
            and "json" not in response.get("Content-Type", "")
        ):
            from storeops.config.api import method_not_allowed

            return method_not_allowed(request, response.get("Allow", ""))
        return response
