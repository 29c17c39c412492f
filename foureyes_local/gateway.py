"""A local API Gateway (REST, Lambda proxy integration) on 127.0.0.1, plus the /_local pages.

Routes come from the functions' `Api` events in template.yaml. Requests become API Gateway REST
proxy events (payload format 1.0); function errors and malformed replies become 502 as in AWS.
"""

from __future__ import annotations

import base64
import html
import json
import re
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from foureyes_local.stack import ApiRoute
from foureyes_local.workers import InvokeResult

MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
TEXT_TYPES = ("text/", "application/json", "application/x-www-form-urlencoded", "application/xml", "+json", "+xml")


class CompiledRoute:
    def __init__(self, route: ApiRoute) -> None:
        self.route = route
        pattern = re.sub(r"\\\{([^}+]+)\\\+\\\}", r"(?P<\1>.+)", re.escape(route.path))
        pattern = re.sub(r"\\\{([^}]+)\\\}", r"(?P<\1>[^/]+)", pattern)
        self.regex = re.compile(f"^{pattern}$")

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if self.route.method not in (method, "ANY"):
            return None
        found = self.regex.match(path)
        return found.groupdict() if found else None


class LocalSite:
    """What the gateway needs from the local cloud: invoke a function, list the outbox, fire schedules."""

    def __init__(self, invoke: Callable[[str, Any], InvokeResult], outbox: Callable[[], list[dict[str, Any]]],
                 fire_schedule: Callable[[str], int], status: Callable[[], dict[str, Any]], stage: str) -> None:
        self.invoke = invoke
        self.outbox = outbox
        self.fire_schedule = fire_schedule
        self.status = status
        self.stage = stage


def proxy_event(route: ApiRoute, params: dict[str, str], method: str, target: str, headers: dict[str, str],
                body: bytes, stage: str, source_ip: str) -> dict[str, Any]:
    parts = urlsplit(target)
    query = parse_qs(parts.query, keep_blank_values=True)
    content_type = headers.get("Content-Type", headers.get("content-type", ""))
    is_text = not body or any(t in content_type for t in TEXT_TYPES)
    if is_text:
        try:
            text_body: str | None = body.decode("utf-8") if body else None
            encoded = False
        except UnicodeDecodeError:
            text_body, encoded = base64.b64encode(body).decode(), True
    else:
        text_body, encoded = base64.b64encode(body).decode(), True
    request_id = str(uuid.uuid4())
    now = datetime.now(UTC)
    return {
        "resource": route.path,
        "path": parts.path,
        "httpMethod": method,
        "headers": dict(headers),
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": params or None,
        "stageVariables": None,
        "requestContext": {
            "resourceId": "local",
            "resourcePath": route.path,
            "httpMethod": method,
            "extendedRequestId": request_id,
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "path": f"/{stage}{parts.path}",
            "accountId": "123456789012",
            "protocol": "HTTP/1.1",
            "stage": stage,
            "domainPrefix": "localhost",
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "requestId": request_id,
            "identity": {"sourceIp": source_ip, "userAgent": headers.get("User-Agent")},
            "domainName": "localhost",
            "apiId": "localapi",
        },
        "body": text_body,
        "isBase64Encoded": encoded,
    }


