#!/usr/bin/env python
"""Fuzz the console's POST forms with bad values; list the server errors and half-written refusals.

    .venv/bin/python scripts/fuzz_console.py [--minutes 30] [--pages 200]

A throwaway demo store (its own var directory under /tmp), Django's server on a free port,
then, for demo_owner and a few other roles: sign in at /admin/login/, crawl the console pages
reachable from the navigation (links within the console, a few pages per URL shape), and
collect every ``<form method="post">`` with its fields (one form per action shape, field names
and submit button). Each form is then submitted with its own values and, one field at a time,
with bad ones: empty, blank, 5,000 characters, Chinese + emoji, negative / zero / huge
numbers, "NaN", text in a number, an impossible date, nonexistent or other ids, an option
that is not offered, the field left out, the field sent twice; files: empty, binary junk, a
workbook that is not one.

Checks: no 5xx (with the exception from the page and the server log), and a refused
submission (4xx, a 200 page with an error, or a redirect to a page with an error message)
writes nothing: triggers put in the throwaway database log every INSERT / UPDATE / DELETE on
every table but the sessions, so a refusal that wrote is listed with the tables it touched.

Left out, as they would spoil the rest of the run: the sign-out form, API token revocation,
the language switch. (The console has no user deactivation or backup restore form: they
live in the Django admin and the command line, which this tool does not crawl.)
Bad input must be a 4xx that writes nothing (see docs/architecture.md); each finding here is a
bug to fix with a test under tests/console/.
"""

# ruff: noqa: S603, S608, S310, T201, PLR0912, PLR0915, DTZ011, PERF401
# (a developer tool: runs our own commands and our own SQL on a throwaway database, prints)
from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import html
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter, defaultdict
from html.parser import HTMLParser
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.parse import urlencode, urljoin, urlsplit

import devserver  # scripts/devserver.py: this folder is on sys.path when a script runs

ROLES = ("demo_owner", "demo_customer_service", "demo_warehouse", "demo_finance")
PASSWORD = "storeops-demo"  # noqa: S105  (the demo store's published password)
# paths never followed or posted to: the admin (own tool), API, static files, downloads
SKIP_CRAWL = re.compile(r"^/(admin|api|static|i18n)/|\.(xlsx|csv|pdf|png|jpg|zip)$|/download/$|/export/$")
# forms that would spoil the rest of the run
SKIP_POST = {
    re.compile(r"^/admin/logout/$"): "sign-out (ends the session)",
    re.compile(r"^/tokens/\d+/revoke/$"): "API token revocation (irreversible)",
    re.compile(r"^/language/$"): "language switch (every later page in the other language)",
    re.compile(r"^/i18n/"): "language switch",
}
ERROR_MARK = re.compile(r'class="err"|<li class="error">|class="errorlist')
BIG = "长" * 5000
TEXT_MUTATIONS: list[tuple[str, str | None]] = [
    ("empty", ""),
    ("blank", "   \t "),
    ("5000 chars", BIG),
    ("chinese+emoji", "测试中文😀🎉👍🏽"),
    ("negative", "-1"),
    ("zero", "0"),
    ("huge 1E+30", "1E+30"),
    ("huge decimal", "999999999999999999.999"),
    ("huge int", "99999999999999999999999"),
    ("NaN", "NaN"),
    ("Infinity", "Infinity"),
    ("text", "abc"),
    ("bad date", "2026-13-45"),
    ("far date", "9999-12-31"),
    ("bad datetime", "2026-02-30T25:61"),
    ("nonexistent id", "999999999"),
    ("missing", None),
]
FILE_MUTATIONS: list[tuple[str, bytes, str]] = [
    ("empty file", b"", "empty.csv"),
    ("binary junk", bytes(range(256)) * 20, "junk.csv"),
    ("fake workbook", b"PK\x03\x04not really a zip", "fake.xlsx"),
    ("header only", "订单号,金额\n".encode(), "header.csv"),
    ("bad rows", "订单号,金额,数量\n,NaN,-1\n1E+30,abc,2026-13-45\n".encode("gbk"), "bad.csv"),
]


class Response:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status_code = status
        self.headers = headers
        self.text = body.decode("utf-8", errors="replace")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


