"""Run the web app with uvicorn (127.0.0.1 unless told otherwise)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import uvicorn

from web.app import create_app

if TYPE_CHECKING:
    from monitor.runtime import Runtime

log = logging.getLogger(__name__)


def serve(runtime: Runtime, *, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve the web app until interrupted.

    Args:
        runtime: The wired runtime (database, policy, connectors).
        host: Address to listen on; keep 127.0.0.1 and put a TLS proxy in front.
        port: Port to listen on.
    """
    app = create_app(runtime)
    log.info("web app listening on %s:%d", host, port)
    try:
        uvicorn.run(
            app,
            host=host,
            port=port,
            log_level="warning",
            proxy_headers=False,
            server_header=False,
            access_log=False,
            lifespan="off",
        )
    except KeyboardInterrupt:  # uvicorn re-raises Ctrl+C after a clean shutdown
        log.info("web app stopped")
