"""Which reminders and nudges are due when: bounded candidate nudges, one reminder, one feedback nudge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from foureyes.scheduling.nudges import BookingState, DueKind, RequestState, due_messages
from foureyes.scheduling.settings import NudgePolicy

T0 = datetime(2026, 3, 23, 9, tzinfo=UTC)
POLICY = NudgePolicy(max_candidate_nudges=2, first_nudge_after_hours=48, nudge_every_hours=48,
                     reminder_before_hours=24, feedback_after_hours=2)


def req(sent: int = 0, status: str = "open", window_days: int = 14) -> RequestState:
    return RequestState("rq-1", status, T0, sent, T0 + timedelta(days=window_days))


def booking(start: datetime, status: str = "confirmed", reminded: bool = False, feedback_nudged: bool = False,
            feedback_from: frozenset[str] = frozenset()) -> BookingState:
    return BookingState("bk-1", status, start, start + timedelta(hours=1), 0, ("iv-1", "iv-2"), reminded,
                        feedback_nudged, feedback_from)


def kinds(now: datetime, requests: list[RequestState], bookings: list[BookingState]) -> list[tuple[str, int]]:
    return [(d.kind.value, d.count) for d in due_messages(now, requests, bookings, POLICY)]


def test_candidate_nudges_are_spaced_and_bounded() -> None:
    assert kinds(T0 + timedelta(hours=47), [req()], []) == []
    assert kinds(T0 + timedelta(hours=48), [req()], []) == [("candidate_nudge", 1)]
    assert kinds(T0 + timedelta(hours=95), [req(1)], []) == []
    assert kinds(T0 + timedelta(hours=96), [req(1)], []) == [("candidate_nudge", 2)]
    assert kinds(T0 + timedelta(days=10), [req(2)], []) == []  # the bound
    assert kinds(T0 + timedelta(days=3), [req(status="booked")], []) == []
    assert kinds(T0 + timedelta(days=3), [req(window_days=2)], []) == []  # the window closed
    assert due_messages(T0 + timedelta(days=9), [req()], [], NudgePolicy(max_candidate_nudges=0)) == []


def test_one_reminder_in_the_window_before_the_interview() -> None:
    start = T0 + timedelta(days=3)
    assert kinds(start - timedelta(hours=25), [], [booking(start)]) == []
    assert kinds(start - timedelta(hours=24), [], [booking(start)]) == [("reminder", 0)]
    assert kinds(start - timedelta(hours=1), [], [booking(start, reminded=True)]) == []
    assert kinds(start - timedelta(hours=1), [], [booking(start, status="cancelled")]) == []
    assert kinds(start + timedelta(minutes=1), [], [booking(start)]) == []  # too late for a reminder


def test_feedback_nudge_goes_only_to_interviewers_without_feedback_once() -> None:
    start = T0 + timedelta(days=3)
    end = start + timedelta(hours=1)
    assert kinds(end + timedelta(hours=1), [], [booking(start, reminded=True)]) == []
    due = due_messages(end + timedelta(hours=2), [], [booking(start, reminded=True,
                                                              feedback_from=frozenset({"iv-1"}))], POLICY)
    assert [(d.kind, d.recipients) for d in due] == [(DueKind.FEEDBACK_NUDGE, ("iv-2",))]
    assert kinds(end + timedelta(hours=3), [], [booking(start, reminded=True, feedback_nudged=True)]) == []
    everyone = booking(start, reminded=True, feedback_from=frozenset({"iv-1", "iv-2"}))
    assert kinds(end + timedelta(hours=3), [], [everyone]) == []
