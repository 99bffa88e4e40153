"""The members API's list filters."""

from __future__ import annotations

import pytest

from storeops.accounts.roles import Role


@pytest.mark.parametrize("query", [{"tier": "platinum"}, {"referred": "maybe"}])
def test_an_unknown_member_filter_is_a_422(store, api_as, query):
    # "referred=maybe" listed every member, "tier=platinum" none
    response = api_as(Role.OPERATIONS).get(f"/members/{store.pk}/members", **query)
    assert response.status_code == 422
    assert set(response.json()["fields"]) == set(query)


def test_the_documented_member_filters_are_accepted(store, api_as):
    response = api_as(Role.OPERATIONS).get(f"/members/{store.pk}/members", tier="gold", referred="yes")
    assert response.status_code == 200


def test_an_unknown_reward_kind_is_a_422(store, api_as):
    response = api_as(Role.OPERATIONS).get(f"/members/{store.pk}/rewards", kind="voucher")
    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"kind"}
