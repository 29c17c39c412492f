"""The local API gateway is as strict as API Gateway (REST, Lambda proxy) over real HTTP: bodies are text unless
their media type is declared binary, base64 replies are decoded only when API Gateway would, the routes answer
at the root and under the stage only, and the payload limits refuse before (or instead of) invoking a function.

The functions are fakes that record each event and answer a canned reply, so every rule is seen from both sides.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import requests

from foureyes_local.gateway import ApiSettings, LocalSite, serve
from foureyes_local.stack import ApiRoute
from foureyes_local.workers import InvokeResult

ROUTES = [ApiRoute("Echo", "POST", "/echo"), ApiRoute("Echo", "GET", "/book/{token}"),
          ApiRoute("Canned", "GET", "/canned")]
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe\x00"
MB = 1024 * 1024


def proxy(body: str, *, status: int = 200, headers: dict[str, str] | None = None, encoded: bool = False) -> bytes:
    return json.dumps({"statusCode": status, "body": body, "isBase64Encoded": encoded,
                       "multiValueHeaders": {k: [v] for k, v in (headers or {}).items()}}).encode()


class Functions:
    """The fake functions: `Echo` answers with what its event said; `Canned` with whatever a test sets."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.canned = InvokeResult(proxy("canned", headers={"Content-Type": "text/plain"}))

    def invoke(self, function: str, event: Any) -> InvokeResult:
        self.events.append((function, event))
        if function == "Canned":
            return self.canned
        seen = {key: event[key] for key in ("body", "isBase64Encoded", "path", "resource", "pathParameters")}
        seen["context"] = {key: event["requestContext"][key] for key in ("path", "stage", "resourcePath")}
        return InvokeResult(proxy(json.dumps(seen), headers={"Content-Type": "application/json"}))


@pytest.fixture
def functions() -> Functions:
    return Functions()


@pytest.fixture
def gateway(functions: Functions) -> Iterator[Callable[..., str]]:
    """Starts a gateway on a free port with the given API settings (none: the old three-argument call) and
    returns its base URL; every one started is shut down after the test."""
    servers = []

    def start(api: ApiSettings | None = None) -> str:
        site = LocalSite(invoke=functions.invoke, outbox=list, fire_schedule=lambda name: 0, status=dict,
                         stage="local")
        server = serve(ROUTES, site, 0) if api is None else serve(ROUTES, site, 0, api=api)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@contextmanager
def no_invocation(functions: Functions) -> Iterator[None]:
    before = len(functions.events)
    yield
    assert len(functions.events) == before, "the function was invoked"


def seen(reply: requests.Response) -> dict[str, Any]:
    assert reply.status_code == 200, reply.text[:300]
    data: dict[str, Any] = reply.json()
    return data


# -- request bodies ------------------------------------------------------------------------------------------

def test_a_text_body_reaches_the_function_as_text(gateway: Callable[..., str]) -> None:
    url = gateway(ApiSettings("local", ("image/png",)))
    event = seen(requests.post(f"{url}/echo", data="name=Zoë".encode(), timeout=10,
                               headers={"Content-Type": "application/x-www-form-urlencoded"}))
    assert (event["body"], event["isBase64Encoded"]) == ("name=Zoë", False)


def test_a_body_of_a_declared_binary_type_is_base64_encoded(gateway: Callable[..., str]) -> None:
    url = gateway(ApiSettings("local", ("image/png",)))
    event = seen(requests.post(f"{url}/echo", data=PNG, headers={"Content-Type": "image/png"}, timeout=10))
    assert event["isBase64Encoded"] is True and base64.b64decode(event["body"]) == PNG


@pytest.mark.parametrize(("declared", "content_type", "binary"), [
    (("*/*",), "text/plain", True),
    (("*/*",), None, True),  # no Content-Type: API Gateway assumes application/json, which */* covers
    (("image/*",), "image/jpeg", True),
    (("image/*",), "text/plain", False),
    (("IMAGE/PNG",), "image/png; charset=binary", True),
    (("application/octet-stream",), "application/json", False),
])
def test_binary_media_types_match_as_api_gateway_matches_them(
        gateway: Callable[..., str], declared: tuple[str, ...], content_type: str | None, binary: bool) -> None:
    url = gateway(ApiSettings("local", declared))
    headers = {"Content-Type": content_type} if content_type else {}
    event = seen(requests.post(f"{url}/echo", data=b"abc", headers=headers, timeout=10))
    assert event["isBase64Encoded"] is binary
    assert (base64.b64decode(event["body"]) if binary else event["body"].encode()) == b"abc"


def test_bytes_that_are_not_utf8_arrive_mangled_when_their_type_is_not_declared_binary(
        gateway: Callable[..., str]) -> None:
    """What API Gateway does to a binary upload without BinaryMediaTypes: decodes it as UTF-8 text, replacing
    what does not decode. The function must not get a clean copy here that it would not get in AWS."""
    url = gateway(ApiSettings("local"))
    event = seen(requests.post(f"{url}/echo", data=PNG, headers={"Content-Type": "application/octet-stream"},
                               timeout=10))
    assert event["isBase64Encoded"] is False
    assert event["body"] == PNG.decode("utf-8", "replace") and "\ufffd" in event["body"]


