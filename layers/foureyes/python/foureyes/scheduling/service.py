"""The scheduling flows: stage change -> request and link, booking page, hold, confirm, reschedule, cancel,
reminders and nudges, feedback with role-based reads, outcome -> ATS -> HRIS.

The system follows people: a recruiter's stage change creates the request and sends the link from a
template a recruiter approved; the candidate chooses, holds, books, moves or cancels; interviewers give
feedback; a person records the outcome. Slot ranking and note summaries are suggestions only.
ATS writes (a cancellation note, an outcome's status) are handed to `submit_fact`, which the caller
connects to the proposals/dispatch path (kill switch, shadow mode and audit apply there).

Dependencies come in through `Deps` (unit tests hand in fakes; `default_deps` builds the real ones
from configuration). Logs and audit details carry ids only.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from string import Template
from typing import Any, Protocol

from foureyes import links
from foureyes.ats import calls
from foureyes.errors import (
    BadRequest,
    ConfigurationError,
    Conflict,
    Forbidden,
    FoureyesError,
    NotFound,
    SlotTaken,
    Unauthorized,
)
from foureyes.mail import Attachment, Email
from foureyes.model import Action, Candidate
from foureyes.scheduling import ics
from foureyes.scheduling.calendar import CalendarProvider
from foureyes.scheduling.hris import HrisClient, TaskTemplate
from foureyes.scheduling.slots import (
    InterviewRequest,
    LocalSlot,
    Mode,
    Rules,
    Slot,
    by_local_day,
    generate_slots,
    localise,
    parse_iso,
    rank_by_load,
)
from foureyes.scheduling.store import (
    BookingItem,
    FeedbackItem,
    Hold,
    InterviewRequestItem,
    SchedulingStore,
    block_keys,
    hold_owner,
)

log = logging.getLogger(__name__)

SUGGESTED_SLOTS = 3
RECOMMENDATIONS = ("strong_yes", "yes", "no", "strong_no")


class SubmitFact(Protocol):
    """Hands a people-entered fact to the proposals/dispatch path of `system` (wired by the caller)."""

    def __call__(self, system: str, record_id: str, action: Action, call: calls.Call, entered_by: str) -> Any: ...


AuditFn = Callable[[str, str, str, Mapping[str, Any]], Any]
Notify = Callable[[str, Mapping[str, Any]], None]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _no_notify(kind: str, detail: Mapping[str, Any]) -> None:
    return None


# -- settings -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MessageTemplate:
    """A candidate-facing message a recruiter approved (`$link`, `$role`, `$deadline`, `$when`, `$duration`)."""

    template_id: str
    subject: str
    text: str
    approved_by: str = ""

    def render(self, values: Mapping[str, str]) -> tuple[str, str]:
        return Template(self.subject).safe_substitute(values), Template(self.text).safe_substitute(values)


@dataclass(frozen=True, slots=True)
class RolePlan:
    role_id: str
    panel: tuple[str, ...]
    duration_minutes: int = 60
    mode: Mode = Mode.REMOTE
    panel_size: int = 0
    window_days: int = 14
    hiring_managers: tuple[str, ...] = ()
    recruiters: tuple[str, ...] = ()
    invite_template: str = "invite"
    nudge_template: str = "nudge"
    reminder_template: str = "reminder"
    location: str = ""


@dataclass(frozen=True, slots=True)
class NudgePolicy:
    max_candidate_nudges: int = 2
    first_nudge_after_hours: int = 48
    nudge_every_hours: int = 48
    reminder_before_hours: int = 24
    feedback_after_hours: int = 2


@dataclass(frozen=True, slots=True)
class Settings:
    stages: Mapping[str, frozenset[str]]  # system -> ATS stage names that mean "schedule an interview"
    roles: Mapping[str, RolePlan]
    templates: Mapping[str, MessageTemplate]
    rules: Rules = Rules()
    hold_minutes: int = 10
    nudges: NudgePolicy = NudgePolicy()
    outcomes: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # system -> outcome -> ATS status
    onboarding: TaskTemplate | None = None
    interviewer_emails: Mapping[str, str] = field(default_factory=dict)
    link_days_after_window: int = 7

    def role(self, role_id: str) -> RolePlan:
        plan = self.roles.get(role_id)
        if plan is None:
            raise BadRequest(f"no interview plan is configured for role {role_id}")
        return plan

    def approved(self, template_id: str) -> MessageTemplate:
        """A template a recruiter approved; refusing to send anything else."""
        template = self.templates.get(template_id)
        if template is None or not template.approved_by:
            raise ConfigurationError(f"message template {template_id} is missing or not approved by a recruiter")
        return template

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Settings:
        try:
            roles = {rid: RolePlan(
                role_id=rid, panel=tuple(r["panel"]), duration_minutes=int(r.get("duration_minutes", 60)),
                mode=Mode(r.get("mode", "remote")), panel_size=int(r.get("panel_size", 0)),
                window_days=int(r.get("window_days", 14)), hiring_managers=tuple(r.get("hiring_managers", ())),
                recruiters=tuple(r.get("recruiters", ())), invite_template=str(r.get("invite_template", "invite")),
                nudge_template=str(r.get("nudge_template", "nudge")),
                reminder_template=str(r.get("reminder_template", "reminder")), location=str(r.get("location", "")))
                for rid, r in dict(raw.get("roles", {})).items()}
            templates = {tid: MessageTemplate(tid, str(t["subject"]), str(t["text"]), str(t.get("approved_by", "")))
                         for tid, t in dict(raw.get("templates", {})).items()}
            onboarding = raw.get("onboarding_template")
            return cls(
                stages={system: frozenset(names) for system, names in dict(raw.get("stages", {})).items()},
                roles=roles, templates=templates, rules=Rules(**dict(raw.get("rules", {}))),
                hold_minutes=int(raw.get("hold_minutes", 10)), nudges=NudgePolicy(**dict(raw.get("nudges", {}))),
                outcomes={s: dict(m) for s, m in dict(raw.get("outcomes", {})).items()},
                onboarding=TaskTemplate.from_dict(onboarding) if onboarding else None,
                interviewer_emails=dict(raw.get("interviewer_emails", {})),
                link_days_after_window=int(raw.get("link_days_after_window", 7)))
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigurationError(f"the scheduling configuration is malformed: {type(exc).__name__}") from exc


@dataclass(frozen=True)
class Deps:
    store: SchedulingStore
    calendar: CalendarProvider
    send: Callable[[Email], Any]
    audit: AuditFn
    submit_fact: SubmitFact
    secret: bytes
    base_url: str
    sender: str
    settings: Settings
    hris: HrisClient | None = None
    notify: Notify = _no_notify  # pipeline events (e.g. EventBridge): kind, ids-only detail
    clock: Callable[[], datetime] = _utcnow


def default_deps(submit_fact: SubmitFact, notify: Notify | None = None) -> Deps:
    """The real dependencies, from the function's environment (read now, once per cold start by the caller)."""
    from foureyes import audit, mail
    from foureyes.scheduling.calendar import GraphCalendar
    from foureyes.settings import env, secret_bytes, ssm_json

    graph = json.loads(secret_bytes(env("GRAPH_CONNECTION_SECRET_ARN")))
    hris_raw = os.environ.get("HRIS_CONNECTION_SECRET_ARN", "")
    hris = None
    if hris_raw:
        conn = json.loads(secret_bytes(hris_raw))
        hris = HrisClient(base_url=conn["base_url"], api_key=conn["api_key"])
    sender = env("SENDER_EMAIL")
    return Deps(store=SchedulingStore(), calendar=GraphCalendar(**graph), send=lambda m: mail.send(m, sender),
                audit=audit.record, submit_fact=submit_fact, secret=secret_bytes(env("LINK_SECRET_ARN")),
                base_url=env("PUBLIC_BASE_URL").rstrip("/"), sender=sender,
                settings=Settings.from_dict(ssm_json(env("SCHEDULING_CONFIG_PARAM"))), hris=hris,
                notify=notify or _no_notify)


