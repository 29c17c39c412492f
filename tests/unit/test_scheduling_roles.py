"""Who reads interview feedback: decided server-side by role, every read (and refusal) audited."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NoReturn

import pytest

from foureyes.errors import Forbidden, NotFound
from foureyes.scheduling.deps import Deps
from foureyes.scheduling.feedback import FeedbackEntry, Role, read_feedback, role_of, visible_feedback
from foureyes.scheduling.notes import summarise_notes
from foureyes.scheduling.settings import RolePlan, Settings

PANEL = ("iv-1", "iv-2")
PLAN = RolePlan("R-1", panel=("iv-1", "iv-2", "iv-3"), hiring_managers=("hm-1",), recruiters=("rec-1",))
ENTRIES = [FeedbackEntry("iv-1", "yes", 4, "Strong on SQL. Clear communicator.", "2026-03-30T09:00:00Z"),
           FeedbackEntry("iv-2", "no", 2, "Struggled with the design question.", "2026-03-30T09:10:00Z")]


@dataclass
class FakeBooking:
    booking_id: str = "bk_1"
    role_id: str = "R-1"
    candidate_ref: str = "bullhorn:42"
    interviewers: list[str] = field(default_factory=lambda: list(PANEL))
    request_id: str = "rq_1"
    slot_id: str = "20260330T0700Z"
    start: str = "2026-03-30T07:00:00Z"
    end: str = "2026-03-30T08:00:00Z"
    status: str = "confirmed"
    sequence: int = 0
    blocks: list[str] = field(default_factory=list)
    events: dict[str, str] = field(default_factory=dict)
    reminded: bool = False
    feedback_nudged: bool = False


@dataclass
class FakeFeedback:
    interviewer_id: str
    recommendation: str
    rating: int | None
    notes: str
    submitted_at: str


def unused(*args: Any, **kwargs: Any) -> NoReturn:
    raise AssertionError("not used here")


class FakeStore:
    """A `SchedulingRepository` with the one booking and its feedback; the rest is not used here."""

    def get_booking(self, booking_id: str) -> FakeBooking:
        if booking_id != "bk_1":
            raise NotFound("this booking does not exist")
        return FakeBooking()

    def feedback(self, booking_id: str) -> list[FakeFeedback]:
        return [FakeFeedback(e.interviewer_id, e.recommendation, e.rating, e.notes, e.submitted_at) for e in ENTRIES]

    create_request = get_request = requests_with_status = requests_for_candidate = close_request = unused
    slots = taken_blocks = interviewer_load = get_hold = hold = set_hold_events = release_hold = unused
    expired_holds = bookings_with_status = book = cancel = reschedule = set_booking_events = unused
    claim_flag = claim_nudge = set_outcome = clear_outcome = put_feedback = unused


class NoCalendar:
    """A `CalendarProvider` that is not used here."""

    availability = create_hold = confirm = delete = unused


def deps(trail: list[tuple[str, str, str, dict[str, Any]]]) -> Deps:
    def audit(event: str, actor: str, subject: str, details: Any) -> int:
        trail.append((event, actor, subject, dict(details)))
        return len(trail)

    settings = Settings(stages={}, roles={"R-1": PLAN}, templates={})
    return Deps(store=FakeStore(), calendar=NoCalendar(), send=unused, audit=audit, submit_fact=unused,
                secret=b"k" * 32, base_url="https://x", sender="s@x", settings=settings,
                clock=lambda: datetime(2026, 3, 31, tzinfo=UTC))


def test_roles_come_from_configuration_and_the_booking() -> None:
    booking = FakeBooking()
    assert role_of("hm-1", booking, PLAN) is Role.HIRING_MANAGER
    assert role_of("iv-1", booking, PLAN) is Role.INTERVIEWER
    assert role_of("rec-1", booking, PLAN) is Role.RECRUITER
    assert role_of("bullhorn:42", booking, PLAN) is Role.CANDIDATE
    # iv-3 is on the role's panel but not on this interview
    assert role_of("iv-3", booking, PLAN) is None
    assert role_of("stranger", booking, PLAN) is None


def test_each_role_sees_exactly_what_it_should() -> None:
    own = visible_feedback(Role.INTERVIEWER, "iv-1", "bk_1", PANEL, ENTRIES)
    assert [e.interviewer_id for e in own.entries] == ["iv-1"] and own.summary is None
    assert not own.suggested_summary
    manager = visible_feedback(Role.HIRING_MANAGER, "hm-1", "bk_1", PANEL, ENTRIES)
    assert [e.interviewer_id for e in manager.entries] == ["iv-1", "iv-2"]
    assert manager.summary is not None and manager.summary.received == 2 and manager.summary.average_rating == 3.0
    recruiter = visible_feedback(Role.RECRUITER, "rec-1", "bk_1", PANEL, ENTRIES)
    assert recruiter.entries == () and recruiter.summary is not None and not recruiter.suggested_summary
    assert dict(recruiter.summary.recommendations) == {"yes": 1, "no": 1}
    with pytest.raises(Forbidden):
        visible_feedback(Role.CANDIDATE, "bullhorn:42", "bk_1", PANEL, ENTRIES)


def test_an_interviewer_without_feedback_sees_nothing_of_the_others() -> None:
    shown = visible_feedback(Role.INTERVIEWER, "iv-2", "bk_1", PANEL, ENTRIES[:1])
    assert shown.entries == () and shown.summary is None


@pytest.mark.parametrize(("person", "event", "role"), [
    ("iv-1", "feedback.read", "interviewer"), ("hm-1", "feedback.read", "hiring_manager"),
    ("rec-1", "feedback.read", "recruiter"), ("bullhorn:42", "feedback.read_denied", "candidate"),
    ("stranger", "feedback.read_denied", "none"),
])
def test_every_read_and_every_refusal_is_audited(person: str, event: str, role: str) -> None:
    trail: list[tuple[str, str, str, dict[str, Any]]] = []
    if event == "feedback.read_denied":
        with pytest.raises(Forbidden):
            read_feedback(person, "bk_1", deps(trail))
    else:
        read_feedback(person, "bk_1", deps(trail))
    assert len(trail) == 1
    got_event, actor, subject, details = trail[0]
    assert (got_event, actor, subject, details["role"]) == (event, person, "bk_1", role)
    assert not {"notes", "email", "name"} & set(details)


def test_the_summary_is_extractive_and_only_a_suggestion() -> None:
    notes = ["Strong SQL skills. Explained the indexing trade-offs well. Arrived late.",
             "Good SQL, weak on system design. Friendly.", "SQL answers were strong. Design answer was thin."]
    summary = summarise_notes(notes, max_sentences=2)
    everything = [s.strip() for n in notes for s in n.replace(". ", ".|").split("|")]
    assert len(summary) == 2 and all(s in everything for s in summary)  # verbatim sentences only
    assert summarise_notes(["Short."]) == ("Short.",)
