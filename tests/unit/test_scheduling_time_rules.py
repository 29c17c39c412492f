"""Scheduling's time rules and request rules, through the real flows on the in-memory repository:

- an outcome only for an interview that took place (booked, not cancelled, started);
- a reschedule passes the checks a hold passes (offered, unbooked, minimum notice ahead, free);
- no cancelling or moving once the interview has started: a 409 page that says so and whom to contact;
- one current request per candidate and role, for every interview kind (a new stage change supersedes the
  open one and its link; none opens beside a confirmed booking);
- an invitation that cannot be delivered makes the request `undeliverable`, audited, logged by id and told
  to the role's recruiters;
- a refused feedback read (or submit, or outcome) through a genuine link is audited with its ids.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from foureyes import links
from foureyes.errors import Conflict, Forbidden, LinkExpired, SlotTaken, Unauthorized
from foureyes.mail import Email
from foureyes.model import Action, parse_iso
from foureyes.scheduling import booking, feedback_pages, pages
from foureyes.scheduling.cancellation import cancel_by_candidate
from foureyes.scheduling.deps import Deps
from foureyes.scheduling.feedback import feedback_form, read_feedback_by_link, submit_feedback
from foureyes.scheduling.invites import deliverable
from foureyes.scheduling.links import feedback_read_url, feedback_url, manage_token
from foureyes.scheduling.outcome import outcome_by_link, record_outcome
from foureyes.scheduling.settings import Settings
from foureyes.scheduling.slots import InterviewerCalendar
from foureyes.scheduling.stage import Requested, StageChange, on_stage_change, request_id_for
from foureyes.scheduling.views import PageKind
from tests.support.memory import Clock
from tests.support.memory_scheduling import MemorySchedulingStore

NOW = datetime(2026, 3, 23, 8, tzinfo=UTC)  # Monday 09:00 in Amsterdam; the first slot offered is 09:00 UTC
SECRET = b"unit-test-link-secret-0123456789"
CANDIDATE = "cand@example.org"
RECRUITER = "rec-1@agency.example"



def _no_name(ref: str) -> str:
    """The feedback pages' candidate name, unknown here (no candidates table)."""
    return ""

def settings(mode: str = "remote") -> Settings:
    return Settings.from_dict({
        "stages": {"bullhorn": ["Interview Scheduled"]},
        "roles": {"R-1": {"panel": ["iv-1", "iv-2"], "panel_size": 1, "duration_minutes": 60, "mode": mode,
                          "window_days": 7, "hiring_managers": ["hm-1"], "recruiters": ["rec-1", "rec-2"]}},
        "templates": {"invite": {"subject": "Plan your interview", "text": "Choose a time: $link (before $deadline)",
                                 "approved_by": "rec-1"}},
        "rules": {"step_minutes": 60, "buffer_minutes": 15, "min_notice_minutes": 60, "max_slots": 40},
        "outcomes": {"bullhorn": {"hired": "Placed", "not_hired": "Not selected"}},
        # rec-2 has no address configured: only rec-1 can be told or named
        "interviewer_emails": {"iv-1": "iv-1@agency.example", "iv-2": "iv-2@agency.example",
                               "hm-1": "hm-1@agency.example", "rec-1": RECRUITER},
    })


class FakeCalendar:
    """Everyone free in working hours; events kept by id so tests see holds come and go."""

    def __init__(self) -> None:
        self.events: dict[str, tuple[str, str]] = {}  # event id -> (interviewer, status)

    def availability(self, interviewers: Sequence[str], start: datetime,
                     end: datetime) -> dict[str, InterviewerCalendar]:
        return {iv: InterviewerCalendar() for iv in interviewers}

    def create_hold(self, interviewer: str, start: datetime, end: datetime, subject: str, ref: str) -> str:
        event_id = f"ev-{len(self.events) + 1}"
        self.events[event_id] = (interviewer, "tentative")
        return event_id

    def confirm(self, interviewer: str, event_id: str, subject: str) -> None:
        self.events[event_id] = (interviewer, "confirmed")

    def delete(self, interviewer: str, event_id: str) -> None:
        self.events.pop(event_id, None)


