"""Logging set-up. Handlers are configured here only, by the command line.

Logs carry ids and counts, never comment text, names or secrets. As a second
line of defence a filter masks anything that looks like a token or password
in a message (for example an ``access_token=`` in a URL logged by a library).
"""

from __future__ import annotations

import logging
import re

_SECRET_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(
            r"\b(access_token|refresh_token|client_secret|password|appsecret_proof)=[^&\s\"']+",
            re.I,
        ),
        r"\1=***",
    ),
    (re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+", re.I), r"\1 ***"),
    (
        re.compile(
            r"(\"(?:access_token|refresh_token|password|client_secret)\"\s*:\s*\")[^\"]*", re.I
        ),
        r"\1***",
    ),
)

_NOISY = (
    "urllib3",
    "googleapiclient",
    "google",
    "prawcore",
    "praw",
    "httpx",
    "httpcore",
    "apscheduler",
    "alembic",
    "multipart",
    "matplotlib",
    "PIL",
    "filelock",
    "transformers",
)


def redact(message: str) -> str:
    """Mask tokens and passwords in a log message."""
    for pattern, replacement in _SECRET_PATTERNS:
        message = pattern.sub(replacement, message)
    return message


class RedactingFilter(logging.Filter):
    """Masks secrets in every record that passes through a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def at_least(level: str) -> None:
    """Lower the log threshold to ``level`` if it is higher (long-running commands log INFO)."""
    root = logging.getLogger()
    wanted = logging.getLevelName(level)
    if isinstance(wanted, int) and root.level > wanted:
        root.setLevel(wanted)


def configure_logging(level: str = "INFO") -> None:
    """Send schoolwatch's logs to standard error, with secrets masked."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in _NOISY:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