# -- links ------------------------------------------------------------------------------------------------

BOOK, MANAGE, FEEDBACK, READ = "book", "manage", "feedback", "read"


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _sign(deps: Deps, claims: Mapping[str, Any], until: datetime) -> str:
    now = deps.clock()
    ttl = max(60, int((until - now).total_seconds()))
    return links.sign(claims, deps.secret, ttl, now_ms=_ms(now))


def _claims(deps: Deps, token: str, kinds: Iterable[str]) -> dict[str, Any]:
    claims = links.verify(token, deps.secret, now_ms=_ms(deps.clock()))
    if claims.get("k") not in set(kinds):
        raise Unauthorized("this link is not meant for this page")
    return claims


def booking_url(deps: Deps, request: InterviewRequestItem) -> str:
    until = parse_iso(request.window_end)
    return f"{deps.base_url}/book/{_sign(deps, {'k': BOOK, 'r': request.request_id}, until)}"


def manage_token(deps: Deps, request: InterviewRequestItem, booking_id: str) -> str:
    """The reschedule/cancel link's token: it names the booking (not the slot), so it survives a reschedule."""
    until = parse_iso(request.window_end) + timedelta(days=deps.settings.link_days_after_window)
    return _sign(deps, {"k": MANAGE, "b": booking_id}, until)


def feedback_url(deps: Deps, booking: BookingItem, interviewer: str) -> str:
    until = parse_iso(booking.end) + timedelta(days=14)
    return f"{deps.base_url}/feedback/{_sign(deps, {'k': FEEDBACK, 'b': booking.booking_id, 'i': interviewer}, until)}"


def feedback_read_url(deps: Deps, person_id: str, booking_id: str, days: int = 14) -> str:
    """A staff member's personal link to read a booking's feedback (what they see is decided on reading)."""
    until = deps.clock() + timedelta(days=days)
    return f"{deps.base_url}/feedback-read/{_sign(deps, {'k': READ, 'b': booking_id, 'p': person_id}, until)}"


# -- stage change -> interview request ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StageChange:
    """A person moved a candidate to a stage in an ATS (seen through a pull or a webhook)."""

    system: str
    record_id: str
    stage: str
    role_id: str
    changed_by: str  # the recruiter's id in that system (or "ats:<system>" when the ATS does not say)
    change_id: str  # the ATS's event id: a redelivered event makes no second request
    candidate_email: str
    candidate_tz: str = "Europe/Amsterdam"


@dataclass(frozen=True, slots=True)
class Requested:
    request: InterviewRequest
    slots_offered: int
    link_sent: bool
    created: bool


def request_id_for(change: StageChange) -> str:
    raw = "\x1f".join((change.system, change.record_id, change.role_id, change.change_id))
    return "rq_" + hashlib.sha256(raw.encode()).hexdigest()[:24]


def on_stage_change(change: StageChange, deps: Deps) -> Requested | None:
    """A recruiter's stage change becomes an interview request and a self-serve link; None when the stage
    is not an interview stage for that system (nothing happens)."""
    settings = deps.settings
    if change.stage not in settings.stages.get(change.system, frozenset()):
        return None
    plan = settings.role(change.role_id)
    template = settings.approved(plan.invite_template)
    now = deps.clock()
    request = InterviewRequest(request_id_for(change), f"{change.system}:{change.record_id}", plan.role_id,
                               plan.panel, plan.duration_minutes, plan.mode, now,
                               now + timedelta(days=plan.window_days), change.candidate_tz, plan.panel_size,
                               change.stage)
    calendars = deps.calendar.availability(plan.panel, request.window_start, request.window_end)
    load = deps.store.interviewer_load(plan.panel, now - timedelta(days=7), request.window_end)
    offered = generate_slots(request, calendars, now, settings.rules, load)
    created = deps.store.create_request(request, candidate_email=change.candidate_email,
                                        created_by=change.changed_by, template_id=template.template_id,
                                        buffer_minutes=settings.rules.buffer_minutes, slots=offered, now=now)
    if not created:
        return Requested(request, len(offered), False, False)
    details = {"candidate": request.candidate_ref, "role": request.role_id, "stage": change.stage,
               "slots": len(offered), "template": template.template_id, "change": change.change_id}
    if not offered:
        deps.audit("interview.no_slots", change.changed_by, request.request_id, details)
        log.warning("no slots to offer", extra={"request": request.request_id})
        return Requested(request, 0, False, True)
    item = deps.store.get_request(request.request_id)
    url = booking_url(deps, item)
    subject, text = template.render({"link": url, "role": plan.role_id, "duration": str(plan.duration_minutes),
                                     "deadline": request.window_end.strftime("%Y-%m-%d")})
    deps.send(Email(to=change.candidate_email, subject=subject, text=text))
    deps.audit("interview.requested", change.changed_by, request.request_id, details)
    deps.notify("interview.requested", {"request": request.request_id, "candidate": request.candidate_ref,
                                        "role": request.role_id})
    return Requested(request, len(offered), True, True)


