"""The client's IP address of a request (RISK-01 brushing signals).

``REMOTE_ADDR`` is the peer that connected to us. Behind a reverse proxy that peer is the
proxy, and the client is in ``X-Forwarded-For`` — but anybody can send that header, so it is
read only when the peer is one of ``settings.STOREOPS_TRUSTED_PROXIES`` (addresses or
networks; default: none, the header is ignored). The header is then walked from the right
(each proxy appends the address it saw) past every trusted proxy; the first address that is
not a trusted proxy is the client. A malformed entry stops the walk at the last address read.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@functools.lru_cache(maxsize=8)
def _networks(trusted: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(t, strict=False) for t in trusted)


def trusted_networks(values: Iterable[str]) -> tuple[Network, ...]:
    """The networks named by ``values`` (``10.0.0.1``, ``10.0.0.0/8``, ``::1``); a bad entry
    raises ValueError (the settings check it at start-up)."""
    return _networks(tuple(v.strip() for v in values if v.strip()))


def _address(text: str) -> Address | None:
    """An address as a proxy writes it: bare, ``1.2.3.4:port`` or ``[v6]:port``."""
    text = text.strip()
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # IPv4 with a port (an IPv6 address has at least two colons)
        text = text.split(":", 1)[0]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def client_ip(meta: Mapping[str, Any], trusted: Iterable[str] | None = None) -> str | None:
    """The client's address for a request's ``META`` (None when the peer is unknown).
    ``trusted`` defaults to ``settings.STOREOPS_TRUSTED_PROXIES``."""
    networks = trusted_networks(settings.STOREOPS_TRUSTED_PROXIES if trusted is None else trusted)
    ip = _address(str(meta.get("REMOTE_ADDR") or ""))
    if ip is None:
        return None
    forwarded = str(meta.get("HTTP_X_FORWARDED_FOR") or "")
    if not forwarded:
        return str(ip)
    hops = [h for h in forwarded.split(",") if h.strip()]
    while hops and any(ip in n for n in networks):
        hop = _address(hops.pop())
        if hop is None:
            break
        ip = hop
    return str(ip)