@dataclass
class World:
    mode: str = "remote"
    store: MemorySchedulingStore = field(default_factory=MemorySchedulingStore)
    calendar: FakeCalendar = field(default_factory=FakeCalendar)
    clock: Clock = field(default_factory=lambda: Clock(NOW))
    sent: list[Email] = field(default_factory=list)
    audit: list[tuple[str, str, str, dict[str, Any]]] = field(default_factory=list)
    facts: list[tuple[str, str, Action, str]] = field(default_factory=list)
    notified: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    failing: set[str] = field(default_factory=set)  # addresses whose send raises

    def send(self, message: Email) -> str:
        if message.to in self.failing:
            raise RuntimeError("SES said no")
        self.sent.append(message)
        return f"m-{len(self.sent)}"

    def record(self, event: str, actor: str, subject: str, details: Mapping[str, Any]) -> int:
        self.audit.append((event, actor, subject, dict(details)))
        return len(self.audit)

    def submit(self, system: str, record_id: str, action: Action, call: Any, entered_by: str) -> str:
        self.facts.append((system, record_id, action, entered_by))
        return f"p-{len(self.facts)}"

    def notify(self, kind: str, detail: Mapping[str, Any]) -> None:
        self.notified.append((kind, dict(detail)))

    @property
    def deps(self) -> Deps:
        return Deps(store=self.store, calendar=self.calendar, send=self.send, audit=self.record,
                    submit_fact=self.submit, secret=SECRET, base_url="https://book.example", sender="noreply@x",
                    settings=settings(self.mode), notify=self.notify, clock=self.clock)

    def events(self, name: str) -> list[tuple[str, str, str, dict[str, Any]]]:
        return [a for a in self.audit if a[0] == name]

    def to(self, address: str) -> list[Email]:
        return [m for m in self.sent if m.to == address]


def change(event: str, email: str = CANDIDATE, record: str = "42") -> StageChange:
    return StageChange("bullhorn", record, "Interview Scheduled", "R-1", "rec-1", event, email)


def invite(world: World, event: str = "e1", email: str = CANDIDATE, record: str = "42") -> tuple[Requested, str]:
    """A stage change and the booking link's token from the invitation (\"\" when none was sent)."""
    made = on_stage_change(change(event, email, record), world.deps)
    assert made is not None
    if not made.link_sent:
        return made, ""
    text = world.to(email)[-1].text
    return made, text.split("Choose a time: ")[1].split(" ")[0].rsplit("/", 1)[1]


def slot_ids(world: World, token: str) -> list[str]:
    return [s.slot_id for _, day in booking.view(token, world.deps).days for s in day]


def book(world: World, token: str, slot_id: str) -> str:
    """Hold and confirm `slot_id`; the manage token."""
    booking.hold(token, slot_id, world.deps)
    done = booking.confirm(token, slot_id, world.deps)
    return done.manage_url.rsplit("/", 1)[1]


def at(slot_id: str) -> datetime:
    return datetime.strptime(slot_id, "%Y%m%dT%H%MZ").replace(tzinfo=UTC)


# -- an outcome only for an interview that took place ---------------------------------------------------------

def test_no_outcome_for_a_cancelled_interview_that_never_took_place() -> None:
    world = World()
    made, token = invite(world)
    slot = slot_ids(world, token)[3]
    book(world, token, slot)
    cancel_by_candidate(token, world.deps)
    world.clock.now = at(slot) + timedelta(hours=2)  # after the time it would have had
    facts_before = len(world.facts)
    with pytest.raises(Conflict, match="cancelled and did not take place"):
        record_outcome(made.request.request_id, "hired", "hm-1", world.deps)
    assert len(world.facts) == facts_before and not world.events("interview.outcome")
    assert world.store.get_request(made.request.request_id).outcome is None
    refused = world.events("interview.outcome_refused")
    assert [(r[1], r[2], r[3]["reason"]) for r in refused] == [("hm-1", made.request.request_id, "cancelled")]


def test_an_outcome_waits_for_the_interview_to_start_and_then_is_recorded_once() -> None:
    world = World()
    made, token = invite(world)
    slot = slot_ids(world, token)[3]
    book(world, token, slot)
    world.clock.now = at(slot) - timedelta(minutes=1)
    with pytest.raises(Conflict, match="has not taken place yet"):
        record_outcome(made.request.request_id, "hired", "hm-1", world.deps)
    world.clock.now = at(slot)  # the start is the line (documented in outcome.py)
    result = record_outcome(made.request.request_id, "hired", "hm-1", world.deps)
    assert result.ats_status == "Placed" and world.facts[-1] == ("bullhorn", "42", Action.UPDATE_STATUS, "hm-1")
    with pytest.raises(Conflict, match="already recorded"):
        record_outcome(made.request.request_id, "not_hired", "hm-1", world.deps)
    assert [r[3]["reason"] for r in world.events("interview.outcome_refused")] == ["not_started", "already_recorded"]