# -- the booking page -------------------------------------------------------------------------------------


class PageKind(StrEnum):
    CHOOSE = "choose"  # pick a time (first booking)
    HELD = "held"  # confirm the held time
    BOOKED = "booked"  # confirmation, with reschedule and cancel
    CANCELLED = "cancelled"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class BookingView:
    kind: PageKind
    token: str
    role_id: str
    tz: str
    duration_minutes: int
    mode: str
    location: str = ""
    days: tuple[tuple[str, tuple[LocalSlot, ...]], ...] = ()
    held: LocalSlot | None = None
    held_minutes: int = 0
    rescheduling: bool = False
    booked: LocalSlot | None = None
    booking_id: str = ""
    manage_url: str = ""
    ics_url: str = ""
    notice: str = ""


def _open_slots(deps: Deps, request: InterviewRequestItem, own_booking: BookingItem | None = None) -> list[Slot]:
    """This request's offered slots that are still free for this candidate (their own hold or booking aside)."""
    now = deps.clock()
    earliest = now + timedelta(minutes=deps.settings.rules.min_notice_minutes)
    mine = {hold_owner(request.request_id)} | ({own_booking.booking_id} if own_booking else set())
    taken = deps.store.taken_blocks(request.panel, parse_iso(request.window_start) - timedelta(hours=1),
                                    parse_iso(request.window_end) + timedelta(hours=1), _ms(now), mine)
    out = []
    for item in deps.store.slots(request.request_id):
        slot = item.to_slot()
        if item.booking_id or slot.start < earliest:
            continue
        if any(key in taken for key in block_keys(slot, int(request.buffer_minutes))):
            continue
        out.append(slot)
    return out


def _suggested(deps: Deps, request: InterviewRequestItem, slots: Sequence[Slot]) -> list[str]:
    """A few slots that spread interviews across the panel (marked on the page; the candidate chooses)."""
    if len(slots) <= SUGGESTED_SLOTS:
        return []
    now = deps.clock()
    load = deps.store.interviewer_load(request.panel, now - timedelta(days=7), parse_iso(request.window_end))
    return [s.slot.slot_id for s in rank_by_load(slots, load)[:SUGGESTED_SLOTS]]


def _plan_location(deps: Deps, request: InterviewRequestItem) -> str:
    plan = deps.settings.roles.get(request.role_id)
    return plan.location if plan else ""


def _base_view(deps: Deps, request: InterviewRequestItem, token: str, kind: PageKind, **extra: Any) -> BookingView:
    return BookingView(kind=kind, token=token, role_id=request.role_id, tz=request.candidate_tz,
                       duration_minutes=int(request.duration_minutes), mode=request.mode,
                       location=_plan_location(deps, request), **extra)


def _choose_view(deps: Deps, request: InterviewRequestItem, token: str, own: BookingItem | None = None,
                 notice: str = "") -> BookingView:
    slots = [s for s in _open_slots(deps, request, own) if own is None or s.slot_id != own.slot_id]
    days = by_local_day(slots, request.candidate_tz, _suggested(deps, request, slots))
    if own is not None:
        return _booked_view(deps, request, own, token, days=days, notice=notice)
    return _base_view(deps, request, token, PageKind.CHOOSE, days=tuple((d, tuple(s)) for d, s in days),
                      notice=notice)


def _booked_view(deps: Deps, request: InterviewRequestItem, booking: BookingItem, token: str,
                 days: Sequence[tuple[str, Sequence[LocalSlot]]] = (), notice: str = "") -> BookingView:
    manage = manage_token(deps, request, booking.booking_id)
    slot = Slot(booking.slot_id, parse_iso(booking.start), parse_iso(booking.end), tuple(booking.interviewers))
    return _base_view(deps, request, token, PageKind.BOOKED, booked=localise(slot, request.candidate_tz),
                      booking_id=booking.booking_id, manage_url=f"{deps.base_url}/book/{manage}",
                      ics_url=f"{deps.base_url}/book/{manage}?format=ics",
                      days=tuple((d, tuple(s)) for d, s in days), notice=notice)


def _load(deps: Deps, token: str) -> tuple[dict[str, Any], InterviewRequestItem, BookingItem | None]:
    claims = _claims(deps, token, (BOOK, MANAGE))
    if claims["k"] == BOOK:
        request = deps.store.get_request(str(claims.get("r", "")))
        booking = deps.store.get_booking(request.booking_id) if request.booking_id else None
        return claims, request, booking
    booking = deps.store.get_booking(str(claims.get("b", "")))
    return claims, deps.store.get_request(booking.request_id), booking


def view(token: str, deps: Deps, notice: str = "") -> BookingView:
    """GET /book/{token}: the candidate's own open slots (or their booking); viewing is audited."""
    claims, request, booking = _load(deps, token)
    deps.audit("booking.viewed", request.candidate_ref, request.request_id,
               {"link": claims["k"], "booking": booking.booking_id if booking else ""})
    if booking is not None and booking.status == "confirmed":
        return _choose_view(deps, request, token, booking, notice)
    if booking is not None or request.status == "cancelled":
        return _base_view(deps, request, token, PageKind.CANCELLED, notice=notice)
    if request.status != "open":
        return _base_view(deps, request, token, PageKind.CLOSED, notice=notice)
    return _choose_view(deps, request, token, notice=notice)


