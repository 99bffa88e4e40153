"""The logistics exception page's header names the hours the list uses: the store's, and each
channel's own where a channel overrides them (a follow-up of session 20's LOG-03 work)."""

from __future__ import annotations

import pytest
from django.test import Client

from storeops.accounts.roles import Role
from storeops.stores import services as st

pytestmark = pytest.mark.django_db


def _page(make_user) -> str:
    client = Client()
    client.force_login(make_user(Role.WAREHOUSE))
    return client.get("/fulfilment/exceptions/").content.decode()


def test_log_03_exception_page_header_shows_each_channels_own_hours(store, channel, system, make_user):
    jd = st.channel_create(actor=system, store=store, kind="jd", code="jd", name="京东自营店")
    st.playbook_update(actor=system, store=store, values={"pickup_timeout_hours": 30})
    st.playbook_update(
        actor=system, store=store, channel=jd, values={"pickup_timeout_hours": 12, "transit_stuck_hours": 36}
    )
    html = _page(make_user)
    assert "本店默认：揽收超时 30 小时，物流停滞 48 小时。" in html
    assert "<li>京东自营店：揽收超时 12 小时，物流停滞 36 小时</li>" in html
    assert "<li>天猫旗舰店" not in html  # follows the store's hours


def test_log_03_exception_page_header_without_channel_hours_is_the_stores(store, channel, system, make_user):
    st.playbook_update(actor=system, store=store, channel=channel, values={"carrier_stats_days": 30})
    html = _page(make_user)
    assert "揽收超时 24 小时，物流停滞 48 小时；请逐单与快递公司跟进。" in html
    assert 'class="channel-hours"' not in html
