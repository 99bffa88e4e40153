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


@pytest.mark.parametrize("rating", ["0", "6", "-1"])
def test_log_02_a_review_rating_filter_outside_1_to_5_is_a_422_naming_it(store, api_as, rating):
    # a review is rated 1 to 5 (its model's constraint): ?rating=6 answered an empty list,
    # which looked like "no such reviews"
    response = api_as(Role.CUSTOMER_SERVICE).get(f"/service/{store.pk}/reviews", rating=rating)
    assert response.status_code == 422, response.content[:300]
    assert list(response.json()["fields"]) == ["rating"]
    assert response.json()["fields"]["rating"] in {"须不小于 1", "须不大于 5"}


def test_log_02_the_review_filters_are_accepted(store, api_as):
    response = api_as(Role.CUSTOMER_SERVICE).get(f"/service/{store.pk}/reviews", rating="1")
    assert response.status_code == 200
    assert response.json()["total"] == 0