def _check_offered(deps: Deps, request: InterviewRequestItem, slot_id: str, own: BookingItem | None) -> Slot:
    for slot in _open_slots(deps, request, own):
        if slot.slot_id == slot_id:
            return slot
    raise SlotTaken("this time is no longer available; please choose another")


def _subject(request: InterviewRequestItem | BookingItem) -> str:
    return f"Interview, role {request.role_id}"


def _delete_events(deps: Deps, events: Mapping[str, str]) -> None:
    for interviewer, event_id in events.items():
        try:
            deps.calendar.delete(interviewer, event_id)
        except FoureyesError:
            log.warning("could not delete a calendar event", extra={"interviewer": interviewer, "event": event_id})


def _own_booking(claims: Mapping[str, Any], request: InterviewRequestItem,
                 booking: BookingItem | None) -> BookingItem | None:
    """The booking a manage link moves; a booking link only books, and only while nothing is booked
    (a second tab that confirms after the first gets a conflict, never a silent move)."""
    if claims["k"] == MANAGE:
        if booking is None or booking.status != "confirmed":
            raise Conflict("this interview is cancelled; it cannot be moved")
        return booking
    if request.status != "open":
        raise Conflict("an interview is already booked (or closed) for this link; use the link in your "
                       "confirmation to reschedule")
    return None


def hold(token: str, slot_id: str, deps: Deps) -> BookingView:
    """POST action=hold: hold the chosen time briefly (and put tentative "[Hold]" events in the panel's calendars)."""
    claims, request, booking = _load(deps, token)
    own = _own_booking(claims, request, booking)
    slot = _check_offered(deps, request, slot_id, own)
    now = deps.clock()
    previous = deps.store.get_hold(request.request_id)
    if previous is None or previous.slot_id != slot_id:
        _still_free(deps, request, slot, own, previous)
    held = deps.store.hold(request, slot_id, buffer_minutes=int(request.buffer_minutes), now_ms=_ms(now),
                           ttl_seconds=deps.settings.hold_minutes * 60, own_booking=own)
    if previous is not None and previous.slot_id == slot_id and previous.events:
        events = dict(previous.events)
    else:
        if previous is not None:
            _delete_events(deps, previous.events)
        events = {}
        for interviewer in slot.interviewers:
            try:
                events[interviewer] = deps.calendar.create_hold(
                    interviewer, slot.start, slot.end, f"[Hold] {_subject(request)}",
                    f"{request.request_id}:{slot_id}:{held.held_until_ms}")
            except FoureyesError:
                log.warning("could not create a calendar hold", extra={"interviewer": interviewer,
                                                                       "request": request.request_id})
    deps.store.set_hold_events(request.request_id, held.held_until_ms, events)
    deps.audit("slot.held", request.candidate_ref, request.request_id,
               {"slot": slot_id, "held_until": held.held_until_ms, "booking": own.booking_id if own else ""})
    return _base_view(deps, request, token, PageKind.HELD, held=localise(slot, request.candidate_tz),
                      held_minutes=deps.settings.hold_minutes, rescheduling=own is not None,
                      booking_id=own.booking_id if own else "")


def _still_free(deps: Deps, request: InterviewRequestItem, slot: Slot, own: BookingItem | None,
                previous: Hold | None) -> None:
    """Free/busy again at the moment of holding: a meeting added since the slots were offered wins.

    The candidate's own booking (when rescheduling) and own current hold do not count against the new
    time. An unreachable calendar does not block the hold: the interviewer locks still prevent double
    booking.
    """
    buffer = timedelta(minutes=int(request.buffer_minutes))
    try:
        calendars = deps.calendar.availability(slot.interviewers, slot.start - buffer, slot.end + buffer)
    except FoureyesError:
        log.warning("calendar unreachable at hold time", extra={"request": request.request_id})
        return
    mine = set()
    if own is not None:
        mine.add((parse_iso(own.start), parse_iso(own.end)))
    if previous is not None:
        try:
            held = _check_offered(deps, request, previous.slot_id, own)
            mine.add((held.start, held.end))
        except FoureyesError:
            pass
    for interviewer in slot.interviewers:
        calendar = calendars.get(interviewer)
        if calendar is None:
            continue
        for busy in calendar.busy:
            if (busy.start, busy.end) in mine:
                continue
            if busy.overlaps(slot.start - buffer, slot.end + buffer):
                raise SlotTaken("that time has just been taken in the interviewer's calendar; please choose another")


def _confirm_events(deps: Deps, slot: Slot, previous: Hold | None, subject: str, ref: str) -> dict[str, str]:
    """Confirm the held events of `slot` (or create confirmed ones); drop held events of any other slot."""
    events: dict[str, str] = {}
    reusable = dict(previous.events) if previous is not None and previous.slot_id == slot.slot_id else {}
    if previous is not None and previous.slot_id != slot.slot_id:
        _delete_events(deps, previous.events)
    for interviewer in slot.interviewers:
        try:
            event_id = reusable.pop(interviewer, "") or deps.calendar.create_hold(
                interviewer, slot.start, slot.end, f"[Hold] {subject}", ref)
            deps.calendar.confirm(interviewer, event_id, subject)
            events[interviewer] = event_id
        except FoureyesError:
            log.warning("could not confirm a calendar event", extra={"interviewer": interviewer, "ref": ref})
    _delete_events(deps, reusable)  # held for someone no longer on the slot
    return events


def _slot_of(booking: BookingItem) -> Slot:
    return Slot(booking.slot_id, parse_iso(booking.start), parse_iso(booking.end), tuple(booking.interviewers))


