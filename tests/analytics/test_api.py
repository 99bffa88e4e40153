"""The analytics API's period parameters (TEAM-01, DATA-08)."""

from __future__ import annotations

import pytest

from storeops.accounts.roles import Role


@pytest.mark.parametrize("path", ["team-kpis", "profitability"])
def test_a_date_without_a_time_zone_ends_the_period_at_local_midnight(store, api_as, path):
    # "until=2026-12-01" was a 500 on team-kpis (naive and aware times compared) and gave
    # times without an offset on profitability
    response = api_as(Role.OWNER).get(f"/analytics/{store.pk}/{path}", until="2026-12-01", days=30)
    assert response.status_code == 200, response.content[:300]
    body = response.json()
    assert body["until"] == "2026-12-01T00:00:00+08:00"
    assert body["since"] == "2026-11-01T00:00:00+08:00"


@pytest.mark.parametrize("path", ["team-kpis", "profitability"])
def test_zero_days_is_a_422_like_any_period_outside_1_to_366(store, api_as, path):
    # days=0 quietly meant "the playbook's default period"
    response = api_as(Role.OWNER).get(f"/analytics/{store.pk}/{path}", days=0)
    assert response.status_code == 422
    assert response.json()["fields"] == {"days": "1–366 天"}
