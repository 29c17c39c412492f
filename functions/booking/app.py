"""GET|POST /book/{token}, /feedback/{token}, /feedback-read/{token}, /contest/{token}: candidate and interviewer
pages."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from foureyes.review import contest_page
from foureyes.scheduling import feedback_pages, pages
from foureyes.scheduling.deps import deps
from foureyes.web.http import form, html, html_app
from foureyes.web.i18n import Language

logger = Logger()
tracer = Tracer(patch_modules=["botocore", "requests"])  # AWS and Microsoft Graph calls, nothing else
app = html_app(pages.TEXTS)


def _reply(page: pages.Response) -> Response[str | bytes]:
    logger.info("page served", extra={"resource": app.current_event.resource, "status": page.status})
    return Response(status_code=page.status, content_type=page.content_type, body=page.body,
                    headers=dict(page.headers))


@app.route("/book/<token>", method=["GET", "POST"])
def book(token: str) -> Response[str | bytes]:
    event = app.current_event
    known = pages.candidate_language(deps(), token)  # what the ATS says they read: after their own choice
    return _reply(pages.booking_endpoint(event.http_method, token, form(event.raw_event),
                                         event.query_string_parameters or {}, deps(),
                                         Language.from_event(event.raw_event, known=known)))


@app.route("/feedback/<token>", method=["GET", "POST"])
def give_feedback(token: str) -> Response[str | bytes]:
    event = app.current_event
    return _reply(feedback_pages.feedback_endpoint(event.http_method, token, form(event.raw_event), deps(),
                                                   language=Language.from_event(event.raw_event),
                                                   query=event.query_string_parameters or {}))


@app.route("/feedback-read/<token>", method=["GET", "POST"])
def read_feedback(token: str) -> Response[str | bytes]:
    event = app.current_event
    return _reply(feedback_pages.feedback_read_endpoint(token, deps(), event.http_method, form(event.raw_event),
                                                        language=Language.from_event(event.raw_event),
                                                        query=event.query_string_parameters or {}))


@app.route("/contest/<token>", method=["GET", "POST"])
def contest_data_handling(token: str) -> Response[str]:
    event = app.current_event
    fields = form(event.raw_event) if event.http_method == "POST" else {}
    language = Language.from_event(event.raw_event, known=contest_page.candidate_language(token))
    return html(200, contest_page.endpoint(event.http_method, token, fields, language), language.headers)


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