def _ics_email(deps: Deps, request: InterviewRequestItem, booking: BookingItem, method: str, subject: str,
               text: str, sequence: int) -> Email:
    manage = manage_token(deps, request, booking.booking_id)
    event = ics.IcsEvent(booking.booking_id, sequence, parse_iso(booking.start), parse_iso(booking.end),
                         _subject(booking), deps.sender, request.candidate_email,
                         description=f"Reschedule or cancel: {deps.base_url}/book/{manage}",
                         location=_plan_location(deps, request) or ("Video call" if request.mode == "remote" else ""),
                         url=f"{deps.base_url}/book/{manage}")
    data = ics.booking_ics(event, method, dtstamp=deps.clock())
    return Email(to=request.candidate_email, subject=subject, text=text,
                 attachments=(Attachment(ics.attachment_name(method), "text/calendar", data),))


def _when(booking: BookingItem, tz: str) -> str:
    shown = localise(_slot_of(booking), tz)
    return f"{shown.date_label}, {shown.time_label} ({shown.zone_label})"


def confirm(token: str, slot_id: str, deps: Deps) -> BookingView:
    """POST action=confirm: book (booking link) or move (manage link) in one conditional transaction."""
    claims, request, booking = _load(deps, token)
    own = _own_booking(claims, request, booking)
    now = deps.clock()
    previous = deps.store.get_hold(request.request_id)
    if own is not None:
        moved = deps.store.reschedule(own.booking_id, slot_id, buffer_minutes=int(request.buffer_minutes),
                                      now=now)
        after = moved.after
        _delete_events(deps, dict(moved.before.events))
        events = _confirm_events(deps, _slot_of(after), previous, _subject(after),
                                 f"{after.booking_id}:{after.sequence}")
        deps.store.set_booking_events(after.booking_id, int(after.sequence), events)
        manage = manage_token(deps, request, after.booking_id)
        text = (f"Your interview is moved to {_when(after, request.candidate_tz)}.\n"
                f"Reschedule or cancel: {deps.base_url}/book/{manage}\n")
        deps.send(_ics_email(deps, request, after, "REQUEST", "Your interview is moved", text, int(after.sequence)))
        deps.audit("interview.rescheduled", request.candidate_ref, after.booking_id,
                   {"request": request.request_id, "from": moved.before.slot_id, "to": after.slot_id,
                    "sequence": int(after.sequence), "interviewers": list(after.interviewers)})
        deps.notify("interview.rescheduled", {"booking": after.booking_id, "request": request.request_id})
        return _booked_view(deps, request, after, token)
    _check_offered(deps, request, slot_id, None)
    booking_id = "bk_" + uuid.uuid4().hex[:24]
    made = deps.store.book(request, slot_id, booking_id, buffer_minutes=int(request.buffer_minutes), now=now)
    events = _confirm_events(deps, _slot_of(made), previous, _subject(made), f"{booking_id}:0")
    deps.store.set_booking_events(booking_id, 0, events)
    manage = manage_token(deps, request, booking_id)
    text = (f"Your interview is booked for {_when(made, request.candidate_tz)}.\n"
            f"The attached invitation adds it to your calendar.\n"
            f"Reschedule or cancel: {deps.base_url}/book/{manage}\n")
    deps.send(_ics_email(deps, request, made, "REQUEST", "Your interview is booked", text, 0))
    deps.audit("interview.booked", request.candidate_ref, booking_id,
               {"request": request.request_id, "slot": slot_id, "interviewers": list(made.interviewers),
                "link": claims["k"]})
    deps.notify("interview.booked", {"booking": booking_id, "request": request.request_id,
                                     "candidate": request.candidate_ref, "role": request.role_id})
    return _booked_view(deps, request, made, manage)


def ics_download(token: str, deps: Deps) -> bytes:
    """GET /book/{manage token}?format=ics: the current invitation (same UID, current SEQUENCE)."""
    _, request, booking = _load(deps, token)
    if booking is None:
        raise NotFound("nothing is booked yet")
    method = "REQUEST" if booking.status == "confirmed" else "CANCEL"
    sequence = int(booking.sequence) + (0 if method == "REQUEST" else 1)
    deps.audit("booking.ics_downloaded", request.candidate_ref, booking.booking_id, {"sequence": sequence})
    return _ics_email(deps, request, booking, method, "", "", sequence).attachments[0].data


# -- cancellation -----------------------------------------------------------------------------------------


def _cancel(deps: Deps, booking: BookingItem, request: InterviewRequestItem, by: str, reason: str) -> BookingItem:
    now = deps.clock()
    done = deps.store.cancel(booking.booking_id, by=by, reason=reason, now=now)
    released = deps.store.release_hold(request.request_id)
    _delete_events(deps, dict(booking.events))
    if released is not None:
        _delete_events(deps, released.events)
    text = f"Your interview on {_when(booking, request.candidate_tz)} is cancelled.\n"
    deps.send(_ics_email(deps, request, done, "CANCEL", "Your interview is cancelled", text,
                         int(done.sequence) + 1))
    note = (f"Foureyes: interview {booking.booking_id} for role {booking.role_id} at {booking.start} "
            f"was cancelled ({reason}); the slot is free again.")
    system, record_id = request.system, request.candidate_ref.split(":", 1)[1]
    deps.submit_fact(system, record_id, Action.CREATE_NOTE,
                     calls.create_note(system, Candidate(system, record_id), note), by)
    deps.audit("interview.cancelled", by, booking.booking_id,
               {"request": request.request_id, "slot": booking.slot_id, "reason": reason})
    deps.notify("interview.cancelled", {"booking": booking.booking_id, "request": request.request_id,
                                        "candidate": request.candidate_ref, "role": request.role_id})
    return done


def cancel_by_candidate(token: str, deps: Deps) -> BookingView:
    """POST action=cancel from the candidate's link (booking or manage link)."""
    _, request, booking = _load(deps, token)
    if booking is None or booking.status != "confirmed":
        raise Conflict("there is no booked interview to cancel")
    _cancel(deps, booking, request, request.candidate_ref, "candidate")
    return _base_view(deps, request, token, PageKind.CANCELLED)


