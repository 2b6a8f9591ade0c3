"""The sandbox's HTTP plumbing: one threaded server on 127.0.0.1, requests routed by path."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

log = logging.getLogger(__name__)


@dataclass
class Request:
    """One parsed HTTP request."""

    method: str
    path: str
    query: dict[str, list[str]]
    form: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes

    def arg(self, name: str, default: str | None = None) -> str | None:
        """The first value of ``name`` in the query string or the form."""
        values = self.query.get(name) or self.form.get(name)
        return values[0] if values else default

    def args(self, name: str) -> list[str]:
        """Every value of a repeated or comma-separated parameter."""
        out: list[str] = []
        for value in self.query.get(name, []) + self.form.get(name, []):
            out.extend(v for v in value.split(",") if v)
        return out


@dataclass
class Response:
    """What a handler answers."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0

    @classmethod
    def json(cls, payload: Any, status: int = 200, **headers: str) -> Response:
        """A JSON response with ``Content-Type: application/json; charset=UTF-8``."""
        hdrs = {"Content-Type": "application/json; charset=UTF-8"}
        hdrs.update({k.replace("_", "-"): v for k, v in headers.items()})
        return cls(status, json.dumps(payload).encode(), hdrs)


Handler = Callable[[Request], Response]


def _make_handler(route: Callable[[Request], Response]) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "schoolwatch-sandbox/1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            log.debug("sandbox %s", format % args)

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            split = urlsplit(self.path)
            headers = {k.lower(): v for k, v in self.headers.items()}
            form: dict[str, list[str]] = {}
            if body and "application/x-www-form-urlencoded" in headers.get("content-type", ""):
                form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
            request = Request(
                method=self.command,
                path=split.path,
                query=parse_qs(split.query, keep_blank_values=True),
                form=form,
                headers=headers,
                body=body,
            )
            try:
                response = route(request)
            except Exception:  # a sandbox bug must answer, not hang the client
                log.exception("sandbox handler failed on %s %s", self.command, split.path)
                response = Response.json({"error": "sandbox internal error"}, 500)
            if response.delay:
                time.sleep(response.delay)
            try:
                self.send_response(response.status)
                for name, value in response.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(response.body)))
                # One request per connection: clients never keep idle sockets to a sandbox
                # that may stop at any time.
                self.send_header("Connection", "close")
                self.close_connection = True
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(response.body)
            except (BrokenPipeError, ConnectionResetError):
                log.debug("client went away during %s", split.path)

        do_GET = _serve  # noqa: N815
        do_POST = _serve  # noqa: N815
        do_DELETE = _serve  # noqa: N815
        do_PUT = _serve  # noqa: N815

    return _Handler


class Server:
    """A ThreadingHTTPServer on 127.0.0.1 running in a daemon thread."""

    def __init__(self, route: Callable[[Request], Response], port: int = 0) -> None:
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), _make_handler(route))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port actually bound (useful with port 0)."""
        return int(self._httpd.server_address[1])

    def start(self) -> None:
        """Serve in a background thread."""
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="schoolwatch-sandbox", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
