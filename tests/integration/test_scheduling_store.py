"""Scheduling storage and flows against a real DynamoDB API (moto server over HTTP), and the Graph and HRIS
clients against their fakes over real HTTP.

The scheduling tables are built from template.yaml's own definitions (keys, GSIs, TTL).
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

import boto3
import pytest
import requests

from foureyes import links
from foureyes.errors import (
    AlreadyBooked,
    BadRequest,
    CalendarUnavailable,
    Conflict,
    Forbidden,
    NotFound,
    SlotTaken,
    Unauthorized,
)
from foureyes.mail import Email
from foureyes.model import Action, iso
from foureyes.scheduling import feedback_pages, ics, locks, pages
from foureyes.scheduling.booking import confirm, hold
from foureyes.scheduling.booking import view as booking_view
from foureyes.scheduling.calendar import GraphCalendar
from foureyes.scheduling.cancellation import cancel_from_ats, expire_holds
from foureyes.scheduling.deps import Deps
from foureyes.scheduling.feedback import read_feedback, read_feedback_by_link
from foureyes.scheduling.hris import HrisClient, TaskTemplate
from foureyes.scheduling.links import feedback_url
from foureyes.scheduling.nudges import send_due
from foureyes.scheduling.outcome import record_outcome
from foureyes.scheduling.settings import Settings
from foureyes.scheduling.slots import InterviewRequest, Mode, Slot, WorkingHours, slot_id_for
from foureyes.scheduling.stage import StageChange, on_stage_change, request_id_for
from foureyes.scheduling.views import PageKind
from foureyes.store.scheduling import SchedulingStore
from foureyes.store.scheduling_values import Opened
from foureyes_local.fakes.graph import GraphFake, start_graph
from foureyes_local.fakes.hris import HrisFake, start_hris
from foureyes_local.motofix import serialise_dynamodb
from foureyes_local.stack import create_table, template_table

# -- the tables (one place) ---------------------------------------------------------------------------------

S, N = "S", "N"


# The scheduling tables as template.yaml declares them (env var -> logical id).
TABLES = {"INTERVIEW_REQUESTS_TABLE": "InterviewRequestsTable", "SLOTS_TABLE": "SlotsTable",
          "BOOKINGS_TABLE": "BookingsTable", "SCHEDULING_LOCKS_TABLE": "SchedulingLocksTable",
          "FEEDBACK_TABLE": "FeedbackTable"}


def create_tables(dynamodb: Any, prefix: str) -> dict[str, str]:
    names: dict[str, str] = {}
    for env_var, logical in TABLES.items():
        name = f"{prefix}-{logical}"
        # Without TTL: these tests drive a clock in the past (March 2026), and TTL deletes by the wall clock (the
        # local cloud's reaper too, which sees every table of the in-process moto backend, as DynamoDB does an
        # account's): a hold stamped to end "now + 10 minutes" in March would be reaped mid-test.
        props = {k: v for k, v in template_table(logical).items() if k != "TimeToLiveSpecification"}
        create_table(dynamodb, props, name)
        names[env_var] = name
    return names


@pytest.fixture(scope="module")
def aws() -> Iterator[dict[str, str]]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    with pytest.MonkeyPatch.context() as mp:
        serialise_dynamodb()  # DynamoDB's isolation, which moto lacks under concurrency
        for key, value in {"AWS_ENDPOINT_URL": endpoint, "AWS_DEFAULT_REGION": "eu-west-1",
                           "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}.items():
            mp.setenv(key, value)
        dynamodb = boto3.client("dynamodb", endpoint_url=endpoint, region_name="eu-west-1")
        names = create_tables(dynamodb, f"sched-{uuid.uuid4().hex[:6]}")
        for env_var, name in names.items():
            mp.setenv(env_var, name)
        try:
            yield names
        finally:
            server.stop()


@pytest.fixture(scope="module")
def store(aws: dict[str, str]) -> SchedulingStore:
    return SchedulingStore(locks, clock=lambda: NOW)  # the tests' time: what "past its retention" is measured by


@pytest.fixture(scope="module")
def graph() -> Iterator[GraphFake]:
    fake = start_graph()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture(scope="module")
def hris() -> Iterator[HrisFake]:
    fake = start_hris()
    try:
        yield fake
    finally:
        fake.stop()


NOW = datetime(2026, 3, 23, 8, tzinfo=UTC)  # Monday 09:00 Amsterdam, the week of the March change
_counter = iter(range(1, 10_000))


def make_request(store: SchedulingStore, *, candidate: str | None = None, role: str = "R-1",
                 mode: Mode = Mode.REMOTE, panel: tuple[str, ...] = ("iv-1",), starts: list[datetime] | None = None,
                 interviewer: str | None = None) -> Any:
    n = next(_counter)
    request = InterviewRequest(f"rq-{n}-{uuid.uuid4().hex[:6]}", candidate or f"bullhorn:{n}", role,
                               (interviewer,) if interviewer else panel, 60, mode, NOW, NOW + timedelta(days=14))
    times = starts or [datetime(2026, 3, 27, 8, tzinfo=UTC), datetime(2026, 3, 30, 7, tzinfo=UTC)]
    slots = [Slot(slot_id_for(t), t, t + timedelta(hours=1), request.panel) for t in times]
    assert store.create_request(request, candidate_email="c@example.org", created_by="rec-1", template_id="invite",
                                buffer_minutes=15, slots=slots, now=NOW).created
    return store.get_request(request.request_id)


def legacy_request(store: SchedulingStore, candidate: str, role: str, mode: Mode, interviewer: str) -> Any:
    """An open request written as before requests had a guard (or by anything that bypasses it): the booking
    guard alone must still keep one confirmed booking per candidate and role."""
    n = next(_counter)
    request_id = f"rq-legacy-{n}-{uuid.uuid4().hex[:6]}"
    start = datetime(2026, 3, 27, 8, tzinfo=UTC) + timedelta(hours=n % 5)
    store.requests(request_id, candidate_ref=candidate, system=candidate.split(":")[0], role_id=role,
                   panel=[interviewer], panel_size=0, duration_minutes=60, mode=str(mode),
                   window_start="2026-03-23T08:00:00Z", window_end="2026-04-06T08:00:00Z",
                   candidate_tz="Europe/Amsterdam", candidate_email="c@example.org", status="open",
                   created_at="2026-03-23T08:00:00Z", created_by="rec-1", expires_at=2_000_000_000).save()
    store.slots_model(request_id, slot_id_for(start), start=iso(start), end=iso(start + timedelta(hours=1)),
                      interviewers=[interviewer], expires_at=2_000_000_000).save()
    return store.get_request(request_id), slot_id_for(start)


def race(count: int, attempt: Any) -> tuple[list[Any], list[BaseException]]:
    wins: list[Any] = []
    losses: list[BaseException] = []
    barrier = threading.Barrier(count)
    lock = threading.Lock()

    def run(i: int) -> None:
        barrier.wait()
        try:
            result = attempt(i)
            with lock:
                wins.append(result)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted on
            with lock:
                losses.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return wins, losses


# -- the store ----------------------------------------------------------------------------------------------

def test_fifty_concurrent_attempts_on_one_slot_make_exactly_one_booking(store: SchedulingStore) -> None:
    request = make_request(store)
    slot = slot_id_for(datetime(2026, 3, 27, 8, tzinfo=UTC))
    store.slots(request.request_id)  # warm the connection before the race
    wins, losses = race(50, lambda i: store.book(request, slot, f"bk-same-{i}", buffer_minutes=15, now=NOW))
    assert len(wins) == 1, losses[:3]
    assert len(losses) == 49 and all(isinstance(e, Conflict) for e in losses)
    assert [b.booking_id for b in store.bookings_for(request.request_id)] == [wins[0].booking_id]
    assert store.get_slot(request.request_id, slot).booking_id == wins[0].booking_id


def test_fifty_candidates_racing_for_one_interviewers_hour_make_exactly_one_booking(store: SchedulingStore) -> None:
    at = datetime(2026, 3, 31, 8, tzinfo=UTC)
    requests_ = [make_request(store, interviewer="iv-race", starts=[at]) for _ in range(50)]
    wins, losses = race(50, lambda i: store.book(requests_[i], slot_id_for(at), f"bk-many-{i}", buffer_minutes=15,
                                                 now=NOW))
    assert len(wins) == 1, losses[:3]
    assert all(isinstance(e, SlotTaken) for e in losses)
    # a slot that overlaps the booked hour's trailing buffer is taken too; one after the buffer is free
    close = make_request(store, interviewer="iv-race", starts=[at + timedelta(minutes=60)])
    with pytest.raises(SlotTaken):
        store.book(close, slot_id_for(at + timedelta(minutes=60)), "bk-close", buffer_minutes=15, now=NOW)
    after = make_request(store, interviewer="iv-race", starts=[at + timedelta(minutes=75)])
    store.book(after, slot_id_for(at + timedelta(minutes=75)), "bk-after", buffer_minutes=15, now=NOW)


@pytest.mark.parametrize("mode", [Mode.ONSITE, Mode.REMOTE])
def test_two_requests_racing_to_book_for_one_candidate_and_role_give_one_booking(store: SchedulingStore,
                                                                                 mode: Mode) -> None:
    candidate = f"otys:77-{mode}"
    tabs = [legacy_request(store, candidate, "R-tabs", mode, f"iv-tab-{mode}-{i}") for i in range(2)]
    wins, losses = race(2, lambda i: store.book(tabs[i][0], tabs[i][1], f"bk-tab-{mode}-{i}", buffer_minutes=15,
                                                now=NOW))
    assert len(wins) == 1 and len(losses) == 1 and isinstance(losses[0], AlreadyBooked)
    # another role for the same candidate is fine
    other = make_request(store, candidate=candidate, role="R-other", mode=mode, panel=(f"iv-c-{mode}",))
    store.book(other, slot_id_for(datetime(2026, 3, 27, 8, tzinfo=UTC)), f"bk-other-role-{mode}", buffer_minutes=15,
               now=NOW)


def test_one_current_request_per_candidate_and_role(store: SchedulingStore) -> None:
    at = datetime(2026, 3, 27, 8, tzinfo=UTC)
    first = make_request(store, candidate="carerix:61", role="R-one", interviewer="iv-one-a", starts=[at])
    store.hold(first.request_id, slot_id_for(at), buffer_minutes=15, now_ms=int(NOW.timestamp() * 1000),
               ttl_seconds=600)
    n = next(_counter)
    second = InterviewRequest(f"rq-{n}-second", "carerix:61", "R-one", ("iv-one-b",), 60, Mode.REMOTE, NOW,
                              NOW + timedelta(days=14))
    slot = Slot(slot_id_for(at), at, at + timedelta(hours=1), ("iv-one-b",))
    opened = store.create_request(second, candidate_email="c@example.org", created_by="rec-1", template_id="invite",
                                  buffer_minutes=15, slots=[slot], now=NOW)
    assert opened == Opened(True, superseded=first.request_id)
    old = store.get_request(first.request_id)
    assert (old.status, old.superseded_by) == ("superseded", second.request_id)
    # the superseded request holds and books nothing any more
    with pytest.raises(Conflict):
        store.hold(first.request_id, slot_id_for(at), buffer_minutes=15, now_ms=int(NOW.timestamp() * 1000),
                   ttl_seconds=600)
    with pytest.raises(Conflict, match="replaced"):
        store.book(old, slot_id_for(at), "bk-superseded", buffer_minutes=15, now=NOW)
    assert store.release_hold(first.request_id) is not None  # the flow lets the old hold go (`stage._supersede`)
    # a redelivery of either changes nothing
    assert store.create_request(second, candidate_email="c@example.org", created_by="rec-1", template_id="invite",
                                buffer_minutes=15, slots=[slot], now=NOW) == Opened(False)
    booked = store.book(store.get_request(second.request_id), slot_id_for(at), "bk-one", buffer_minutes=15, now=NOW)
    # beside a confirmed booking no request opens, and nothing is written
    third = InterviewRequest(f"rq-{n}-third", "carerix:61", "R-one", ("iv-one-b",), 60, Mode.REMOTE, NOW,
                             NOW + timedelta(days=14))
    refused = store.create_request(third, candidate_email="c@example.org", created_by="rec-1", template_id="invite",
                                   buffer_minutes=15, slots=[slot], now=NOW)
    assert refused == Opened(False, refused_by=booked.booking_id)
    with pytest.raises(NotFound):
        store.get_request(third.request_id)
    assert store.get_request(second.request_id).status == "booked"
    # once the booking is cancelled, a new request opens (and supersedes nothing: the old one is not open)
    store.cancel(booked.booking_id, by="carerix:61", reason="candidate", now=NOW)
    assert store.create_request(third, candidate_email="c@example.org", created_by="rec-1", template_id="invite",
                                buffer_minutes=15, slots=[slot], now=NOW) == Opened(True)
    mine = [r for r in store.requests_for_candidate("carerix:61") if r.role_id == "R-one"]
    assert sorted(r.status for r in mine) == ["cancelled", "open", "superseded"]


def test_concurrent_stage_changes_leave_exactly_one_open_request(store: SchedulingStore) -> None:
    at = datetime(2026, 3, 30, 7, tzinfo=UTC)
    n = next(_counter)
    requests_ = [InterviewRequest(f"rq-{n}-race-{i}", "otys:race", "R-race", ("iv-rq-race",), 60, Mode.REMOTE, NOW,
                                  NOW + timedelta(days=14)) for i in range(8)]
    slots = [Slot(slot_id_for(at), at, at + timedelta(hours=1), ("iv-rq-race",))]
    wins, losses = race(8, lambda i: store.create_request(requests_[i], candidate_email="c@example.org",
                                                          created_by="rec-1", template_id="invite",
                                                          buffer_minutes=15, slots=slots, now=NOW))
    assert wins and all(isinstance(e, Conflict) for e in losses), losses[:3]
    stored = [r for r in store.requests_for_candidate("otys:race") if r.role_id == "R-race"]
    assert len(stored) == len([w for w in wins if w.created])
    assert sorted(r.status for r in stored) == ["open"] + ["superseded"] * (len(stored) - 1)
    # every request superseded was superseded by exactly one other, and the open one by none
    assert sorted(w.superseded for w in wins if w.superseded) == sorted(
        r.request_id for r in stored if r.status == "superseded")


def test_an_undeliverable_request_is_a_record_only(store: SchedulingStore) -> None:
    first = make_request(store, candidate="bullhorn:undeliverable", role="R-u")
    n = next(_counter)
    broken = InterviewRequest(f"rq-{n}-broken", "bullhorn:undeliverable", "R-u", ("iv-1",), 60, Mode.REMOTE, NOW,
                              NOW + timedelta(days=14))
    assert store.create_request(broken, candidate_email="x\n", created_by="rec-1", template_id="invite",
                                buffer_minutes=15, slots=[], now=NOW, status="undeliverable") == Opened(True)
    assert store.get_request(broken.request_id).status == "undeliverable"
    assert store.get_request(first.request_id).status == "open"  # not superseded by a record


def test_nothing_is_booked_or_moved_into_the_past_and_a_started_interview_stays(store: SchedulingStore) -> None:
    a, b = datetime(2026, 3, 27, 8, tzinfo=UTC), datetime(2026, 3, 30, 7, tzinfo=UTC)
    request = make_request(store, interviewer="iv-past", starts=[a, b])
    with pytest.raises(SlotTaken, match="passed"):
        store.book(request, slot_id_for(a), "bk-past", buffer_minutes=15, now=a + timedelta(minutes=1))
    booking = store.book(request, slot_id_for(b), "bk-future", buffer_minutes=15, now=NOW)
    with pytest.raises(SlotTaken, match="passed"):  # moving it to a time that has passed
        store.reschedule(booking.booking_id, slot_id_for(a), buffer_minutes=15, now=a + timedelta(hours=2))
    with pytest.raises(Conflict, match="started"):  # moving it once it has started
        store.reschedule(booking.booking_id, slot_id_for(a), buffer_minutes=15, now=b + timedelta(minutes=5))
    after = store.get_booking(booking.booking_id)
    assert (after.slot_id, int(after.sequence)) == (slot_id_for(b), 0)


def test_an_outcome_needs_a_standing_booking(store: SchedulingStore) -> None:
    request = make_request(store, interviewer="iv-outcome")
    with pytest.raises(Conflict, match="never booked"):
        store.set_outcome(request.request_id, "hired", "hm-1", NOW)
    booking = store.book(request, slot_id_for(datetime(2026, 3, 27, 8, tzinfo=UTC)), "bk-outcome", buffer_minutes=15,
                         now=NOW)
    store.cancel(booking.booking_id, by="x", reason="candidate", now=NOW)
    with pytest.raises(Conflict, match="cancelled"):
        store.set_outcome(request.request_id, "hired", "hm-1", NOW)
    assert store.get_request(request.request_id).outcome is None
    kept = make_request(store, interviewer="iv-outcome-2")
    store.book(kept, slot_id_for(datetime(2026, 3, 27, 8, tzinfo=UTC)), "bk-outcome-2", buffer_minutes=15, now=NOW)
    assert store.set_outcome(kept.request_id, "hired", "hm-1", NOW).status == "closed"
    with pytest.raises(Conflict, match="already recorded"):
        store.set_outcome(kept.request_id, "hired", "hm-1", NOW)


def test_a_hold_blocks_others_until_it_expires(store: SchedulingStore) -> None:
    at = datetime(2026, 4, 1, 8, tzinfo=UTC)
    mine = make_request(store, interviewer="iv-hold", starts=[at])
    theirs = make_request(store, interviewer="iv-hold", starts=[at])
    now_ms = int(NOW.timestamp() * 1000)
    held = store.hold(mine.request_id, slot_id_for(at), buffer_minutes=15, now_ms=now_ms, ttl_seconds=600)
    with pytest.raises(SlotTaken):
        store.hold(theirs.request_id, slot_id_for(at), buffer_minutes=15, now_ms=now_ms + 1000, ttl_seconds=600)
    with pytest.raises(SlotTaken):
        store.book(theirs, slot_id_for(at), "bk-thief", buffer_minutes=15, now=NOW + timedelta(minutes=5))
    assert store.expired_holds(now_ms + 1000) == []
    expired = store.expired_holds(held.held_until_ms + 1)
    assert [h.request_id for h in expired] == [mine.request_id]
    # after expiry someone else may take it, even before the sweeper ran
    later = NOW + timedelta(minutes=11)
    store.book(theirs, slot_id_for(at), "bk-after-expiry", buffer_minutes=15, now=later)
    with pytest.raises(Conflict):
        store.book(mine, slot_id_for(at), "bk-too-late", buffer_minutes=15, now=later)
    assert store.release_hold(mine.request_id) is not None  # the sweeper's work: hold record gone
    assert store.get_hold(mine.request_id) is None


def test_cancel_frees_the_slot_guard_and_interviewer_time(store: SchedulingStore) -> None:
    at = datetime(2026, 4, 2, 8, tzinfo=UTC)
    first = make_request(store, candidate="carerix:5", role="R-c", mode=Mode.ONSITE, interviewer="iv-cancel",
                         starts=[at])
    booking = store.book(first, slot_id_for(at), "bk-cancel-me", buffer_minutes=15, now=NOW)
    other = make_request(store, interviewer="iv-cancel", starts=[at])
    with pytest.raises(SlotTaken):
        store.book(other, slot_id_for(at), "bk-blocked", buffer_minutes=15, now=NOW)
    done = store.cancel(booking.booking_id, by="carerix:5", reason="candidate", now=NOW)
    assert done.status == "cancelled" and store.get_slot(first.request_id, slot_id_for(at)).booking_id is None
    assert store.get_request(first.request_id).status == "cancelled"
    with pytest.raises(Conflict):
        store.cancel(booking.booking_id, by="carerix:5", reason="again", now=NOW)
    store.book(other, slot_id_for(at), "bk-now-free", buffer_minutes=15, now=NOW)
    again = make_request(store, candidate="carerix:5", role="R-c", mode=Mode.ONSITE, interviewer="iv-cancel-2")
    store.book(again, slot_id_for(datetime(2026, 3, 27, 8, tzinfo=UTC)), "bk-rebook", buffer_minutes=15, now=NOW)


def test_reschedule_moves_the_booking_atomically_and_keeps_its_id(store: SchedulingStore) -> None:
    a, b = datetime(2026, 3, 27, 8, tzinfo=UTC), datetime(2026, 3, 27, 8, 30, tzinfo=UTC)  # overlapping blocks
    request = make_request(store, interviewer="iv-move", starts=[a, b, datetime(2026, 3, 30, 7, tzinfo=UTC)])
    booking = store.book(request, slot_id_for(a), "bk-move", buffer_minutes=15, now=NOW)
    moved = store.reschedule("bk-move", slot_id_for(b), buffer_minutes=15, now=NOW)
    assert moved.after.booking_id == booking.booking_id and int(moved.after.sequence) == 1
    assert store.get_slot(request.request_id, slot_id_for(a)).booking_id is None
    assert store.get_slot(request.request_id, slot_id_for(b)).booking_id == "bk-move"
    taken = store.taken_blocks(["iv-move"], a - timedelta(hours=1), a + timedelta(hours=3), 0)
    assert set(taken.values()) == {"bk-move"} and set(taken) == set(moved.after.blocks)
    with pytest.raises(BadRequest):
        store.reschedule("bk-move", slot_id_for(b), buffer_minutes=15, now=NOW)
    store.cancel("bk-move", by="x", reason="test", now=NOW)
    with pytest.raises(Conflict):
        store.reschedule("bk-move", slot_id_for(a), buffer_minutes=15, now=NOW)


# -- the flows, with the fake Graph and the fake HRIS over HTTP ---------------------------------------------

SECRET = b"test-link-secret-0123456789abcdef"


@dataclass
class Recorder:
    emails: list[Email] = field(default_factory=list)
    audit: list[tuple[str, str, str, dict[str, Any]]] = field(default_factory=list)
    facts: list[tuple[str, str, Action | str, dict[str, Any], str]] = field(default_factory=list)
    now: datetime = NOW

    def send(self, message: Email) -> str:
        self.emails.append(message)
        return f"m-{len(self.emails)}"

    def record(self, event: str, actor: str, subject: str, details: Any) -> int:
        self.audit.append((event, actor, subject, dict(details)))
        return len(self.audit)

    def submit(self, system: str, record_id: str, action: Action | str, call: dict[str, Any], entered_by: str) -> str:
        self.facts.append((system, record_id, action, call, entered_by))
        return f"p-{len(self.facts)}"

    def events(self) -> list[str]:
        return [a[0] for a in self.audit]


def settings_for(panel: tuple[str, ...]) -> Settings:
    return Settings.from_dict({
        "stages": {"bullhorn": ["Interview Scheduled"]},
        "roles": {"R-flow": {"panel": list(panel), "panel_size": 1, "duration_minutes": 60, "mode": "remote",
                             "window_days": 10, "hiring_managers": ["hm-1"], "recruiters": ["rec-1"]}},
        "templates": {
            "invite": {"subject": "Plan your interview", "text": "Choose a time: $link (before $deadline)",
                       "approved_by": "rec-1"},
            "nudge": {"subject": "Reminder: plan your interview", "text": "$link", "approved_by": "rec-1"},
            "reminder": {"subject": "Your interview", "text": "$when $link", "approved_by": "rec-1"}},
        "rules": {"step_minutes": 60, "buffer_minutes": 15, "min_notice_minutes": 60, "max_slots": 30},
        "hold_minutes": 10,
        "outcomes": {"bullhorn": {"hired": "Placed", "not_hired": "Not selected"}},
        "onboarding_template": {"template_id": "onb-1", "title": "Onboarding", "steps": ["Laptop", "Badge"]},
        "interviewer_emails": {**{iv: f"{iv}@agency.example" for iv in panel}, "hm-1": "hm-1@agency.example"},
    })


def flow_deps(store: SchedulingStore, graph: GraphFake, hris: HrisFake, rec: Recorder,
              panel: tuple[str, ...]) -> Deps:
    return Deps(
        store=store, calendar=GraphCalendar(**graph.credentials(), sleep=lambda s: None),
        send=rec.send, audit=rec.record, submit_fact=rec.submit, secret=SECRET, base_url="https://book.example",
        sender="noreply@agency.example", settings=settings_for(panel),
        hris=HrisClient(**hris.credentials(), sleep=lambda s: None), clock=lambda: rec.now)


def token_of(url: str) -> str:
    return url.rsplit("/", 1)[1].split("?")[0]


def test_stage_change_to_booking_reschedule_cancel_and_outcome(store: SchedulingStore, graph: GraphFake,
                                                               hris: HrisFake) -> None:
    panel = ("iv-f1", "iv-f2")
    graph.set_working_hours("iv-f2", tz="India Standard Time", start="10:00", end="18:00")
    graph.add_busy("iv-f1", datetime(2026, 3, 24, 8, tzinfo=UTC), datetime(2026, 3, 24, 16, tzinfo=UTC))
    rec = Recorder()
    deps = flow_deps(store, graph, hris, rec, panel)
    change = StageChange("bullhorn", "9001", "Interview Scheduled", "R-flow", "rec-1", "evt-1",
                         "cand@example.org", "America/New_York")
    assert on_stage_change(StageChange("bullhorn", "9001", "Screening", "R-flow", "rec-1", "e0",
                                       "cand@example.org"), deps) is None
    made = on_stage_change(change, deps)
    assert made is not None and made.link_sent and made.slots_offered > 0
    again = on_stage_change(change, deps)  # the webhook is redelivered
    assert again is not None and not again.created and len(rec.emails) == 1
    invite = rec.emails[0]
    assert invite.subject == "Plan your interview" and "https://book.example/book/" in invite.text
    token = token_of(invite.text.split("Choose a time: ")[1].split(" ")[0])

    page = pages.booking_endpoint("GET", token, {}, {}, deps)
    assert page.status == 200 and "Eastern" in str(page.body)  # the candidate's zone, named in their language
    view = booking_view(token, deps)
    first_slot = view.days[0][1][0]
    assert view.kind is PageKind.CHOOSE

    held = pages.booking_endpoint("POST", token, {"action": "hold", "slot": first_slot.slot_id}, {}, deps)
    assert held.status == 200 and "We are holding" in str(held.body)
    assert [e["status"] for e in graph.live_events()] == ["tentative"]
    assert graph.live_events()[0]["subject"].startswith("[Hold]")

    done = pages.booking_endpoint("POST", token, {"action": "confirm", "slot": first_slot.slot_id}, {}, deps)
    assert done.status == 303
    manage = token_of(done.headers["Location"])
    assert [e["status"] for e in graph.live_events()] == ["confirmed"]
    confirmation = rec.emails[-1]
    data = confirmation.attachments[0].data
    assert ics.lines_named(data, "SEQUENCE") == ["0"] and "METHOD:REQUEST" in ics.unfold(data)
    uid = ics.lines_named(data, "UID")

    # a second tab of the same candidate cannot book another time
    other = next(s for d in view.days for s in d[1] if s.slot_id != first_slot.slot_id)
    with pytest.raises(Conflict):
        confirm(token, other.slot_id, deps)

    # reschedule through the manage link: same booking id and UID, SEQUENCE 1, old hold events gone
    booked = booking_view(manage, deps)
    assert booked.kind is PageKind.BOOKED and booked.days
    new_slot = booked.days[-1][1][-1].slot_id
    hold(manage, new_slot, deps)
    moved = confirm(manage, new_slot, deps)
    assert moved.booking_id == booked.booking_id
    assert [e["status"] for e in graph.live_events()] == ["confirmed"]
    moved_ics = rec.emails[-1].attachments[0].data
    assert ics.lines_named(moved_ics, "UID") == uid and ics.lines_named(moved_ics, "SEQUENCE") == ["1"]
    # both the original booking link and the first manage link still work after the reschedule
    assert booking_view(manage, deps).booked == moved.booked
    assert booking_view(token, deps).booked == moved.booked
    download = pages.booking_endpoint("GET", manage, {}, {"format": "ics"}, deps)
    assert download.status == 200 and ics.lines_named(download.body, "SEQUENCE") == ["1"]

    # feedback by interviewers through their own links, role-checked reads
    booking = store.get_booking(moved.booking_id)
    interviewer = booking.interviewers[0]
    rec.now = datetime.fromisoformat(booking.end.replace("Z", "+00:00")) + timedelta(hours=3)
    fb_token = token_of(feedback_url(deps, booking, interviewer))
    assert feedback_pages.feedback_endpoint("POST", fb_token, {"recommendation": "yes", "rating": "4",
                                                               "notes": "Clear answers."},
                                            deps, name_of=lambda ref: "").status == 200
    assert read_feedback("hm-1", booking.booking_id, deps).entries[0].notes == "Clear answers."
    # the whole panel has answered: the hiring manager gets a personal link to read and decide
    complete = next(m for m in rec.emails if m.subject == "Interview feedback complete")
    assert complete.to == "hm-1@agency.example"
    assert complete.html and "/feedback-read/" in complete.html  # multipart, from the templates
    read_token = token_of(re.search(r"\S+/feedback-read/\S+", complete.text).group(0))  # type: ignore[union-attr]
    read_page = feedback_pages.feedback_read_endpoint(read_token, deps, name_of=lambda ref: "")
    assert read_page.status == 200 and "Record the outcome" in str(read_page.body)
    with pytest.raises(Forbidden):
        read_feedback("bullhorn:9001", booking.booking_id, deps)

    # the interview has taken place: the candidate can no longer cancel or move it, and is told whom to contact
    refused = pages.booking_endpoint("POST", manage, {"action": "cancel", "sure": "yes"}, {}, deps)
    assert refused.status == 409 and "Your interview has started" in str(refused.body)
    assert "can no longer be cancelled" in str(refused.body)
    assert store.get_booking(moved.booking_id).status == "confirmed"
    assert [e["status"] for e in graph.live_events("iv-f1") + graph.live_events("iv-f2")] == ["confirmed"]

    # the outcome, decided by a person, goes out as a status through submit_fact
    with pytest.raises(Forbidden):
        record_outcome(made.request.request_id, "hired", "iv-f1", deps)
    recorded = feedback_pages.feedback_read_endpoint(read_token, deps, "POST", {"outcome": "hired"},
                                                     name_of=lambda ref: "")
    assert recorded.status == 200 and "Outcome recorded: <strong>hired</strong>" in str(recorded.body)
    status_fact, onboarding_fact = rec.facts[-2:]
    assert status_fact[2] is Action.UPDATE_STATUS and status_fact[3]["body"] == {"status": "Placed"}
    assert status_fact[4] == "hm-1"  # the person who decided, as the fact's author
    # hired -> the HRIS onboarding task, as that person's fact for the HRIS's dispatcher (kill switch, shadow
    # mode and the cap apply); the flow itself never writes to the HRIS
    assert onboarding_fact[:3] == ("hris", "bullhorn:9001", "create_onboarding_task")
    assert onboarding_fact[3]["body"]["employeeRef"] == "bullhorn:9001" and onboarding_fact[4] == "hm-1"
    assert hris.tasks() == []
    with pytest.raises(Conflict):
        record_outcome(made.request.request_id, "hired", "hm-1", deps)

    for event in ("interview.requested", "booking.viewed", "slot.held", "interview.booked", "interview.rescheduled",
                  "feedback.submitted", "feedback.read", "feedback.read_denied", "interview.outcome_denied",
                  "interview.outcome"):
        assert event in rec.events(), event
    assert "interview.cancelled" not in rec.events()
    assert all("cand@example.org" not in str(a) for a in rec.audit)


def test_a_candidate_cancels_before_the_interview_and_it_gets_no_outcome(store: SchedulingStore, graph: GraphFake,
                                                                         hris: HrisFake) -> None:
    panel = ("iv-c1",)
    rec = Recorder()
    deps = flow_deps(store, graph, hris, rec, panel)
    made = on_stage_change(StageChange("bullhorn", "9002", "Interview Scheduled", "R-flow", "rec-1", "evt-c",
                                       "cand2@example.org"), deps)
    assert made is not None and made.link_sent
    token = token_of(rec.emails[-1].text.split("Choose a time: ")[1].split(" ")[0])
    slot = booking_view(token, deps).days[0][1][0]
    hold(token, slot.slot_id, deps)
    done = pages.booking_endpoint("POST", token, {"action": "confirm", "slot": slot.slot_id}, {}, deps)
    manage = token_of(done.headers["Location"])
    booking_id = store.get_request(made.request.request_id).booking_id

    # cancel from the link: events deleted, slot free, a note for the ATS through submit_fact
    cancelled = pages.booking_endpoint("POST", manage, {"action": "cancel", "sure": "yes"}, {}, deps)
    assert cancelled.status == 303
    assert graph.live_events("iv-c1") == [] and {e["status"] for e in graph.events("iv-c1")} == {"deleted"}
    assert store.get_booking(str(booking_id)).status == "cancelled"
    system, record_id, action, call, by = rec.facts[-1]
    assert (system, record_id, action, by) == ("bullhorn", "9002", Action.CREATE_NOTE, "bullhorn:9002")
    assert call["path"] == "/entity/Note"
    assert ics.lines_named(rec.emails[-1].attachments[0].data, "METHOD") == ["CANCEL"]

    # the time it would have had passes: a cancelled interview did not take place, so it has no outcome
    rec.now = slot.start_local.astimezone(UTC) + timedelta(hours=3)
    with pytest.raises(Conflict, match="did not take place"):
        record_outcome(made.request.request_id, "hired", "hm-1", deps)
    assert [f[2] for f in rec.facts] == [Action.CREATE_NOTE]
    assert not [t for t in hris.tasks() if t["employeeRef"] == "bullhorn:9002"]
    # the candidate's own cancellation opened the request again (they may rebook while the window is open)
    assert store.get_request(made.request.request_id).status == "open"
    for event in ("interview.booked", "interview.cancelled", "interview.outcome_refused"):
        assert event in rec.events(), event
    assert "interview.outcome" not in rec.events()


def test_tampered_and_expired_links_get_a_clear_4xx(store: SchedulingStore, graph: GraphFake,
                                                    hris: HrisFake) -> None:
    rec = Recorder()
    deps = flow_deps(store, graph, hris, rec, ("iv-x",))
    good = links.sign({"k": "book", "r": "rq-none"}, SECRET, 600, now_ms=int(NOW.timestamp() * 1000))
    tampered = good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")
    expired = links.sign({"k": "book", "r": "rq-none"}, SECRET, 1, now_ms=int(NOW.timestamp() * 1000) - 10_000)
    for token, status, text in ((tampered, 401, "not valid"), (expired, 410, "expired"), ("garbage", 401, "not valid"),
                                (good, 404, "Not found")):
        response = pages.booking_endpoint("GET", token, {}, {}, deps)
        assert response.status == status and text in str(response.body)
        assert token not in str(response.body) and "Traceback" not in str(response.body)
    feedback_token = links.sign({"k": "book", "r": "x"}, SECRET, 600, now_ms=int(NOW.timestamp() * 1000))
    assert feedback_pages.feedback_endpoint("GET", feedback_token, {}, deps).status == 401  # a booking link: not this
    with pytest.raises(Unauthorized):
        read_feedback_by_link(feedback_token, deps)


def test_holds_expire_and_their_calendar_events_go(store: SchedulingStore, graph: GraphFake,
                                                   hris: HrisFake) -> None:
    panel = ("iv-exp",)
    rec = Recorder()
    deps = flow_deps(store, graph, hris, rec, panel)
    made = on_stage_change(StageChange("bullhorn", "9100", "Interview Scheduled", "R-flow", "rec-1",
                                       "evt-exp", "c2@example.org"), deps)
    assert made is not None
    token = token_of(rec.emails[-1].text.split("Choose a time: ")[1].split(" ")[0])
    slot = booking_view(token, deps).days[0][1][0].slot_id
    hold(token, slot, deps)
    assert [e["status"] for e in graph.live_events("iv-exp")] == ["tentative"]
    rec.now = NOW + timedelta(minutes=11)
    assert expire_holds(deps) == 1
    assert graph.live_events("iv-exp") == []
    assert "slot.hold_expired" in rec.events()


def test_a_meeting_added_after_the_offer_wins_at_hold_time(store: SchedulingStore, graph: GraphFake,
                                                          hris: HrisFake) -> None:
    panel = ("iv-late",)
    rec = Recorder()
    deps = flow_deps(store, graph, hris, rec, panel)
    made = on_stage_change(StageChange("bullhorn", "9200", "Interview Scheduled", "R-flow", "rec-1",
                                       "evt-late", "c3@example.org"), deps)
    assert made is not None
    token = token_of(rec.emails[-1].text.split("Choose a time: ")[1].split(" ")[0])
    slots = [s for day in booking_view(token, deps).days for s in day[1]]
    first, later = slots[0], slots[-1]
    start = first.start_local.astimezone(UTC)
    graph.add_busy("iv-late", start, start + timedelta(minutes=60))  # another meeting, accepted meanwhile
    refused = pages.booking_endpoint("POST", token, {"action": "hold", "slot": first.slot_id}, {}, deps)
    assert refused.status == 409 and "just been taken" in str(refused.body)
    assert graph.live_events("iv-late") == []
    held = pages.booking_endpoint("POST", token, {"action": "hold", "slot": later.slot_id}, {}, deps)
    assert held.status == 200 and [e["status"] for e in graph.live_events("iv-late")] == ["tentative"]


def test_a_cancellation_from_the_ats_cancels_here_and_writes_nothing_back(store: SchedulingStore, graph: GraphFake,
                                                                          hris: HrisFake) -> None:
    """Issue 11, item 2: the ATS is the actor (`ats:<system>`), who it says did it is only its claim, and the
    cancellation it reports is done here (calendar, candidate, audit) without a note back into that ATS."""
    rec = Recorder()
    deps = flow_deps(store, graph, hris, rec, ("iv-atsc",))
    change = StageChange("bullhorn", "9300", "Interview Scheduled", "R-flow", "ats:bullhorn", "evt-atsc",
                         "c4@example.org", claimed_by="anna")
    made = on_stage_change(change, deps)
    assert made is not None and made.created
    requested = next(a for a in rec.audit if a[0] == "interview.requested" and a[2] == made.request.request_id)
    assert requested[1] == "ats:bullhorn" and requested[3]["claimed_by"] == "anna"
    assert store.get_request(made.request.request_id).created_by == "ats:bullhorn"
    token = token_of(rec.emails[-1].text.split("Choose a time: ")[1].split(" ")[0])
    slot = booking_view(token, deps).days[0][1][0].slot_id
    hold(token, slot, deps)
    booked = confirm(token, slot, deps)
    assert [e["status"] for e in graph.live_events("iv-atsc")] == ["confirmed"]

    touched = cancel_from_ats("bullhorn", "9300", "R-flow", "ats:bullhorn", deps, claimed_by="anna")
    assert touched == [booked.booking_id]
    assert rec.facts == []  # nothing for the dispatcher: the ATS knows, and no person entered anything
    assert store.get_booking(booked.booking_id).status == "cancelled"
    assert graph.live_events("iv-atsc") == []
    assert rec.emails[-1].to == "c4@example.org"
    assert ics.lines_named(rec.emails[-1].attachments[0].data, "METHOD") == ["CANCEL"]
    cancelled = next(a for a in rec.audit if a[0] == "interview.cancelled" and a[2] == booked.booking_id)
    assert cancelled[1] == "ats:bullhorn" and cancelled[3]["claimed_by"] == "anna" and cancelled[3]["reason"] == "ats"
    assert all(a[1] != "anna" for a in rec.audit)  # the claim never became an actor


def test_nudges_are_sent_once_and_stop_at_the_bound(store: SchedulingStore, graph: GraphFake, hris: HrisFake) -> None:
    rec = Recorder()
    deps = flow_deps(store, graph, hris, rec, ("iv-nudge",))
    on_stage_change(StageChange("bullhorn", "9200", "Interview Scheduled",
                                "R-flow", "rec-1", "evt-n", "c3@example.org"), deps)
    rec.now = NOW + timedelta(hours=49)
    first = send_due(deps)
    assert first["candidate_nudge"] >= 1
    assert send_due(deps)["candidate_nudge"] == 0  # claimed: not sent twice
    rec.now = NOW + timedelta(hours=97)
    send_due(deps)
    rec.now = NOW + timedelta(hours=200)
    send_due(deps)
    nudges = [a for a in rec.audit if a[0] == "interview.nudged" and a[2].startswith("rq_")]
    mine = [a for a in nudges if a[2] == request_id_for(StageChange(
        "bullhorn", "9200", "Interview Scheduled", "R-flow", "rec-1", "evt-n", "c3@example.org"))]
    assert [a[3]["nudge"] for a in mine] == [1, 2]


# -- the HTTP clients against the fakes -------------------------------------------------------------------

def test_graph_client_token_free_busy_and_event_lifecycle(graph: GraphFake) -> None:
    sleeps: list[float] = []
    client = GraphCalendar(**graph.credentials(), sleep=sleeps.append)
    graph.set_working_hours("iv-g", tz="India Standard Time", start="10:00", end="18:00",
                            days=["monday", "tuesday"])
    start, end = datetime(2026, 3, 30, tzinfo=UTC), datetime(2026, 4, 6, tzinfo=UTC)
    graph.add_busy("iv-g", datetime(2026, 3, 30, 5, tzinfo=UTC), datetime(2026, 3, 30, 6, tzinfo=UTC))
    event_id = client.create_hold("iv-g", datetime(2026, 3, 30, 7, tzinfo=UTC), datetime(2026, 3, 30, 8, tzinfo=UTC),
                                  "Interview, role R-1", "ref-1")
    assert client.create_hold("iv-g", datetime(2026, 3, 30, 7, tzinfo=UTC), datetime(2026, 3, 30, 8, tzinfo=UTC),
                              "Interview, role R-1", "ref-1") == event_id  # transactionId: no duplicate on retry
    cal = client.availability(["iv-g"], start, end)["iv-g"]
    assert cal.hours == WorkingHours("Asia/Kolkata", time(10), time(18), frozenset({0, 1}))
    assert [(b.start.hour, b.end.hour) for b in cal.busy] == [(5, 6), (7, 8)]  # the tentative hold counts as busy
    graph.fail_next(429, count=2, path_contains="/events/", retry_after=0.01)
    client.confirm("iv-g", event_id, "Interview, role R-1")
    assert sleeps == [0.01, 0.01]
    assert [(e["status"], e["subject"]) for e in graph.live_events("iv-g")] == [("confirmed", "Interview, role R-1")]
    graph.expire_tokens()  # a 401 fetches a new token once
    client.delete("iv-g", event_id)
    client.delete("iv-g", event_id)  # already gone: fine
    assert [e["status"] for e in graph.events("iv-g")] == ["deleted"]
    graph.fail_next(503, count=10, path_contains="getSchedule")
    with pytest.raises(CalendarUnavailable):
        client.availability(["iv-g"], start, end)
    graph.fail_next(503, count=0)
    bad = GraphCalendar(**{**graph.credentials(), "client_secret": "wrong"})
    with pytest.raises(Unauthorized):
        bad.availability(["iv-g"], start, end)
    assert requests.post(f"{graph.url}/v1.0/users/x/events", json={}, timeout=5).status_code == 401


def test_hris_client_creates_one_task_per_key_and_waits_out_throttling(hris: HrisFake) -> None:
    sleeps: list[float] = []
    client = HrisClient(**hris.credentials(), sleep=sleeps.append)
    template = TaskTemplate("onb-2", "Onboarding", ("Contract", "Laptop"), due_days=10)
    hris.fail_next(429, count=1, retry_after=0.02)
    task = client.create_onboarding_task(template, "otys:1", start=datetime(2026, 4, 1).date(), idempotency_key="k-1")
    same = client.create_onboarding_task(template, "otys:1", start=datetime(2026, 4, 1).date(), idempotency_key="k-1")
    assert task.task_id == same.task_id and sleeps == [0.02]
    assert client.get_task(task.task_id).raw["dueDate"] == "2026-04-11"
    assert len([t for t in hris.tasks() if t["employeeRef"] == "otys:1"]) == 1
    with pytest.raises(Unauthorized):
        HrisClient(base_url=hris.url, api_key="nope").get_task(task.task_id)


def test_hris_client_sends_a_dispatched_onboarding_call_once_per_key(hris: HrisFake) -> None:
    from foureyes.scheduling.hris import onboarding_call

    client = HrisClient(**hris.credentials(), sleep=lambda s: None)
    call = onboarding_call(TaskTemplate("onb-3", "Onboarding"), "carerix:5", start=datetime(2026, 4, 1).date(),
                           idempotency_key="onboarding:rq-5")
    first, again = client.execute(call), client.execute(call)  # the dispatcher sending it again after a stop
    assert first.created == again.created and first.inverse == {}
    assert len([t for t in hris.tasks() if t["employeeRef"] == "carerix:5"]) == 1


def test_a_request_cancelled_by_its_candidate_opens_again_once_for_a_new_booking(store: SchedulingStore) -> None:
    at = datetime(2026, 3, 30, 7, tzinfo=UTC)
    n = next(_counter)
    request = InterviewRequest(f"rq-{n}-again", "otys:again", "R-again", ("iv-again",), 60, Mode.REMOTE, NOW,
                               NOW + timedelta(days=14))
    slots = [Slot(slot_id_for(at + timedelta(days=d)), at + timedelta(days=d), at + timedelta(days=d, hours=1),
                  ("iv-again",)) for d in (0, 1)]
    store.create_request(request, candidate_email="c@example.org", created_by="rec-1", template_id="invite",
                         buffer_minutes=15, slots=slots, now=NOW)
    first = store.book(store.get_request(request.request_id), slots[0].slot_id, f"bk-{n}-a", buffer_minutes=15,
                       now=NOW)
    store.cancel(first.booking_id, by="otys:again", reason="candidate", now=NOW)
    kept = store.get_request(request.request_id).expires_at
    assert not store.reopen_request(request.request_id, "bk-someone-else", nudges_sent=2)  # only its own booking
    assert store.reopen_request(request.request_id, first.booking_id, nudges_sent=2)
    assert not store.reopen_request(request.request_id, first.booking_id, nudges_sent=2)  # once
    reopened = store.get_request(request.request_id)
    assert (reopened.status, reopened.booking_id, int(reopened.nudges_sent)) == ("open", first.booking_id, 2)
    assert reopened.expires_at == kept  # still the retention after the cancellation
    second = store.book(reopened, slots[0].slot_id, f"bk-{n}-b", buffer_minutes=15, now=NOW)  # the freed time
    assert store.get_request(request.request_id).booking_id == second.booking_id