def cancel_from_ats(system: str, record_id: str, role_id: str, by: str, deps: Deps) -> list[str]:
    """An ATS webhook says a person cancelled: cancel this candidate's bookings for the role and close open
    requests; returns the booking and request ids touched."""
    touched: list[str] = []
    for request in deps.store.requests_for_candidate(f"{system}:{record_id}"):
        if request.role_id != role_id:
            continue
        if request.status == "booked" and request.booking_id:
            booking = deps.store.get_booking(request.booking_id)
            if booking.status == "confirmed":
                _cancel(deps, booking, request, by, "ats")
                touched.append(booking.booking_id)
        elif request.status == "open" and deps.store.close_request(request.request_id, "cancelled"):
            released = deps.store.release_hold(request.request_id)
            if released is not None:
                _delete_events(deps, released.events)
            deps.audit("interview.request_cancelled", by, request.request_id, {"reason": "ats"})
            touched.append(request.request_id)
    return touched


def expire_holds(deps: Deps) -> int:
    """Release holds past their time and remove their "[Hold]" calendar events (run every minute or so)."""
    now_ms = _ms(deps.clock())
    count = 0
    for held in deps.store.expired_holds(now_ms):
        released = deps.store.release_hold(held.request_id, held.held_until_ms)
        if released is None:
            continue
        _delete_events(deps, released.events)
        deps.audit("slot.hold_expired", "system", held.request_id, {"slot": held.slot_id})
        count += 1
    return count


# -- reminders and nudges (pure decision, then sending) ----------------------------------------------------


class DueKind(StrEnum):
    CANDIDATE_NUDGE = "candidate_nudge"
    REMINDER = "reminder"
    FEEDBACK_NUDGE = "feedback_nudge"


@dataclass(frozen=True, slots=True)
class RequestState:
    request_id: str
    status: str
    created_at: datetime
    nudges_sent: int
    window_end: datetime


@dataclass(frozen=True, slots=True)
class BookingState:
    booking_id: str
    status: str
    start: datetime
    end: datetime
    sequence: int
    interviewers: tuple[str, ...]
    reminded: bool = False
    feedback_nudged: bool = False
    feedback_from: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Due:
    kind: DueKind
    subject_id: str  # request id (nudges) or booking id
    recipients: tuple[str, ...] = ()  # interviewer ids for feedback nudges; the candidate otherwise
    count: int = 0  # which nudge this is (1-based) / the booking's sequence


def due_messages(now: datetime, requests: Iterable[RequestState], bookings: Iterable[BookingState],
                 policy: NudgePolicy) -> list[Due]:
    """Which messages are due at `now`: bounded nudges to candidates who have not booked, one reminder before
    each interview, one feedback nudge to interviewers who have not given feedback afterwards."""
    due: list[Due] = []
    for r in requests:
        if r.status != "open" or r.nudges_sent >= policy.max_candidate_nudges or now >= r.window_end:
            continue
        at = r.created_at + timedelta(hours=policy.first_nudge_after_hours + r.nudges_sent * policy.nudge_every_hours)
        if now >= at:
            due.append(Due(DueKind.CANDIDATE_NUDGE, r.request_id, (), r.nudges_sent + 1))
    for b in bookings:
        if b.status != "confirmed":
            continue
        if not b.reminded and b.start - timedelta(hours=policy.reminder_before_hours) <= now < b.start:
            due.append(Due(DueKind.REMINDER, b.booking_id, (), b.sequence))
        missing = tuple(iv for iv in b.interviewers if iv not in b.feedback_from)
        if not b.feedback_nudged and missing and now >= b.end + timedelta(hours=policy.feedback_after_hours):
            due.append(Due(DueKind.FEEDBACK_NUDGE, b.booking_id, missing, b.sequence))
    return due


def _request_state(item: InterviewRequestItem) -> RequestState:
    return RequestState(item.request_id, item.status, parse_iso(item.created_at), int(item.nudges_sent),
                        parse_iso(item.window_end))


def _booking_state(item: BookingItem, feedback_from: Iterable[str]) -> BookingState:
    return BookingState(item.booking_id, item.status, parse_iso(item.start), parse_iso(item.end), int(item.sequence),
                        tuple(item.interviewers), bool(item.reminded), bool(item.feedback_nudged),
                        frozenset(feedback_from))


def send_due(deps: Deps) -> Counter[str]:
    """Send what `due_messages` says is due; each message is claimed by a conditional write first, so
    concurrent or repeated runs send it once."""
    now = deps.clock()
    policy = deps.settings.nudges
    requests = {r.request_id: r for r in deps.store.requests_with_status("open")}
    bookings = {b.booking_id: b for b in deps.store.bookings_with_status(
        "confirmed", now - timedelta(days=14), now + timedelta(hours=policy.reminder_before_hours + 1))}
    states = [_booking_state(b, (f.interviewer_id for f in deps.store.feedback(b.booking_id)))
              for b in bookings.values()]
    sent: Counter[str] = Counter()
    for due in due_messages(now, (_request_state(r) for r in requests.values()), states, policy):
        try:
            if _send_one(deps, due, requests, bookings, now):
                sent[due.kind.value] += 1
        except FoureyesError as exc:  # one bad request (e.g. a role no longer configured) stops nothing else
            log.warning("a due message was not sent", extra={"kind": due.kind.value, "subject": due.subject_id,
                                                             "error": type(exc).__name__})
            sent["errors"] += 1
    return sent


