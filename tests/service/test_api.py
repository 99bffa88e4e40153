"""The ticket queue API's filters."""

from __future__ import annotations

import pytest

from storeops.accounts.roles import Role


@pytest.mark.parametrize(
    "query", [{"status": "opened"}, {"tier": "urgent"}, {"category": "delivery"}, {"kind": "ask"}]
)
def test_an_unknown_ticket_filter_is_a_422_naming_it(store, api_as, query):
    response = api_as(Role.CUSTOMER_SERVICE).get(f"/service/{store.pk}/tickets", **query)
    assert response.status_code == 422
    assert set(response.json()["fields"]) == set(query)


def test_the_documented_ticket_filters_are_accepted(store, api_as):
    response = api_as(Role.CUSTOMER_SERVICE).get(
        f"/service/{store.pk}/tickets", status="active", tier="crisis", category="quality", kind="complaint"
    )
    assert response.status_code == 200
