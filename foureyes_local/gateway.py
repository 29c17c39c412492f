"""A local API Gateway (REST, Lambda proxy integration) on 127.0.0.1, plus the /_local pages.

Routes come from the functions' `Api` events in template.yaml. Requests become API Gateway REST proxy events
(payload format 1.0) and replies go back as API Gateway sends them, as strict as AWS so that what breaks there
breaks here first:

- Bodies: a request body is base64-encoded in the event only when its Content-Type matches one of the API's
  binary media types; otherwise it is passed as UTF-8 text, undecodable bytes replaced as API Gateway does. A
  reply with `isBase64Encoded` is decoded only when the request's first Accept type or the reply's
  Content-Type matches a binary media type; otherwise the client gets the base64 text, as from AWS.
- Stages: the routes are served at the root (the local base URL acts as a custom domain mapped to the stage,
  which links in e-mails use) and under `/{stage}/` (the execute-api URL). Anything else, `/Stage/` included,
  is an unknown resource: 403 "Missing Authentication Token".
- Limits: header values over 10 KB (431) and bodies over 10 MB (413) are refused before any routing; an event
  over Lambda's 6 MB synchronous payload is refused (413) without invoking the function; a reply over 6 MB,
  a function error or a malformed reply is a 502, a timeout a 504.
"""

from __future__ import annotations

import base64
import binascii
import html
import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from foureyes_local.stack import ApiRoute
from foureyes_local.workers import InvokeResult

# API Gateway REST quotas (not adjustable) and Lambda's synchronous invocation payload quota.
MAX_HEADER_VALUES_BYTES = 10 * 1024  # "total combined size of all header values"
MAX_BODY_BYTES = 10 * 1024 * 1024  # "payload size"
MAX_LAMBDA_EVENT_BYTES = 6 * 1024 * 1024  # the whole event JSON, as Lambda's Invoke sees it
MAX_LAMBDA_REPLY_BYTES = 6 * 1024 * 1024
MAX_DRAINED_BYTES = 64 * 1024 * 1024  # an oversize body is read and dropped so the client sees the 413
DEFAULT_MEDIA_TYPE = "application/json"  # what API Gateway assumes when a request or reply names none
INTEGRATION_TIMEOUT_SECONDS = 29
# Hop-by-hop and framing headers are the gateway's own; a function cannot set them.
GATEWAY_OWNED_HEADERS = frozenset({"content-length", "transfer-encoding", "connection"})


@dataclass(frozen=True)
class ApiSettings:
    """What the deployed API declares that changes how the gateway treats requests and replies: its one stage
    and its binary media types (`BinaryMediaTypes`; wildcards such as `*/*` or `image/*` allowed)."""

    stage: str
    binary_media_types: tuple[str, ...] = ()


def media_type(value: str | None) -> str:
    """The bare media type of a Content-Type value or Accept entry: lower case, parameters dropped."""
    return (value or "").split(";", 1)[0].strip().lower()


def is_binary(value: str | None, binary_media_types: tuple[str, ...]) -> bool:
    """Whether API Gateway treats this media type as binary: it equals a declared type, or falls under a declared
    wildcard (`*/*` covers every type, `image/*` every image type). A client's own wildcard (`Accept: */*`)
    matches only the same declared wildcard."""
    wanted = media_type(value)
    if not wanted:
        return False
    family = wanted.split("/", 1)[0]
    for declared in map(media_type, binary_media_types):
        if declared in (wanted, "*/*") or (declared.endswith("/*") and declared[:-2] == family):
            return True
    return False


def first_accept(headers: dict[str, str]) -> str:
    """The request's first Accept media type, the only one API Gateway looks at."""
    return media_type(_header(headers, "Accept").split(",", 1)[0])


def _header(headers: dict[str, str], name: str) -> str:
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), "")


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


def find_route(routes: list[CompiledRoute], method: str, path: str,
               stage: str) -> tuple[CompiledRoute, dict[str, str], str] | None:
    """The route, its path parameters and the API-relative path for a request path: under `/{stage}` as the
    execute-api URL serves it, else at the root as the custom domain (base path mapped to the stage) does."""
    prefix = f"/{stage}"
    candidates = [path[len(prefix):] or "/"] if path == prefix or path.startswith(prefix + "/") else []
    for relative in [*candidates, path]:
        for route in routes:
            params = route.match(method, relative)
            if params is not None:
                return route, params, relative
    return None


class LocalSite:
    """What the gateway needs from the local cloud: invoke a function, list the outbox, fire schedules."""

    def __init__(self, invoke: Callable[[str, Any], InvokeResult], outbox: Callable[[], list[dict[str, Any]]],
                 fire_schedule: Callable[[str], int], status: Callable[[], dict[str, Any]], stage: str) -> None:
        self.invoke = invoke
        self.outbox = outbox
        self.fire_schedule = fire_schedule
        self.status = status
        self.stage = stage