# -- base64 replies ------------------------------------------------------------------------------------------

def _png_reply(functions: Functions, content_type: str = "image/png") -> None:
    functions.canned = InvokeResult(proxy(base64.b64encode(PNG).decode(), encoded=True,
                                          headers={"Content-Type": content_type}))


def test_a_base64_reply_reaches_the_client_as_base64_text_when_no_binary_type_is_declared(
        gateway: Callable[..., str], functions: Functions) -> None:
    url = gateway(ApiSettings("local"))
    _png_reply(functions)
    reply = requests.get(f"{url}/canned", headers={"Accept": "image/png"}, timeout=10)
    assert reply.status_code == 200 and reply.content == base64.b64encode(PNG)


def test_a_base64_reply_is_decoded_when_its_content_type_is_a_binary_type(
        gateway: Callable[..., str], functions: Functions) -> None:
    url = gateway(ApiSettings("local", ("image/png",)))
    _png_reply(functions)
    reply = requests.get(f"{url}/canned", headers={"Accept": "text/html"}, timeout=10)
    assert reply.content == PNG and reply.headers["Content-Type"] == "image/png"


@pytest.mark.parametrize(("accept", "decoded"), [
    ("application/octet-stream", True),
    ("application/octet-stream;q=0.9, text/html", True),
    ("text/html, application/octet-stream", False),  # API Gateway honours only the first Accept type
    ("*/*", False),  # the client's wildcard is not the declared type
    (None, False),
])
def test_a_base64_reply_is_decoded_when_the_first_accept_type_is_a_binary_type(
        gateway: Callable[..., str], functions: Functions, accept: str | None, decoded: bool) -> None:
    url = gateway(ApiSettings("local", ("application/octet-stream",)))
    _png_reply(functions, content_type="text/calendar")
    reply = requests.get(f"{url}/canned", headers={"Accept": accept}, timeout=10)
    assert reply.status_code == 200
    assert reply.content == (PNG if decoded else base64.b64encode(PNG))


def test_a_reply_that_claims_base64_but_is_not_is_a_500_when_it_would_be_decoded(
        gateway: Callable[..., str], functions: Functions) -> None:
    url = gateway(ApiSettings("local", ("*/*",)))
    functions.canned = InvokeResult(proxy("not base64!", encoded=True, headers={"Content-Type": "image/png"}))
    reply = requests.get(f"{url}/canned", timeout=10)
    assert reply.status_code == 500 and reply.json() == {"message": "Internal server error"}


def test_a_text_reply_is_sent_as_utf8_and_without_a_content_type_is_json(
        gateway: Callable[..., str], functions: Functions) -> None:
    url = gateway(ApiSettings("local", ("*/*",)))
    functions.canned = InvokeResult(json.dumps({"statusCode": 201, "body": "Zoë"}).encode())
    reply = requests.get(f"{url}/canned", timeout=10)
    assert (reply.status_code, reply.content, reply.headers["Content-Type"]) == (201, "Zoë".encode(),
                                                                                 "application/json")


@pytest.mark.parametrize("payload", [b"not json", b"[]", b'{"body": "no status"}', b'{"statusCode": 200, "body": {}}'])
def test_a_malformed_reply_is_a_502(gateway: Callable[..., str], functions: Functions, payload: bytes) -> None:
    url = gateway(ApiSettings("local"))
    functions.canned = InvokeResult(payload)
    reply = requests.get(f"{url}/canned", timeout=10)
    assert reply.status_code == 502 and reply.json() == {"message": "Internal server error"}


def test_a_function_error_is_a_502(gateway: Callable[..., str], functions: Functions) -> None:
    url = gateway(ApiSettings("local"))
    functions.canned = InvokeResult(b'{"errorMessage": "boom", "errorType": "ValueError"}', "ValueError")
    reply = requests.get(f"{url}/canned", timeout=10)
    assert reply.status_code == 502 and reply.json() == {"message": "Internal server error"}


# -- stages --------------------------------------------------------------------------------------------------

def test_the_routes_answer_at_the_root_as_on_the_custom_domain(gateway: Callable[..., str]) -> None:
    url = gateway(ApiSettings("dev"))
    event = seen(requests.get(f"{url}/book/abc", timeout=10))
    assert (event["path"], event["resource"], event["pathParameters"]) == ("/book/abc", "/book/{token}",
                                                                           {"token": "abc"})
    assert event["context"] == {"path": "/book/abc", "stage": "dev", "resourcePath": "/book/{token}"}


