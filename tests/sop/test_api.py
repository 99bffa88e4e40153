"""The findings board API's filters."""

from __future__ import annotations

import pytest

from storeops.accounts.roles import Role


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"status": "unresloved"}, "status"),
        ({"severity": "high"}, "severity"),
        ({"owner_role": "ops"}, "owner_role"),
    ],
)
def test_an_unknown_filter_value_is_a_422_naming_the_filter(store, api_as, query, field):
    # a typo answered an empty board, as if nothing were wrong
    response = api_as(Role.OWNER).get("/findings/", **query)
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert set(response.json()["fields"]) == {field}
    assert response.json()["fields"][field].startswith("只能是 ")


def test_the_documented_filters_are_accepted(store, api_as):
    response = api_as(Role.OWNER).get(
        "/findings/",
        status="unresolved",
        severity="critical",
        rule="STORE-02",
        owner_role="operations",
        overdue="true",
    )
    assert response.status_code == 200
