"""Run one function in several threads released at the same moment (real concurrency against
the test database; use with ``@pytest.mark.django_db(transaction=True)``)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection


@dataclass
class Outcome:
    results: list[Any] = field(default_factory=list)  # what the calls returned
    errors: list[BaseException] = field(default_factory=list)  # what they raised

    def raised(self, kind: type[BaseException]) -> list[BaseException]:
        return [e for e in self.errors if isinstance(e, kind)]

    def others(self, *expected: type[BaseException]) -> list[BaseException]:
        """The errors that are none of ``expected`` (e.g. a deadlock, a lost update)."""
        return [e for e in self.errors if not isinstance(e, expected)]


def at_once(fn: Callable[[], Any], threads: int, *, timeout: float = 120) -> Outcome:
    """Call ``fn`` in ``threads`` threads that all start behind one barrier; each thread
    closes its own database connection when done."""
    barrier = threading.Barrier(threads)
    lock = threading.Lock()
    outcome = Outcome()

    def run() -> None:
        try:
            barrier.wait()
            result = fn()
        except BaseException as exc:
            with lock:
                outcome.errors.append(exc)
        else:
            with lock:
                outcome.results.append(result)
        finally:
            connection.close()

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join(timeout=timeout)
    return outcome