def test_no_outcome_for_a_request_nobody_booked() -> None:
    world = World()
    made, _ = invite(world)
    world.clock.advance(days=8)
    with pytest.raises(Conflict, match="no interview was booked"):
        record_outcome(made.request.request_id, "hired", "rec-1", world.deps)
    assert world.facts == []


def test_the_outcome_form_answers_a_cancelled_interview_with_a_409_that_says_why() -> None:
    world = World()
    _, token = invite(world)
    slot = slot_ids(world, token)[3]
    manage = book(world, token, slot)
    booking_id = world.store.get_request(request_id_for(change("e1"))).booking_id
    read_link = feedback_read_url(world.deps, "hm-1", str(booking_id)).rsplit("/", 1)[1]
    assert pages.booking_endpoint("POST", manage, {"action": "cancel", "sure": "yes"}, {}, world.deps).status == 303
    world.clock.now = at(slot) + timedelta(hours=3)
    answer = feedback_pages.feedback_read_endpoint(read_link, world.deps, "POST", {"outcome": "hired"},
                                                   name_of=_no_name)
    assert answer.status == 409 and "did not take place" in str(answer.body)
    assert not [f for f in world.facts if f[2] is Action.UPDATE_STATUS]


# -- a reschedule passes the checks a hold passes -------------------------------------------------------------

def test_a_reschedule_cannot_skip_the_minimum_notice_or_move_into_the_past() -> None:
    world = World()
    _, token = invite(world)
    slots = slot_ids(world, token)
    first, later = slots[0], slots[5]
    assert at(first) == NOW + timedelta(hours=1)
    manage = book(world, token, later)
    booked = world.store.get_booking(str(world.store.get_request(request_id_for(change("e1"))).booking_id))
    world.clock.now = at(first) - timedelta(minutes=30)  # `first` is now inside the 60-minute notice
    with pytest.raises(SlotTaken):
        booking.confirm(manage, first, world.deps)  # straight to confirm, no hold: the same checks apply
    refused = pages.booking_endpoint("POST", manage, {"action": "confirm", "slot": first}, {}, world.deps)
    assert refused.status == 409 and "no longer available" in str(refused.body)
    world.clock.now = at(first) + timedelta(minutes=5)  # `first` has started: in the past
    with pytest.raises(SlotTaken):
        booking.confirm(manage, first, world.deps)
    after = world.store.get_booking(booked.booking_id)
    assert (after.slot_id, int(after.sequence)) == (later, 0)
    assert not world.events("interview.rescheduled")


def test_a_reschedule_to_an_offered_time_still_works() -> None:
    world = World()
    _, token = invite(world)
    slots = slot_ids(world, token)
    manage = book(world, token, slots[2])
    moved = booking.confirm(manage, slots[6], world.deps)
    assert moved.kind is PageKind.BOOKED and world.events("interview.rescheduled")


# -- no cancelling or moving once the interview has started ----------------------------------------------------

def test_cancelling_after_the_start_is_a_409_page_that_says_so_and_whom_to_contact() -> None:
    world = World()
    _, token = invite(world)
    slot = slot_ids(world, token)[3]
    manage = book(world, token, slot)
    sent_before, facts_before = len(world.sent), len(world.facts)
    world.clock.now = at(slot) + timedelta(days=1)  # "a day after the interview"
    answer = pages.booking_endpoint("POST", manage, {"action": "cancel", "sure": "yes"}, {}, world.deps)
    body = str(answer.body)
    assert answer.status == 409
    assert "Your interview has started" in body and "can no longer be cancelled" in body
    assert f"mailto:{RECRUITER}" in body
    assert "Cancel interview" not in body and "Hold this new time" not in body
    request = world.store.get_request(request_id_for(change("e1")))
    assert world.store.get_booking(str(request.booking_id)).status == "confirmed"
    assert len(world.sent) == sent_before and len(world.facts) == facts_before  # no CANCEL, no ATS note
    with pytest.raises(Conflict, match="can no longer be cancelled"):
        cancel_by_candidate(token, world.deps)  # the booking link too
    assert not world.events("interview.cancelled")


