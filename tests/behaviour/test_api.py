"""The behaviour imports list's filters (DATA-04)."""

from __future__ import annotations

import pytest

from storeops.accounts.roles import Role


@pytest.mark.parametrize("query", [{"status": "ok"}, {"kind": "batch"}])
def test_an_unknown_import_filter_is_a_422(store, api_as, query):
    response = api_as(Role.ANALYST).get(f"/behaviour/{store.pk}/imports", **query)
    assert response.status_code == 422
    assert set(response.json()["fields"]) == set(query)
    assert (
        api_as(Role.ANALYST).get(f"/behaviour/{store.pk}/imports", status="failed", kind="api").status_code
        == 200
    )
