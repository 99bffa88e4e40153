from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers


class UserLanguageMiddleware:
    """Pick the language of each request (replaces Django's LocaleMiddleware).

    Order: the signed-in user's saved choice (``UserProfile.language``) → the language
    cookie → for the API only, the caller's ``Accept-Language`` → the site default
    (``STOREOPS_LANGUAGE``, 简体中文). The console deliberately ignores the browser's
    Accept-Language: operators get the store's language until they switch.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def _choose(self, request: HttpRequest) -> str:
        supported = dict(settings.LANGUAGES)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            profile = getattr(user, "profile", None) if hasattr(user, "profile") else None
            if profile is not None and profile.language in supported:
                return str(profile.language)
        cookie = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        if cookie in supported:
            return cookie
        if request.path.startswith("/api/") and request.headers.get("Accept-Language"):
            return translation.get_language_from_request(request)
        return str(settings.LANGUAGE_CODE)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = self._choose(request)
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        patch_vary_headers(response, ("Accept-Language", "Cookie"))
        response.headers.setdefault("Content-Language", language)
        return response
