"""A WSGI app served on loopback from a background thread (werkzeug's threaded server, quiet)."""

from __future__ import annotations

import threading
from typing import Any, Self

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


class ServedFake:
    """`start`, `stop` and `url` for a fake whose WSGI app (`wsgi`) runs in a `Served` thread."""

    NAME = "fake"
    PATH = ""  # the endpoint below the server root (a JSON-RPC or SOAP endpoint)
    _served: Served | None = None

    def wsgi(self, environ: Any, start_response: Any) -> Any:
        raise NotImplementedError

    def start(self, port: int = 0) -> Self:
        self._served = Served(self.wsgi, self.NAME, port=port)
        return self

    def stop(self) -> None:
        if self._served is not None:
            self._served.stop()
            self._served = None

    @property
    def url(self) -> str:
        if self._served is None:
            raise RuntimeError(f"the {self.NAME} fake is not started")
        return f"{self._served.url}{self.PATH}"
