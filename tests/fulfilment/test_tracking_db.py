"""Shipments and tracking ingest (SOP LOG-01): adapters, idempotency, status derivation, audit."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from openpyxl import Workbook

from storeops.audit.models import AuditEntry
from storeops.core.errors import Conflict, ValidationError
from storeops.fulfilment import services
from storeops.fulfilment.carriers import GenericExportAdapter, read_rows, signature_for, signature_valid
from storeops.fulfilment.models import ShipmentStatus, TrackingEvent
from tests.fulfilment.builders import ACTOR, a_carrier, a_shipment, at, event, scan

pytestmark = pytest.mark.django_db

CSV_ZH = (
    "运单号,时间,状态,地点,描述\n"
    "SF100,2026-03-02 10:00:00,已揽收,杭州,快递员已揽件\n"
    "SF100,2026-03-02 18:30,运输中,杭州转运中心,已发出\n"
    ",2026-03-02 19:00,运输中,上海,缺单号\n"
    "SF100,昨天,运输中,上海,时间错\n"
)


def test_log_01_generic_adapter_reads_a_chinese_csv_export_and_reports_bad_rows_by_line():
    # when a tracking export with Chinese headers is parsed
    parsed = GenericExportAdapter().parse_rows(read_rows(io.BytesIO(CSV_ZH.encode("utf-8-sig")), "track.csv"))
    # then the two good rows become drafts with status and local time, the bad ones are reported
    assert [(d.tracking_no, d.code, d.status, d.location) for d in parsed.drafts] == [
        ("SF100", "已揽收", "picked_up", "杭州"),
        ("SF100", "运输中", "in_transit", "杭州转运中心"),
    ]
    assert parsed.drafts[1].time == dt.datetime(2026, 3, 2, 10, 30, tzinfo=dt.UTC)  # 18:30 Asia/Shanghai
    assert [p.line for p in parsed.problems] == [4, 5]
    assert "tracking_no" in parsed.problems[0].message


def test_log_01_excel_export_keeps_the_time_of_day_and_english_headers_work():
    book = Workbook()
    sheet = book.active
    sheet.append(["Tracking_No", "Time", "Status", "Location", "Description"])
    sheet.append(["ZTO1", dt.datetime(2026, 3, 2, 8, 15), "delivered", "北京", "本人签收"])
    buf = io.BytesIO()
    book.save(buf)
    buf.seek(0)
    parsed = GenericExportAdapter().parse_rows(read_rows(buf, "x.xlsx"))
    assert [(d.tracking_no, d.time, d.status) for d in parsed.drafts] == [
        ("ZTO1", dt.datetime(2026, 3, 2, 0, 15, tzinfo=dt.UTC), "delivered")
    ]


def test_log_01_webhook_signature_is_hmac_sha256_of_the_body():
    body = b'{"events": []}'
    good = signature_for("k1", body)
    assert good.startswith("sha256=")
    assert len(good) == 71
    assert signature_valid("k1", body, good)
    assert signature_valid("k1", body, good.removeprefix("sha256="))
    assert not signature_valid("k2", body, good)
    assert not signature_valid("k1", body + b" ", good)
    assert not signature_valid("", body, signature_for("", body))


def test_log_01_shipment_create_keeps_only_a_masked_phone_and_is_audited(store, channel):
    shipment = a_shipment(store, channel, "SF1")
    assert shipment.status == ShipmentStatus.CREATED
    assert shipment.phone_masked == "138****5678"
    assert [(line.sku_code, line.qty) for line in shipment.lines.all()] == [("SKU-1", 2)]
    assert shipment.cost.amount == Decimal("12.00")
    entry = AuditEntry.objects.get(action="shipment.create")
    assert entry.store_id == store.pk
    assert entry.after["phone_masked"] == "138****5678"
    assert "13812345678" not in str(entry.after)


def test_log_01_tracking_number_is_unique_per_carrier_only(store, channel):
    a_shipment(store, channel, "N1")
    with pytest.raises(Conflict):
        a_shipment(store, channel, "N1")
    other = a_shipment(store, channel, "N1", carrier=a_carrier("ZTO"))
    assert other.carrier.code == "ZTO"


def test_log_01_shipment_create_refuses_bad_input_field_by_field(store, channel):
    with pytest.raises(ValidationError) as err:
        services.shipment_create(
            actor=ACTOR,
            store=store,
            channel=channel,
            order_ref="",
            carrier=a_carrier(),
            tracking_no="X",
            warehouse_code="",
            lines=[("A", 0)],
            province="",
            shipping_cost="-1",
        )
    assert set(err.value.fields) == {"order_ref", "warehouse_code", "lines", "province"}


def test_log_01_ingesting_the_same_batch_twice_stores_each_event_once_with_one_audit_entry_per_batch(
    store, channel
):
    # given a created shipment
    shipment = a_shipment(store, channel, "SF2")
    batch = [event("SF2", 1, "已揽收"), event("SF2", 6, "运输中"), event("NOPE", 2, "已揽收")]
    # when the batch is ingested twice
    first = services.tracking_events_ingest(
        actor=ACTOR, carrier=shipment.carrier, drafts=batch, source="webhook"
    )
    second = services.tracking_events_ingest(
        actor=ACTOR, carrier=shipment.carrier, drafts=batch, source="webhook"
    )
    # then the events are stored once, the unknown number is reported and the status follows
    assert (first.received, first.stored, first.duplicates, first.unknown) == (3, 2, 0, ["NOPE"])
    assert (second.stored, second.duplicates) == (0, 2)
    assert TrackingEvent.objects.filter(shipment=shipment).count() == 2
    shipment.refresh_from_db()
    assert (shipment.status, shipment.shipped_at, shipment.last_event_at) == ("in_transit", at(1), at(6))
    entries = AuditEntry.objects.filter(action="tracking.ingest")
    assert entries.count() == 1  # the repeat changed nothing, so it logged nothing
    assert entries.get().after["stored"] == 2
    assert entries.get().after["status_changes"] == {str(shipment.pk): ["created", "in_transit"]}


def test_log_01_a_late_older_event_does_not_move_the_status_backwards(store, channel):
    shipment = a_shipment(store, channel, "SF3")
    scan(shipment, (1, "已揽收"), (20, "派送中"))
    # when an older "in transit" scan arrives afterwards
    result = scan(shipment, (8, "运输中"))
    # then it is stored as history but the parcel is still out for delivery
    shipment.refresh_from_db()
    assert result.stored == 1
    assert result.status_changes == {}
    assert shipment.status == ShipmentStatus.OUT_FOR_DELIVERY
    assert shipment.last_event_at == at(20)
    assert shipment.events.count() == 3


def test_log_01_delivery_scan_sets_delivered_at(store, channel):
    shipment = a_shipment(store, channel, "SF4")
    scan(shipment, (2, "已揽收"), (30, "已签收"))
    shipment.refresh_from_db()
    assert (shipment.status, shipment.shipped_at, shipment.delivered_at) == ("delivered", at(2), at(30))


def test_log_01_an_import_for_one_store_does_not_touch_another_stores_parcels(store, channel, system):
    from storeops.stores import services as st

    other = st.store_create(actor=system, code="s2", name="二店")
    other_channel = st.channel_create(actor=system, store=other, kind="tmall", code="t2", name="二店天猫")
    theirs = a_shipment(other, other_channel, "SF5")
    result = services.tracking_events_ingest(
        actor=ACTOR, carrier=theirs.carrier, drafts=[event("SF5", 1, "已揽收")], source="import", store=store
    )
    assert (result.stored, result.unknown) == (0, ["SF5"])
    theirs.refresh_from_db()
    assert theirs.status == "created"


def test_log_01_delivered_times_answers_for_hundreds_of_orders_at_once(store, channel):
    """The delivery sync asks for every shipped order: 333 numbers or more made one expression
    too deep for SQLite, and the whole sweep failed. A merged parcel counts once, for each of
    its orders, whichever chunk of the question they fall in."""
    from storeops.fulfilment.models import Shipment, ShipmentOrder
    from storeops.fulfilment.selectors import delivered_times

    merged, lost = a_shipment(store, channel, "SF1"), a_shipment(store, channel, "SF2")
    Shipment.objects.filter(pk=merged.pk).update(delivered_at=at(30))
    ShipmentOrder.objects.filter(shipment=merged).update(order_number="A000")
    ShipmentOrder.objects.create(shipment=merged, order_number="Z999")
    ShipmentOrder.objects.filter(shipment=lost).update(order_number="M500")
    refs = [(channel.pk, f"M{n:03d}") for n in range(998)] + [(channel.pk, "A000"), (channel.pk, "Z999")]
    assert delivered_times(orders=refs) == {(channel.pk, "A000"): at(30), (channel.pk, "Z999"): at(30)}
