"""One error -> HTTP mapping and one set of security headers for every page, through the resolvers the
handlers are built on (a real API Gateway proxy event in, the Lambda proxy response out)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from foureyes.errors import (
    AtsUnavailable,
    BadRequest,
    CalendarUnavailable,
    ConfigurationError,
    Conflict,
    LinkExpired,
    NotFound,
)
from foureyes.web.http import MAX_JSON_DEPTH, form, html, html_app, json_app, json_body
from foureyes.web.responses import BUG_TEXT, RETRY_AFTER_SECONDS, UNAVAILABLE_TEXT, status_for
from foureyes.web.shell import SECURITY_HEADERS


def _event(path: str, method: str = "GET", body: str | None = None) -> dict[str, Any]:
    return {"resource": path, "path": path, "httpMethod": method, "headers": {}, "multiValueHeaders": {},
            "queryStringParameters": None, "multiValueQueryStringParameters": None, "pathParameters": None,
            "stageVariables": None, "requestContext": {"resourcePath": path, "httpMethod": method, "stage": "test",
                                                       "requestId": "r-1"},
            "body": body, "isBase64Encoded": False}


def _raising(app: APIGatewayRestResolver, error: Exception) -> dict[str, Any]:
    def fail() -> Any:
        raise error

    app.get("/boom")(fail)
    reply: dict[str, Any] = app.resolve(_event("/boom"), None)  # type: ignore[arg-type]
    return reply


@pytest.mark.parametrize(("error", "status"), [
    (BadRequest("choose a reason for your decision"), 400), (LinkExpired("expired"), 410),
    (NotFound("no such booking"), 404), (Conflict("already decided"), 409)])
def test_client_faults_are_4xx_pages_with_their_reason(error: Exception, status: int) -> None:
    reply = _raising(html_app(), error)
    assert reply["statusCode"] == status
    assert str(error) in reply["body"]
    assert "Traceback" not in reply["body"]


@pytest.mark.parametrize("error", [AtsUnavailable("otys timed out"), CalendarUnavailable("graph 503"),
                                   ConfigurationError("environment variable X is not set")])
@pytest.mark.parametrize("make_app", [html_app, json_app])
def test_unavailable_dependencies_are_503_with_retry_after(error: Exception,
                                                          make_app: Callable[[], APIGatewayRestResolver]) -> None:
    reply = _raising(make_app(), error)
    assert reply["statusCode"] == 503
    assert reply["multiValueHeaders"]["Retry-After"] == [str(RETRY_AFTER_SECONDS)]
    assert str(error) not in reply["body"]  # what failed inside is ops' business, not the caller's
    assert UNAVAILABLE_TEXT in (reply["body"] if make_app is html_app else json.loads(reply["body"])["error"])


@pytest.mark.parametrize("make_app", [html_app, json_app])
def test_a_bug_is_500_without_a_word_of_the_exception(make_app: Callable[[], APIGatewayRestResolver]) -> None:
    reply = _raising(make_app(), KeyError("anna.devries@example.org"))
    assert reply["statusCode"] == 500
    assert "anna.devries" not in reply["body"] and "KeyError" not in reply["body"]
    assert BUG_TEXT in reply["body"] or json.loads(reply["body"])["error"] == BUG_TEXT


def test_every_html_answer_carries_the_security_headers() -> None:
    app = html_app()
    app.get("/ok")(lambda: html(200, "<p>fine</p>"))
    for reply in (app.resolve(_event("/ok"), None), _raising(html_app(), NotFound("gone")),  # type: ignore[arg-type]
                  _raising(html_app(), RuntimeError("bug"))):
        headers = {k: v[-1] for k, v in reply["multiValueHeaders"].items()}
        for name, value in SECURITY_HEADERS.items():
            assert headers.get(name) == value, (reply["statusCode"], name)
    assert "frame-ancestors 'none'" in SECURITY_HEADERS["Content-Security-Policy"]
    assert SECURITY_HEADERS["X-Frame-Options"] == "DENY"


def test_a_surface_can_say_an_error_in_its_own_words() -> None:
    app = html_app({LinkExpired: ("Link expired", "Ask your team lead for a new one.")})
    reply = _raising(app, LinkExpired("token past exp"))
    assert reply["statusCode"] == 410 and "Ask your team lead for a new one." in reply["body"]


def test_status_for_non_foureyes_errors_is_500() -> None:
    assert status_for(ValueError("x")) == 500
    assert status_for(AtsUnavailable("x")) == 503


@pytest.mark.parametrize("path", ["/book/" + "a" * 5000, "/book/%00%ff", "/nowhere", "/book/ space /x"])
def test_hostile_paths_get_a_4xx_page_with_the_headers(path: str) -> None:
    app = html_app()
    app.route("/book/<token>", method=["GET", "POST"])(lambda token: html(200, "<p>page</p>"))
    reply = app.resolve(_event(path), None)  # type: ignore[arg-type]
    assert 400 <= reply["statusCode"] < 500 or reply["statusCode"] == 200
    headers = {k: v[-1] for k, v in reply["multiValueHeaders"].items()}
    assert headers.get("X-Frame-Options") == "DENY"
    assert reply["statusCode"] == 200 or "<html" in reply["body"]


def test_an_oversized_or_undecodable_form_is_400_not_500() -> None:
    app = html_app()
    app.post("/form")(lambda: html(200, str(len(form(app.current_event.raw_event)))))
    big = app.resolve(_event("/form", "POST", "a=" + "x" * 70_000), None)  # type: ignore[arg-type]
    assert big["statusCode"] == 400 and "larger than" in big["body"]
    event = _event("/form", "POST", "not base64 !!")
    event["isBase64Encoded"] = True
    assert app.resolve(event, None)["statusCode"] == 400  # type: ignore[arg-type]
    event = _event("/nowhere-json", "POST", "{}")
    assert json.loads(json_app().resolve(event, None)["body"]) == {"error": "no such endpoint"}  # type: ignore[arg-type]


@pytest.mark.parametrize(("body", "reason"), [
    (b"[" * 100_000 + b"]" * 100_000, "nested deeper than"),  # was a RecursionError (502)
    (b'{"a":' * (MAX_JSON_DEPTH + 1) + b"1" + b"}" * (MAX_JSON_DEPTH + 1), "nested deeper than"),
    (b"[" * 100_000, "nested deeper than"),  # unbalanced: refused before the parser sees it
    (b'{"n": ' + b"9" * 5000 + b"}", "number longer than"),  # was a ValueError: int max str digits (502)
    (b'{"n": -' + b"1" * 60 + b"e5}", "number longer than"),
    (b'{"n": NaN}', "not a JSON number"), (b'{"n": -Infinity}', "not a JSON number"),
    (b'{"n": 1e999}', "out of range"),
    (b'{"s": "\\ud800"}', "lone surrogate"),
    (b'{"s": "\xff\xfe"}', "not valid UTF-8"),
    (b'{"s": "unterminated', "not valid JSON"), (b"", "not valid JSON"), (b"{not json", "not valid JSON"),
])
def test_a_hostile_json_body_is_a_bad_request_with_its_reason(body: bytes, reason: str) -> None:
    with pytest.raises(BadRequest, match=reason):
        json_body(body)


@pytest.mark.parametrize("data", [
    {"a": "[" * 10_000 + "{" * 10_000}, {"a": '\\"[[[' * 100}, {"emoji": "\U0001f600"}, [[[[1.5e-300]]]],
    {"n": -12345678901234567890, "b": [True, False, None]}])
def test_ordinary_json_parses_as_json_does(data: object) -> None:
    body = json.dumps(data).encode()
    assert json_body(body) == json.loads(body)
    deep = b'{"a":' * MAX_JSON_DEPTH + b"1" + b"}" * MAX_JSON_DEPTH
    assert json_body(deep) == json.loads(deep)


def test_a_hostile_json_body_through_a_resolver_is_400_not_502() -> None:
    app = json_app()
    app.post("/json")(lambda: {"ok": json_body(app.current_event.raw_event["body"].encode())})
    reply = app.resolve(_event("/json", "POST", "[" * 100_000 + "]" * 100_000), None)  # type: ignore[arg-type]
    assert reply["statusCode"] == 400 and "nested deeper" in json.loads(reply["body"])["error"]
