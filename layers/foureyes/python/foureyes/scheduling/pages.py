"""Server-rendered scheduling pages: booking, hold, confirmation, cancellation, feedback; and the endpoints
that map a request (method, token, form) to a response, so the Lambda handlers stay thin.

Accessible and mobile friendly without JavaScript: radio buttons in fieldsets with legends, labels on every
control, large tap targets, POST forms. A GET never changes anything (mail scanners open links first).
Everything shown is escaped; errors are answered by the web room's mapping (a plain message and a 4xx, or
503 for an unavailable dependency), never a stack trace or a token. Pages use the web room's shell and headers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from html import escape

from foureyes.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    FoureyesError,
    LinkExpired,
    NotFound,
    Unauthorized,
)
from foureyes.scheduling import booking, cancellation, feedback, ics, outcome
from foureyes.scheduling.deps import Deps
from foureyes.scheduling.feedback import FeedbackForm, FeedbackView
from foureyes.scheduling.slots import LocalSlot
from foureyes.scheduling.views import BookingView, PageKind
from foureyes.web.i18n import N_, Language
from foureyes.web.responses import reply_for
from foureyes.web.shell import HTML, SECURITY_HEADERS, message_page
from foureyes.web.shell import page as shell_page


def page(title: str, body: str) -> str:
    """A scheduling page: the web shell, narrow for phones."""
    return shell_page(title, body, narrow=True)


def _about(view: BookingView) -> str:
    where = "on site" if view.mode == "onsite" else "by video call"
    location = f" at {escape(view.location)}" if view.location else ""
    return (f"<p>Interview for role <strong>{escape(view.role_id)}</strong>, {view.duration_minutes} minutes, "
            f"{where}{location}.</p><p class=\"zone\">Times are shown in your time zone, "
            f"<strong>{escape(view.tz)}</strong>.</p>")


def _notice(view: BookingView) -> str:
    return f"<p class=\"alert\" role=\"alert\">{escape(view.notice)}</p>" if view.notice else ""


def _when(slot: LocalSlot) -> str:
    return (f"{escape(slot.date_label)}, {escape(slot.time_label)} "
            f"<span class=\"zone\">({escape(slot.zone_label)})</span>")


def _slot_form(view: BookingView, button: str, legend: str, action: str = "") -> str:
    if not view.days:
        return "<p>No other times are available at the moment. Please contact your recruiter.</p>"
    groups = []
    for label, slots in view.days:
        options = "".join(
            f"<div class=\"opt\"><input type=\"radio\" name=\"slot\" id=\"s-{escape(s.slot_id)}\" "
            f"value=\"{escape(s.slot_id)}\" required><label for=\"s-{escape(s.slot_id)}\">{escape(s.time_label)} "
            f"<span class=\"zone\">({escape(s.zone_label)})</span>"
            f"{' &middot; <em>suggested</em>' if s.suggested else ''}</label></div>" for s in slots)
        groups.append(f"<fieldset><legend>{escape(label)}</legend>{options}</fieldset>")
    target = f" action=\"{escape(action)}\"" if action else ""
    return (f"<form method=\"post\"{target}><input type=\"hidden\" name=\"action\" value=\"hold\">"
            f"<h2>{escape(legend)}</h2>{''.join(groups)}<button type=\"submit\">{escape(button)}</button></form>")


def booking_page(view: BookingView) -> str:
    if view.kind is PageKind.CHOOSE:
        body = (f"<h1>Choose a time for your interview</h1>{_notice(view)}{_about(view)}"
                + _slot_form(view, "Hold this time", "Available times")
                + "<p>Choosing a time holds it for you for a few minutes while you confirm.</p>")
        return page("Choose an interview time", body)
    if view.kind is PageKind.HELD:
        assert view.held is not None
        what = "Move your interview to this time?" if view.rescheduling else "Confirm your interview"
        body = (f"<h1>{what}</h1>{_notice(view)}{_about(view)}"
                f"<p class=\"note\" role=\"status\">We are holding <strong>{_when(view.held)}</strong> for you for "
                f"{view.held_minutes} minutes.</p>"
                f"<form method=\"post\"><input type=\"hidden\" name=\"action\" value=\"confirm\">"
                f"<input type=\"hidden\" name=\"slot\" value=\"{escape(view.held.slot_id)}\">"
                f"<button type=\"submit\">{'Move my interview' if view.rescheduling else 'Confirm booking'}</button>"
                f"</form><p><a href=\"./{escape(view.token)}\">Choose another time</a></p>")
        return page("Confirm your interview", body)
    if view.kind is PageKind.BOOKED:
        assert view.booked is not None
        body = (f"<h1>Your interview is booked</h1>{_notice(view)}"
                f"<p class=\"note\" role=\"status\"><strong>{_when(view.booked)}</strong></p>{_about(view)}"
                f"<p><a href=\"{escape(view.ics_url)}\" download=\"interview.ics\">Add to your calendar (.ics)</a></p>"
                f"<p>Keep this link to reschedule or cancel, even after moving your interview:<br>"
                f"<a href=\"{escape(view.manage_url)}\">{escape(view.manage_url)}</a></p>"
                + _slot_form(view, "Hold this new time", "Reschedule: choose a new time", view.manage_url)
                + f"<form method=\"post\" action=\"{escape(view.manage_url)}\">"
                  "<input type=\"hidden\" name=\"action\" value=\"cancel\"><h2>Cancel</h2>"
                  "<div class=\"opt\"><input type=\"checkbox\" name=\"sure\" id=\"sure\" value=\"yes\" required>"
                  "<label for=\"sure\">Yes, cancel my interview</label></div>"
                  "<button type=\"submit\">Cancel interview</button></form>")
        return page("Your interview", body)
    if view.kind is PageKind.STARTED:
        assert view.booked is not None
        return page("Your interview", f"<h1>Your interview has started</h1>{_notice(view)}"
                                      f"<p class=\"note\" role=\"status\"><strong>{_when(view.booked)}</strong></p>"
                                      f"{_about(view)}<p>An interview that has started (or taken place) can no longer "
                                      f"be moved or cancelled here. To change anything, {_contact(view)}</p>")
    if view.kind is PageKind.CANCELLED:
        return page("Interview cancelled", f"<h1>Your interview is cancelled</h1>{_notice(view)}"
                                           "<p role=\"status\">The time is free again. Your recruiter has been "
                                           f"told.</p><p>If you want a new time, {_contact(view)}</p>")
    if view.kind is PageKind.SUPERSEDED:
        return page("Link replaced", f"<h1>This link has been replaced</h1>{_notice(view)}"
                                     "<p role=\"status\">You have been sent a newer invitation for this interview: "
                                     "please use the link in the latest e-mail.</p>"
                                     f"<p>For questions, {_contact(view)}</p>")
    return page("Interview scheduling closed", f"<h1>This interview can no longer be booked here</h1>{_notice(view)}"
                                               f"<p>For questions, {_contact(view)}</p>")


def _contact(view: BookingView) -> str:
    """Whom to contact: the role's recruiters, as configured ("please contact ...", to end a sentence)."""
    if not view.contact:
        return "please contact your recruiter."
    addresses = ", ".join(f"<a href=\"mailto:{escape(a)}\">{escape(a)}</a>" for a in view.contact)
    return f"please contact your recruiter: {addresses}."


