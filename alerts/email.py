"""Sending email: the only module that talks SMTP.

Two transports, chosen by ``settings.mail_transport``:

* ``"smtp"``: :mod:`smtplib` with STARTTLS (certificate and host name
  verified, optionally against ``settings.smtp_cafile``) and a login when
  ``settings.smtp_username`` is set;
* ``"outbox"``: each email is written as ``<outbox_dir>/<timestamp>-<id>.eml``
  (written to a temporary file, then renamed, so a reader never sees half an
  email). The demo and tests read these files.

Every failure is raised as :class:`core.errors.DeliveryError` whose message
says in plain words what went wrong and which setting to check, and whose
``permanent`` flag says whether retrying can help. Passwords never appear in
messages or logs.
"""

from __future__ import annotations

import logging
import os
import re
import smtplib
import socket
import ssl
import tempfile
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from pathlib import Path

from alerts.models import EmailContent
from config.settings import Settings, env_name
from core.clock import utc_now
from core.errors import DeliveryError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Threading:
    """The headers that keep every email about one incident in one thread."""

    message_id: str
    in_reply_to: str | None = None
    references: str | None = None


def build_message(
    *,
    sender: str,
    to_name: str,
    to_email: str,
    content: EmailContent,
    threading: Threading,
    urgent: bool = False,
) -> EmailMessage:
    """Assemble a plain-text + HTML email with threading headers.

    Args:
        sender: The From header (``settings.mail_from``).
        to_name: The recipient's name.
        to_email: The recipient's address.
        content: Rendered subject and bodies.
        threading: Message-ID, In-Reply-To and References.
        urgent: Mark the email high priority.

    Returns:
        The message, ready for :meth:`EmailNotifier.send`.
    """
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = f"{_quote_name(to_name)} <{to_email}>" if to_name else to_email
    msg["Subject"] = content.subject
    msg["Date"] = formatdate(utc_now().timestamp(), localtime=False, usegmt=True)
    msg["Message-ID"] = threading.message_id
    if threading.in_reply_to:
        msg["In-Reply-To"] = threading.in_reply_to
    if threading.references:
        msg["References"] = threading.references
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to this
    msg["X-Auto-Response-Suppress"] = "All"  # the same, for Microsoft Exchange
    if urgent:
        msg["X-Priority"] = "1"
        msg["Importance"] = "high"
    msg.set_content(content.text)
    msg.add_alternative(content.html, subtype="html")
    return msg


def _quote_name(name: str) -> str:
    cleaned = name.replace("\\", "").replace('"', "").replace("\r", " ").replace("\n", " ")
    return f'"{cleaned}"' if re.search(r"[^\w .'-]", cleaned) else cleaned


