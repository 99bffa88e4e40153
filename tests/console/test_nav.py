"""Every page the console's menu offers a role opens for that role (no 403 behind a menu link)."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from storeops.accounts.roles import Role

NAV = re.compile(r"<nav>(.*?)</nav>", re.S)
HREF = re.compile(r'href="(/[^"]*)"')


def _nav_links(html: str) -> list[str]:
    nav = NAV.search(html)
    assert nav, "the console page has no <nav>"
    return [h for h in HREF.findall(nav.group(1)) if not h.startswith(("/admin/", "/api/"))]


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_every_menu_link_opens_for_the_role(store, make_user, role):
    client = Client()
    client.force_login(make_user(role))
    home = client.get("/")
    assert home.status_code == 200
    links = _nav_links(home.content.decode())
    assert links
    refused = {}
    for href in links:
        status = client.get(href).status_code
        if status != 200:
            refused[href] = status
    assert not refused, f"{role.value}: menu links that do not open: {refused}"
