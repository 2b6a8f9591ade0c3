"""A scheduler process for tests: the demo scenario, a given database and outbox."""

from __future__ import annotations

import sys

from config.policy import Channel
from config.settings import load_settings
from connectors.base import Connector
from connectors.fake import Scenario, ScenarioConnector, demo_scenario_path
from monitor.logs import configure_logging
from monitor.runtime import build_runtime
from monitor.scheduler import run_forever


def main() -> None:
    database, outbox = sys.argv[1], sys.argv[2]
    configure_logging("INFO")
    settings = load_settings(
        mode="demo",
        database_url=f"sqlite:///{database}",
        outbox_dir=outbox,
        use_model=False,
        _env_file=None,
    )
    scenario = Scenario.load(demo_scenario_path())

    def connectors(channel: Channel) -> Connector:
        return ScenarioConnector(scenario, channel.platform, "hollybrook")

    run_forever(build_runtime(settings, connector_factory=connectors))


if __name__ == "__main__":
    main()
