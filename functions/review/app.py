"""GET|POST /review/{link}: the review page (GET shows and is audited; only POST decides); a team lead's contest
link shows the contest page and decides the contest."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from foureyes.errors import LinkExpired
from foureyes.review import contest, contest_page, decide, page
from foureyes.web.http import form, html, html_app
from foureyes.web.shell import message_page

logger = Logger()
tracer = Tracer(patch_modules=["botocore"])  # AWS calls only: patching all imports requests & co. at cold start
metrics = Metrics()
app = html_app({LinkExpired: ("Link expired", "This link has expired. Links are valid for a limited time; ask your "
                                              "team lead or the Foureyes queue (foureyes ops queue) to send you a "
                                              "new one.")})


@app.get("/review/<link>")
def show_page(link: str) -> Response[str]:
    shown = decide.view(link)
    if contest.is_contest(shown.proposal):
        return html(200, contest_page.team_lead_page(contest.view_of(shown)))
    return html(200, page.review_page(shown))


@app.post("/review/<link>")
def post_decision(link: str) -> Response[str]:
    fields = form(app.current_event.raw_event)
    if fields.get("action") == "contest":
        done = contest.decide_contest(link, fields.get("decision", ""), fields.get("reason", ""),
                                      fields.get("nonce", ""), note=fields.get("note", ""))
        return html(200, contest_page.decided_page(done))
    if fields.get("action") == "rollback":
        rollback_id = decide.propose_rollback_by_link(link, fields.get("why", ""))
        return html(200, message_page(
            "Rollback proposed", f"Rollback proposal {rollback_id} is on its way to a reviewer and an approver."))
    decided = decide.decide(link, fields.get("decision", ""), fields.get("reason", ""), fields.get("nonce", ""),
                            note=fields.get("note", ""))
    metrics.add_metric(name="Decisions", unit=MetricUnit.Count, value=1)
    return html(200, page.decided_page(decided.status.value, decided.confidence))


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
