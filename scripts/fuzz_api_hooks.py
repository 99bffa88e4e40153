"""Schemathesis hooks of ``scripts/fuzz_api.py``: path ids that exist in the demo store.

Loaded by schemathesis through ``SCHEMATHESIS_HOOKS=<this file>``; ``STOREOPS_FUZZ_IDS`` names
the JSON file that ``fuzz_api.py`` wrote from the demo database. Its keys are parameter names
(``sku_id``), or ``name@fragment`` when one name means different things on different routes
(``number@/aftersales/`` is a case number, ``number@/orders/`` an order number): the first key
whose fragment is in the route's path wins, else the bare name. A value is a list of real
values, or of dicts for ids that must belong together (``{"plan_id": 3, "keyword_id": 12}``).

- Fuzzing phase: each path parameter takes a real value three times in four, the generated
  one otherwise (so the routes' 404s and odd ids are still tried); query parameters with a
  known name (``channel_id``, ``warehouse_id``…) half of the time.
- Coverage phase (its cases vary one parameter or the body at a time): every path parameter
  and known query parameter present takes a real value, cycling through them, except the one
  a case is about.
"""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import strategies as st
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.meta import TestPhase

IDS: dict[str, list[Any]] = json.loads(Path(os.environ["STOREOPS_FUZZ_IDS"]).read_text())
_turn = itertools.count()


def _values(path: str, name: str) -> list[Any]:
    for key, values in IDS.items():
        base, _, fragment = key.partition("@")
        if base == name and fragment and fragment in path and values:
            return values
    return IDS.get(name) or []


def _real(path: str, names: list[str]) -> dict[str, list[dict[str, Any]]]:
    """For each parameter with real values, the substitutions it can take (a dict each:
    nested ids set together, under the name of the innermost one)."""
    choices: dict[str, list[dict[str, Any]]] = {}
    for name in names:
        values = _values(path, name)
        if values and isinstance(values[0], dict):
            if set(values[0]) <= set(names):
                choices[name] = values
        elif values:
            choices[name] = [{name: value} for value in values]
    # a parameter set by a pair (plan_id by {plan_id, keyword_id}) is not drawn on its own
    paired = {key for name, subs in choices.items() for key in subs[0] if key != name}
    return {name: subs for name, subs in choices.items() if name not in paired}


def _mixed(generated: dict[str, Any], real: dict[str, list[dict[str, Any]]], odds: int) -> Any:
    """Each real-valued parameter: a real value ``odds`` times in ``odds + 1``."""
    parts = [st.sampled_from([sub for sub in subs for _ in range(odds)] + [None]) for subs in real.values()]

    def merge(drawn: tuple[dict[str, Any] | None, ...]) -> dict[str, Any]:
        merged = dict(generated)
        for sub in drawn:
            if sub is not None:
                merged.update(sub)
        return merged

    return st.tuples(*parts).map(merge)


@schemathesis.hook
def flatmap_path_parameters(ctx: Any, path_parameters: dict[str, Any]) -> Any:
    real = _real(ctx.operation.path, list(path_parameters or {}))
    if not real:
        return st.just(path_parameters)
    return _mixed(path_parameters, real, odds=3)


@schemathesis.hook
def flatmap_query(ctx: Any, query: dict[str, Any] | None) -> Any:
    if not query:
        return st.just(query)
    real = _real(ctx.operation.path, list(query))
    if not real:
        return st.just(query)
    return _mixed(query, real, odds=1)


@schemathesis.hook
def map_case(ctx: Any, case: Any) -> Any:
    meta = case.meta
    if meta is None or meta.phase.name != TestPhase.COVERAGE:
        return case
    data = meta.phase.data
    turn = next(_turn)
    for location, container in (
        (ParameterLocation.PATH, case.path_parameters),
        (ParameterLocation.QUERY, case.query),
    ):
        if not container:
            continue
        about = data.parameter if data.parameter_location == location else None
        for subs in _real(ctx.operation.path, list(container)).values():
            sub = subs[turn % len(subs)]
            if about not in sub:
                container.update(sub)
    return case