def test_a_started_interview_is_not_moved_and_its_page_offers_nothing_to_change() -> None:
    world = World()
    _, token = invite(world)
    slots = slot_ids(world, token)
    manage = book(world, token, slots[3])
    world.clock.now = at(slots[3]) + timedelta(minutes=10)
    page = pages.booking_endpoint("GET", manage, {}, {}, world.deps)
    assert page.status == 200 and "Your interview has started" in str(page.body)
    assert booking.view(manage, world.deps).kind is PageKind.STARTED
    held = pages.booking_endpoint("POST", manage, {"action": "hold", "slot": slots[8]}, {}, world.deps)
    assert held.status == 409 and "can no longer be moved" in str(held.body)
    with pytest.raises(Conflict):
        booking.confirm(manage, slots[8], world.deps)
    assert not world.events("slot.held")[1:] and not world.events("interview.rescheduled")


# -- one current request per candidate and role -----------------------------------------------------------------

@pytest.mark.parametrize("mode", ["remote", "onsite"])
def test_a_new_stage_change_supersedes_the_open_request_and_its_link(mode: str) -> None:
    world = World(mode=mode)
    first, old_token = invite(world, "e1")
    held = slot_ids(world, old_token)[0]
    booking.hold(old_token, held, world.deps)
    assert world.calendar.events  # the "[Hold]" event
    second, new_token = invite(world, "e2")
    assert second.created and second.link_sent and second.superseded == first.request.request_id
    old = world.store.get_request(first.request.request_id)
    assert (old.status, old.superseded_by) == ("superseded", second.request.request_id)
    assert world.store.get_hold(first.request.request_id) is None and world.calendar.events == {}
    assert [r.request_id for r in world.store.requests_with_status("open")] == [second.request.request_id]
    superseded = world.events("interview.request_superseded")
    assert [(s[2], s[3]["by_request"], s[3]["hold_released"]) for s in superseded] == [
        (first.request.request_id, second.request.request_id, True)]
    # the old link says what happened, and books nothing
    page = pages.booking_endpoint("GET", old_token, {}, {}, world.deps)
    assert page.status == 200 and "This link has been replaced" in str(page.body)
    refused = pages.booking_endpoint("POST", old_token, {"action": "confirm", "slot": held}, {}, world.deps)
    assert refused.status == 409 and "replaced by a newer one" in str(refused.body)
    with pytest.raises(Conflict):
        booking.hold(old_token, held, world.deps)
    # the new link books; a third stage change then opens nothing beside the booking
    book(world, new_token, held)
    third, _ = invite(world, "e3")
    assert not third.created and third.refused_by
    assert len(world.to(CANDIDATE)) == 3  # two invitations and one confirmation; nothing for e3
    assert len([b for b in world.store.bookings.values() if b.status == "confirmed"]) == 1


def test_no_second_request_opens_beside_a_confirmed_booking_and_it_is_audited() -> None:
    world = World()
    first, token = invite(world, "e1")
    book(world, token, slot_ids(world, token)[1])
    booking_id = str(world.store.get_request(first.request.request_id).booking_id)
    again, _ = invite(world, "e2")
    assert (again.created, again.link_sent, again.refused_by) == (False, False, booking_id)
    assert again.request.request_id not in world.store.requests
    refused = world.events("interview.request_refused")
    assert [(r[2], r[3]["reason"], r[3]["booking"]) for r in refused] == [
        (again.request.request_id, "already_booked", booking_id)]
    assert world.store.get_request(first.request.request_id).status == "booked"
    # once that booking is cancelled, a new stage change opens a request again (it replaces the cancelled one,
    # which the candidate's cancellation opened again for a new time while its window was open)
    cancel_by_candidate(token, world.deps)
    reopened, _ = invite(world, "e3")
    assert reopened.created and reopened.link_sent and reopened.superseded == first.request.request_id