def test_the_routes_answer_under_the_stage_as_on_the_execute_api_url(gateway: Callable[..., str]) -> None:
    url = gateway(ApiSettings("dev"))
    event = seen(requests.get(f"{url}/dev/book/abc", timeout=10))
    assert (event["path"], event["pathParameters"]) == ("/book/abc", {"token": "abc"})
    assert event["context"] == {"path": "/dev/book/abc", "stage": "dev", "resourcePath": "/book/{token}"}


@pytest.mark.parametrize("path", ["/Stage/book/abc", "/prod/book/abc", "/DEV/book/abc", "/dev", "/dev/",
                                  "/book", "/nowhere"])
def test_any_other_path_is_an_unknown_resource(gateway: Callable[..., str], functions: Functions,
                                               path: str) -> None:
    url = gateway(ApiSettings("dev"))
    with no_invocation(functions):
        reply = requests.get(f"{url}{path}", timeout=10)
    assert reply.status_code == 403 and reply.json() == {"message": "Missing Authentication Token"}
    assert reply.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"


def test_an_undeclared_method_is_an_unknown_resource(gateway: Callable[..., str], functions: Functions) -> None:
    url = gateway(ApiSettings("dev"))
    with no_invocation(functions):
        reply = requests.delete(f"{url}/dev/book/abc", timeout=10)
    assert reply.status_code == 403 and reply.json() == {"message": "Missing Authentication Token"}


def test_the_old_call_serves_the_sites_stage_with_no_binary_types(
        gateway: Callable[..., str], functions: Functions) -> None:
    url = gateway()
    assert seen(requests.get(f"{url}/local/book/abc", timeout=10))["context"]["stage"] == "local"
    event = seen(requests.post(f"{url}/echo", data=PNG, headers={"Content-Type": "image/png"}, timeout=10))
    assert event["isBase64Encoded"] is False


def test_the_local_pages_stay_where_they_are(gateway: Callable[..., str], functions: Functions) -> None:
    url = gateway(ApiSettings("dev"))
    with no_invocation(functions):
        assert requests.get(f"{url}/_local/outbox.json", timeout=10).json() == {"messages": []}
        assert requests.get(f"{url}/dev/_local/outbox.json", timeout=10).status_code == 403


# -- payload limits ------------------------------------------------------------------------------------------

def test_a_body_over_10_mb_is_refused_before_any_invocation(gateway: Callable[..., str], functions: Functions) -> None:
    url = gateway(ApiSettings("local", ("*/*",)))
    with no_invocation(functions):
        reply = requests.post(f"{url}/echo", data=b"x" * (10 * MB + 1), timeout=60,
                              headers={"Content-Type": "application/octet-stream"})
    assert reply.status_code == 413 and reply.text == "HTTP content length exceeded 10485760 bytes."


def test_an_event_over_lambdas_6_mb_is_refused_without_an_invocation(
        gateway: Callable[..., str], functions: Functions) -> None:
    url = gateway(ApiSettings("local"))
    with no_invocation(functions):
        reply = requests.post(f"{url}/echo", data=b"x" * (6 * MB), headers={"Content-Type": "text/plain"},
                              timeout=60)
    assert reply.status_code == 413 and reply.json() == {"message": "Request Too Long"}


def test_base64_counts_against_lambdas_limit(gateway: Callable[..., str], functions: Functions) -> None:
    """A 5 MB upload fits as text but not as base64 (a third larger) in the event."""
    body = b"a" * (5 * MB)
    binary = gateway(ApiSettings("local", ("application/octet-stream",)))
    with no_invocation(functions):
        reply = requests.post(f"{binary}/echo", data=body, headers={"Content-Type": "application/octet-stream"},
                              timeout=60)
    assert reply.status_code == 413
    text = gateway(ApiSettings("local"))
    assert seen(requests.post(f"{text}/echo", data=body, headers={"Content-Type": "application/octet-stream"},
                              timeout=60))["isBase64Encoded"] is False


def test_a_reply_over_6_mb_is_a_502(gateway: Callable[..., str], functions: Functions) -> None:
    url = gateway(ApiSettings("local"))
    functions.canned = InvokeResult(proxy("x" * (6 * MB)))
    reply = requests.get(f"{url}/canned", timeout=60)
    assert reply.status_code == 502 and reply.json() == {"message": "Internal server error"}
    functions.canned = InvokeResult(proxy("x" * (6 * MB - 200)))
    assert len(requests.get(f"{url}/canned", timeout=60).content) == 6 * MB - 200


def test_header_values_over_10_kb_are_refused(gateway: Callable[..., str], functions: Functions) -> None:
    url = gateway(ApiSettings("local"))
    with no_invocation(functions):
        reply = requests.get(f"{url}/book/abc", headers={"Cookie": "c=" + "x" * 6000, "X-Other": "y" * 5000},
                             timeout=10)
    assert reply.status_code == 431 and reply.text == "HTTP header is larger than 10240 bytes."
    assert seen(requests.get(f"{url}/book/abc", headers={"Cookie": "c=" + "x" * 9000}, timeout=10))
