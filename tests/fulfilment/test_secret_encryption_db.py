"""SOP RISK-05: a carrier's push-signing secret is stored encrypted (a copy of the database
or a backup does not reveal it), read back as plain text by the code that checks webhook
signatures, kept across a SECRET_KEY rotation through SECRET_KEY_FALLBACKS, never shown by
the admin form (empty keeps it), and rows written before encryption are encrypted by the
migration."""

from __future__ import annotations

import importlib
import json

import pytest
from django.apps import apps
from django.db import connection
from django.test import Client

from storeops.accounts.roles import Role
from storeops.core import crypto
from storeops.core.errors import ValidationError
from storeops.fulfilment import services
from storeops.fulfilment.admin import CarrierForm
from storeops.fulfilment.carriers import signature_for
from storeops.fulfilment.models import Carrier
from tests.fulfilment.builders import ACTOR, a_carrier, a_shipment

pytestmark = pytest.mark.django_db

OLD_KEY = "old-" + "k" * 60
NEW_KEY = "new-" + "n" * 60


def _stored(carrier: Carrier) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM fulfilment_carrier WHERE id = %s", [carrier.pk])
        return str(cursor.fetchone()[0])


def _push(code: str, secret: str, tracking_no: str):
    body = json.dumps({"tracking_no": tracking_no, "time": "2026-03-02T10:00:00+08:00", "status": "已揽收"})
    return Client().post(
        f"/api/v1/fulfilment/webhooks/{code}",
        data=body.encode(),
        content_type="application/json",
        HTTP_X_STOREOPS_SIGNATURE=signature_for(secret, body.encode()),
    )


def test_risk_05_the_carrier_secret_is_stored_encrypted_and_webhooks_still_verify(store, channel):
    carrier = a_carrier("SF", secret="k-sf-plain")
    stored = _stored(carrier)
    assert stored.startswith(crypto.PREFIX)
    assert "k-sf-plain" not in stored
    assert Carrier.objects.get(pk=carrier.pk).secret == "k-sf-plain"
    # each encryption differs: equal secrets are not recognisable in the table
    assert _stored(a_carrier("ZTO", secret="k-sf-plain")) != stored
    a_shipment(store, channel, "SF77", carrier=carrier)
    assert _push("SF", "k-sf-plain", "SF77").status_code == 200


def test_risk_05_a_rotated_secret_key_keeps_secrets_readable_through_the_fallbacks(store, channel, settings):
    settings.SECRET_KEY = OLD_KEY
    carrier = a_carrier("SF", secret="k-rotate")
    a_shipment(store, channel, "SF78", carrier=carrier)
    # rotated with the old key among the fallbacks: still readable, and re-saved under the new key
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW_KEY, [OLD_KEY]
    assert Carrier.objects.get(pk=carrier.pk).secret == "k-rotate"
    assert _push("SF", "k-rotate", "SF78").status_code == 200
    Carrier.objects.get(pk=carrier.pk).save()
    settings.SECRET_KEY_FALLBACKS = []
    assert Carrier.objects.get(pk=carrier.pk).secret == "k-rotate"


def test_risk_05_a_secret_under_a_lost_key_reads_empty_and_refuses_webhooks(store, channel, settings, caplog):
    settings.SECRET_KEY = OLD_KEY
    carrier = a_carrier("SF", secret="k-lost")
    a_shipment(store, channel, "SF79", carrier=carrier)
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW_KEY, []
    assert Carrier.objects.get(pk=carrier.pk).secret == ""
    assert "SECRET_KEY_FALLBACKS" in caplog.text
    assert _push("SF", "k-lost", "SF79").status_code == 401


def test_risk_05_the_admin_form_never_shows_the_secret_and_empty_keeps_it(store):
    carrier = a_carrier("SF", secret="k-admin")
    form = CarrierForm(instance=carrier)
    assert "k-admin" not in str(form["secret"])
    typed = {"code": "SF", "name": "顺丰", "adapter": "generic", "secret": "", "is_active": "on"}
    kept = CarrierForm(typed, instance=carrier)
    assert kept.is_valid(), kept.errors
    kept.save()
    assert Carrier.objects.get(pk=carrier.pk).secret == "k-admin"
    changed = CarrierForm({**typed, "secret": "k-new"}, instance=Carrier.objects.get(pk=carrier.pk))
    assert changed.is_valid(), changed.errors
    changed.save()
    assert Carrier.objects.get(pk=carrier.pk).secret == "k-new"


def test_risk_05_the_admin_carrier_page_does_not_render_the_secret(store, make_user):
    carrier = a_carrier("SF", secret="k-page")
    client = Client()
    client.force_login(make_user(Role.OWNER))
    page = client.get(f"/admin/fulfilment/carrier/{carrier.pk}/change/")
    assert page.status_code == 200
    assert "k-page" not in page.content.decode()


def test_risk_05_a_too_long_secret_is_refused_naming_the_field(store):
    with pytest.raises(ValidationError) as caught:
        services.carrier_create(actor=ACTOR, code="YTO", name="圆通", secret="x" * 129)
    assert set(caught.value.fields) == {"secret"}
    assert not Carrier.objects.filter(code="YTO").exists()


def test_risk_05_the_migration_encrypts_secrets_written_in_plain_text(store):
    carrier = a_carrier("SF", secret="placeholder")
    with connection.cursor() as cursor:  # as the code before encryption wrote it
        cursor.execute("UPDATE fulfilment_carrier SET secret = %s WHERE id = %s", ["k-legacy", carrier.pk])
    assert Carrier.objects.get(pk=carrier.pk).secret == "k-legacy"  # read as it is until migrated
    migration = importlib.import_module("storeops.fulfilment.migrations.0004_carrier_secret_encrypted")
    migration.encrypt_existing(apps, None)
    assert _stored(carrier).startswith(crypto.PREFIX)
    assert Carrier.objects.get(pk=carrier.pk).secret == "k-legacy"
