"""The app's routes, generated from the app itself, with real values for path parameters."""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi.routing import APIRoute
from sqlalchemy import select
from starlette.routing import Mount

from storage.db import session_scope
from storage.tables import AlertRow, PlatformAction, QueueItem, User
from tests.web.conftest import WebEnv
from web.app import api_routes
from web.deps import Public, Requires


@dataclass(frozen=True)
class Gate:
    """One method of one route and the gate it declares."""

    method: str
    path: str
    gate: Requires | Public
    route: APIRoute


def gates_of(route: APIRoute) -> list[Requires | Public]:
    """Every gate dependency a route has (directly or through sub-dependencies)."""
    found: list[Requires | Public] = []
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        if isinstance(dep.call, Requires | Public):
            found.append(dep.call)
        stack.extend(dep.dependencies)
    return found


def all_gates(env: WebEnv) -> list[Gate]:
    """Each (method, path) of the app with its single gate."""
    out = []
    for route in api_routes(env.app):
        gates = gates_of(route)
        assert len(gates) == 1, f"{route.path}: exactly one gate expected, found {gates}"
        for method in sorted(route.methods):
            out.append(Gate(method, route.path, gates[0], route))
    return out


def unchecked_routes(env: WebEnv) -> list[str]:
    """Routes mounted outside FastAPI's APIRoute (which the gate checks could not see)."""
    odd = []
    stack: list[object] = list(env.app.routes)
    while stack:
        route = stack.pop()
        if isinstance(route, APIRoute):
            continue
        inner = getattr(route, "original_router", None)
        if inner is not None:
            stack.extend(getattr(inner, "routes", []))
            continue
        if isinstance(route, Mount) and route.path == "/static":
            continue
        odd.append(f"{type(route).__name__} {getattr(route, 'path', '?')}")
    return odd


def path_values(env: WebEnv) -> dict[str, list[str]]:
    """Real values for every path parameter, so pages are really rendered."""
    with session_scope(env.runtime.factory) as session:
        items = [str(i) for i in session.scalars(select(QueueItem.id))]
        alerts = list(session.scalars(select(AlertRow.alert_key)))
        actions = [str(i) for i in session.scalars(select(PlatformAction.id))] or ["1"]
        users = [str(i) for i in session.scalars(select(User.id))]
    return {
        "item_id": items,
        "alert_key": alerts or ["0" * 32],
        "action_id": actions[:1],
        "user_id": users[:1],
        "token": ["x"],
        "decision": ["approve"],
        "change": ["unlock"],
    }


def urls(path: str, values: dict[str, list[str]], every: bool = False) -> list[str]:
    """``path`` with its parameters filled (every known value, or the first)."""
    names = re.findall(r"\{(\w+)\}", path)
    if not names:
        return [path]
    out = [path]
    for name in names:
        options = values[name] if every else values[name][:1]
        out = [u.replace("{" + name + "}", v) for u in out for v in options]
    return out
