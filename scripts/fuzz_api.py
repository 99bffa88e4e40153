#!/usr/bin/env python
"""Fuzz every /api/v1 route with schemathesis and list the server errors (HTTP 5xx).

    .venv/bin/pip install schemathesis      # not in the lock file: a tool, not a dependency
    .venv/bin/python scripts/fuzz_api.py [--minutes 15] [--examples 20]
        [--checks not_a_server_error,response_schema_conformance] [--random-ids]

A throwaway demo store (its own var directory under /tmp), an owner's API token, the OpenAPI
schema dumped from the code, Django's server on a free port, then ``schemathesis run`` (coverage
and fuzzing phases) with the ``not_a_server_error`` check by default.

Real ids: the setup snippet (``storeops shell -c``) adds what the demo lacks (two marketing
campaigns, an ad plan with keywords, two count sheets, an order-import mapping, an account
freeze) and writes ``ids.json``: for each path parameter of the schema a few values that exist
in the demo store (one per state first: orders, cases, tickets… in different states), keyed
``name`` or ``name@/path-fragment/`` where a name means different things (``number`` of an order
or of an after-sales case). ``scripts/fuzz_api_hooks.py`` (``SCHEMATHESIS_HOOKS``) puts them
in the requests: three path ids in four in the fuzzing phase (the rest stay random: 404s and odd
ids are still tried), and ``channel_id``/``warehouse_id``/… query parameters half the time;
every id in the coverage phase except the parameter a case is about. ``--random-ids`` turns
this off (schemathesis alone, as before). The fuzzer now changes the demo through real ids:
it cancels orders, approves campaigns, deletes keywords… — the order of routes decides what
later routes meet; that is fine for a 5xx hunt.

Left out: the token revocation route (it would revoke the fuzzer's own token, every later call
a 401). Nothing else destroys the session: the owner's language switch only changes messages.

At the end it prints each route that answered 5xx with the exception from the server log, and
from the server's request log how many routes were *reached* (an answer other than 404, 400/422
and 401/403/405: the handler found what it works on), how many answered a 2xx, and the routes
never reached (``routes.json`` in the var directory has the statuses per route). Typical 10-minute
run: ~210 of 258 reached and ~175 with a 2xx (random ids alone: 173 and 151); most routes left
are creates whose bodies schemathesis rarely gets valid (plain ``str`` fields whose allowed
values the schema does not list). ``response_schema_conformance`` (tried 2026-12-07) flags one
mismatch left: ``POST /orders/imports/{store}`` declares its 422 as the import report, but a
request error (no file, no ``channel_id``) answers the usual error body. Bad input must be a
4xx (docs/api.md, errors); each 5xx found here is a bug to fix with a test
(tests/test_api_bad_input.py holds the ones found so far).
"""

# ruff: noqa: S603, T201  (a developer tool: runs our own commands and prints its findings)
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import devserver  # scripts/devserver.py: this folder is on sys.path when a script runs