def _send_one(deps: Deps, due: Due, requests: Mapping[str, InterviewRequestItem],
              bookings: Mapping[str, BookingItem], now: datetime) -> bool:
    """Claim `due` (a conditional write), then send it; False when someone else claimed it first."""
    if due.kind is DueKind.CANDIDATE_NUDGE:
        request = requests[due.subject_id]
        template = deps.settings.approved(deps.settings.role(request.role_id).nudge_template)
        if not deps.store.claim_nudge(request.request_id, due.count - 1, now):
            return False
        subject, text = template.render({"link": booking_url(deps, request), "role": request.role_id,
                                         "deadline": request.window_end[:10],
                                         "duration": str(int(request.duration_minutes))})
        deps.send(Email(to=request.candidate_email, subject=subject, text=text))
        deps.audit("interview.nudged", "system", request.request_id, {"nudge": due.count})
        return True
    booking = bookings[due.subject_id]
    if due.kind is DueKind.REMINDER:
        request = deps.store.get_request(booking.request_id)
        template = deps.settings.approved(deps.settings.role(request.role_id).reminder_template)
        if not deps.store.claim_flag(booking.booking_id, "reminded", due.count):
            return False
        manage = manage_token(deps, request, booking.booking_id)
        subject, text = template.render({"link": f"{deps.base_url}/book/{manage}", "role": request.role_id,
                                         "when": _when(booking, request.candidate_tz),
                                         "duration": str(int(request.duration_minutes))})
        deps.send(Email(to=request.candidate_email, subject=subject, text=text))
        deps.audit("interview.reminded", "system", booking.booking_id, {"sequence": due.count})
        return True
    if not deps.store.claim_flag(booking.booking_id, "feedback_nudged", due.count):
        return False
    for interviewer in due.recipients:
        address = deps.settings.interviewer_emails.get(interviewer)
        if not address:
            log.warning("no address for an interviewer", extra={"interviewer": interviewer})
            continue
        url = feedback_url(deps, booking, interviewer)
        deps.send(Email(to=address, subject=f"Feedback please: interview for role {booking.role_id}",
                        text=f"Please give your feedback on interview {booking.booking_id}:\n{url}\n"))
    deps.audit("feedback.nudged", "system", booking.booking_id, {"interviewers": list(due.recipients)})
    return True


# -- feedback ---------------------------------------------------------------------------------------------


class Role(StrEnum):
    INTERVIEWER = "interviewer"
    HIRING_MANAGER = "hiring_manager"
    RECRUITER = "recruiter"
    CANDIDATE = "candidate"


@dataclass(frozen=True, slots=True)
class FeedbackEntry:
    interviewer_id: str
    recommendation: str
    rating: int | None
    notes: str
    submitted_at: str


@dataclass(frozen=True, slots=True)
class FeedbackSummary:
    expected: int
    received: int
    recommendations: Mapping[str, int]
    average_rating: float | None


@dataclass(frozen=True, slots=True)
class FeedbackView:
    role: Role
    booking_id: str
    entries: tuple[FeedbackEntry, ...] = ()
    summary: FeedbackSummary | None = None
    suggested_summary: tuple[str, ...] = ()  # extractive, from the notes: a suggestion to read, not a verdict


def _entry(item: FeedbackItem) -> FeedbackEntry:
    return FeedbackEntry(item.interviewer_id, item.recommendation, int(item.rating) if item.rating is not None
                         else None, item.notes, item.submitted_at)


def role_of(person_id: str, booking: BookingItem, plan: RolePlan | None) -> Role | None:
    """The role a person has for this booking, decided server-side from configuration and the booking
    (never from anything the caller claims). Precedence: hiring manager, interviewer, recruiter."""
    if person_id == booking.candidate_ref:
        return Role.CANDIDATE
    if plan is not None and person_id in plan.hiring_managers:
        return Role.HIRING_MANAGER
    if person_id in booking.interviewers:
        return Role.INTERVIEWER
    if plan is not None and person_id in plan.recruiters:
        return Role.RECRUITER
    return None


def visible_feedback(role: Role, person_id: str, booking_id: str, panel: Sequence[str],
                     entries: Sequence[FeedbackEntry]) -> FeedbackView:
    """Exactly what `role` may read: an interviewer their own entry, the hiring manager the panel's entries
    (with a suggested extractive summary), a recruiter a summary without notes, a candidate nothing."""
    if role is Role.CANDIDATE:
        raise Forbidden("candidates never see internal interview feedback")
    if role is Role.INTERVIEWER:
        return FeedbackView(role, booking_id, tuple(e for e in entries if e.interviewer_id == person_id))
    panel_entries = tuple(e for e in entries if e.interviewer_id in set(panel))
    if role is Role.HIRING_MANAGER:
        return FeedbackView(role, booking_id, panel_entries, _summary(panel, panel_entries),
                            summarise_notes([e.notes for e in panel_entries]))
    return FeedbackView(role, booking_id, (), _summary(panel, panel_entries))


def _summary(panel: Sequence[str], entries: Sequence[FeedbackEntry]) -> FeedbackSummary:
    ratings = [e.rating for e in entries if e.rating is not None]
    return FeedbackSummary(len(panel), len(entries), dict(Counter(e.recommendation for e in entries)),
                           round(sum(ratings) / len(ratings), 2) if ratings else None)


def read_feedback(person_id: str, booking_id: str, deps: Deps) -> FeedbackView:
    """Role-checked read of a booking's feedback; every read, allowed or refused, is in the audit trail."""
    booking = deps.store.get_booking(booking_id)
    plan = deps.settings.roles.get(booking.role_id)
    role = role_of(person_id, booking, plan)
    if role is None or role is Role.CANDIDATE:
        deps.audit("feedback.read_denied", person_id, booking_id, {"role": role.value if role else "none"})
        raise Forbidden("you may not read this interview's feedback")
    entries = [_entry(i) for i in deps.store.feedback(booking_id)]
    shown = visible_feedback(role, person_id, booking_id, tuple(booking.interviewers), entries)
    deps.audit("feedback.read", person_id, booking_id,
               {"role": role.value, "entries": [e.interviewer_id for e in shown.entries],
                "summary": shown.summary is not None})
    return shown


def read_feedback_by_link(token: str, deps: Deps) -> FeedbackView:
    claims = _claims(deps, token, (READ,))
    return read_feedback(str(claims.get("p", "")), str(claims.get("b", "")), deps)


@dataclass(frozen=True, slots=True)
class FeedbackForm:
    booking_id: str
    interviewer_id: str
    role_id: str
    when: str
    submitted: FeedbackEntry | None


def _feedback_claims(token: str, deps: Deps) -> tuple[str, BookingItem]:
    claims = _claims(deps, token, (FEEDBACK,))
    booking = deps.store.get_booking(str(claims.get("b", "")))
    interviewer = str(claims.get("i", ""))
    if interviewer not in booking.interviewers:
        raise Forbidden("you are not on this interview's panel")
    return interviewer, booking


