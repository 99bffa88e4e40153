"""Counters in Redis in front of a hot database row (flash sales, INV-03 / PROMO-01 秒杀).

A flash sale's units are a number in Redis. A buyer first takes units from it with one atomic
Lua script; only the buyers who got units go on to the database, whose conditional UPDATE
stays the system of record. The counter sheds the load of a sold-out sale (the buyers beyond
its units never reach the database or its row locks); it can never make the database sell
more than it has. When it is wrong it is wrong for a moment: callers give units back when the
database refused or rolled back, and a periodic reconcile sets it to the database's figure.

Redis is used when ``REDIS_URL`` is configured and ``STOREOPS_FLASH_COUNTERS`` is on (the
default then). Every call here answers quickly or raises :class:`CounterUnavailable`: callers
fall back to the database alone, so Redis being down slows a flash sale, never stops one.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from typing import Any

from django.conf import settings

log = logging.getLogger("storeops.counters")

# KEYS[1] the counter; ARGV: units, the value to start from when the counter is not there yet,
# its lifetime then (seconds). Returns the units left after taking, or -2 when too few remain.
TAKE = """
local v = redis.call('GET', KEYS[1])
if not v then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
  v = ARGV[2]
end
v = tonumber(v)
local q = tonumber(ARGV[1])
if v < q then return -2 end
return redis.call('DECRBY', KEYS[1], q)
"""

# Give ARGV[1] units back to a counter that is there (a missing one starts again from the
# database when next used). Returns the new value, or -1.
GIVE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
return redis.call('INCRBY', KEYS[1], ARGV[1])
"""

# Lower a counter that is there to ARGV[1] if it is above it. Returns the new value, or -1.
CAP = """
local v = redis.call('GET', KEYS[1])
if not v then return -1 end
local cap = tonumber(ARGV[1])
if tonumber(v) > cap then redis.call('SET', KEYS[1], cap, 'KEEPTTL'); return cap end
return tonumber(v)
"""

# Set a counter that is there to ARGV[1] (the database's figure). Returns the value it had, or -1.
SYNC = """
local v = redis.call('GET', KEYS[1])
if not v then return -1 end
redis.call('SET', KEYS[1], ARGV[1], 'KEEPTTL')
return tonumber(v)
"""

SOLD_OUT = -2
MISSING = -1


class CounterUnavailable(Exception):
    """Redis is not configured, not reachable or answered with an error."""


_lock = threading.Lock()
_client: dict[str, Any] = {}


def enabled() -> bool:
    """Whether flash sales count in Redis: ``REDIS_URL`` set and ``STOREOPS_FLASH_COUNTERS`` on."""
    url = getattr(settings, "REDIS_URL", "")
    return bool(url) and bool(getattr(settings, "STOREOPS_FLASH_COUNTERS", True))


def _redis() -> Any:
    url = getattr(settings, "REDIS_URL", "")
    if not url:
        raise CounterUnavailable("REDIS_URL is not set")
    with _lock:
        client = _client.get(url)
        if client is None:
            import redis

            # a checkout waits for Redis at most this long before going on without it
            client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
            _client.clear()
            _client[url] = client
    return client


def database_key(name: str) -> str:
    """``storeops:<name>:<database>``: per database, so installations (and parallel test
    databases) sharing a Redis never mix their counters."""
    from django.db import connection

    db = hashlib.sha1(str(connection.settings_dict["NAME"]).encode(), usedforsecurity=False).hexdigest()[:10]
    return f"storeops:{db}:{name}"


def _run(script: str, key: str, *args: int) -> int:
    import redis

    try:
        return int(_redis().eval(script, 1, key, *args))
    except redis.RedisError as exc:
        raise CounterUnavailable(str(exc)) from exc


def take(key: str, units: int, *, start: int, lifetime: int) -> int:
    """Take ``units``; a counter not there yet starts at ``start`` and lives ``lifetime``
    seconds (at least a minute). Returns the units left, or :data:`SOLD_OUT`."""
    return _run(TAKE, key, units, start, max(60, lifetime))


def give(key: str, units: int) -> int:
    return _run(GIVE, key, units)


def cap(key: str, value: int) -> int:
    return _run(CAP, key, value)


def sync(key: str, value: int) -> int:
    return _run(SYNC, key, value)


def value(key: str) -> int | None:
    import redis

    try:
        raw = _redis().get(key)
    except redis.RedisError as exc:
        raise CounterUnavailable(str(exc)) from exc
    return None if raw is None else int(raw)


def forget(key: str) -> None:
    import redis

    try:
        _redis().delete(key)
    except redis.RedisError as exc:
        raise CounterUnavailable(str(exc)) from exc
