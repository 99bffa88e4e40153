"""Console pages of DATA-04 / DATA-05: the funnel chart, paths, sources with the cost form,
imports; the nav link for the roles that read behaviour."""

from __future__ import annotations

import datetime as dt
import re

from django.test import Client

from storeops.accounts.roles import Role
from storeops.behaviour import selectors
from tests.behaviour.builders import journey, post

START = dt.datetime(2026, 3, 2, 2, tzinfo=dt.UTC)
Q = "?since=2026-03-02&until=2026-03-02"


def _client(make_user, role):
    client = Client()
    client.force_login(make_user(role))
    return client


def _data(store):
    for i in range(4):
        pages = ["home", "category", "product"] + (["cart", "pay"] if i == 0 else [])
        post(
            store,
            journey(f"v{i}", START + dt.timedelta(minutes=i * 10), pages, source="search", amount="20.00"),
        )


def test_data_05_funnel_page_draws_bars_proportional_to_visitors(store, make_user):
    _data(store)
    page = _client(make_user, Role.ANALYST).get("/behaviour/" + Q).content.decode()
    # five bars: 4, 4, 4, 1, 1 visitors of 4 → 100%, 100%, 100%, 25%, 25%
    widths = re.findall(r'<div class="bar"><span style="width:([\d.]+)%', page)
    assert widths == ["100.0", "100.0", "100.0", "25.0", "25.0"]
    assert "加购率" in page
    assert "25.0%" in page  # add-to-cart rate and overall conversion
    assert 'href="/behaviour/"' in page  # the nav link


def test_data_05_paths_page_lists_paths_and_bounce(store, make_user):
    _data(store)
    post(store, journey("solo", START, ["product"]))
    page = _client(make_user, Role.OPERATIONS).get("/behaviour/paths/" + Q).content.decode()
    assert "首页 → 分类页 → 商品详情页" in page
    assert "20.0%" in page  # 1 bounce of 5 sessions


def test_data_04_sources_page_and_cost_form(store, make_user):
    _data(store)
    client = _client(make_user, Role.MARKETING)
    response = client.post(
        "/behaviour/sources/cost/",
        {"source": "search", "day": "2026-03-02", "amount": "10.00", "note": "SEO"},
    )
    assert response.status_code == 302
    page = client.get("/behaviour/sources/" + Q).content.decode()
    assert "¥20.00" in page  # revenue
    assert "¥10.00" in page  # spend
    assert "100%" in page  # ROI (20 − 10) ÷ 10, as a percentage like the profitability page
    # a bad amount is refused with a message, nothing stored
    client.post("/behaviour/sources/cost/", {"source": "search", "day": "2026-03-03", "amount": "-5"})
    assert selectors.source_cost_list(store=store).count() == 1


def test_data_05_imports_pages(store, make_user):
    run = post(store, journey("v", START, ["home"]), batch_id="shop-42")
    client = _client(make_user, Role.ANALYST)
    assert "shop-42" in client.get("/behaviour/imports/").content.decode()
    assert "shop-42" in client.get(f"/behaviour/imports/{run.pk}/").content.decode()


def test_data_05_behaviour_nav_hidden_without_permission(store, make_user):
    page = _client(make_user, Role.WAREHOUSE).get("/").content.decode()
    assert 'href="/behaviour/"' not in page
    assert _client(make_user, Role.WAREHOUSE).get("/behaviour/").status_code == 403


def test_data_05_refused_channel_cost_keeps_what_was_typed_and_saves_nothing(store, channel, make_user):
    _data(store)
    client = _client(make_user, Role.MARKETING)
    response = client.post(
        "/behaviour/sources/cost/" + Q,
        {
            "source": "search",
            "day": "2026-03-03",
            "channel": str(channel.pk),
            "amount": "-5",
            "note": "SEO 外包",
        },
    )
    assert response.status_code == 422  # was a redirect to an empty form
    html = response.content.decode()
    assert 'value="-5"><span class="err">须为不小于 0、最多两位小数的金额</span>' in html
    assert 'value="2026-03-03"' in html
    assert 'value="SEO 外包"' in html
    assert '<option value="search" selected>' in html
    assert f'<option value="{channel.pk}" selected>' in html
    assert "花费记录有误" in html
    assert "¥20.00" in html  # the report of the period asked
    assert not selectors.source_cost_list(store=store).exists()