# What candidates and interviewers are told, in their words; other errors get the web room's wording.
TEXTS: Mapping[type[FoureyesError], tuple[str, str]] = {
    LinkExpired: (N_("This link has expired"), N_("Please ask your recruiter for a new link.")),
    Unauthorized: (N_("This link is not valid"), N_("The link may be incomplete. Please open it again from the "
                                                    "e-mail, or ask your recruiter for a new one.")),
    Forbidden: (N_("Not available to you"), N_("This page is not available with this link.")),
    NotFound: (N_("Not found"), N_("We could not find this interview. It may have been withdrawn.")),
}


def error_page(error: FoureyesError, language: Language | None = None) -> Response:
    """The web room's answer to a typed error (4xx with a reason, 503 with Retry-After): the shared message page
    (`templates/message.html`) in the reader's language."""
    reply = reply_for(error, TEXTS)
    chosen = language or Language.of()
    body = message_page(reply.title, reply.text, role="alert", language=chosen)
    return Response(reply.status, body, HTML, {**SECURITY_HEADERS, **chosen.headers, **reply.headers})


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: str | bytes
    content_type: str = HTML
    headers: Mapping[str, str] = field(default_factory=lambda: dict(SECURITY_HEADERS))


def _redirect(location: str) -> Response:
    return Response(303, "", HTML, {**SECURITY_HEADERS, "Location": location})


