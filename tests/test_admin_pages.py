"""Every model registered in the admin opens: its change list (with a search, when it has
search fields) answers 200 for a superuser. Catches list_display / list_filter / search_fields
that name a field the model does not have."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.urls import reverse

pytestmark = pytest.mark.django_db

REGISTERED = sorted(
    ((m._meta.app_label, m._meta.model_name, bool(a.search_fields)) for m, a in admin.site._registry.items()),
)


@pytest.mark.parametrize(
    ("app", "model", "searchable"), REGISTERED, ids=[f"{a}.{m}" for a, m, _s in REGISTERED]
)
def test_admin_change_list_opens(client, app, model, searchable):
    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw-for-tests-only")
    client.force_login(user)
    url = reverse(f"admin:{app}_{model}_changelist")
    assert client.get(url).status_code == 200
    if searchable:
        assert client.get(url, {"q": "x"}).status_code == 200
