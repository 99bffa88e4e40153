"""The inventory API's list filters."""

from __future__ import annotations

import pytest

from storeops.accounts.roles import Role


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/inventory/{store}/stock", {"zone": "sellabel"}),
        ("/inventory/{store}/ledger", {"kind": "receive"}),
        ("/inventory/{store}/count-sheets", {"status": "done"}),
    ],
)
def test_an_unknown_filter_value_is_a_422_naming_it(store, api_as, path, query):
    # a typo answered an empty list: "no stock" to an ERP reconciling its stock
    response = api_as(Role.WAREHOUSE).get(path.format(store=store.pk), **query)
    assert response.status_code == 422
    assert set(response.json()["fields"]) == set(query)


def test_the_known_values_are_accepted(store, api_as):
    client = api_as(Role.WAREHOUSE)
    assert client.get(f"/inventory/{store.pk}/stock", zone="qc").status_code == 200
    assert client.get(f"/inventory/{store.pk}/ledger", kind="receipt").status_code == 200
    assert client.get(f"/inventory/{store.pk}/count-sheets", status="posted").status_code == 200
