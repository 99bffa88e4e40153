"""Settings come from the environment with safe local defaults; production refuses to start
without a strong SECRET_KEY. Each case starts a fresh interpreter with a clean environment,
because settings are read once, at import."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

# Every variable the settings module reads; removed from the inherited environment so that
# the CI's own DATABASE_URL / REDIS_URL (or a developer's) cannot leak into a case.
SETTINGS_ENV = (
    "STOREOPS_ENV",
    "SECRET_KEY",
    "SECRET_KEY_FALLBACKS",
    "DEBUG",
    "DATABASE_URL",
    "REDIS_URL",
    "STOREOPS_LANGUAGE",
    "STOREOPS_VAR_DIR",
    "ALLOWED_HOSTS",
    "HUEY_IMMEDIATE",
    "TIME_ZONE",
    "EMAIL_BACKEND",
    "EMAIL_HOST",
    "EMAIL_PORT",
    "DEFAULT_FROM_EMAIL",
    "STOREOPS_NOTIFICATION_CHANNELS",
    "STOREOPS_BACKUP_DIR",
    "STOREOPS_BACKUP_KEEP",
    "STOREOPS_BACKUP_COPY_DIR",
    "LOG_LEVEL",
    "DJANGO_SETTINGS_MODULE",
)
STRONG_KEY = "q8Zr-3vN_x1Lk7pWc9Tb2Yh5Jm0Rf4Gd6Sa8Ue1Io3Pn7Kz5Xw2Vb9Ct4Hy6Lq0Mj"

PROBE = """
import json, os
os.environ["DJANGO_SETTINGS_MODULE"] = "storeops.config.settings"
import django
django.setup()
from django.conf import settings as s
db = s.DATABASES["default"]
print(json.dumps({
    "DEBUG": s.DEBUG,
    "SESSION_COOKIE_SECURE": s.SESSION_COOKIE_SECURE,
    "CSRF_COOKIE_SECURE": s.CSRF_COOKIE_SECURE,
    "LANGUAGE_CODE": s.LANGUAGE_CODE,
    "ALLOWED_HOSTS": s.ALLOWED_HOSTS,
    "db": {k: db.get(k) for k in ("ENGINE", "NAME", "USER", "PASSWORD", "HOST", "PORT")},
    "cache": s.CACHES["default"]["BACKEND"],
    "huey": s.HUEY["huey_class"],
    "var_dir": str(s.VAR_DIR),
}))
"""


def start(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in SETTINGS_ENV}
    clean["STOREOPS_VAR_DIR"] = str(tmp_path / "var")
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-c", PROBE], env=clean, capture_output=True, text=True, timeout=120, check=False
    )


def started(tmp_path: Path, **env: str) -> dict[str, Any]:
    result = start(tmp_path, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


# ---- production needs a strong SECRET_KEY ------------------------------------------------------


@pytest.mark.parametrize(
    "secret",
    [
        None,
        "",
        "short-key",
        "storeops-insecure-development-key-do-not-use-in-production",  # the development default
        "a" * 80,  # long but not random
        "abab" * 20,
    ],
    ids=["missing", "empty", "short", "development-key", "one-character", "two-characters"],
)
def test_production_refuses_to_start_without_a_strong_secret_key(tmp_path, secret):
    # given production mode and a missing or weak key
    env = {"STOREOPS_ENV": "production"}
    if secret is not None:
        env["SECRET_KEY"] = secret

    # when
    result = start(tmp_path, **env)

    # then the process exits non-zero and says why, in English and Chinese
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "STOREOPS_ENV=production needs a strong SECRET_KEY (50+ random characters)" in result.stderr
    assert "生产模式需要设置足够强的 SECRET_KEY" in result.stderr
    assert result.stdout == ""


def test_production_with_a_strong_key_starts_without_debug_and_with_secure_cookies(tmp_path):
    # given production mode, a strong key, and DEBUG=1 left over in the environment
    # when
    config = started(
        tmp_path,
        STOREOPS_ENV="production",
        SECRET_KEY=STRONG_KEY,
        DEBUG="1",
        ALLOWED_HOSTS="shop.example.cn, ops.example.cn",
    )

    # then
    assert config["DEBUG"] is False
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["CSRF_COOKIE_SECURE"] is True
    assert config["ALLOWED_HOSTS"] == ["shop.example.cn", "ops.example.cn"]


def test_production_allows_no_host_unless_configured(tmp_path):
    # when
    config = started(tmp_path, STOREOPS_ENV="production", SECRET_KEY=STRONG_KEY)

    # then
    assert config["ALLOWED_HOSTS"] == []


def test_development_starts_without_a_secret_key_with_debug_and_plain_cookies(tmp_path):
    # when
    config = started(tmp_path)

    # then
    assert config["DEBUG"] is True
    assert config["SESSION_COOKIE_SECURE"] is False
    assert config["CSRF_COOKIE_SECURE"] is False
    assert "localhost" in config["ALLOWED_HOSTS"]


# ---- database, cache and queue from the environment --------------------------------------------


def test_a_postgres_database_url_selects_the_postgresql_engine(tmp_path):
    # when
    config = started(tmp_path, DATABASE_URL="postgres://u:p@h:5/db")

    # then
    assert config["db"] == {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "db",
        "USER": "u",
        "PASSWORD": "p",
        "HOST": "h",
        "PORT": 5,
    }


def test_without_database_url_the_database_is_a_sqlite_file_in_the_var_dir(tmp_path):
    # when
    config = started(tmp_path)

    # then
    var_dir = (tmp_path / "var").resolve()
    assert config["var_dir"] == str(var_dir)
    assert config["db"]["ENGINE"] == "django.db.backends.sqlite3"
    assert config["db"]["NAME"] == str(var_dir / "storeops.sqlite3")
    assert var_dir.is_dir()


def test_without_redis_url_the_queue_is_sqlite_and_the_cache_local_memory(tmp_path):
    # when
    config = started(tmp_path)

    # then
    assert config["huey"] == "huey.SqliteHuey"
    assert config["cache"] == "django.core.cache.backends.locmem.LocMemCache"


def test_a_redis_url_moves_the_queue_and_the_cache_to_redis(tmp_path):
    # when (nothing connects at start-up, so no server is needed)
    config = started(tmp_path, REDIS_URL="redis://127.0.0.1:1/0")

    # then
    assert config["huey"] == "huey.RedisHuey"
    assert config["cache"] == "django_redis.cache.RedisCache"


# ---- language --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("language", "expected"), [(None, "zh-hans"), ("en", "en"), ("zh-hans", "zh-hans")])
def test_storeops_language_sets_the_default_language(tmp_path, language, expected):
    # when
    config = started(tmp_path, **({"STOREOPS_LANGUAGE": language} if language else {}))

    # then
    assert config["LANGUAGE_CODE"] == expected
