"""SOP STORE-01: a store operates several channels (own web shop and marketplaces)."""

from __future__ import annotations

import pytest

from storeops.accounts.roles import Role
from storeops.core.errors import ValidationError
from storeops.stores import services as st
from storeops.stores.models import ChannelKind


def test_store_01_a_store_runs_its_own_shop_and_marketplace_shops(store, system):
    for kind in (
        ChannelKind.OWN_WEB,
        ChannelKind.TMALL,
        ChannelKind.JD,
        ChannelKind.DOUYIN,
        ChannelKind.PINDUODUO,
        ChannelKind.AMAZON,
    ):
        st.channel_create(actor=system, store=store, kind=kind, code=kind.value, name=str(kind.label))
    assert sorted(store.channels.values_list("kind", flat=True)) == sorted(
        ["own_web", "tmall", "jd", "douyin", "pinduoduo", "amazon"]
    )


def test_store_01_channel_codes_are_unique_within_a_store_only(store, system):
    other = st.store_create(actor=system, code="s2", name="第二家店")
    st.channel_create(actor=system, store=store, kind="tmall", code="tmall", name="天猫")
    st.channel_create(actor=system, store=other, kind="tmall", code="tmall", name="天猫")
    with pytest.raises(ValidationError):
        st.channel_create(actor=system, store=store, kind="jd", code="tmall", name="京东")


def test_store_01_unknown_channel_kind_is_rejected(store, system):
    with pytest.raises(ValidationError) as excinfo:
        st.channel_create(actor=system, store=store, kind="ebay-ish", code="x", name="x")
    assert excinfo.value.fields == {"kind": "未知的渠道类型"}


def test_store_01_api_lists_channels_per_store(store, channel, api_as):
    client = api_as(Role.ANALYST)
    body = client.get(f"/stores/{store.pk}/channels").json()
    assert [(c["kind"], c["name"]) for c in body] == [("tmall", "天猫旗舰店")]
    denied = client.post(f"/stores/{store.pk}/channels", {"kind": "jd", "code": "jd", "name": "京东"})
    assert denied.status_code == 403