class Session:
    """A browser's cookies over urllib (the lock file has no HTTP client; a tool adds none)."""

    def __init__(self) -> None:
        self.jar = CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect)

    def cookie(self, name: str) -> str:
        return next((c.value or "" for c in self.jar if c.name == name), "")

    def request(
        self, url: str, body: bytes | None = None, headers: dict[str, str] | None = None, timeout: float = 120
    ) -> Response:
        req = urllib.request.Request(
            url, data=body, headers=headers or {}, method="POST" if body is not None else "GET"
        )
        try:
            with self.opener.open(req, timeout=timeout) as r:
                return Response(r.status, {k.lower(): v for k, v in r.headers.items()}, r.read())
        except urllib.error.HTTPError as e:
            return Response(e.code, {k.lower(): v for k, v in e.headers.items()}, e.read())

    def get(self, url: str, timeout: float = 120) -> Response:
        return self.request(url, timeout=timeout)

    def post(
        self,
        url: str,
        data: list[tuple[str, str]],
        files: dict | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 180,
    ) -> Response:
        headers = dict(headers or {})
        if files:
            boundary = uuid.uuid4().hex
            parts = []
            for name, value in data:
                parts.append(
                    f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
                    + value.encode()
                    + b"\r\n"
                )
            for name, (filename, content, ctype) in files.items():
                parts.append(
                    f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                    f'filename="{filename}"\r\nContent-Type: {ctype}\r\n\r\n'.encode()
                    + content
                    + b"\r\n"
                )
            body = b"".join(parts) + f"--{boundary}--\r\n".encode()
            headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        else:
            body = urlencode(data).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        return self.request(url, body, headers, timeout)


@dataclasses.dataclass
class Field:
    name: str
    kind: str  # input type, "select", "textarea" or "file"
    value: str
    options: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Form:
    page: str
    action: str
    multipart: bool
    fields: list[Field]
    button: tuple[str, str] | None  # the named submit button pressed
    role: str

    @property
    def key(self) -> tuple:
        return (shape(self.action), tuple(sorted(f.name for f in self.fields)), self.button)


def shape(path: str) -> str:
    return re.sub(r"/(AS)?[0-9][0-9A-Za-z-]*(?=/)", "/N", urlsplit(path).path)


