"""A loopback TCP proxy a test can black-hole, to take a database away mid-test."""

from __future__ import annotations

import contextlib
import socket
import threading


class TcpProxy:
    """Forward 127.0.0.1:<port> to a target; ``black_hole()`` stops all traffic."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.is_black_hole = threading.Event()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with self._lock:
                self._sockets.append(client)
            if self.is_black_hole.is_set():
                continue  # accepted, never answered: the client waits for its timeout
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets.append(upstream)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                if self.is_black_hole.is_set():
                    return
                data = source.recv(65536)
                if not data or self.is_black_hole.is_set():
                    return
                sink.sendall(data)
        except OSError:
            return

    def black_hole(self) -> None:
        """Stop forwarding: existing and new connections hang without an answer."""
        self.is_black_hole.set()

    def restore(self) -> None:
        """Forward again (new connections only; hung ones stay dead)."""
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.close()
            self._sockets.clear()
        self.is_black_hole.clear()

    def close(self) -> None:
        self._closed = True
        self.listener.close()
        self.restore()