ROOT = Path(__file__).resolve().parents[1]
SETUP = """
import datetime
import json
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count
from storeops.accounts import services
from storeops.accounts.roles import Role
from storeops.analytics import rules as analytics_rules
from storeops.config.api import api
from storeops.core.context import Actor
from storeops.inventory import counts
from storeops.marketing import services as marketing
from storeops.marketing.models import BudgetKind
from storeops.orders import imports as order_imports
from storeops.orders import services as order_services
from storeops.stores.models import Store

owner = get_user_model().objects.get(username="demo_owner")
_token, raw = services.api_token_create(actor=Actor(user=owner, via="cli"), name="fuzz", role=Role.OWNER)
store = Store.objects.order_by("pk").first()
actor = Actor(user=owner, via="cli")
today = datetime.date.today()

# the demo has none of these: one or two each, made by the services as an operator would
for kind, days in (("regular", 10), ("big_promotion", 60)):
    marketing.campaign_create(
        actor=actor, store=store, theme=f"fuzz {kind}", kind=kind,
        starts_on=today + datetime.timedelta(days=days), ends_on=today + datetime.timedelta(days=days + 3),
        budget=[{"kind": "discount", "planned": "1000"}],
    )
plan = marketing.ad_plan_create(
    actor=actor, store=store, name="fuzz plan", purpose="traffic", match_type="broad", daily_budget="100"
)
for word in ("瑜伽垫", "保温杯"):
    marketing.ad_keyword_set(actor=actor, plan=plan, keyword=word, bid="1.20")
warehouse = store.warehouses.order_by("pk").first()
skus = list(store.skus.order_by("pk").values_list("pk", flat=True)[:4])
for sku_ids in (skus[:2], skus[2:]):  # a SKU is on one open sheet at a time
    counts.count_sheet_create(actor=actor, store=store, warehouse=warehouse, sku_ids=sku_ids)
order_imports.mapping_save(
    actor=actor, store=store, name="fuzz mapping", channel_kind="tmall",
    mapping={"order_no": "单号", "receiver": ["姓名"], "phone": "手机号", "full_address": "地址",
             "sku_code": "编码", "quantity": "件数", "order_amount": "金额"},
)
order_services.account_freeze(actor=actor, store=store, customer_ref="fuzz-frozen", reason="fuzz")


def few(label, value="pk", spread="status", n=6, **where):
    # up to n values of the demo store's rows, one per state first (each state's handler path)
    model = apps.get_model(label)
    names = {f.name for f in model._meta.concrete_fields}
    if "store" in names:
        where["store"] = store
    fields = [value] + ([spread] if spread in names else [])
    rows = list(model.objects.filter(**where).order_by("-pk").values_list(*fields)[:500])
    picked, seen = [], set()
    for row in rows:
        if len(row) > 1 and row[1] not in seen:
            seen.add(row[1])
            picked.append(row[0])
    picked += [row[0] for row in rows if row[0] not in picked]
    return picked[:n]


def pairs(label, parent, child, **where):
    model = apps.get_model(label)
    rows = model.objects.filter(**where).order_by("-pk").values_list(parent + "_id", "pk")[:6]
    return [{parent + "_id": p, child: c} for p, c in rows]


order_numbers = few("orders.Order", "number", n=16)
# a number two channels share needs ?channel_id= (a 422 without it): not a path id to use
shared_numbers = set(
    apps.get_model("orders.Order").objects.values("number").annotate(n=Count("pk")).filter(n__gt=1)
    .values_list("number", flat=True)
)
ids = {
    "store_id": [store.pk],
    "channel_id": list(store.channels.order_by("pk").values_list("pk", flat=True)),
    "warehouse_id": few("inventory.Warehouse"),
    "category_id": few("catalog.Category"),
    "sku_id": few("catalog.Sku", spread="is_active"),
    "product_id": few("catalog.Product"),
    "audit_id": few("catalog.ListingAudit", spread="decision", product__store=store),
    "listing_id": few("catalog.ChannelListing", product__store=store),
    "qualification_id": few("stores.Qualification", spread="kind"),
    "change_id": few("stores.PlatformRuleChange"),
    "plan_id@/launch-plans/": few("stores.LaunchPlan"),
    "target_id@/launch-plans/": pairs("stores.LaunchTarget", "plan", "target_id", plan__store=store),
    "plan_id@/ad-plans/": few("marketing.AdPlan"),
    "keyword_id@/ad-plans/": pairs("marketing.AdKeyword", "plan", "keyword_id", plan__store=store),
    "campaign_id@/marketing/": few("marketing.Campaign", n=8),
    "kind": list(BudgetKind.values),
    "campaign_id@/outreach/": few("outreach.Campaign"),
    "template_id@/outreach/": few("outreach.MessageTemplate", spread="is_active"),
    "template_id@/coupon-templates/": few("promotions.CouponTemplate", spread="is_active"),
    "competitor_id": few("pricing.CompetitorProduct"),
    "offer_id": few("promotions.Offer"),
    "member_id": few("members.Member"),
    "reward_id": few("members.PointsReward", spread="is_active"),
    "number@/orders/": [n for n in order_numbers if n not in shared_numbers][:10],
    "number@/aftersales/": few("aftersales.AfterSale", "number", n=10),
    "reference": few("orders.Payment", "reference", order__store=store),
    "provider": sorted(settings.STOREOPS_PAYMENT_PROVIDERS),
    "carrier_code": few("fulfilment.Carrier", "code"),
    "shipment_id": few("fulfilment.Shipment"),
    "freeze_id": few("orders.AccountFreeze", spread="lifted_at"),
    "mapping_id": few("orders.OrderImportMapping"),
    "import_id@/orders/": few("orders.OrderImport"),
    "import_id@/behaviour/": few("behaviour.BehaviourImport"),
    "invoice_id": few("orders.InvoiceRequest", n=8),
    "ticket_id": few("service.Ticket", n=8),
    "script_id": few("service.ReplyScript", spread="is_active"),
    "incident_id": few("service.Incident"),
    "sheet_id": few("inventory.CountSheet"),
    "experiment_id": few("analytics.Experiment"),
    "report_id": few("analytics.OperationsReport", spread="kind"),
    "segment": list(analytics_rules.SEGMENTS),
    "customer_ref": few("analytics.CustomerSnapshot", "customer_ref", spread="segment"),
    "finding_id": few("sop.Finding", n=8),
}
print(json.dumps({"token": raw, "schema": api.get_openapi_schema(), "ids": ids}, default=str))
"""


