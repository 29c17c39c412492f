"""GET|POST /book/{token}, /feedback/{token}, GET /feedback-read/{token}: candidate and interviewer pages."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import parse_qs

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from foureyes.scheduling import pages
from foureyes.scheduling.deps import deps
from foureyes.web.http import raw_body

logger = Logger()
tracer = Tracer()


def _reply(response: pages.Response) -> dict[str, Any]:
    headers = {"Content-Type": response.content_type, **response.headers}
    if isinstance(response.body, bytes):
        return {"statusCode": response.status, "headers": headers,
                "body": base64.b64encode(response.body).decode(), "isBase64Encoded": True}
    return {"statusCode": response.status, "headers": headers, "body": response.body, "isBase64Encoded": False}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    method = event["httpMethod"]
    token = (event.get("pathParameters") or {}).get("token", "")
    form = {k: v[-1] for k, v in parse_qs(raw_body(event).decode("utf-8", "replace")).items()}
    query = event.get("queryStringParameters") or {}
    resource = event["resource"]
    if resource.startswith("/book/"):
        response = pages.booking_endpoint(method, token, form, query, deps())
    elif resource.startswith("/feedback/"):
        response = pages.feedback_endpoint(method, token, form, deps())
    else:
        response = pages.feedback_read_endpoint(token, deps(), method, form)
    logger.info("page served", extra={"resource": resource, "status": response.status})
    return _reply(response)
