"""A WSGI app served on loopback from a background thread (werkzeug's threaded server, quiet)."""

from __future__ import annotations

import threading
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: Any = "-", size: Any = "-") -> None:  # no access log: requests carry PII
        pass


class Served:
    """`app` on 127.0.0.1:`port` (0 = a free port) in a daemon thread; `stop()` shuts it down."""

    def __init__(self, app: Any, name: str, host: str = "127.0.0.1", port: int = 0) -> None:
        self.server: BaseWSGIServer = make_server(host, port, app, threaded=True, request_handler=_QuietHandler)
        self.host, self.port = host, self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, name=f"fake-{name}", daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