# the token revocation would revoke the fuzzer's own token (every later call a 401)
EXCLUDE = r"tokens/\{token_id\}/revoke"
LOG_LINE = re.compile(r'"([A-Z]+) (\S+) HTTP/[\d.]+" (\d{3}) ')


def route_statuses(schema: dict[str, Any], lines: list[str]) -> dict[str, dict[str, int]]:
    """``"METHOD /path/{id}"`` → {status: count} from the server's request log; each request
    goes to the matching route with the fewest parameters (``orders/export`` before
    ``orders/{number}``)."""
    routes: list[tuple[int, str, re.Pattern[str], str]] = []
    for path, item in schema["paths"].items():
        pattern = re.compile("^" + re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(path)) + "/?$")
        if not re.search(EXCLUDE, path):
            routes += [(path.count("{"), m.upper(), pattern, f"{m.upper()} {path}") for m in item]
    routes.sort(key=lambda route: route[0])
    statuses: dict[str, dict[str, int]] = {route[3]: {} for route in routes}
    for line in lines:
        match = LOG_LINE.search(line)
        if match is None:
            continue
        method, target, status = match.groups()
        path = target.split("?", 1)[0]
        for _params, route_method, pattern, name in routes:
            if route_method == method and pattern.match(path):
                statuses[name][status] = statuses[name].get(status, 0) + 1
                break
    return statuses


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=15, help="time budget of the fuzzing run")
    parser.add_argument("--examples", type=int, default=20, help="examples per route")
    parser.add_argument(
        "--checks",
        default="not_a_server_error",
        help="schemathesis checks, comma-separated (e.g. not_a_server_error,response_schema_conformance)",
    )
    parser.add_argument(
        "--random-ids", action="store_true", help="leave path ids to schemathesis (no demo ids)"
    )
    args = parser.parse_args()
    schemathesis = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    if schemathesis is None:
        sys.exit("schemathesis is not installed in this venv: .venv/bin/pip install schemathesis")
    storeops = str(Path(sys.executable).parent / "storeops")
    var = Path(tempfile.mkdtemp(prefix="storeops-fuzz-"))
    env = {**os.environ, "STOREOPS_VAR_DIR": str(var)}
    subprocess.run([storeops, "demo", "--no-serve"], env=env, check=True, stdout=subprocess.DEVNULL)
    setup = subprocess.run(
        [storeops, "shell", "-c", SETUP], env=env, check=False, capture_output=True, text=True
    )
    if setup.returncode:
        sys.exit(f"the setup snippet failed:\n{setup.stderr}")
    found = json.loads(setup.stdout.strip().splitlines()[-1])
    (var / "openapi.json").write_text(json.dumps(found["schema"]))
    (var / "ids.json").write_text(json.dumps(found["ids"], ensure_ascii=False, indent=1))
    fuzz_env = dict(env)
    if not args.random_ids:
        fuzz_env |= {
            "SCHEMATHESIS_HOOKS": str(ROOT / "scripts" / "fuzz_api_hooks.py"),
            "STOREOPS_FUZZ_IDS": str(var / "ids.json"),
        }
    with devserver.served(storeops, env, var / "server.log", "/api/v1/openapi.json") as base:
        subprocess.run(
            [
                schemathesis,
                "run",
                str(var / "openapi.json"),
                "--url",
                base,
                "-H",
                f"Authorization: Bearer {found['token']}",
                "-c",
                args.checks,
                "-n",
                str(args.examples),
                "--phases",
                "coverage,fuzzing",
                "-w",
                "1",
                "--no-shrink",
                "--max-time",
                str(int(args.minutes * 60)),
                "--exclude-path-regex",
                EXCLUDE,
            ],
            cwd=var,
            env=fuzz_env,
            check=False,
        )
    lines = (var / "server.log").read_text(errors="replace").splitlines()
    errors = devserver.server_errors(var / "server.log")
    print(f"\n{len(errors)} server error(s); server log: {var / 'server.log'}")
    for path, exc in errors:
        print(f"  {path}  {exc[:160]}")
    routes = route_statuses(found["schema"], lines)
    (var / "routes.json").write_text(json.dumps(routes, indent=1))
    # a route "reached" an object when it answered anything but 404, input validation (400/422)
    # and the auth probes (401/403/405): otherwise its handler never found what it works on
    unreached = [
        route
        for route, codes in routes.items()
        if set(codes) - {"400", "401", "403", "405", "422"} <= {"404"}
    ]
    succeeded = [route for route, codes in routes.items() if any(c.startswith("2") for c in codes)]
    print(
        f"{len(routes)} routes: {len(routes) - len(unreached)} reached (an answer other than 404, "
        f"400/422 or 401/403/405), {len(succeeded)} with a 2xx; statuses per route in "
        f"{var / 'routes.json'}; not reached:"
    )
    for route in sorted(unreached):
        print(f"  {route}  {routes[route]}")


if __name__ == "__main__":
    main()