class FormParser(HTMLParser):
    """The links and the POST forms of one page (html.parser: nothing to install)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._select: Field | None = None
        self._textarea: Field | None = None
        self._radio_seen: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "form":
            self._form = {
                "method": a.get("method", "get").lower(),
                "action": a.get("action", ""),
                "multipart": "multipart" in a.get("enctype", ""),
                "fields": [],
                "buttons": [],
            }
            self._radio_seen = set()
        elif self._form is None:
            return
        elif tag == "input":
            kind = a.get("type", "text").lower()
            name = a.get("name")
            if not name:
                return
            if kind in ("submit", "image"):
                self._form["buttons"].append((name, a.get("value", "")))
            elif kind in ("button", "reset"):
                return
            elif kind == "checkbox":
                if "checked" in a:
                    self._form["fields"].append(Field(name, kind, a.get("value", "on")))
                else:  # an unchecked box: fuzzed with its value, sent only when mutated
                    self._form["fields"].append(Field(name, "checkbox-off", a.get("value", "on")))
            elif kind == "radio":
                if name in self._radio_seen:
                    field = next(f for f in self._form["fields"] if f.name == name)
                    field.options.append(a.get("value", "on"))
                    if "checked" in a:
                        field.value = a.get("value", "on")
                else:
                    self._radio_seen.add(name)
                    self._form["fields"].append(
                        Field(name, kind, a.get("value", "on"), [a.get("value", "on")])
                    )
            else:
                self._form["fields"].append(Field(name, kind, a.get("value", "")))
        elif tag == "select" and a.get("name"):
            self._select = Field(a["name"], "select", "", [])
            self._form["fields"].append(self._select)
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            self._select.options.append(value)
            if "selected" in a or (not self._select.value and value):
                self._select.value = value
        elif tag == "textarea" and a.get("name"):
            self._textarea = Field(a["name"], "textarea", "")
            self._form["fields"].append(self._textarea)
        elif tag == "button" and a.get("name") and a.get("type", "submit") == "submit":
            self._form["buttons"].append((a["name"], a.get("value", "")))

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea.value += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form" and self._form is not None:
            self.forms.append(self._form)
            self._form = None


def baseline(field: Field) -> str:
    """A plausible value for a field the page leaves empty (so the other fields get checked)."""
    if field.value.strip():
        return field.value
    today = dt.date.today()
    return {
        "number": "1",
        "date": (today + dt.timedelta(days=7)).isoformat(),
        "datetime-local": f"{today + dt.timedelta(days=7)}T10:00",
        "time": "10:00",
        "month": today.strftime("%Y-%m"),
        "email": "fuzz@example.com",
        "url": "https://example.com/",
        "tel": "13800000000",
        "select": field.value,
    }.get(field.kind, "fuzz 测试")


class Run:
    def __init__(self, base: str, db: Path, log: Path) -> None:
        self.base = base
        self.db = sqlite3.connect(db, timeout=30, isolation_level=None)
        self.log = log
        self.results: list[dict] = []
        self.statuses: Counter[int] = Counter()
        self.crawled: list[str] = []

    # -- database write log ---------------------------------------------------------------
    def install_triggers(self) -> None:
        tables = [
            r[0]
            for r in self.db.execute("SELECT name FROM sqlite_master WHERE type='table'")
            if not r[0].startswith("sqlite_") and r[0] not in ("django_session", "fuzz_writes")
        ]
        self.db.execute("CREATE TABLE IF NOT EXISTS fuzz_writes (id INTEGER PRIMARY KEY, tbl TEXT, op TEXT)")
        for table in tables:
            for op in ("INSERT", "UPDATE", "DELETE"):
                self.db.execute(
                    f'CREATE TRIGGER IF NOT EXISTS "fuzz_{table}_{op}" AFTER {op} ON "{table}" '
                    f"BEGIN INSERT INTO fuzz_writes (tbl, op) VALUES ('{table}', '{op}'); END"
                )

    def mark(self) -> int:
        return self.db.execute("SELECT COALESCE(MAX(id), 0) FROM fuzz_writes").fetchone()[0]

    def writes_since(self, mark: int) -> list[str]:
        rows = self.db.execute(
            "SELECT tbl, op, COUNT(*) FROM fuzz_writes WHERE id > ? GROUP BY tbl, op", (mark,)
        ).fetchall()
        return [f"{op} {tbl}×{n}" for tbl, op, n in rows]

    # -- sessions, crawl ---------------------------------------------------------------------
    def login(self, username: str) -> Session:
        session = Session()
        page = session.get(f"{self.base}/admin/login/", timeout=60)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        response = session.post(
            f"{self.base}/admin/login/?next=/",
            [
                ("csrfmiddlewaretoken", token.group(1) if token else ""),
                ("username", username),
                ("password", PASSWORD),
                ("next", "/"),
            ],
            timeout=60,
        )
        if response.status_code != 302:
            sys.exit(f"could not sign in as {username}: HTTP {response.status_code}")
        return session

    def crawl(self, session: Session, role: str, max_pages: int, per_shape: int) -> list[Form]:
        queue, seen, forms = ["/"], {"/"}, []
        shapes: Counter[str] = Counter()
        pages = 0
        while queue and pages < max_pages:
            path = queue.pop(0)
            response = session.get(self.base + path)
            pages += 1
            self.statuses[response.status_code] += 1
            self.crawled.append(f"{role} {response.status_code} {path}")
            if response.status_code >= 500:
                self.results.append(
                    {
                        "kind": "5xx",
                        "role": role,
                        "method": "GET",
                        "path": path,
                        "mutation": "",
                        "status": response.status_code,
                        "detail": exception_of(response.text),
                    }
                )
            if response.status_code != 200 or "html" not in response.headers.get("content-type", ""):
                continue
            parser = FormParser()
            parser.feed(response.text)
            links = list(parser.links)
            from_here: Counter[str] = Counter()  # a few of each shape per page: lists filtered by state
            for raw in parser.forms:
                if raw["method"] == "get":  # filters: each option of each list, one at a time
                    action = urlsplit(urljoin(path, html.unescape(raw["action"]) or path)).path
                    for field in raw["fields"]:
                        if field.kind == "select":
                            links += [f"{action}?{urlencode({field.name: o})}" for o in field.options if o]
                    continue
                if raw["method"] != "post":
                    continue
                action = urlsplit(urljoin(path, html.unescape(raw["action"]) or path)).path
                for button in raw["buttons"] or [None]:
                    forms.append(Form(path, action, raw["multipart"], raw["fields"], button, role))
            for href in links:
                url = urlsplit(urljoin(path, html.unescape(href)))
                if url.netloc or url.scheme not in ("", "http") or SKIP_CRAWL.search(url.path):
                    continue
                target = url.path + (f"?{url.query}" if url.query else "")
                query = sorted(p for p in url.query.split("&") if p and not p.startswith("page="))
                key = shape(url.path) + "?" + "&".join(query)
                if target in seen or shapes[key] >= per_shape or from_here[key] >= 3:
                    continue
                seen.add(target)
                shapes[key] += 1
                from_here[key] += 1
                queue.append(target)
        print(f"  {role}: {pages} pages crawled, {len(forms)} POST forms on them")
        return forms

    # -- submissions ------------------------------------------------------------------------
    def submit(
        self, session: Session, form: Form, label: str, data: list[tuple[str, str]], files: dict | None = None
    ) -> None:
        token = session.cookie("csrftoken")
        data = [("csrfmiddlewaretoken", token), *data]
        if form.button:
            data.append(form.button)
        mark = self.mark()
        try:
            response = session.post(
                self.base + form.action, data, files, headers={"Referer": self.base + form.page}
            )
        except OSError as exc:
            self.results.append(
                {
                    "kind": "no answer",
                    "role": form.role,
                    "method": "POST",
                    "path": form.action,
                    "mutation": label,
                    "status": 0,
                    "detail": str(exc)[:200],
                }
            )
            return
        writes = self.writes_since(mark)
        status = response.status_code
        self.statuses[status] += 1
        row = {"role": form.role, "method": "POST", "path": form.action, "mutation": label, "status": status}
        if status >= 500:
            self.results.append({**row, "kind": "5xx", "detail": exception_of(response.text)})
            return
        refused_how = ""
        if 400 <= status < 500:
            refused_how = f"HTTP {status}"
        elif status == 200 and ERROR_MARK.search(response.text):
            refused_how = "200 with an error"
        elif status in (301, 302, 303):
            location = response.headers.get("Location", "/")
            if urlsplit(location).path.startswith("/admin/login"):
                refused_how = "sent to sign in"
            else:
                followed = session.get(urljoin(self.base + form.action, location))
                if followed.status_code >= 500:
                    self.results.append(
                        {
                            **row,
                            "kind": "5xx",
                            "method": "GET after POST",
                            "detail": exception_of(followed.text),
                        }
                    )
                if re.search(r'<li class="error">', followed.text):
                    refused_how = "redirect with an error message"
        if refused_how and writes:
            self.results.append(
                {**row, "kind": "half-written refusal", "detail": f"{refused_how}; wrote {', '.join(writes)}"}
            )
        if 400 <= status < 500 and status != 422 and status not in (403, 404):
            self.results.append(
                {**row, "kind": "odd refusal", "detail": f"HTTP {status}: {response.text[:120]!r}"}
            )

    def fuzz(self, session: Session, form: Form, deadline: float) -> int:
        base = [(f.name, baseline(f)) for f in form.fields if f.kind not in ("file", "checkbox-off")]
        file_fields = [f.name for f in form.fields if f.kind == "file"]
        good_files = dict.fromkeys(file_fields, ("ok.csv", b"a,b\n1,2\n", "text/csv"))
        count = 0
        if time.monotonic() > deadline:
            return count
        for field in form.fields:
            if time.monotonic() > deadline:
                break
            if field.kind == "file":
                for label, content, filename in FILE_MUTATIONS:
                    files = {**good_files, field.name: (filename, content, "application/octet-stream")}
                    self.submit(session, form, f"{field.name}={label}", base, files or None)
                    count += 1
                continue
            if field.name == "csrfmiddlewaretoken":
                continue
            values = list(TEXT_MUTATIONS)
            if field.kind in ("select", "radio"):
                values.append(("option not offered", "__not_an_option__"))
                values += [(f"other option {o!r}", o) for o in field.options[:6] if o != field.value]
            if re.fullmatch(r"\d+", field.value):
                values += [
                    ("other id -1", str(int(field.value) - 1)),
                    ("other id +1", str(int(field.value) + 1)),
                ]
            values.append(("sent twice", "__twice__"))
            for label, value in values:
                data = [(n, v) for n, v in base if n != field.name]
                if value == "__twice__":
                    data += [(field.name, baseline(field)), (field.name, "abc")]
                elif value is not None:
                    data.append((field.name, value))
                self.submit(session, form, f"{field.name}={label}", data, good_files or None)
                count += 1
        # the form as the page offers it last: it may change the state the other ones met
        self.submit(session, form, "as offered", base, good_files or None)
        return count + 1


def exception_of(page: str) -> str:
    title = re.search(r"<title>(.*?)</title>", page, re.S)
    value = re.search(r'<pre class="exception_value">(.*?)</pre>', page, re.S)
    text = " ".join(" ".join(html.unescape(x.group(1)).split()) for x in (title, value) if x)
    return text[:300] or page[:200]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=30, help="time budget of the submissions")
    parser.add_argument("--pages", type=int, default=700, help="pages crawled per role at most")
    parser.add_argument("--per-shape", type=int, default=30, help="pages crawled per URL shape (3 per page)")
    parser.add_argument("--roles", default=",".join(ROLES), help="demo users, comma separated")
    parser.add_argument("--only", default="", help="fuzz only the forms whose action matches this regex")
    parser.add_argument("--var", default="", help="reuse this var directory (a demo made by an earlier run)")
    args = parser.parse_args()
    storeops = str(Path(sys.executable).parent / "storeops")
    var = Path(args.var) if args.var else Path(tempfile.mkdtemp(prefix="storeops-formfuzz-"))
    env = {**os.environ, "STOREOPS_VAR_DIR": str(var), "DEBUG": "1", "STOREOPS_ENV": "development"}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    if not (var / "storeops.sqlite3").exists():
        print(f"demo store in {var} …")
        subprocess.run([storeops, "demo", "--no-serve"], env=env, check=True, stdout=subprocess.DEVNULL)
    run = Run("", var / "storeops.sqlite3", var / "server.log")
    run.install_triggers()  # before the server starts: it writes to the database too
    started = time.monotonic()
    with devserver.served(storeops, env, var / "server.log", "/admin/login/") as base:
        run.base = base
        sessions: dict[str, Session] = {role: run.login(role) for role in args.roles.split(",")}
        forms: dict[tuple, Form] = {}
        skipped: dict[str, str] = {}
        deadline = time.monotonic() + args.minutes * 60
        submissions = 0
        # round 2 crawls again: the forms of what round 1 created (incidents, count sheets, …)
        for round_ in (1, 2):
            print(f"round {round_}: crawling …")
            todo = []
            for role, session in sessions.items():
                for form in run.crawl(session, role, args.pages, args.per_shape):
                    if form.key in forms:
                        continue
                    forms[form.key] = form
                    why = next(
                        (why for pattern, why in SKIP_POST.items() if pattern.search(form.action)), None
                    )
                    if why:
                        skipped[shape(form.action)] = why
                    elif re.search(args.only, form.action):
                        todo.append(form)
            shapes = {shape(f.action) for f in forms.values()}
            print(
                f"{len(forms)} distinct POST forms so far ({len(shapes)} action shapes); "
                f"{len(todo)} new to fuzz"
            )
            for n, form in enumerate(todo, 1):
                if time.monotonic() > deadline:
                    print(f"time budget spent: {len(todo) - n + 1} forms not fuzzed")
                    break
                done = run.fuzz(sessions[form.role], form, deadline)
                submissions += done
                button = f" [{form.button[0]}={form.button[1]}]" if form.button else ""
                print(
                    f"  [{n}/{len(todo)}] {form.role:<22} {form.action}{button}: {done} submissions",
                    flush=True,
                )
        (var / "crawled.txt").write_text("\n".join(run.crawled))
        for action, why in sorted(skipped.items()):
            print(f"skipped {action}: {why}")
        print("action shapes found:", ", ".join(sorted({shape(f.action) for f in forms.values()})))
    errors = [path for path, _before in devserver.server_errors(var / "server.log")]
    print(
        f"\n{submissions} submissions in {(time.monotonic() - started) / 60:.1f} min; "
        f"statuses {dict(sorted(run.statuses.items()))}; server log: {var / 'server.log'}"
    )
    print(f"{len(errors)} 'Internal Server Error' line(s) in the server log")
    grouped: dict[tuple, list[dict]] = defaultdict(list)
    for r in run.results:
        grouped[(r["kind"], r["method"], shape(r["path"]), r["detail"][:160])].append(r)
    for (kind, method, path, detail), rows in sorted(grouped.items()):
        mutations = sorted({r["mutation"] for r in rows})
        print(
            f"  {kind:<22} {method} {path}  ×{len(rows)}  [{rows[0]['role']}]\n      {detail}\n"
            f"      e.g. {rows[0]['path']} {'; '.join(mutations[:8])}"
        )
    kinds = Counter(r["kind"] for r in run.results)
    print(f"findings: {dict(kinds) or 'none'}")


if __name__ == "__main__":
    main()
