"""The outreach API's list filters (MEM-06)."""

from __future__ import annotations

import pytest

from storeops.accounts.roles import Role


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/outreach/{store}/consents", {"channel": "wechat"}),
        ("/outreach/{store}/consents", {"status": "subscribed"}),
        ("/outreach/{store}/campaigns", {"status": "done"}),
    ],
)
def test_an_unknown_filter_value_is_a_422_naming_it(store, api_as, path, query):
    response = api_as(Role.MARKETING).get(path.format(store=store.pk), **query)
    assert response.status_code == 422
    assert set(response.json()["fields"]) == set(query)