def test_a_redelivered_stage_change_neither_supersedes_nor_sends_again() -> None:
    world = World()
    first, _ = invite(world, "e1")
    second, _ = invite(world, "e2")
    again = on_stage_change(change("e1"), world.deps)
    assert again is not None and not again.created and not again.superseded
    assert world.store.get_request(second.request.request_id).status == "open"
    assert world.store.get_request(first.request.request_id).status == "superseded"
    assert len(world.to(CANDIDATE)) == 2


def test_other_candidates_and_roles_are_not_superseded() -> None:
    world = World()
    mine, _ = invite(world, "e1", record="42")
    theirs, _ = invite(world, "e2", email="other@example.org", record="43")
    assert not theirs.superseded
    assert {r.request_id for r in world.store.requests_with_status("open")} == {mine.request.request_id,
                                                                                  theirs.request.request_id}


# -- undeliverable invitations -----------------------------------------------------------------------------------

@pytest.mark.parametrize("address", ["cand@example.org\nBcc: everyone@example.org", "cand@example.org\r\n",
                                     "Cand <cand@example.org>", "cand@@example.org", "cand@example", "cand",
                                     "cand@example.org, other@example.org", " cand@example.org", "cand@exa mple.org",
                                     "cand@-example.org", ".cand@example.org", "ca..nd@example.org", ""])
def test_addresses_that_are_not_one_plain_address_are_not_deliverable(address: str) -> None:
    assert not deliverable(address)


@pytest.mark.parametrize("address", ["cand@example.org", "first.last+jobs@mail.example.co.uk", "o'neil@example.ie",
                                     "jürgen@example.de", "x@xn--bcher-kva.example"])
def test_plain_addresses_are_deliverable(address: str) -> None:
    assert deliverable(address)


def test_an_address_with_a_line_break_makes_the_request_undeliverable_and_the_recruiter_is_told(
        caplog: pytest.LogCaptureFixture) -> None:
    world = World()
    address = "cand@example.org\nBcc: everyone@example.org"
    with caplog.at_level(logging.INFO):
        made, token = invite(world, "e1", email=address)
    request_id = made.request.request_id
    assert (made.created, made.link_sent, made.undeliverable, token) == (True, False, "invalid_address", "")
    assert world.store.get_request(request_id).status == "undeliverable"
    assert world.store.requests_with_status("open") == []
    assert [m.to for m in world.sent] == [RECRUITER]  # nothing to the candidate; rec-2 has no address
    told = world.sent[0]
    assert request_id in told.text and "bullhorn:42" in told.text and "cand@" not in told.text
    [event] = world.events("interview.undeliverable")
    assert (event[2], event[3]["reason"], event[3]["recruiters_told"]) == (request_id, "invalid_address", 1)
    assert world.notified == [("interview.undeliverable", {"request": request_id, "candidate": "bullhorn:42",
                                                           "role": "R-1", "reason": "invalid_address"})]
    assert [(r.levelno, getattr(r, "reason", "")) for r in caplog.records
            if r.getMessage() == "invitation undeliverable" and getattr(r, "request", "") == request_id] == [
        (logging.WARNING, "invalid_address")]
    everything = " ".join([str(world.audit), str(world.notified)] + [f"{r.getMessage()} {r.__dict__}"
                                                                     for r in caplog.records])
    assert "cand@example.org" not in everything and "everyone@" not in everything
    # a redelivery tells nobody twice
    again = on_stage_change(change("e1", address), world.deps)
    assert again is not None and not again.created and len(world.sent) == 1


def test_an_undeliverable_stage_change_leaves_the_candidates_open_link_working() -> None:
    world = World()
    first, token = invite(world, "e1")
    broken, _ = invite(world, "e2", email="cand@example.org\n")
    assert broken.undeliverable and not broken.superseded
    assert world.store.get_request(first.request.request_id).status == "open"
    assert booking.view(token, world.deps).kind is PageKind.CHOOSE


def test_a_send_that_fails_makes_the_request_undeliverable_and_the_recruiter_is_told() -> None:
    world = World()
    world.failing.add(CANDIDATE)
    made, _ = invite(world, "e1")
    assert (made.created, made.link_sent, made.undeliverable) == (True, False, "send_failed")
    assert world.store.get_request(made.request.request_id).status == "undeliverable"
    assert [m.to for m in world.sent] == [RECRUITER]
    [event] = world.events("interview.undeliverable")
    assert (event[3]["reason"], event[3]["error"]) == ("send_failed", "RuntimeError")
    assert not world.events("interview.requested")
    # the recruiter fixes the address and moves the stage again: a new request, the invitation goes out
    world.failing.clear()
    fixed, token = invite(world, "e2")
    assert fixed.link_sent and token and not fixed.superseded


