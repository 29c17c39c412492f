"""GET|POST /review/{link}: the review page (GET shows and is audited; only POST decides)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from foureyes.errors import FoureyesError, LinkExpired
from foureyes.review import decide, page
from foureyes.web.http import raw_body, status_for

logger = Logger()
tracer = Tracer()
metrics = Metrics()
app = APIGatewayRestResolver()
HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex",
           "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"}


def _html(status: int, body: str) -> Response[str]:
    return Response(status_code=status, content_type="text/html; charset=utf-8", body=body, headers=HEADERS)


@app.get("/review/<link>")
def show_page(link: str) -> Response[str]:
    view = decide.view(link)
    return _html(200, page.review_page(view))


@app.post("/review/<link>")
def post_decision(link: str) -> Response[str]:
    form = {k: v[-1] for k, v in parse_qs(raw_body(app.current_event.raw_event).decode("utf-8", "replace")).items()}
    if form.get("action") == "rollback":
        rollback_id = decide.propose_rollback_by_link(link, form.get("why", ""))
        return _html(200, page.message_page(
            "Rollback proposed", f"Rollback proposal {rollback_id} is on its way to a reviewer and an approver."))
    decided = decide.decide(link, form.get("decision", ""), form.get("reason", ""), form.get("nonce", ""))
    metrics.add_metric(name="Decisions", unit=MetricUnit.Count, value=1)
    return _html(200, page.decided_page(decided.status.value, decided.confidence))


@app.exception_handler(FoureyesError)  # type: ignore[untyped-decorator]
def refuse(error: FoureyesError) -> Response[str]:
    logger.info("review refused", extra={"kind": type(error).__name__})
    if isinstance(error, LinkExpired):
        text = ("This link has expired. Links are valid for a limited time; ask your team lead or "
                "the Foureyes queue (foureyes ops queue) to send you a new one.")
        return _html(410, page.message_page("Link expired", text))
    return _html(status_for(error), page.message_page("This review cannot be shown", str(error)))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