def booking_endpoint(method: str, token: str, form: Mapping[str, str], query: Mapping[str, str],
                     deps: Deps) -> Response:
    """`GET|POST /book/{token}`: the whole booking page behaviour."""
    try:
        if method.upper() == "GET":
            if query.get("format") == "ics":
                # As text, not bytes: the resolver base64-encodes a bytes body, and API Gateway hands that to the
                # candidate as base64 text unless the API declares text/calendar a binary media type. The
                # invitation is UTF-8 text/calendar, so it needs no binary media type at all.
                data = booking.ics_download(token, deps)
                return Response(200, data.decode("utf-8"),
                                ics.content_type("REQUEST" if b"METHOD:REQUEST" in data else "CANCEL"),
                                {**SECURITY_HEADERS, "Content-Disposition": "attachment; filename=\"interview.ics\""})
            return Response(200, booking_page(booking.view(token, deps)))
        if method.upper() != "POST":
            raise BadRequest("use GET or POST")
        action = form.get("action", "")
        if action == "hold":
            return Response(200, booking_page(booking.hold(token, _slot(form), deps)))
        if action == "confirm":
            done = booking.confirm(token, _slot(form), deps)
            return _redirect(done.manage_url)
        if action == "cancel":
            if form.get("sure") != "yes":
                raise BadRequest("tick the box to confirm that you want to cancel")
            cancellation.cancel_by_candidate(token, deps)
            return _redirect(f"{deps.base_url}/book/{token}")
        raise BadRequest("unknown action")
    except Conflict as exc:  # a time taken, an interview started, a link replaced: the page as it is now, and why
        try:
            return Response(409, booking_page(booking.view(token, deps, notice=str(exc))))
        except FoureyesError as again:
            return error_page(again)
    except FoureyesError as exc:
        return error_page(exc)


def _slot(form: Mapping[str, str]) -> str:
    slot = form.get("slot", "")
    if not slot or len(slot) > 32:
        raise BadRequest("choose a time")
    return slot


_RECOMMENDATION_LABELS = {"strong_yes": "Strong yes", "yes": "Yes", "no": "No", "strong_no": "Strong no"}


def feedback_form_page(form: FeedbackForm) -> str:
    if form.submitted is not None:
        mine = form.submitted
        return page("Your feedback", f"<h1>Your feedback is recorded</h1><p>Interview {escape(form.booking_id)} "
                                     f"(role {escape(form.role_id)}), {escape(form.when)}.</p>"
                                     f"<p>Recommendation: {escape(_RECOMMENDATION_LABELS.get(mine.recommendation, ''))}"
                                     f"</p><p>Notes:</p><blockquote>{escape(mine.notes) or '&mdash;'}</blockquote>")
    radios = "".join(f"<div class=\"opt\"><input type=\"radio\" name=\"recommendation\" id=\"r-{k}\" value=\"{k}\" "
                     f"required><label for=\"r-{k}\">{v}</label></div>" for k, v in _RECOMMENDATION_LABELS.items())
    ratings = "".join(f"<option value=\"{n}\">{n}</option>" for n in range(1, 6))
    body = (f"<h1>Interview feedback</h1><p>Interview {escape(form.booking_id)} (role {escape(form.role_id)}), "
            f"{escape(form.when)}. Only you, the hiring manager and (as a summary) the recruiter see this.</p>"
            f"<form method=\"post\"><fieldset><legend>Your recommendation</legend>{radios}</fieldset>"
            f"<p><label for=\"rating\">Rating (optional)</label><select id=\"rating\" name=\"rating\">"
            f"<option value=\"\">No rating</option>{ratings}</select></p>"
            f"<p><label for=\"notes\">Notes</label>"
            f"<textarea id=\"notes\" name=\"notes\" rows=\"8\" maxlength=\"10000\"></textarea></p>"
            f"<button type=\"submit\">Submit feedback</button></form>")
    return page("Interview feedback", body)