def event_body(body: bytes, content_type: str, binary_media_types: tuple[str, ...]) -> tuple[str | None, bool]:
    """The event's `body` and `isBase64Encoded` for a request body. Binary only when the Content-Type (or, with
    none, application/json) matches a binary media type; otherwise text, and bytes that are not UTF-8 become
    U+FFFD as API Gateway's decoding makes them: the function sees what AWS would give it, not the original."""
    if not body:
        return None, False
    if is_binary(content_type or DEFAULT_MEDIA_TYPE, binary_media_types):
        return base64.b64encode(body).decode("ascii"), True
    return body.decode("utf-8", "replace"), False


def proxy_event(route: ApiRoute, params: dict[str, str], method: str, target: str, relative_path: str,
                header_pairs: list[tuple[str, str]], body: bytes, api: ApiSettings, source_ip: str) -> dict[str, Any]:
    """An API Gateway REST proxy event (payload format 1.0). `path` is relative to the API; `requestContext.path`
    is the path as requested, so it carries the stage when called through the execute-api form."""
    parts = urlsplit(target)
    query = parse_qs(parts.query, keep_blank_values=True)
    headers = dict(header_pairs)  # the last of repeated headers, as API Gateway's `headers`
    multi_headers: dict[str, list[str]] = {}
    for key, value in header_pairs:
        multi_headers.setdefault(key, []).append(value)
    text_body, encoded = event_body(body, _header(headers, "Content-Type"), api.binary_media_types)
    request_id = str(uuid.uuid4())
    now = datetime.now(UTC)
    return {
        "resource": route.path,
        "path": relative_path,
        "httpMethod": method,
        "headers": headers or None,
        "multiValueHeaders": multi_headers or None,
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
            "path": parts.path,
            "accountId": "123456789012",
            "protocol": "HTTP/1.1",
            "stage": api.stage,
            "domainPrefix": "localhost",
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "requestId": request_id,
            "identity": {"sourceIp": source_ip, "userAgent": _header(headers, "User-Agent") or None},
            "domainName": "localhost",
            "apiId": "localapi",
        },
        "body": text_body,
        "isBase64Encoded": encoded,
    }


@dataclass(frozen=True)
class ProxyReply:
    status: int
    body: bytes
    headers: list[tuple[str, str]]


class MalformedReply(ValueError):
    """The function's reply is not a Lambda proxy response API Gateway accepts (it answers 502)."""


class UndecodableReply(ValueError):
    """The reply claims base64 but is not (API Gateway's API_CONFIGURATION_ERROR, a 500)."""


def proxy_reply(payload: bytes, request_headers: dict[str, str], binary_media_types: tuple[str, ...]) -> ProxyReply:
    """The HTTP response API Gateway makes of a Lambda proxy reply. `headers` and `multiValueHeaders` are merged
    (a value in both is sent once). A base64 body is decoded only when the request's first Accept type or the
    reply's Content-Type is a binary media type; otherwise the client receives the base64 text itself."""
    try:
        reply = json.loads(payload)
        if not isinstance(reply, dict):
            raise MalformedReply("not an object")
        status = int(reply["statusCode"])
        body = reply.get("body")
        if body is not None and not isinstance(body, str):
            raise MalformedReply("body is not a string")
        merged: list[tuple[str, str]] = []
        for key, values in (reply.get("multiValueHeaders") or {}).items():
            merged.extend((str(key), str(value)) for value in values)
        for key, value in (reply.get("headers") or {}).items():
            if (str(key), str(value)) not in merged:
                merged.append((str(key), str(value)))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise MalformedReply(str(exc)) from exc
    if not 100 <= status <= 599:
        raise MalformedReply("statusCode out of range")
    headers = [(k, v) for k, v in merged if k.lower() not in GATEWAY_OWNED_HEADERS]
    content_type = next((v for k, v in headers if k.lower() == "content-type"), None)
    if content_type is None:
        content_type = DEFAULT_MEDIA_TYPE
        headers.append(("Content-Type", content_type))
    text = body or ""
    binary = is_binary(first_accept(request_headers), binary_media_types) or is_binary(content_type,
                                                                                      binary_media_types)
    if reply.get("isBase64Encoded") and binary:
        try:
            return ProxyReply(status, base64.b64decode(text, validate=True), headers)
        except (binascii.Error, ValueError) as exc:
            raise UndecodableReply(str(exc)) from exc
    return ProxyReply(status, text.encode("utf-8"), headers)


