"""A real SMTP server (aiosmtpd, STARTTLS and login) that can go down and come back."""

from __future__ import annotations

import ssl
from collections import Counter
from dataclasses import dataclass, field
from email import message_from_bytes
from email import policy as email_policy
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from pydantic import SecretStr

from config.settings import Settings
from tests.netutil import free_port, self_signed

USER = "alerts@hollybrook.example"
PASSWORD = "reliability-smtp-password-not-real"


class _Collect:
    def __init__(self) -> None:
        self.message_ids: Counter[str] = Counter()
        self.password = PASSWORD

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = message_from_bytes(envelope.content, policy=email_policy.default)
        self.message_ids[str(msg["Message-ID"])] += 1
        return "250 Message accepted for delivery"


def _login_for(handler: _Collect) -> Any:
    def login(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        ok = (
            isinstance(data, LoginPassword)
            and data.login == USER.encode()
            and data.password == handler.password.encode()
        )
        return AuthResult(success=ok)

    return login


@dataclass
class MailServer:
    """aiosmtpd on a fixed port, stoppable and restartable."""

    folder: Path
    port: int = field(default_factory=free_port)
    handler: _Collect = field(default_factory=_Collect)
    controller: Controller | None = None

    def __post_init__(self) -> None:
        self.cert, self.key = self_signed(self.folder)

    def start(self) -> None:
        """Start listening (again)."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        self.controller = Controller(
            self.handler,
            hostname="127.0.0.1",
            port=self.port,
            tls_context=context,
            require_starttls=True,
            authenticator=_login_for(self.handler),
            auth_required=True,
        )
        self.controller.start()

    def stop(self) -> None:
        """Go down: connections are refused until :meth:`start`."""
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def settings(self, base: Settings) -> Settings:
        """``base`` changed to send through this server with STARTTLS and a login."""
        return base.model_copy(
            update={
                "mail_transport": "smtp",
                "smtp_host": "127.0.0.1",
                "smtp_port": self.port,
                "smtp_username": USER,
                "smtp_password": SecretStr(self.handler.password),
                "smtp_starttls": True,
                "smtp_cafile": self.cert,
                "smtp_timeout": 5.0,
            }
        )