def feedback_endpoint(method: str, token: str, form: Mapping[str, str], deps: Deps) -> Response:
    """`GET|POST /feedback/{token}`: an interviewer's own feedback form."""
    try:
        if method.upper() == "GET":
            return Response(200, feedback_form_page(feedback.feedback_form(token, deps)))
        raw = form.get("rating", "")
        try:
            rating = int(raw) if raw else None
        except ValueError as exc:
            raise BadRequest("the rating is from 1 to 5") from exc
        feedback.submit_feedback(token, form.get("recommendation", ""), rating, form.get("notes", ""), deps)
        return Response(200, feedback_form_page(feedback.feedback_form(token, deps)))
    except FoureyesError as exc:
        return error_page(exc)


def feedback_view_page(shown: FeedbackView, outcomes: tuple[str, ...] = (), notice: str = "") -> str:
    parts = [f"<h1>Interview feedback</h1><p>Interview {escape(shown.booking_id)}; you read it as "
             f"<strong>{escape(shown.role.value.replace('_', ' '))}</strong>. This read is recorded.</p>"]
    if shown.summary is not None:
        s = shown.summary
        recs = ", ".join(f"{escape(_RECOMMENDATION_LABELS.get(k, k))}: {v}"
                         for k, v in sorted(s.recommendations.items()))
        avg = f"{s.average_rating:.2f}" if s.average_rating is not None else "&mdash;"
        parts.append(f"<h2>Summary</h2><p>{s.received} of {s.expected} interviewers gave feedback. "
                     f"{recs or 'No recommendations yet.'} Average rating: {avg}.</p>")
    if shown.suggested_summary:
        items = "".join(f"<li>{escape(x)}</li>" for x in shown.suggested_summary)
        parts.append(f"<h2>Suggested reading</h2><p class=\"note\">Sentences picked from the notes by frequency. "
                     f"A reading aid, not an assessment: read the full notes below.</p><ul>{items}</ul>")
    for entry in shown.entries:
        parts.append(f"<h2>{escape(entry.interviewer_id)}</h2><p>Recommendation: "
                     f"{escape(_RECOMMENDATION_LABELS.get(entry.recommendation, entry.recommendation))}"
                     f"{f', rating {entry.rating}' if entry.rating is not None else ''}</p>"
                     f"<blockquote>{escape(entry.notes) or '&mdash;'}</blockquote>")
    if not shown.entries and shown.summary is None:
        parts.append("<p>No feedback from you yet.</p>")
    if notice:
        parts.append(f"<p class=\"note\" role=\"status\">{escape(notice)}</p>")
    if outcomes and shown.role.value in ("hiring_manager", "recruiter"):
        options = "".join(f"<option value=\"{escape(o)}\">{escape(o.replace('_', ' '))}</option>" for o in outcomes)
        parts.append("<form method=\"post\"><h2>Your decision</h2><p>You decide the outcome; Foureyes only passes "
                     "it on to the ATS (and, when hired, creates the onboarding task).</p>"
                     "<p><label for=\"outcome\">Outcome</label><br><select id=\"outcome\" name=\"outcome\" required>"
                     f"<option value=\"\">Choose</option>{options}</select></p>"
                     "<button type=\"submit\">Record the outcome</button></form>")
    return page("Interview feedback", "".join(parts))


def feedback_read_endpoint(token: str, deps: Deps, method: str = "GET",
                           form: Mapping[str, str] | None = None) -> Response:
    """`GET /feedback-read/{token}`: role-checked, audited read of a booking's feedback;
    `POST` (hiring managers and recruiters): record the outcome, synced to the ATS."""
    try:
        notice = ""
        if method.upper() == "POST":
            result = outcome.outcome_by_link(token, (form or {}).get("outcome", ""), deps)
            notice = f"Outcome recorded: {result.outcome.replace('_', ' ')}; it is on its way to the ATS."
        shown = feedback.read_feedback_by_link(token, deps)
        booked = deps.store.get_booking(shown.booking_id)
        system = deps.store.get_request(booked.request_id).system
        outcomes = tuple(deps.settings.outcomes.get(system, {}))
        return Response(200, feedback_view_page(shown, outcomes, notice))
    except FoureyesError as exc:
        return error_page(exc)