def make_handler(routes: list[ApiRoute], site: LocalSite, api: ApiSettings) -> type[BaseHTTPRequestHandler]:
    compiled = [CompiledRoute(route) for route in routes]

    class Handler(BaseHTTPRequestHandler):
        server_version = "foureyes-local-apigw"
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            pass  # request lines would carry link tokens; API Gateway access logs are off too

        def _send(self, status: int, body: bytes, headers: list[tuple[str, str]] | None = None) -> None:
            self.send_response(status)
            for key, value in headers or []:
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _json(self, status: int, data: Any) -> None:
            self._send(status, json.dumps(data, indent=1).encode(), [("Content-Type", "application/json")])

        def _refuse(self, status: int, message: str, error_type: str | None = None) -> None:
            """A response API Gateway makes itself (a gateway response), never the function's."""
            headers = [("Content-Type", "application/json"), ("x-amzn-RequestId", str(uuid.uuid4()))]
            if error_type:
                headers.append(("x-amzn-ErrorType", error_type))
            self._send(status, json.dumps({"message": message}).encode(), headers)

        def _refuse_at_the_door(self, status: int, text: str, length: int) -> None:
            """Limits API Gateway checks before it parses the request are answered in plain text. The body is read
            and dropped (up to a bound) so that a client still sending it gets to read the answer."""
            remaining = length if length <= MAX_DRAINED_BYTES else 0
            while remaining > 0:
                chunk = self.rfile.read(min(remaining, 1 << 20))
                if not chunk:
                    break
                remaining -= len(chunk)
            self.close_connection = True
            self._send(status, text.encode(), [("Content-Type", "text/plain"), ("Connection", "close")])

        def _handle(self) -> None:
            path = urlsplit(self.path).path
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = -1
            if length < 0:
                self.close_connection = True
                self._send(400, b"Bad Request", [("Content-Type", "text/plain"), ("Connection", "close")])
                return
            if sum(len(value) for value in self.headers.values()) > MAX_HEADER_VALUES_BYTES:
                self._refuse_at_the_door(431, f"HTTP header is larger than {MAX_HEADER_VALUES_BYTES} bytes.", length)
                return
            if length > MAX_BODY_BYTES:
                self._refuse_at_the_door(413, f"HTTP content length exceeded {MAX_BODY_BYTES} bytes.", length)
                return
            body = self.rfile.read(length) if length else b""
            if path.startswith("/_local"):
                self._local(path, body)
                return
            found = find_route(compiled, self.command, path, api.stage)
            if found is None:  # API Gateway's answer to an unknown resource or method, whatever the stage
                self._refuse(403, "Missing Authentication Token", "MissingAuthenticationTokenException")
                return
            route, params, relative = found
            header_pairs = list(self.headers.items())
            event = proxy_event(route.route, params, self.command, self.path, relative, header_pairs, body, api,
                                self.client_address[0])
            if len(json.dumps(event, separators=(",", ":")).encode()) > MAX_LAMBDA_EVENT_BYTES:
                # Lambda refuses the Invoke (RequestEntityTooLargeException); API Gateway answers 413.
                self._refuse(413, "Request Too Long")
                return
            started = time.monotonic()
            result = site.invoke(route.route.function, event)
            if not result.ok:
                if result.error_type == "Sandbox.Timedout" or time.monotonic() - started > INTEGRATION_TIMEOUT_SECONDS:
                    self._refuse(504, "Endpoint request timed out")
                else:
                    self._refuse(502, "Internal server error", "InternalServerErrorException")
                return
            if len(result.payload) > MAX_LAMBDA_REPLY_BYTES:  # Lambda fails the invocation: the reply is too large
                self._refuse(502, "Internal server error", "InternalServerErrorException")
                return
            try:
                reply = proxy_reply(result.payload, dict(header_pairs), api.binary_media_types)
            except MalformedReply:
                self._refuse(502, "Internal server error", "InternalServerErrorException")
                return
            except UndecodableReply:
                self._refuse(500, "Internal server error")
                return
            self._send(reply.status, reply.body, [*reply.headers, ("x-amzn-RequestId", event["requestContext"]
                                                                   ["requestId"])])

        def _local(self, path: str, body: bytes) -> None:
            if path in ("/_local", "/_local/"):
                self._send(200, _index_page(site).encode(), [("Content-Type", "text/html; charset=utf-8")])
            elif path == "/_local/outbox" and self.command == "GET":
                messages = site.outbox()
                if "text/html" in (self.headers.get("Accept") or ""):
                    self._send(200, _outbox_page(messages).encode(), [("Content-Type", "text/html; charset=utf-8")])
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


def serve(routes: list[ApiRoute], site: LocalSite, port: int, *, api: ApiSettings | None = None) -> ThreadingHTTPServer:
    """The gateway, bound but not yet serving. Without `api`, the site's stage and no binary media types, which is
    what the template declares today."""
    settings = api if api is not None else ApiSettings(stage=site.stage)
    server = ThreadingHTTPServer(("127.0.0.1", port), make_handler(routes, site, settings))
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
