"""The web app's queries on PostgreSQL: every page for every role, and a hide."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from connectors.fake import ScenarioConnector
from tests.pgserver import PostgresServer
from tests.web.conftest import build_env, login

pytestmark = pytest.mark.postgres


def test_pages_and_actions_on_postgres(tmp_path: Path, postgres: PostgresServer) -> None:
    url = postgres.create_database(f"web{os.getpid()}")
    env = build_env(tmp_path, database_url=url)
    try:
        pages = [
            "/queue",
            "/queue?status=all&category=spam&date_from=2000-01-01",
            "/alerts",
            "/alerts?status=all",
            "/audit?event=queue.",
            "/audit.csv",
            "/health",
            "/users",
            "/replies",
        ]
        for username in env.users.values():
            client = env.client()
            login(client, username)
            for page in pages:
                assert client.get(page).status_code in (200, 403), (username, page)
            assert client.get(f"/queue/{env.item_id('c06')}").status_code in (200, 403, 404)
        client = env.client()
        csrf = login(client, "comms")
        response = client.post(
            f"/queue/{env.item_id('c07')}/action",
            data={"csrf_token": csrf, "action": "hide", "reason": "test"},
        )
        assert response.status_code == 303
        connector = env.connectors["facebook"]
        assert isinstance(connector, ScenarioConnector) and connector.state("c07") == "hidden"
    finally:
        env.runtime.engine.dispose()
