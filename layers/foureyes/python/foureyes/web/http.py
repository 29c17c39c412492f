"""Requests in, responses out: the body and form of an API Gateway event, and the resolvers every API
handler is built on (one for HTML pages, one for JSON), each with the one error mapping of `responses`."""

from __future__ import annotations

import base64
import binascii
import json
import traceback
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response

from foureyes.errors import BadRequest, FoureyesError, NotFound
from foureyes.web.responses import ErrorReply, reply_for
from foureyes.web.shell import HTML, SECURITY_HEADERS, message_page

logger = Logger(child=True)
MAX_FORM_BYTES = 64 * 1024


def raw_body(event: Mapping[str, Any]) -> bytes:
    """The request body exactly as sent (API Gateway base64-encodes what is not text)."""
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body)
        except (binascii.Error, ValueError) as exc:
            raise BadRequest("the body is not valid base64") from exc
    return str(body).encode("utf-8", "surrogateescape")


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
        return html(reply.status, message_page(reply.title, reply.text, role="alert"), reply.headers)

    return _with_errors(refuse, NotFound("there is no page at this address"))


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
    return app
