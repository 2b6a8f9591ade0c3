"""Wiring: settings -> database, policy, classifier and connectors.

Built once at start-up (``build_runtime``) and passed down; there is no
import-time instance. A connector is built fresh for every cycle, so no
platform state survives between cycles.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from classifiers.base import Classifier
from classifiers.registry import build_classifier
from config.loader import load_policy
from config.policy import Channel, SchoolPolicy
from config.settings import Settings
from connectors.base import Connector
from storage import repo
from storage.db import make_engine, migrate, session_factory, session_scope

ConnectorFactory = Callable[[Channel], Connector]


@dataclass
class Runtime:
    """Everything a cycle, the scheduler and the web app need."""

    settings: Settings
    policy: SchoolPolicy
    engine: Engine
    factory: sessionmaker[Session]
    connector_factory: ConnectorFactory
    _classifier: Classifier | None = field(default=None, repr=False)

    def connector(self, source_id: str) -> Connector:
        """A new connector for the channel ``source_id``."""
        return self.connector_factory(self.policy.channel(source_id))

    def classifier(self) -> Classifier:
        """The classifier (its model is loaded once per process and reused)."""
        if self._classifier is None:
            self._classifier = build_classifier(
                self.policy, model_dir=self.settings.model_dir, use_model=self.settings.use_model
            )
        return self._classifier

    def channels(self) -> list[Channel]:
        """The channels the policy asks us to watch."""
        return [c for c in self.policy.channels if c.enabled]


def platform_connector_factory(settings: Settings, policy: SchoolPolicy) -> ConnectorFactory:
    """Connectors for the real platforms (or the sandbox), configured from settings."""
    from connectors.registry import build_connector, connector_settings

    conn_settings = connector_settings(settings)

    def factory(channel: Channel) -> Connector:
        return build_connector(channel, policy.school, conn_settings)

    return factory


def build_runtime(
    settings: Settings,
    *,
    policy: SchoolPolicy | None = None,
    connector_factory: ConnectorFactory | None = None,
    upgrade_schema: bool = True,
) -> Runtime:
    """Open the database (migrating it), load the policy and wire the connectors."""
    policy = policy or load_policy(settings.policy_path)
    engine = make_engine(settings.database_url)
    if upgrade_schema:
        migrate(engine)
    factory = session_factory(engine)
    with session_scope(factory) as session:
        repo.ensure_school(session, school_id=policy.school.id, name=policy.school.name)
    return Runtime(
        settings=settings,
        policy=policy,
        engine=engine,
        factory=factory,
        connector_factory=connector_factory or platform_connector_factory(settings, policy),
    )