def make_handler(routes: list[ApiRoute], site: LocalSite) -> type[BaseHTTPRequestHandler]:
    compiled = [CompiledRoute(route) for route in routes]

    class Handler(BaseHTTPRequestHandler):
        server_version = "foureyes-local-apigw"
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            pass  # request lines would carry link tokens; API Gateway access logs are off too

        def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None,
                  multi: dict[str, list[str]] | None = None) -> None:
            self.send_response(status)
            sent = {k.lower() for k in (headers or {})}
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            for key, values in (multi or {}).items():
                for value in values:
                    if key.lower() not in sent:
                        self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _json(self, status: int, data: Any) -> None:
            self._send(status, json.dumps(data, indent=1).encode(), {"Content-Type": "application/json"})

        def _handle(self) -> None:
            path = urlsplit(self.path).path
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY_BYTES:
                self._json(413, {"message": "Request Too Long"})
                self.close_connection = True
                return
            body = self.rfile.read(length) if length else b""
            if path.startswith("/_local"):
                self._local(path, body)
                return
            for route in compiled:
                params = route.match(self.command, path)
                if params is None:
                    continue
                headers = dict(self.headers.items())
                event = proxy_event(route.route, params, self.command, self.path, headers, body, site.stage,
                                    self.client_address[0])
                started = time.monotonic()
                result = site.invoke(route.route.function, event)
                if not result.ok:
                    if result.error_type == "Sandbox.Timedout" or time.monotonic() - started > 29:
                        self._json(504, {"message": "Endpoint request timed out"})
                    else:
                        self._json(502, {"message": "Internal server error"})
                    return
                self._proxy_reply(result)
                return
            # API Gateway's answer to an unknown path or method.
            self._json(403, {"message": "Missing Authentication Token"})

        def _proxy_reply(self, result: InvokeResult) -> None:
            try:
                reply = json.loads(result.payload)
                status = int(reply["statusCode"])
                body = reply.get("body") or ""
                raw = base64.b64decode(body) if reply.get("isBase64Encoded") else str(body).encode()
                headers = {str(k): str(v) for k, v in (reply.get("headers") or {}).items()}
                multi = {str(k): [str(x) for x in v] for k, v in (reply.get("multiValueHeaders") or {}).items()}
            except (ValueError, KeyError, TypeError):
                self._json(502, {"message": "Internal server error"})
                return
            self._send(status, raw, headers, multi)

        def _local(self, path: str, body: bytes) -> None:
            if path in ("/_local", "/_local/"):
                self._send(200, _index_page(site).encode(), {"Content-Type": "text/html; charset=utf-8"})
            elif path == "/_local/outbox" and self.command == "GET":
                messages = site.outbox()
                if "text/html" in (self.headers.get("Accept") or ""):
                    self._send(200, _outbox_page(messages).encode(), {"Content-Type": "text/html; charset=utf-8"})
                else:
                    self._json(200, {"messages": messages})
            elif path == "/_local/outbox.json":
                self._json(200, {"messages": site.outbox()})
            elif path == "/_local/status":
                self._json(200, site.status())
            elif path.startswith("/_local/schedules/") and self.command == "POST":
                function = path.rsplit("/", 1)[-1]
                try:
                    fired = site.fire_schedule(function)
                except KeyError:
                    self._json(404, {"message": f"no schedule for function {function}"})
                    return
                self._json(202, {"fired": fired, "function": function})
            else:
                self._json(404, {"message": f"no local page at {path}"})

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _handle

    return Handler


def serve(routes: list[ApiRoute], site: LocalSite, port: int) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", port), make_handler(routes, site))
    server.daemon_threads = True
    return server


_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2rem;max-width:60rem}}
article{{border:1px solid #ccc;border-radius:6px;padding:1rem;margin:1rem 0}}
pre{{white-space:pre-wrap}}</style></head><body>{body}</body></html>"""


def _index_page(site: LocalSite) -> str:
    body = ("<h1>Foureyes local cloud</h1><ul><li><a href='/_local/outbox'>Outbox</a> (e-mails sent through SES)"
            "</li><li><a href='/_local/status'>Status</a> (functions, triggers)</li></ul>")
    return _PAGE.format(title="Foureyes local cloud", body=body)


def _outbox_page(messages: list[dict[str, Any]]) -> str:
    parts = [f"<h1>Outbox</h1><p>{len(messages)} e-mail(s) sent through SES, newest first.</p>"]
    for message in reversed(messages):
        links = "".join(f"<li><a href='{html.escape(link)}'>{html.escape(link)}</a></li>"
                        for link in message["links"])
        parts.append(
            f"<article><h2>{html.escape(message['subject'])}</h2>"
            f"<p>To: {html.escape(', '.join(message['to']))}<br>From: {html.escape(message['from'])}</p>"
            f"<pre>{html.escape(message['text'])}</pre><ul>{links}</ul></article>")
    return _PAGE.format(title="Outbox", body="".join(parts))
