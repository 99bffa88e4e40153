from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone, translation

from storeops.accounts.roles import Role
from storeops.accounts.services import user_create
from storeops.core.context import Actor
from storeops.stores import services as store_services
from storeops.stores.models import Channel, Store

PASSWORD = "test-pass-123"


@pytest.fixture
def system() -> Actor:
    return Actor.system("cli")


@pytest.fixture
def store(db, system) -> Store:
    return store_services.store_create(actor=system, code="s1", name="测试店铺")


@pytest.fixture
def channel(store, system) -> Channel:
    return store_services.channel_create(
        actor=system, store=store, kind="tmall", code="tmall", name="天猫旗舰店"
    )


@pytest.fixture
def make_user(db, system):
    def make(role: Role | None, username: str | None = None, **kwargs: Any):
        name = username or f"u_{role.value if role else 'none'}"
        existing = get_user_model().objects.filter(username=name).first()
        if existing:
            return existing
        return user_create(
            actor=system,
            username=name,
            password=PASSWORD,
            roles=[role] if role else [],
            email=f"{name}@example.com",
            **kwargs,
        )

    return make


@pytest.fixture
def owner(make_user):
    return make_user(Role.OWNER)


class ApiClient:
    """A thin JSON client for /api/v1 on top of Django's test client."""

    def __init__(self, client: Client, token: str | None = None):
        self.client = client
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}

    def call(self, method: str, path: str, body: Any = None, **query: Any):
        url = path if path.startswith("/api/") else f"/api/v1{path}"
        fn = getattr(self.client, method.lower())
        if method.upper() in ("GET", "DELETE"):
            return fn(url, query or None, **self.headers)
        return fn(
            url,
            data=json.dumps(body if body is not None else {}),
            content_type="application/json",
            **self.headers,
        )

    def get(self, path: str, **query: Any):
        return self.call("GET", path, **query)

    def post(self, path: str, body: Any = None):
        return self.call("POST", path, body)

    def patch(self, path: str, body: Any = None):
        return self.call("PATCH", path, body)

    def put(self, path: str, body: Any = None):
        return self.call("PUT", path, body)


@pytest.fixture
def api_as(make_user):
    def login(role: Role | None) -> ApiClient:
        client = Client()
        if role is not None:
            client.force_login(make_user(role))
        return ApiClient(client)

    return login


@pytest.fixture
def today() -> dt.date:
    return timezone.localdate()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2 with production iterations costs ~0.1 s per user; tests create hundreds.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _site_language():
    # A request from a user who reads English activates English on the worker's thread, and
    # nothing switches it back (Django's LocaleMiddleware does not either): each test starts
    # in the site's language, whatever the test before it did.
    translation.activate(django_settings.LANGUAGE_CODE)
    yield
    translation.activate(django_settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _fresh_flash_counters(request):
    """With Redis (REDIS_URL), each test starts without flash-sale counters: a test database
    reuses offer ids (SQLite after a rollback, PostgreSQL in the next run), and a counter left
    by another test would hold its units. Only this database's counters (xdist workers share
    the Redis)."""
    from storeops.core import counters

    if counters.enabled() and "django_db" in request.keywords:
        request.getfixturevalue("django_db_setup")  # the key names the test database
        client = counters._redis()
        keys = list(client.scan_iter(match=counters.database_key("flash-offer:*"), count=500))
        if keys:
            client.delete(*keys)
