"""The interviewer's and the hiring manager's pages, from templates (`templates/feedback/`, Dutch and English).

- `GET|POST /feedback/{token}` (`feedback_endpoint`): which interview (the candidate's name, the role's title,
  the time in the reader's zone and language, the panel), the interviewer's own form; after submitting, their
  entry in the form, correctable until the whole panel has answered, then shown as final.
- `GET|POST /feedback-read/{token}` (`feedback_read_endpoint`): what the reader's role may read; a hiring manager
  or recruiter records the outcome. Once recorded, the outcome is shown instead of the form, and a second try
  (another tab, a double click) gets the page with the recorded outcome, not an error. The words say what
  happens: in shadow mode the outcome is recorded and goes to the ATS only when live mode is on.

The reader's time zone: `?tz=<IANA zone>` when given and valid, else the template's `DEFAULT_TIME_ZONE`.
A GET changes nothing (mail scanners open links first); errors are the shared error page (`pages.error_page`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aws_lambda_powertools import Logger

from foureyes.errors import BadRequest, Conflict, FoureyesError
from foureyes.mail import Email
from foureyes.model import parse_iso
from foureyes.scheduling import feedback, outcome
from foureyes.scheduling.deps import Deps
from foureyes.scheduling.pages import Response, error_page
from foureyes.scheduling.settings import Person
from foureyes.web.i18n import N_, Language
from foureyes.web.shell import HTML, SECURITY_HEADERS
from foureyes.web.templating import render_email, render_page

logger = Logger(child=True)

RECOMMENDATIONS: Mapping[str, str] = {"strong_yes": N_("Strong yes"), "yes": N_("Yes"), "no": N_("No"),
                                      "strong_no": N_("Strong no")}
OUTCOMES: Mapping[str, str] = {"hired": N_("hired"), "not_hired": N_("not hired"), "rejected": N_("rejected"),
                               "withdrawn": N_("withdrawn"), "on_hold": N_("on hold")}
ROLES: Mapping[str, str] = {"interviewer": N_("interviewer"), "hiring_manager": N_("hiring manager"),
                            "recruiter": N_("recruiter")}
SHADOW_WORDS = N_("It is recorded; it will be sent to the ATS when live mode is on (Foureyes is in shadow mode).")
LIVE_WORDS = N_("It is recorded and on its way to the ATS.")
SAVED = N_("Thank you: your feedback is recorded.")
CORRECTED = N_("Thank you: your correction is recorded.")
ALREADY = N_("An outcome was already recorded for this interview; it is shown below. Nothing was changed.")
RECORDED_NOW = N_("Thank you: the outcome is recorded.")

NameOf = Callable[[str], str]  # a candidate ref -> their name ("" when unknown or erased)
ShadowMode = Callable[[], bool]


@dataclass(frozen=True, slots=True)
class About:
    """Which interview a page is about, in words a person knows."""

    candidate: str
    role: str
    start: datetime | None
    end: datetime | None
    panel: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Recorded:
    label: str
    by: str
    where: str  # shadow or live wording


def reader_zone(query: Mapping[str, str]) -> str | None:
    """The reader's time zone from `?tz=` when it is a known IANA zone (else None: the configured default)."""
    name = (query.get("tz") or "").strip()
    if not name or len(name) > 64:
        return None
    try:
        return ZoneInfo(name).key
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _about(booking_id: str, deps: Deps, name_of: NameOf | None) -> About:
    booking = deps.store.get_booking(booking_id)
    plan = deps.settings.roles.get(booking.role_id)
    title = str(getattr(plan, "title", "") or booking.role_id)
    try:
        candidate = (name_of or candidate_name)(booking.candidate_ref)
    except Exception:  # noqa: BLE001 - a name we cannot read is left out; the page still works
        logger.info("candidate name unavailable", extra={"booking_id": booking_id})
        candidate = ""
    return About(candidate, title, parse_iso(booking.start) if booking.start else None,
                 parse_iso(booking.end) if booking.end else None,
                 tuple(_person_words(deps.settings.person(pid)) for pid in booking.interviewers))


def _person_words(person: Person) -> str:
    """"Ilse de Boer (Finance lead)" from the people directory; the id when the directory does not name them."""
    return f"{person.name} ({person.title})" if person.title else person.name


def candidate_name(ref: str) -> str:
    """The candidate's name from their stored record (opened for this page only); "" when unknown or erased."""
    from foureyes.privacy.records import opened_fields
    from foureyes.store.candidates import DynamoCandidateRecords

    record = DynamoCandidateRecords().get(ref)
    fields = opened_fields(record) if record is not None else None
    if not fields:
        return ""
    return str(fields.get("full_name") or f"{fields.get('first_name', '')} {fields.get('last_name', '')}").strip()


