"""Fixtures for the alert tests: a migrated SQLite database, the default policy,
settings writing to a temporary outbox, and a real SMTP server (aiosmtpd) with
STARTTLS and AUTH on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import ssl
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, ClassVar

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy.orm import Session, sessionmaker

from config.loader import DEFAULT_POLICY, load_policy
from config.policy import SchoolPolicy
from config.settings import Settings, load_settings
from core.models import (
    Action,
    ActionResult,
    Batch,
    Category,
    Comment,
    Context,
    Platform,
    Verdict,
)
from storage.db import make_engine, migrate, session_factory
from tests.netutil import free_port, self_signed

SMTP_USER = "alerts@hollybrook.example"
SMTP_PASSWORD = "correct horse battery staple"
SECRET = "x" * 8 + "-test-only-signing-key-0123456789abcdef"

# Saturday 21 November 2026, 21:14 UK time: out of hours.
NIGHT = datetime(2026, 11, 21, 21, 14, tzinfo=UTC)
# Tuesday 24 November 2026, 10:00 UK time: working hours.
DAY = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def policy() -> SchoolPolicy:
    return load_policy(DEFAULT_POLICY)


@pytest.fixture
def factory(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(f"sqlite:///{tmp_path / 'alerts.db'}")
    migrate(engine)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(
        _env_file=None,
        mode="demo",
        mail_transport="outbox",
        outbox_dir=tmp_path / "outbox",
        secret_key=SECRET,
        web_base_url="https://schoolwatch.hollybrook.example",
        mail_from="schoolwatch <alerts@hollybrook.example>",
    )


def read_outbox(folder: Path) -> list[EmailMessage]:
    """The emails the outbox transport wrote, oldest first."""
    if not folder.exists():
        return []
    out = []
    for path in sorted(folder.glob("*.eml")):
        msg = message_from_bytes(path.read_bytes(), policy=email_policy.default)
        assert isinstance(msg, EmailMessage)
        out.append(msg)
    return out


def body_text(msg: EmailMessage) -> str:
    """Both parts of an email, decoded, for "is this text in it?" checks."""
    parts = []
    for part in msg.walk():
        if part.get_content_maintype() == "text":
            assert isinstance(part, EmailMessage)
            parts.append(str(part.get_content()))
    return "\n".join(parts) + "\n" + str(msg["Subject"])


# -- a real SMTP server -------------------------------------------------------


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key."""
    return self_signed(tmp_path_factory.mktemp("tls"))


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


class _Collect:
    def __init__(self) -> None:
        self.received: list[Received] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = message_from_bytes(envelope.content, policy=email_policy.default)
        assert isinstance(msg, EmailMessage)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), msg))
        return "250 Message accepted for delivery"


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
    ok = (
        isinstance(data, LoginPassword)
        and data.login == SMTP_USER.encode()
        and data.password == SMTP_PASSWORD.encode()
    )
    return AuthResult(success=ok, handled=False)


@dataclass
class SmtpServer:
    """An aiosmtpd server that can be stopped and started again on the same port."""

    cert: Path
    key: Path
    port: int = field(default_factory=free_port)
    handler: _Collect = field(default_factory=_Collect)
    controller: Controller | None = None
    tls_sessions: list[bool] = field(default_factory=list)

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def start(self) -> None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        self.controller = Controller(
            self.handler,
            hostname="127.0.0.1",
            port=self.port,
            tls_context=context,
            require_starttls=True,
            authenticator=_authenticate,
            auth_required=True,
        )
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def settings(self, base: Settings, **changes: Any) -> Settings:
        values = {
            "mail_transport": "smtp",
            "smtp_host": "127.0.0.1",
            "smtp_port": self.port,
            "smtp_username": SMTP_USER,
            "smtp_password": SMTP_PASSWORD,
            "smtp_starttls": True,
            "smtp_cafile": self.cert,
            "smtp_timeout": 10.0,
        }
        values.update(changes)
        return base.model_copy(update=_secrets(values))


def _secrets(values: dict[str, Any]) -> dict[str, Any]:
    from pydantic import SecretStr

    return {k: SecretStr(v) if k == "smtp_password" else v for k, v in values.items()}


@pytest.fixture
def smtp_server(tls_files: tuple[Path, Path]) -> Iterator[SmtpServer]:
    server = SmtpServer(cert=tls_files[0], key=tls_files[1])
    server.start()
    yield server
    server.stop()


# -- a connector and classifier for whole-cycle tests ---------------------------


class ListConnector:
    """A connector over a list of comments (stands in for a platform; no client library)."""

    platform: ClassVar[Platform] = Platform.FACEBOOK
    supports: ClassVar[frozenset[Action]] = frozenset({Action.HIDE, Action.UNHIDE, Action.DELETE})

    def __init__(self, comments: Sequence[Comment]) -> None:
        self.comments = list(comments)

    def fetch_since(self, cursor: str | None, *, limit: int = 500) -> Batch:
        start = int(cursor or 0)
        chunk = self.comments[start : start + limit]
        return Batch(tuple(chunk), str(start + len(chunk)))

    def apply(self, action: Action, external_id: str, *, text: str = "") -> ActionResult:
        return ActionResult(True, action, external_id)


class KeywordClassifier:
    """Flags a comment with the category named in square brackets in its text, e.g. "[threat]"."""

    name = "keyword"
    version = "1"

    def __init__(self, staff: dict[str, tuple[str, ...]] | None = None) -> None:
        self.staff = staff or {}

    def classify(
        self, comments: Sequence[Comment], contexts: Sequence[Context] | None = None
    ) -> list[Verdict]:
        out = []
        for comment in comments:
            flagged = tuple(
                sorted(
                    (c for c in Category if f"[{c.value}]" in comment.text),
                    key=lambda c: c.priority,
                )
            )
            staff = tuple(s for key, ids in self.staff.items() if key in comment.text for s in ids)
            out.append(
                Verdict(
                    scores=dict.fromkeys(flagged, 0.95),
                    flagged=flagged,
                    evidence=(),
                    classifier="keyword@1",
                    staff_mentioned=staff,
                )
            )
        return out


def make_comment(
    n: int,
    text: str,
    *,
    at: datetime = NIGHT,
    thread: str = "post-1",
    author: str = "author-1",
    author_name: str = "Jordan Example",
    parent: str | None = None,
) -> Comment:
    return Comment(
        school_id="hollybrook",
        platform=Platform.FACEBOOK,
        external_id=f"c{n}",
        thread_id=thread,
        parent_id=parent,
        author_id=author,
        author_name=author_name,
        text=text,
        created_at=at - timedelta(minutes=1),
        permalink=f"https://facebook.example/hollybrook/posts/{thread}?comment_id=c{n}",
        thread_title="Our Year 4 trip to the museum",
    )


def day_of(at: datetime) -> dt.date:
    return at.date()


def ingest(
    factory: sessionmaker[Session],
    policy: SchoolPolicy,
    connector: ListConnector,
    now: datetime,
    classifier: KeywordClassifier | None = None,
) -> Any:
    """Run one pipeline cycle for the Facebook channel over ``connector``'s comments."""
    from monitor.pipeline import run_cycle

    return run_cycle(
        factory=factory,
        policy=policy,
        channel=policy.channel("facebook"),
        connector=connector,
        classifier=classifier or KeywordClassifier(),
        now=now,
    )