def feedback_form(token: str, deps: Deps) -> FeedbackForm:
    """GET /feedback/{token}: the interviewer's own form (and their own entry once given); audited."""
    interviewer, booking = _feedback_claims(token, deps)
    own = next((_entry(i) for i in deps.store.feedback(booking.booking_id) if i.interviewer_id == interviewer), None)
    deps.audit("feedback.form_viewed", interviewer, booking.booking_id, {"submitted": own is not None})
    return FeedbackForm(booking.booking_id, interviewer, booking.role_id,
                        f"{booking.start[:16].replace('T', ' ')} UTC", own)


def submit_feedback(token: str, recommendation: str, rating: int | None, notes: str, deps: Deps) -> FeedbackEntry:
    """POST /feedback/{token}: one interviewer's feedback, once, after the interview started."""
    interviewer, booking = _feedback_claims(token, deps)
    if recommendation not in RECOMMENDATIONS:
        raise BadRequest("choose a recommendation")
    if rating is not None and not 1 <= rating <= 5:
        raise BadRequest("the rating is from 1 to 5")
    if len(notes) > 10_000:
        raise BadRequest("the notes are too long (10,000 characters at most)")
    now = deps.clock()
    if now < parse_iso(booking.start):
        raise Conflict("feedback opens when the interview starts")
    item = deps.store.put_feedback(booking, interviewer, recommendation, rating, notes.strip(), now)
    deps.audit("feedback.submitted", interviewer, booking.booking_id, {"recommendation": recommendation})
    received = {i.interviewer_id for i in deps.store.feedback(booking.booking_id)}
    if set(booking.interviewers) <= received:
        _feedback_complete(booking, deps)
    return _entry(item)


def _feedback_complete(booking: BookingItem, deps: Deps) -> None:
    """Every interviewer has answered: each hiring manager and recruiter gets their own reading link,
    where they (a person, never the system) record the outcome."""
    plan = deps.settings.roles.get(booking.role_id)
    if plan is None:
        return
    for person in (*plan.hiring_managers, *plan.recruiters):
        address = deps.settings.interviewer_emails.get(person)
        if not address:
            continue
        url = feedback_read_url(deps, person, booking.booking_id)
        deps.send(Email(to=address, subject="Interview feedback complete",
                        text=f"All interviewers have given feedback. Read it and record the outcome: {url}\n"))
    deps.audit("feedback.complete", "system", booking.booking_id, {"notified": len(plan.hiring_managers)})


def outcome_by_link(token: str, outcome: str, deps: Deps) -> OutcomeResult:
    """POST /feedback-read/{token}: the person holding the reading link records the outcome."""
    claims = _claims(deps, token, (READ,))
    booking = deps.store.get_booking(str(claims.get("b", "")))
    return record_outcome(booking.request_id, outcome, str(claims.get("p", "")), deps)


# -- outcome -> ATS -> HRIS -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OutcomeResult:
    request_id: str
    outcome: str
    ats_status: str
    onboarding_task: str = ""


def record_outcome(request_id: str, outcome: str, decided_by: str, deps: Deps) -> OutcomeResult:
    """A person's decision on the interview, synced to the ATS as a status through `submit_fact`;
    "hired" also creates the HRIS onboarding task from the task template."""
    request = deps.store.get_request(request_id)
    plan = deps.settings.role(request.role_id)
    if decided_by not in (*plan.hiring_managers, *plan.recruiters):
        deps.audit("interview.outcome_denied", decided_by, request_id, {"outcome": outcome})
        raise Forbidden("only the role's recruiters and hiring managers record an outcome")
    status = deps.settings.outcomes.get(request.system, {}).get(outcome)
    if status is None:
        raise BadRequest(f"outcome {outcome!r} has no ATS status configured for {request.system}")
    previous_status = request.status
    deps.store.set_outcome(request_id, outcome, decided_by, deps.clock())
    system, record_id = request.system, request.candidate_ref.split(":", 1)[1]
    call = calls.update_status(system, Candidate(system, record_id), status)
    try:
        deps.submit_fact(system, record_id, Action.UPDATE_STATUS, call, decided_by)
    except Exception:
        deps.store.clear_outcome(request_id, outcome, previous_status)
        raise
    task_id = ""
    if outcome == "hired" and deps.hris is not None and deps.settings.onboarding is not None:
        task = deps.hris.create_onboarding_task(deps.settings.onboarding, request.candidate_ref,
                                                start=deps.clock().date(), idempotency_key=f"onboarding:{request_id}")
        task_id = task.task_id
    deps.audit("interview.outcome", decided_by, request_id,
               {"outcome": outcome, "ats_status": status, "onboarding_task": task_id})
    deps.notify("interview.outcome", {"request": request_id, "outcome": outcome})
    return OutcomeResult(request_id, outcome, status, task_id)


# -- suggestions ------------------------------------------------------------------------------------------

_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)
_STOP = frozenset("""the and for with that this was were are has have had but not you your our they them their
from into about very also just more most some such than then there these those which while will would could
should can did does done been being she her his him its it's over under very well what when where who why how
all any each few other own same too only both de het een van en""".split())


def summarise_notes(notes: Sequence[str], max_sentences: int = 3) -> tuple[str, ...]:
    """An extractive summary: the sentences whose words recur most across all notes, in their original
    order. Verbatim sentences only (nothing invented); a reading aid for a person, never a decision."""
    sentences = [s.strip() for note in notes for s in _SENTENCE.split(note) if len(s.strip()) > 3]
    if len(sentences) <= max_sentences:
        return tuple(sentences)
    words = [[w.lower() for w in _WORD.findall(s) if w.lower() not in _STOP] for s in sentences]
    freq = Counter(w for ws in words for w in set(ws))
    scores = [(sum(freq[w] for w in ws) / (len(ws) ** 0.5) if ws else 0.0, i) for i, ws in enumerate(words)]
    chosen = sorted(i for _, i in sorted(scores, key=lambda p: (-p[0], p[1]))[:max_sentences])
    return tuple(sentences[i] for i in chosen)
