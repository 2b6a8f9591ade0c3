"""The schoolwatch exception tree.

Foreign exceptions (HTTP libraries, platform SDKs, SMTP) are mapped into
these once, at the boundary where they occur, and re-raised ``from`` the
original::

    SchoolwatchError
    ├── ConfigError                  a settings or policy file is wrong
    │   └── PolicyError              the school policy file is wrong
    ├── ConnectorError               a platform call failed
    │   ├── AuthError                fatal: token expired/revoked; pause the source, tell the admin
    │   ├── PermissionMissing        fatal: the token lacks a permission; tell the admin
    │   ├── TransientError           retry with backoff (5xx, timeouts, malformed replies)
    │   │   └── RateLimited          retry after ``retry_after`` seconds
    │   ├── QuotaExhausted           stop until ``retry_after`` (YouTube daily quota)
    │   └── SkippableItem            log, count and skip this one item
    ├── ClassifierError              a model could not be loaded or run
    ├── StorageError                 the database refused an operation
    └── DeliveryError                an email could not be sent
"""

from __future__ import annotations


class SchoolwatchError(Exception):
    """Base class of every error schoolwatch raises on purpose."""


class ConfigError(SchoolwatchError):
    """A settings value or configuration file is invalid."""


class PolicyError(ConfigError):
    """The school policy file is invalid.

    ``problems`` holds one line per problem, each naming file, line and field.
    """

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems: list[str] = problems or [message]


class ConnectorError(SchoolwatchError):
    """A platform call failed."""

    fatal: bool = False

    def __init__(self, message: str, *, platform: str = "", code: str = "") -> None:
        super().__init__(message)
        self.platform = platform
        self.code = code


class AuthError(ConnectorError):
    """The credentials no longer work. The source is paused and the admin told how to fix it."""

    fatal = True

    def __init__(self, message: str, *, platform: str = "", code: str = "", fix: str = "") -> None:
        super().__init__(message, platform=platform, code=code)
        self.fix = fix


class PermissionMissing(AuthError):
    """The credentials work but lack a permission the action needs."""


class TransientError(ConnectorError):
    """A temporary failure: retry with backoff."""

    def __init__(
        self, message: str, *, platform: str = "", code: str = "", retry_after: float | None = None
    ) -> None:
        super().__init__(message, platform=platform, code=code)
        self.retry_after = retry_after


class RateLimited(TransientError):
    """The platform asked us to slow down; ``retry_after`` is in seconds."""


class QuotaExhausted(ConnectorError):
    """A daily quota is used up; nothing more until ``retry_after`` seconds have passed."""

    def __init__(
        self, message: str, *, platform: str = "", code: str = "", retry_after: float = 0.0
    ) -> None:
        super().__init__(message, platform=platform, code=code)
        self.retry_after = retry_after


class SkippableItem(ConnectorError):
    """One item could not be used (e.g. malformed). It is logged, counted and skipped."""


class ClassifierError(SchoolwatchError):
    """A classifier could not be loaded or run."""


class StorageError(SchoolwatchError):
    """The database refused an operation."""


class DeliveryError(SchoolwatchError):
    """An email could not be delivered."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
