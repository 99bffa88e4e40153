"""A throwaway StoreOps for the developer tools in ``scripts/`` (the fuzzers): Django's
server on a free loopback port, its output in the run's ``server.log``, and the server errors
read back from that log."""

# ruff: noqa: S603, S310  (a developer tool: runs our own server and asks it on loopback)
from __future__ import annotations

import contextlib
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def served(storeops: str, env: Mapping[str, str], log_path: Path, ready_path: str) -> Iterator[str]:
    """``storeops runserver`` on a free port with ``env``; yields its base URL once
    ``ready_path`` answers (or after a minute of trying), stops the server on the way out."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [storeops, "runserver", f"127.0.0.1:{port}", "--noreload"],
            env=dict(env),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            for _ in range(60):
                try:
                    urllib.request.urlopen(base + ready_path, timeout=2)
                    break
                except OSError:
                    time.sleep(1)
            yield base
        finally:
            server.terminate()
            server.wait(timeout=30)


def server_errors(log_path: Path) -> list[tuple[str, str]]:
    """(path, the log line before it) of every request the server answered with a 5xx: Django
    logs "Internal Server Error: <path>" after ninja's traceback, whose last line is before it."""
    lines = log_path.read_text(errors="replace").splitlines()
    return [
        (line.split(": ", 1)[1], lines[n - 1] if n else "")
        for n, line in enumerate(lines)
        if line.startswith("Internal Server Error: ")
    ]