def shadow_mode() -> bool:
    """Shadow mode as the dispatcher sees it; True when it cannot be read (never claim a write that may not
    happen)."""
    from foureyes.dispatch.controls import ParameterSwitches

    try:
        return ParameterSwitches().shadow_mode()
    except Exception:  # noqa: BLE001 - the page's wording only; the dispatcher decides for itself
        return True


def _page(body: str, language: Language, status: int = 200) -> Response:
    return Response(status, body, HTML, {**SECURITY_HEADERS, **language.headers})


def _labels(language: Language, labels: Mapping[str, str]) -> dict[str, str]:
    return {key: language.gettext(label) for key, label in labels.items()}


def form_page(shown: feedback.FeedbackForm, about: About, language: Language, tz: str | None,
              notice: str = "") -> str:
    labels = _labels(language, RECOMMENDATIONS)
    return render_page("feedback/form.html", language, title=language.gettext("Interview feedback"), tz=tz,
                       shown=shown, about=about, labels=labels, recommendations=list(labels.items()), notice=notice)


def feedback_endpoint(method: str, token: str, form: Mapping[str, str], deps: Deps, *,
                      language: Language | None = None, query: Mapping[str, str] | None = None,
                      name_of: NameOf | None = None) -> Response:
    """`GET|POST /feedback/{token}`: an interviewer's own feedback page."""
    chosen = language or Language.of()
    tz = reader_zone(query or {})
    try:
        notice = ""
        if method.upper() == "POST":
            raw = form.get("rating", "")
            try:
                rating = int(raw) if raw else None
            except ValueError as exc:
                raise BadRequest("the rating is from 1 to 5") from exc
            entry = feedback.submit_feedback(token, form.get("recommendation", ""), rating, form.get("notes", ""), deps)
            notice = chosen.gettext(CORRECTED if entry.corrected else SAVED)
        shown = feedback.feedback_form(token, deps)
        return _page(form_page(shown, _about(shown.booking_id, deps, name_of), chosen, tz, notice), chosen)
    except FoureyesError as exc:
        return error_page(exc, chosen)


def _recorded(request_outcome: str | None, by: str | None, language: Language, shadow: ShadowMode) -> Recorded | None:
    if not request_outcome:
        return None
    label = language.gettext(OUTCOMES.get(request_outcome, request_outcome.replace("_", " ")))
    return Recorded(label, by or "", language.gettext(SHADOW_WORDS if shadow() else LIVE_WORDS))


def feedback_read_endpoint(token: str, deps: Deps, method: str = "GET", form: Mapping[str, str] | None = None, *,
                           language: Language | None = None, query: Mapping[str, str] | None = None,
                           name_of: NameOf | None = None, shadow: ShadowMode | None = None) -> Response:
    """`GET /feedback-read/{token}`: role-checked, audited read of a booking's feedback; `POST` (hiring managers
    and recruiters): record the outcome, synced to the ATS (through the guarded write path)."""
    chosen = language or Language.of()
    tz = reader_zone(query or {})
    is_shadow = shadow or shadow_mode
    try:
        notice = ""
        if method.upper() == "POST":
            try:
                outcome.outcome_by_link(token, (form or {}).get("outcome", ""), deps)
                notice = chosen.gettext(RECORDED_NOW)
            except Conflict:
                shown = feedback.read_feedback_by_link(token, deps)
                request = deps.store.get_request(deps.store.get_booking(shown.booking_id).request_id)
                if not request.outcome:
                    raise  # not taken place, cancelled: the error page says why
                notice = chosen.gettext(ALREADY)
        shown = feedback.read_feedback_by_link(token, deps)
        booked = deps.store.get_booking(shown.booking_id)
        request = deps.store.get_request(booked.request_id)
        outcomes = [(key, chosen.gettext(OUTCOMES.get(key, key.replace("_", " "))))
                    for key in deps.settings.outcomes.get(request.system, {})]
        body = render_page(
            "feedback/read.html", chosen, title=chosen.gettext("Interview feedback"), tz=tz, shown=shown,
            about=_about(shown.booking_id, deps, name_of), labels=_labels(chosen, RECOMMENDATIONS),
            outcomes=outcomes, recorded=_recorded(request.outcome, request.outcome_by, chosen, is_shadow),
            notice=notice, role_name=chosen.gettext(ROLES.get(shown.role.value, shown.role.value)))
        return _page(body, chosen)
    except FoureyesError as exc:
        return error_page(exc, chosen)


def request_email(booking_id: str, to: str, url: str, deps: Deps, name_of: NameOf | None = None) -> Email:
    """An interviewer is asked for feedback (multipart; the default language: the people list of interviewers
    has no language)."""
    return render_email("feedback_request", Language.of(), to=to, about=_about(booking_id, deps, name_of), url=url)


def complete_email(booking_id: str, to: str, url: str, deps: Deps, name_of: NameOf | None = None) -> Email:
    """The whole panel has answered: a hiring manager or recruiter reads the feedback and records the outcome."""
    return render_email("feedback_complete", Language.of(), to=to, about=_about(booking_id, deps, name_of), url=url)
