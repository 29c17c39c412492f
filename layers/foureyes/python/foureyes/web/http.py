"""Requests in, responses out: the body, form and JSON of an API Gateway event (each bounded before it is
parsed), and the resolvers every API handler is built on (one for HTML pages, one for JSON), each with the one
error mapping of `responses`."""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import traceback
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response

from foureyes import outbound
from foureyes.errors import BadRequest, FoureyesError, NotFound
from foureyes.web.i18n import Language
from foureyes.web.responses import ErrorReply, reply_for
from foureyes.web.shell import HTML, SECURITY_HEADERS, message_page

logger = Logger(child=True)
MAX_FORM_BYTES = 64 * 1024
MAX_JSON_DEPTH = 64
MAX_JSON_NUMBER_CHARS = 40


def raw_body(event: Mapping[str, Any]) -> bytes:
    """The request body exactly as sent (API Gateway base64-encodes what is not text)."""
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body)
        except (binascii.Error, ValueError) as exc:
            raise BadRequest("the body is not valid base64") from exc
    return str(body).encode("utf-8", "surrogateescape")


# Strings (with their escapes) and numbers in JSON text, for the shape check before parsing.
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_JSON_NUMBER = re.compile(r"[-+0-9.eE]+")
_JSON_BRACKET = re.compile(r"[\[\]{}]")


def _refuse_number(text: str) -> Any:
    raise ValueError(f"{text} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("a number out of range")
    return value


def json_body(body: bytes, *, max_depth: int = MAX_JSON_DEPTH, max_number_chars: int = MAX_JSON_NUMBER_CHARS) -> Any:
    """A JSON request body, parsed only once its shape is known to be harmless; `BadRequest` with the reason
    otherwise.

    Checked before `json.loads` ever sees the text, by a linear scan that does not recurse: the body is UTF-8,
    its nesting is at most `max_depth` deep (deeper nesting would exhaust the parser's recursion), and no number
    is longer than `max_number_chars` characters (long integers would hit Python's digit limit and be slow).
    NaN/Infinity, numbers that overflow a float and strings with lone surrogates (which no store can encode)
    are refused too.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest("the body is not valid UTF-8") from exc
    outside = _JSON_STRING.sub('""', text)  # what is left: structure, numbers, literals (and unterminated strings)
    depth = deepest = 0
    for bracket in _JSON_BRACKET.finditer(outside):
        depth += 1 if bracket.group() in "[{" else -1
        deepest = max(deepest, depth)
        if deepest > max_depth:
            raise BadRequest(f"the JSON body is nested deeper than {max_depth} levels")
    longest = max((len(m.group()) for m in _JSON_NUMBER.finditer(outside)), default=0)
    if longest > max_number_chars:
        raise BadRequest(f"the JSON body has a number longer than {max_number_chars} characters")
    try:
        data = json.loads(text, parse_constant=_refuse_number, parse_float=_finite_float)
        json.dumps(data, ensure_ascii=False).encode("utf-8")  # a lone surrogate (\ud800) cannot be stored
    except (ValueError, UnicodeEncodeError, RecursionError) as exc:
        raise BadRequest(f"the body is not valid JSON: {_json_reason(exc)}") from exc
    return data


def _json_reason(error: Exception) -> str:
    if isinstance(error, json.JSONDecodeError):
        return f"{error.msg} (character {error.pos})"
    if isinstance(error, UnicodeEncodeError):
        return "a string holds a lone surrogate escape"
    return str(error)[:100] if isinstance(error, ValueError) else type(error).__name__


def form(event: Mapping[str, Any]) -> dict[str, str]:
    """An HTML form POST's fields (the last value of a repeated field wins)."""
    body = raw_body(event)
    if len(body) > MAX_FORM_BYTES:
        raise BadRequest(f"the form is larger than {MAX_FORM_BYTES} bytes")
    return {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}


def html(status: int, body: str, headers: Mapping[str, str] | None = None) -> Response[str]:
    """An HTML page with the security headers every page carries."""
    return Response(status_code=status, content_type=HTML, body=body, headers={**SECURITY_HEADERS, **(headers or {})})


def _log(error: Exception, reply: ErrorReply) -> None:
    """Ids and kinds only: a typed error's kind; for a bug the stack (file, line, code), never its message."""
    if isinstance(error, FoureyesError):
        logger.info("request refused", extra={"kind": type(error).__name__, "status": reply.status})
    else:
        logger.error("unexpected error", extra={"kind": type(error).__name__, "status": reply.status,
                                                "stack": traceback.format_tb(error.__traceback__)[-5:]})


def html_app(texts: Mapping[type[FoureyesError], tuple[str, str]] | None = None) -> APIGatewayRestResolver:
    """A resolver for HTML pages: every error becomes a plain-language page (`texts`: a surface's own words)."""

    def refuse(error: Exception) -> Response[str]:
        reply = reply_for(error, texts)
        _log(error, reply)
        language = _language(app)
        return html(reply.status, message_page(reply.title, reply.text, role="alert", language=language),
                    {**language.headers, **reply.headers})

    app = _with_errors(refuse, NotFound("there is no page at this address"))
    return app


def _language(app: APIGatewayRestResolver) -> Language:
    """The language of the request being answered (the default when there is none)."""
    try:
        return Language.from_event(app.current_event.raw_event)
    except (AttributeError, KeyError, TypeError):
        return Language.of()


def json_app() -> APIGatewayRestResolver:
    """A resolver for machine callers (webhooks): every error becomes `{"error": "..."}` with its status."""

    def refuse(error: Exception) -> Response[str]:
        reply = reply_for(error)
        _log(error, reply)
        return Response(status_code=reply.status, content_type="application/json",
                        body=json.dumps({"error": reply.text}), headers=dict(reply.headers))

    return _with_errors(refuse, NotFound("no such endpoint"))


def _with_errors(refuse: Callable[[Exception], Response[str]], nowhere: NotFound) -> APIGatewayRestResolver:
    """A resolver whose every error, and every address without a route, is answered by `refuse`."""
    app = APIGatewayRestResolver()
    app.exception_handler(Exception)(refuse)
    app.not_found(lambda _error: refuse(nowhere))
    app.use(middlewares=[_within_the_invocation])
    return app


def _within_the_invocation(app: APIGatewayRestResolver, next_middleware: Callable[..., Any]) -> Any:
    """Every request runs within its invocation's time (`outbound.within`): a retry that could not finish
    before Lambda's timeout is not started - an audit append waits for its turn up to then, not a fixed count."""
    context = app.lambda_context
    left = context.get_remaining_time_in_millis() / 1000 if context is not None else None
    with outbound.within(outbound.Deadline.after(left) if left is not None else None):
        return next_middleware(app)