class EmailNotifier:
    """Sends :class:`~email.message.EmailMessage` objects by SMTP or into the outbox folder."""

    def __init__(self, settings: Settings) -> None:
        """Build a notifier from the deployment settings (no connection is made yet)."""
        self.settings = settings

    @property
    def transport(self) -> str:
        """ "smtp" or "outbox"."""
        return self.settings.mail_transport

    def describe(self) -> str:
        """Where mail goes, in plain words, e.g. "smtp.school.example:587 with STARTTLS"."""
        s = self.settings
        if s.mail_transport == "outbox":
            return f"the local mail outbox folder {s.outbox_dir}"
        tls = "with STARTTLS" if s.smtp_starttls else "WITHOUT encryption"
        login = f", logging in as {s.smtp_username}" if s.smtp_username else ""
        return f"{s.smtp_host}:{s.smtp_port} {tls}{login}"

    def send(self, message: EmailMessage) -> None:
        """Send one message.

        Raises:
            DeliveryError: It was not sent. ``permanent`` is True when retrying
                cannot help (a refused address, a wrong password, a bad
                certificate) and False when it may (the server is down or busy).
        """
        if self.settings.mail_transport == "outbox":
            self._write_outbox(message)
        else:
            self._send_smtp(message)

    # -- outbox ------------------------------------------------------------

    def _write_outbox(self, message: EmailMessage) -> Path:
        folder = self.settings.outbox_dir
        try:
            folder.mkdir(parents=True, exist_ok=True)
            ident = re.sub(r"[^A-Za-z0-9]", "", str(message["Message-ID"] or ""))[:40] or "mail"
            final = folder / f"{utc_now():%Y%m%dT%H%M%S%fZ}-{ident}.eml"
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".eml", dir=folder)
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(message.as_bytes())
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, final)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise DeliveryError(
                f"Could not write the email to the outbox folder {folder}: {exc.strerror or exc}. "
                f"Check that {env_name('outbox_dir')} names a folder schoolwatch can write to."
            ) from exc
        log.info("email written to the outbox folder (%s)", final.name)
        return final

    # -- SMTP --------------------------------------------------------------

    def _send_smtp(self, message: EmailMessage) -> None:
        s = self.settings
        where = f"{s.smtp_host}:{s.smtp_port}"
        try:
            with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout) as smtp:
                smtp.ehlo()
                if s.smtp_starttls:
                    if not smtp.has_extn("starttls"):
                        raise DeliveryError(
                            f"The mail server {where} does not offer STARTTLS, so the email "
                            "would travel unencrypted; nothing was sent. Check "
                            f"{env_name('smtp_host')} and {env_name('smtp_port')} (usually 587).",
                            permanent=True,
                        )
                    context = ssl.create_default_context(
                        cafile=str(s.smtp_cafile) if s.smtp_cafile else None
                    )
                    smtp.starttls(context=context)
                    smtp.ehlo()
                if s.smtp_username:
                    _login(smtp, s.smtp_username, s.smtp_password.get_secret_value())
                refused = smtp.send_message(message)
        except DeliveryError:
            raise
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(
                "Could not log in to the mail server: the username or password is wrong. "
                f"Check {env_name('smtp_username')} and {env_name('smtp_password')} "
                f"(server said {exc.smtp_code}).",
                permanent=True,
            ) from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise DeliveryError(
                f"The mail server {where} does not accept a login on this connection. "
                f"Check {env_name('smtp_starttls')} is on, or clear {env_name('smtp_username')} "
                "if the server needs no login.",
                permanent=True,
            ) from exc
        except smtplib.SMTPRecipientsRefused as exc:
            codes = sorted({code for code, _ in exc.recipients.values()})
            raise DeliveryError(
                f"The mail server refused the recipient address {_addresses(exc.recipients)} "
                f"(code {', '.join(map(str, codes))}). Check the email address in the policy file.",
                permanent=all(c >= 500 for c in codes),
            ) from exc
        except smtplib.SMTPSenderRefused as exc:
            if exc.smtp_code == 530:
                raise DeliveryError(
                    f"The mail server {where} requires a login. Set "
                    f"{env_name('smtp_username')} and {env_name('smtp_password')}.",
                    permanent=True,
                ) from exc
            raise DeliveryError(
                f"The mail server refused the sender address {parseaddr(str(exc.sender))[1]} "
                f"(code {exc.smtp_code}). Check {env_name('mail_from')}.",
                permanent=exc.smtp_code >= 500,
            ) from exc
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(
                f"The mail server {where} did not accept the email "
                f"(code {exc.smtp_code}: {_text(exc.smtp_error)}).",
                permanent=exc.smtp_code >= 500,
            ) from exc
        except ssl.SSLCertVerificationError as exc:
            raise DeliveryError(
                f"The mail server {where}'s certificate could not be checked "
                f"({exc.verify_message}). If the server uses a private certificate authority, "
                f"set {env_name('smtp_cafile')} to its certificate file.",
                permanent=True,
            ) from exc
        except ssl.SSLError as exc:
            raise DeliveryError(
                f"The encrypted connection to the mail server {where} failed ({exc.reason}).",
            ) from exc
        except socket.gaierror as exc:
            raise DeliveryError(
                f"The mail server name {s.smtp_host!r} could not be found. "
                f"Check {env_name('smtp_host')}.",
            ) from exc
        except TimeoutError as exc:
            raise DeliveryError(
                f"The mail server {where} did not answer within {s.smtp_timeout:g} seconds. "
                "It may be down or busy (alert emails are retried automatically).",
            ) from exc
        except ConnectionRefusedError as exc:
            raise DeliveryError(
                f"Could not connect to the mail server {where}: the connection was refused. "
                f"It may be down (alert emails are retried automatically), or "
                f"{env_name('smtp_host')} / {env_name('smtp_port')} may be "
                "wrong.",
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(
                f"The connection to the mail server {where} failed ({type(exc).__name__}). "
                "Alert emails are retried automatically.",
            ) from exc
        if refused:
            raise DeliveryError(
                f"The mail server refused the recipient address {', '.join(refused)}.",
                permanent=True,
            )
        log.info("email accepted by %s", where)


def _login(smtp: smtplib.SMTP, user: str, password: str) -> None:
    """Log in with one mechanism (PLAIN, else LOGIN), so a wrong password fails once, cleanly.

    ``SMTP.login`` tries every mechanism in turn after a failure, which some
    servers answer by stalling or disconnecting instead of a clear 535.
    """
    advertised = smtp.esmtp_features.get("auth", "").upper().split()
    for mechanism in ("PLAIN", "LOGIN"):
        if mechanism in advertised:
            smtp.user, smtp.password = user, password
            authobject = smtp.auth_plain if mechanism == "PLAIN" else smtp.auth_login
            smtp.auth(mechanism, authobject, initial_response_ok=True)
            return
    smtp.login(user, password)  # CRAM-MD5 only, or no AUTH at all (SMTPNotSupportedError)


def _addresses(recipients: dict[str, tuple[int, bytes]]) -> str:
    return ", ".join(sorted(recipients))


def _text(value: bytes | str) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    return " ".join(text.split())[:200]
