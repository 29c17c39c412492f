"""GET|POST /review/{link}: the review page (GET shows and is audited; only POST decides); a team lead's contest
link shows the contest page and decides the contest. A decision the form refuses (no reason, a reason that does
not fit, "Other" without a note) shows the page again with the message; nothing is decided. After a decision the
page offers the person's next open review.

GET /reviews/{link}: a person's open reviews (their personal queue link; audited, decides nothing).
GET|POST /reviews: ask for one's queue link by work e-mail; the same answer whether or not the address is known."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from foureyes.errors import BadRequest, LinkExpired
from foureyes.review import contest, contest_page, decide, inbox, page
from foureyes.web.http import form, html, html_app
from foureyes.web.i18n import Language
from foureyes.web.shell import message_page

logger = Logger()
tracer = Tracer(patch_modules=["botocore"])  # AWS calls only: patching all imports requests & co. at cold start
metrics = Metrics()
app = html_app()


def _language(person_id: str = "") -> Language:
    """The page's language: the reader's choice, their browser, or the people list's language for them."""
    person = decide.default_deps().people().find(person_id) if person_id else None
    return Language.from_event(app.current_event.raw_event, known=person.language if person else None)


def expired(_error: LinkExpired) -> Response[str]:
    """An old link: the way to a fresh one (410, as every expired link)."""
    language = _language()
    return html(410, page.expired_page(language), language.headers)


app.exception_handler(LinkExpired)(expired)


@app.get("/review/<link>")
def show_page(link: str) -> Response[str]:
    shown = decide.view(link)
    language = _language(shown.person)
    if contest.is_contest(shown.proposal):
        return html(200, contest_page.team_lead_page(contest.view_of(shown), language), language.headers)
    queue = decide.queue_link(shown.person, decide.default_deps())
    return html(200, page.review_page(shown, language, queue_url=queue), language.headers)


@app.post("/review/<link>")
def post_decision(link: str) -> Response[str]:
    language = _language()
    fields = form(app.current_event.raw_event)
    if fields.get("action") == "contest":
        done = contest.decide_contest(link, fields.get("decision", ""), fields.get("reason", ""),
                                      fields.get("nonce", ""), note=fields.get("note", ""))
        return html(200, contest_page.decided_page(done, language), language.headers)
    if fields.get("action") == "rollback":
        rollback_id = decide.propose_rollback_by_link(link, fields.get("why", ""))
        logger.info("rollback proposed", extra={"proposal_id": rollback_id})
        return html(200, message_page(page.ROLLBACK_TITLE, page.ROLLBACK_TEXT, language=language), language.headers)
    chosen = page.Chosen(fields.get("decision", ""), fields.get("reason", ""), fields.get("note", ""))
    try:
        decided = decide.decide(link, chosen.decision, chosen.reason, fields.get("nonce", ""), note=chosen.note)
    except BadRequest as refused:  # the form's own fault: 400 and the page again, with what to fix (nothing decided)
        shown = decide.view(link)
        notice = language.gettext(page.refusal(refused))
        return html(400, page.review_page(shown, language, notice=notice, chosen=chosen), language.headers)
    metrics.add_metric(name="Decisions", unit=MetricUnit.Count, value=1)
    following = inbox.next_for(decided.person)
    return html(200, page.decided_page(decided.status.value, decided.confidence, language, next_url=following.url,
                                       queue_url=following.queue_url, left=following.left), language.headers)


@app.get("/reviews/<link>")
def show_queue(link: str) -> Response[str]:
    person, reviews = inbox.open_for(link)
    language = _language(person.id)
    return html(200, page.queue_page(person, reviews, language), language.headers)


@app.get("/reviews")
def show_request() -> Response[str]:
    language = _language()
    return html(200, page.request_page(language), language.headers)


@app.post("/reviews")
def post_request() -> Response[str]:
    language = _language()
    email = form(app.current_event.raw_event).get("email", "").strip()
    if not email or "@" not in email or len(email) > page.MAX_EMAIL_LENGTH:
        notice = language.gettext(page.EMAIL_NEEDED)
        return html(200, page.request_page(language, notice=notice), language.headers)
    inbox.request_link(email, language=language)  # known or not: the same answer (no enumeration)
    return html(200, page.request_page(language, sent=True), language.headers)


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
