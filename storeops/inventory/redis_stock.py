"""Flash-sale stock in Redis (SOP INV-03, PROMO-01 秒杀).

For a hot SKU the sale's units are loaded into a Redis counter. A buy attempt first runs an
atomic Lua script that takes the units from the counter only if enough remain; only the
attempts that got units go on to the database reservation (the same conditional UPDATE as
every other reservation), so the database sees about as many writes as there are units,
not as many as there are buyers. The database stays the system of record: if its reservation
fails, the units go back to the counter. :func:`flash_sale_reconcile` lowers the counter to
what the database still has available (never raises it above), so Redis can at worst refuse
a sale it could have made; it can never make the database oversell.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from storeops.core.context import Actor
from storeops.core.errors import ValidationError
from storeops.inventory import selectors
from storeops.inventory.models import StockMove
from storeops.inventory.services import InsufficientStock, stock_reserve_row

# Take ARGV[1] units if at least that many remain. Returns the units left, -1 when the sale
# is not loaded, -2 when sold out.
TAKE = """
local v = redis.call('GET', KEYS[1])
if not v then return -1 end
v = tonumber(v)
local q = tonumber(ARGV[1])
if v < q then return -2 end
return redis.call('DECRBY', KEYS[1], q)
"""

# Lower the counter to ARGV[1] if it is above it (never raises it). Returns the new value.
CAP = """
local v = redis.call('GET', KEYS[1])
if not v then return -1 end
local cap = tonumber(ARGV[1])
if tonumber(v) > cap then redis.call('SET', KEYS[1], cap); return cap end
return tonumber(v)
"""


def redis_client(url: str | None = None) -> Any:
    import redis

    url = url or getattr(settings, "REDIS_URL", "")
    if not url:
        raise ValidationError(_("未配置 Redis，无法使用秒杀库存"))
    return redis.Redis.from_url(url)


def counter_key(stock_id: int) -> str:
    """Per database, so installations (and parallel test databases) sharing a Redis never mix."""
    from django.db import connection

    db = hashlib.sha1(str(connection.settings_dict["NAME"]).encode(), usedforsecurity=False).hexdigest()[:10]
    return f"storeops:flash:{db}:stock:{stock_id}"


class FlashSaleStock:
    """The Redis counter of one stock row during a flash sale."""

    def __init__(self, *, stock_id: int, client: Any = None):
        self.stock_id = stock_id
        self.client = client if client is not None else redis_client()
        self.key = counter_key(stock_id)
        self._take = self.client.register_script(TAKE)
        self._cap = self.client.register_script(CAP)

    def load(self, quantity: int) -> int:
        """Put up to ``quantity`` units on sale (at most what the database has available)."""
        stock = selectors.stock_get_by_id(stock_id=self.stock_id)
        if stock is None:
            raise ValidationError(_("库存记录不存在"))
        units = max(0, min(quantity, stock.available))
        self.client.set(self.key, units)
        return units

    def remaining(self) -> int | None:
        value = self.client.get(self.key)
        return None if value is None else int(value)

    def reserve(self, *, actor: Actor, quantity: int, reference: str) -> StockMove:
        """Take units from the counter, then reserve them in the database; raises
        :class:`InsufficientStock` when either has not enough."""
        left = int(self._take(keys=[self.key], args=[quantity]))
        if left == -1:
            raise ValidationError(_("秒杀库存未加载"))
        if left == -2:
            raise InsufficientStock(_("秒杀商品已售罄"), fields={"quantity": _("库存不足")})
        try:
            return stock_reserve_row(
                actor=actor,
                stock_id=self.stock_id,
                quantity=quantity,
                reference=reference,
                reason=gettext_noop("秒杀预占"),
            )
        except BaseException:
            self.client.incrby(self.key, quantity)  # the database said no: give the units back
            raise

    def reconcile(self) -> FlashReconcile:
        """Compare the counter with the database and lower it to the available units."""
        stock = selectors.stock_get_by_id(stock_id=self.stock_id)
        available = stock.available if stock is not None else 0
        before = self.remaining()
        after = int(self._cap(keys=[self.key], args=[available]))
        return FlashReconcile(
            stock_id=self.stock_id,
            counter_before=before,
            counter_after=None if after < 0 else after,
            available=available,
        )

    def close(self) -> None:
        self.client.delete(self.key)


@dataclass(frozen=True, slots=True)
class FlashReconcile:
    stock_id: int
    counter_before: int | None
    counter_after: int | None
    available: int

    @property
    def drift(self) -> int:
        """Units the counter promised beyond the database (0 after reconciling)."""
        return max(0, (self.counter_before or 0) - self.available)
