"""Importing behaviour event files (DATA-05 input): validation, the all-or-nothing policy,
sessions across files, catalogue links, and the real Taobao sample checked against facts
computed independently from the file."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
from collections import Counter, defaultdict

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from storeops.audit.selectors import audit_list
from storeops.behaviour import selectors, services
from storeops.core.errors import Conflict
from storeops.stores import services as store_services
from tests.behaviour.builders import ACTOR, TAOBAO, taobao_head, write_csv

T0 = 1764550800  # 2025-12-01 01:00 UTC
HEADER = ["user_id", "item_id", "category_id", "behavior_type", "timestamp"]


def _import(store, path, **kw):
    return services.events_import(actor=ACTOR, store=store, path=path, **kw)


def test_data_05_taobao_rows_map_to_kinds_pages_and_steps(store, tmp_path):
    # given one visitor's view, favourite, cart and purchase (no header row in the file)
    path = write_csv(
        tmp_path / "t.csv",
        [
            [1, 10, 7, "pv", T0],
            [1, 10, 7, "fav", T0 + 60],
            [1, 10, 7, "cart", T0 + 120],
            [1, 10, 7, "buy", T0 + 180],
        ],
    )
    # when imported
    run = _import(store, path)
    # then every row is an event of the mapped kind, page and step, in one session
    assert (run.status, run.rows, run.imported, run.sessions) == ("imported", 4, 4, 1)
    got = list(selectors.interactions(store=store))
    assert [(i.visitor_id, i.item_key, i.kind) for i in got] == [
        ("1", "10", "page_view"),
        ("1", "10", "favourite"),
        ("1", "10", "add_to_cart"),
        ("1", "10", "pay"),
    ]
    assert got[0].timestamp == dt.datetime.fromtimestamp(T0, tz=dt.UTC)
    f = selectors.funnel_report(store=store, since=dt.date(2025, 12, 1), until=dt.date(2025, 12, 1)).funnel
    assert [(s.code, s.visitors, s.seen) for s in f.steps] == [
        ("home", 1, 0),
        ("category", 1, 0),
        ("product", 1, 1),
        ("cart", 1, 1),
        ("pay", 1, 1),
    ]


def test_data_05_a_file_with_bad_rows_imports_nothing_and_reports_every_bad_row(store, tmp_path):
    # given a gzip file with a header, 3 good rows and 4 bad ones
    rows = [
        [1, 10, 7, "pv", T0],
        [2, 11, 7, "click", T0],  # unknown behaviour
        [3, "", 7, "pv", T0],  # no item
        [4, 12, 7, "pv", "yesterday"],  # bad time
        [5, 12, 7, "pv"],  # missing column
        [6, 13, 7, "buy", T0 + 5],
        [7, 14, 7, "click", T0 + 9],  # unknown behaviour again
    ]
    path = write_csv(tmp_path / "bad.csv.gz", rows, HEADER, gz=True)
    # when imported
    run = _import(store, path)
    # then nothing is written, and the import is recorded as failed with every bad row counted
    assert run.status == "failed"
    assert (run.rows, run.bad_rows, run.imported) == (7, 5, 0)
    assert selectors.event_count(store=store) == 0
    assert [(e["line"], e["field"]) for e in run.errors] == [
        (3, "behavior_type"),
        (4, "item_id"),
        (5, "occurred_at"),
        (6, "row"),
        (8, "behavior_type"),
    ]
    assert run.error_summary["behavior_type: 只能是 pv、fav、cart 或 buy"] == 2
    assert audit_list(store_id=store.pk).filter(action="behaviour.import_failed").count() == 1


def test_data_05_the_same_file_is_not_imported_twice_but_a_fixed_file_is(store, tmp_path):
    path = write_csv(tmp_path / "a.csv", [[1, 10, 7, "pv", T0]], HEADER)
    _import(store, path)
    with pytest.raises(Conflict) as exc:
        _import(store, path)
    assert exc.value.code == "already_imported"
    assert selectors.event_count(store=store) == 1
    # a failed file can be fixed and imported
    bad = write_csv(tmp_path / "b.csv", [[2, 10, 7, "xx", T0]], HEADER)
    assert _import(store, bad).status == "failed"
    write_csv(bad, [[2, 10, 7, "pv", T0 + 1]], HEADER)
    assert _import(store, bad).status == "imported"
    assert selectors.event_count(store=store) == 2


def test_data_05_sessions_continue_across_files_within_the_playbook_gap(store, tmp_path, system):
    # given the playbook's 30-minute gap, a first file ending at T0 + 600
    _import(store, write_csv(tmp_path / "1.csv", [[1, 10, 7, "pv", T0], [1, 11, 7, "pv", T0 + 600]], HEADER))
    # when the next file has the same visitor 20 minutes later, and again 40 minutes after that
    run = _import(
        store,
        write_csv(tmp_path / "2.csv", [[1, 12, 7, "pv", T0 + 1800], [1, 13, 7, "pv", T0 + 4200]], HEADER),
    )
    # then the first continues the stored session, the second starts a new one
    assert run.sessions == 1
    paths = selectors.path_report(store=store, since=dt.date(2025, 12, 1), until=dt.date(2025, 12, 1)).stats
    assert paths.sessions == 2
    # and a shorter gap in the playbook splits every event of a new visitor
    store_services.playbook_update(actor=system, store=store, values={"behaviour_session_gap_minutes": 5})
    run = _import(
        store, write_csv(tmp_path / "3.csv", [[9, 1, 7, "pv", T0], [9, 1, 7, "pv", T0 + 301]], HEADER)
    )
    assert run.sessions == 2


def test_data_05_generic_file_with_pages_sources_amounts_and_catalog_links(store, tmp_path):
    from tests.catalog.db_builders import a_dress_category, a_product

    # given a catalogue product "OK" with SKU "OK-S", and a generic file in Chinese headers
    product = a_product(store, a_dress_category(store), "OK")
    header = ["访客ID", "行为", "时间", "页面类型", "商品ID", "流量来源", "停留秒数", "支付金额"]
    rows = [
        ["v1", "page_view", "2025-12-01T09:00:00+08:00", "home", "", "search", "12", ""],
        ["v1", "page_view", "2025-12-01T09:01:00+08:00", "product", "OK-S", "search", "", ""],
        ["v1", "page_view", "2025-12-01T09:02:00+08:00", "product", "OK", "search", "", ""],
        ["v1", "pay", "2025-12-01T09:03:00+08:00", "", "OK-S", "search", "", "199.00"],
    ]
    run = _import(store, write_csv(tmp_path / "g.csv", rows, header), fmt="generic")
    # then the SKU code links SKU and product, the product code the product only
    assert (run.status, run.imported, run.linked) == ("imported", 4, 3)
    report = selectors.source_report(store=store, since=dt.date(2025, 12, 1), until=dt.date(2025, 12, 1))
    (search,) = report.rows
    assert (search.source, search.visitors, search.buyers, search.revenue) == ("search", 1, 1, 199)
    assert sorted(product.skus.values_list("code", flat=True)) == ["OK-M", "OK-S"]


def test_data_05_generic_file_validation_messages(store, tmp_path):
    header = ["visitor_id", "kind", "occurred_at", "page_type", "amount", "source", "dwell_seconds"]
    rows = [
        ["v1", "page_view", "2025-12-01T09:00:00", "", "", "", ""],  # page view without a page
        ["v1", "add_to_cart", "2025-12-01T09:00:00", "", "5", "", ""],  # amount on a cart event
        ["v1", "pay", "2025-12-01T09:00:00", "", "-1", "", ""],  # negative amount
        ["v1", "page_view", "2025-12-01T09:00:00", "home", "", "tv", ""],  # unknown source
        ["v1", "page_view", "2025-12-01T09:00:00", "home", "", "", "-3"],  # negative dwell
        ["v1", "page_view", "1999-01-01T09:00:00", "home", "", "", ""],  # too old
    ]
    run = _import(store, write_csv(tmp_path / "g.csv", rows, header), fmt="generic")
    assert run.status == "failed"
    assert [(e["line"], e["field"]) for e in run.errors] == [
        (2, "page_type"),
        (3, "amount"),
        (4, "amount"),
        (5, "source"),
        (6, "dwell_seconds"),
        (7, "occurred_at"),
    ]
    missing = write_csv(tmp_path / "m.csv", [["v1", "x"]], ["visitor_id", "page_type"])
    run = _import(store, missing, fmt="generic")
    assert [(e["line"], e["field"]) for e in run.errors] == [(1, "kind"), (1, "occurred_at")]


def test_data_05_cli_imports_with_progress_and_fails_on_bad_rows(store, tmp_path, capsys):
    good = taobao_head(tmp_path, 500)
    call_command("behaviour", "import", str(good), "--store", store.code)
    out = capsys.readouterr().out
    assert "已导入 500 个事件" in out
    bad = write_csv(tmp_path / "bad.csv", [[1, 10, 7, "pv", T0], [1, 10, 7, "??", T0]], HEADER)
    with pytest.raises(CommandError, match="failed"):
        call_command("behaviour", "import", str(bad), "--store", store.code)
    out = capsys.readouterr().out
    assert "1 行有误" in out
    assert "behavior_type" in out
    with pytest.raises(CommandError, match="no such store"):
        call_command("behaviour", "import", str(good), "--store", "nope")


def _taobao_facts(gap: int) -> dict:
    """Facts computed from the file with the csv module, independently of the app."""
    users: dict[str, set[str]] = defaultdict(set)
    events_by_user: dict[str, list[tuple[int, str]]] = defaultdict(list)
    buys = 0
    with gzip.open(TAOBAO, "rt", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            users[row["user_id"]].add(row["behavior_type"])
            events_by_user[row["user_id"]].append((int(row["timestamp"]), row["behavior_type"]))
            buys += row["behavior_type"] == "buy"
    deepest = Counter()
    for kinds in users.values():
        deepest["pay" if "buy" in kinds else "cart" if "cart" in kinds else "product"] += 1
    page = {"pv": "product", "fav": "product", "cart": "product", "buy": "pay"}
    sessions = single = 0
    paths: Counter = Counter()
    for evs in events_by_user.values():
        evs.sort(key=lambda e: e[0])
        groups: list[list[str]] = []
        last = None
        for ts, kind in evs:
            if last is None or ts - last > gap:
                groups.append([])
            groups[-1].append(page[kind])
            last = ts
        for g in groups:
            sessions += 1
            single += len(g) == 1
            collapsed = [p for i, p in enumerate(g) if i == 0 or g[i - 1] != p]
            paths[tuple(collapsed)] += 1
    return {
        "visitors": len(users),
        "pay": deepest["pay"],
        "cart_or_pay": deepest["pay"] + deepest["cart"],
        "carted": sum("cart" in k for k in users.values()),
        "carted_paid": sum({"cart", "buy"} <= k for k in users.values()),
        "product_seen": sum(bool({"pv", "fav"} & k) for k in users.values()),
        "buys": buys,
        "sessions": sessions,
        "single": single,
        "top_paths": paths.most_common(3),
    }


@pytest.mark.slow
def test_data_05_taobao_sample_imports_whole_and_its_funnel_matches_the_file(store, system):
    # given the real Taobao sample (110,300 events of 2017-11-26, 09:00–11:10 Beijing time)
    facts = _taobao_facts(gap=30 * 60)
    # when imported
    run = services.events_import(actor=ACTOR, store=store, path=TAOBAO, fmt="taobao")
    # then every row is an event, in the sessions the file implies
    assert (run.status, run.rows, run.imported, run.bad_rows) == ("imported", 110_300, 110_300, 0)
    assert run.sessions == facts["sessions"]
    day = dt.date(2017, 11, 26)
    f = selectors.funnel_report(store=store, since=day, until=day).funnel
    # and the funnel is the file's: everyone viewed, carted or bought; home/category unobserved
    assert f.visitors == facts["visitors"]
    assert [s.visitors for s in f.steps] == [
        facts["visitors"],
        facts["visitors"],
        facts["visitors"],
        facts["cart_or_pay"],
        facts["pay"],
    ]
    assert [s.observed for s in f.steps] == [False, False, True, True, True]
    assert f.step("product").seen == facts["product_seen"]
    assert (f.carted, f.carted_paid) == (facts["carted"], facts["carted_paid"])
    # paths and bounce from the same sessions
    stats = selectors.path_report(store=store, since=day, until=day).stats
    assert (stats.sessions, stats.single_page_sessions) == (facts["sessions"], facts["single"])
    assert list(stats.paths[:3]) == facts["top_paths"]
    # DATA-04: one source ("other": the data has none), buyers from the file, no amounts
    (other,) = selectors.source_report(store=store, since=day, until=day).rows
    assert (other.source, other.visitors, other.buyers) == ("other", facts["visitors"], facts["pay"])
    assert (other.revenue, other.unpriced_payments, other.spend) == (0, facts["buys"], None)
    # the recommendation feed gets every event (all name an item)
    assert sum(1 for _ in selectors.interactions(store=store)) == 110_300
    # and the DATA-05 check, run the day after with a 15% add-to-cart minimum, reports product → cart
    from storeops.sop.models import Finding
    from storeops.sop.services import checks_run

    store_services.playbook_update(actor=system, store=store, values={"funnel_min_cart_rate": "0.15"})
    checks_run(rule="DATA-05", store=store, now=dt.datetime(2017, 11, 27, 10, tzinfo=dt.UTC), notify=False)
    finding = Finding.objects.get(rule_id="DATA-05", store=store)
    assert finding.subject_key == "funnel:product:cart"
    assert finding.detail["conversion"] == str(f.step("cart").conversion)
