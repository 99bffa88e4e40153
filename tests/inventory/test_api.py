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


def test_inv_05_a_new_count_sheet_shows_its_values_with_two_decimals(store, channel, api_as):
    # given a warehouse with one SKU in stock
    from storeops.core.context import Actor
    from storeops.inventory import services as inv
    from tests.orders.builders import World

    world = World(store, channel, stock_sh=0, stock_gz=0)
    inv.stock_receive(actor=Actor.system("cli"), sku=world.sku_s, warehouse=world.sh, quantity=1, reason="x")
    client = api_as(Role.WAREHOUSE)

    # when a sheet is created (nothing counted yet)
    created = client.post(
        f"/inventory/{store.pk}/count-sheets",
        {"warehouse_id": world.sh.pk, "scope": "skus", "sku_ids": [world.sku_s.pk]},
    )

    # then its values read "0.00" like the counted ones later ("-76.00"), not "0"
    assert created.status_code == 201, created.content
    assert (created.json()["net_value"], created.json()["absolute_value"]) == ("0.00", "0.00")