# -- refused feedback reads are audited ---------------------------------------------------------------------------

def booked_world() -> tuple[World, str]:
    world = World()
    _, token = invite(world)
    book(world, token, slot_ids(world, token)[0])
    return world, str(world.store.get_request(request_id_for(change("e1"))).booking_id)


def test_a_refused_read_through_an_expired_link_is_audited_with_its_ids() -> None:
    world, booking_id = booked_world()
    read = feedback_read_url(world.deps, "hm-1", booking_id, days=1).rsplit("/", 1)[1]
    world.clock.advance(days=2)
    with pytest.raises(LinkExpired):
        read_feedback_by_link(read, world.deps)
    assert feedback_pages.feedback_read_endpoint(read, world.deps, name_of=_no_name).status == 410
    denied = world.events("feedback.read_denied")
    assert [(d[1], d[2], d[3]["reason"], d[3]["link"]) for d in denied] == [("hm-1", booking_id, "expired", "read")] * 2


def test_a_refused_feedback_form_is_audited_for_a_wrong_person_a_wrong_link_and_an_expired_link() -> None:
    world, booking_id = booked_world()
    record = world.store.get_booking(booking_id)
    stranger = feedback_url(world.deps, record, "iv-9").rsplit("/", 1)[1]  # not on this interview's panel
    with pytest.raises(Forbidden):
        feedback_form(stranger, world.deps)
    refused = feedback_pages.feedback_endpoint("POST", stranger, {"recommendation": "yes"}, world.deps,
                                               name_of=_no_name)
    assert refused.status == 403
    read = feedback_read_url(world.deps, "hm-1", booking_id).rsplit("/", 1)[1]  # another page's link
    assert feedback_pages.feedback_endpoint("GET", read, {}, world.deps, name_of=_no_name).status == 401
    own = feedback_url(world.deps, record, record.interviewers[0]).rsplit("/", 1)[1]
    world.clock.now = parse_iso(record.end) + timedelta(days=15)  # the link lasts 14 days after the interview
    with pytest.raises(LinkExpired):
        submit_feedback(own, "yes", 4, "", world.deps)
    read_denied = [(d[1], d[2], d[3]["reason"]) for d in world.events("feedback.read_denied")]
    assert read_denied == [("iv-9", booking_id, "not_on_panel"), ("hm-1", booking_id, "wrong_link")]
    submit_denied = [(d[1], d[2], d[3]["reason"]) for d in world.events("feedback.submit_denied")]
    assert submit_denied == [("iv-9", booking_id, "not_on_panel"), (record.interviewers[0], booking_id, "expired")]


def test_a_refused_outcome_link_is_audited_and_a_forged_link_names_nobody() -> None:
    world, booking_id = booked_world()
    read = feedback_read_url(world.deps, "hm-1", booking_id, days=1).rsplit("/", 1)[1]
    world.clock.advance(days=2)
    with pytest.raises(LinkExpired):
        outcome_by_link(read, "hired", world.deps)
    assert [(d[1], d[2]) for d in world.events("interview.outcome_denied")] == [("hm-1", booking_id)]
    before = len(world.audit)
    forged = links.sign({"k": "read", "b": booking_id, "p": "hm-1"}, b"not-our-secret-0123456789abcdef", 600,
                        now_ms=int(world.clock.now.timestamp() * 1000))
    for attempt in (lambda: read_feedback_by_link(forged, world.deps), lambda: feedback_form("garbage", world.deps)):
        with pytest.raises(Unauthorized):
            attempt()
    assert len(world.audit) == before


def test_a_manage_link_is_not_a_feedback_link() -> None:
    world, booking_id = booked_world()
    request = world.store.get_request(request_id_for(change("e1")))
    token = manage_token(world.deps, request, booking_id)
    with pytest.raises(Unauthorized):
        feedback_form(token, world.deps)
    [denied] = world.events("feedback.read_denied")
    assert (denied[1], denied[2], denied[3]["reason"], denied[3]["link"]) == ("unknown", booking_id, "wrong_link",
                                                                              "manage")
