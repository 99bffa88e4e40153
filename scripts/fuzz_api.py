#!/usr/bin/env python
"""Fuzz every /api/v1 route with schemathesis and list the server errors (HTTP 5xx).

    .venv/bin/pip install schemathesis      # not in the lock file: a tool, not a dependency
    .venv/bin/python scripts/fuzz_api.py [--minutes 15] [--examples 20]

A throwaway demo store (its own var directory under /tmp), an owner's API token, the OpenAPI
schema dumped from the code, Django's server on a free port, then ``schemathesis run`` with
the ``not_a_server_error`` check (the token revocation route is left out: it would revoke
the fuzzer's own token). At the end it prints each route that answered 5xx with the
exception from the server log. Bad input must be a 4xx (see DEVELOPERS.md); each 5xx found
here is a bug to fix with a test (tests/test_api_bad_input.py holds the ones found so far).
"""

# ruff: noqa: S603, T201  (a developer tool: runs our own commands and prints its findings)
from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SETUP = """
import json
from django.contrib.auth import get_user_model
from storeops.accounts import services
from storeops.accounts.roles import Role
from storeops.config.api import api
from storeops.core.context import Actor
owner = get_user_model().objects.get(username="demo_owner")
_token, raw = services.api_token_create(actor=Actor(user=owner, via="cli"), name="fuzz", role=Role.OWNER)
print(json.dumps({"token": raw, "schema": api.get_openapi_schema()}, default=str))
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=15, help="time budget of the fuzzing run")
    parser.add_argument("--examples", type=int, default=20, help="examples per route")
    args = parser.parse_args()
    schemathesis = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    if schemathesis is None:
        sys.exit("schemathesis is not installed in this venv: .venv/bin/pip install schemathesis")
    storeops = str(Path(sys.executable).parent / "storeops")
    var = Path(tempfile.mkdtemp(prefix="storeops-fuzz-"))
    env = {**os.environ, "STOREOPS_VAR_DIR": str(var)}
    subprocess.run([storeops, "demo", "--no-serve"], env=env, check=True, stdout=subprocess.DEVNULL)
    setup = subprocess.run(
        [storeops, "shell", "-c", SETUP], env=env, check=True, capture_output=True, text=True
    ).stdout
    found = json.loads(setup.strip().splitlines()[-1])
    (var / "openapi.json").write_text(json.dumps(found["schema"]))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = (var / "server.log").open("w")
    server = subprocess.Popen(
        [storeops, "runserver", f"127.0.0.1:{port}", "--noreload"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        for _ in range(60):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=2)
                break
            except OSError:
                time.sleep(1)
        subprocess.run(
            [
                schemathesis,
                "run",
                str(var / "openapi.json"),
                "--url",
                f"http://127.0.0.1:{port}",
                "-H",
                f"Authorization: Bearer {found['token']}",
                "-c",
                "not_a_server_error",
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
                r"tokens/\{token_id\}/revoke",
            ],
            cwd=var,
            check=False,
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    lines = (var / "server.log").read_text(errors="replace").splitlines()
    # ninja logs the traceback, then Django the "Internal Server Error: <path>" line
    errors = [
        (line.split(": ", 1)[1], lines[n - 1] if n else "")
        for n, line in enumerate(lines)
        if line.startswith("Internal Server Error: ")
    ]
    print(f"\n{len(errors)} server error(s); server log: {var / 'server.log'}")
    for path, exc in errors:
        print(f"  {path}  {exc[:160]}")


if __name__ == "__main__":
    main()
