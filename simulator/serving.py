"""Serve a WSGI app from a background thread on 127.0.0.1."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server

from simulator.resources import SimulatorError

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class NotRunningError(SimulatorError):
    """Raised when a server's URL is asked for before it has started."""


class BackgroundServer:
    """A threaded werkzeug server on loopback; port 0 picks a free port."""

    def __init__(self, app: WsgiApp, *, port: int = 0, name: str = "simulator-http") -> None:
        self._app = app
        self._port = port
        self._name = name
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def is_running(self) -> bool:
        """Tell whether the server is accepting requests."""
        return self._server is not None

    @property
    def url(self) -> str:
        """Return ``http://127.0.0.1:PORT`` of the running server."""
        if self._server is None:
            raise NotRunningError(f"{self._name} is not running; call start() first")
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> None:
        """Bind and start serving in a daemon thread."""
        if self._server is not None:
            raise NotRunningError(f"{self._name} is already running")
        self._server = make_server("127.0.0.1", self._port, self._app, threaded=True)
        # A short poll interval makes stop() prompt; tests start and stop many servers.
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), name=self._name, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and wait for the thread to end."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None
