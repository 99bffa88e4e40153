"""The shipments API's filters."""

from __future__ import annotations

from storeops.accounts.roles import Role


def test_an_unknown_shipment_status_is_a_422(store, api_as):
    response = api_as(Role.WAREHOUSE).get(f"/fulfilment/{store.pk}/shipments", status="shipped")
    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"status"}
    assert (
        api_as(Role.WAREHOUSE).get(f"/fulfilment/{store.pk}/shipments", status="in_transit").status_code
        == 200
    )
