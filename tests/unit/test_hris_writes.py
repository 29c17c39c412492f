"""The HRIS write (a hire's onboarding task) goes the guarded way every ATS write goes: recorded as the deciding
person's fact, sent only by the HRIS's dispatcher, so a pause parks it (sent after the unpause), shadow mode
records it, and a stopped attempt is sent again under the same idempotency key."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, NoReturn

from foureyes.dispatch import dispatcher, facts
from foureyes.model import Action
from foureyes.scheduling import hris
from foureyes.scheduling.deps import Deps
from foureyes.scheduling.outcome import record_outcome
from foureyes.scheduling.settings import RolePlan, Settings
from foureyes.store.models import DispatchItem
from tests.support.memory import (
    DIRECTORY,
    Clock,
    MemoryCounters,
    MemoryDispatches,
    MemoryProposals,
    MemorySwitches,
    memory_trail,
)

TEMPLATE = hris.TaskTemplate("onb-1", "Onboarding", ("Laptop", "Badge"))


class Reply:
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status_code, self._body, self.headers = status, body, {}

    def json(self) -> dict[str, Any]:
        return self._body


class FakeHrisApi:
    """The HRIS's HTTP API as `HrisClient` talks to it (a `requests.Session` stand-in): one task per key."""

    def __init__(self) -> None:
        self.tasks: dict[str, dict[str, Any]] = {}
        self.posts: list[str] = []

    def request(self, method: str, url: str, json: Any = None, headers: Any = None, timeout: Any = None) -> Reply:
        key = headers["Idempotency-Key"]
        self.posts.append(key)
        if key in self.tasks:
            return Reply(200, self.tasks[key])
        self.tasks[key] = {"id": f"task-{len(self.tasks) + 1}", "status": "open", **json}
        return Reply(201, self.tasks[key])


class World:
    def __init__(self, *, paused: bool = False, shadow: bool = False) -> None:
        self.api = FakeHrisApi()
        self.client = hris.HrisClient(base_url="https://hris.example", api_key="k", session=self.api)  # type: ignore[arg-type]
        self.proposals, self.dispatches, self.counters = MemoryProposals(), MemoryDispatches(), MemoryCounters()
        self.switches = MemorySwitches(paused=paused, shadow=shadow, caps={hris.SYSTEM: 5})
        self.trail, self.rows = memory_trail()
        self.clock = Clock()
        self.dispatch_deps = dispatcher.Deps(self.proposals, self.dispatches, self.counters, self.switches, self.trail,
                                             client_for=lambda system: self.client, clock=self.clock,
                                             people=lambda: DIRECTORY)
        self.handed: list[tuple[str, str]] = []
        self.fact_deps = facts.Deps(self.proposals, self.trail, self.hand_over, clock=self.clock,
                                    people=lambda: DIRECTORY)

    def hand_over(self, system: str, proposal_id: str) -> bool:
        self.handed.append((system, proposal_id))
        dispatcher.dispatch(proposal_id, system, self.dispatch_deps)
        return True

    def submit(self, system: str, record_id: str, action: Action | str, call: Any, entered_by: str) -> str:
        return facts.submit_fact(system, record_id, action, call, entered_by, self.fact_deps)

    def events(self) -> list[str]:
        return [row.event for row in self.rows.in_order()]


def _hire(world: World) -> str:
    call = hris.onboarding_call(TEMPLATE, "bullhorn:42", start=datetime(2026, 4, 1).date(),
                                idempotency_key="onboarding:rq_1")
    return world.submit(hris.SYSTEM, "bullhorn:42", hris.CREATE_ONBOARDING_TASK, call, "hm-1")


def test_while_paused_the_onboarding_task_is_parked_and_created_after_the_unpause() -> None:
    world = World(paused=True)
    write = _hire(world)
    assert world.api.posts == []
    assert world.proposals.get(write).status == "parked"  # type: ignore[union-attr]
    assert world.events() == ["fact.entered", "dispatch.refused", "dispatch.parked"]
    world.switches.is_paused = False  # unpaused: the retry hands it back
    assert dispatcher.dispatch(write, hris.SYSTEM, world.dispatch_deps).status == "executed"
    assert [t["employeeRef"] for t in world.api.tasks.values()] == ["bullhorn:42"]
    assert world.dispatches.items[write].receipt["created"] == ["task-1"]


def test_in_shadow_mode_the_onboarding_task_is_recorded_not_sent() -> None:
    world = World(shadow=True)
    write = _hire(world)
    assert world.api.posts == [] and world.dispatches.items[write].mode == "shadow"
    assert world.dispatches.items[write].call["body"]["templateId"] == "onb-1"


def test_a_stopped_onboarding_write_is_sent_again_under_its_key_and_creates_one_task() -> None:
    world = World()
    write = _hire(world)
    assert len(world.api.tasks) == 1
    # As if that attempt had stopped right after the HRIS answered, before recording its end:
    world.dispatches.items[write] = DispatchItem(write, system=hris.SYSTEM, mode="live", status="in_progress",
                                                 call=world.dispatches.items[write].call,
                                                 at="2026-12-02T08:50:00+00:00")
    world.proposals.set_status(write, "approved", "")
    deps = replace(world.dispatch_deps, in_doubt_after=dispatcher.CLOCK_MARGIN * 7)
    assert dispatcher.dispatch(write, hris.SYSTEM, deps).status == "executed"
    assert world.api.posts == ["onboarding:rq_1", "onboarding:rq_1"] and len(world.api.tasks) == 1


# -- the outcome flow hands the HRIS write to the dispatcher, never to the HRIS itself ---------------------


def unused(*args: Any, **kwargs: Any) -> NoReturn:
    raise AssertionError("not used here")


@dataclass
class FakeRequest:
    request_id: str = "rq_1"
    role_id: str = "R-1"
    system: str = "bullhorn"
    candidate_ref: str = "bullhorn:42"
    status: str = "booked"
    booking_id: str = "bk_1"
    outcome: str | None = None


@dataclass
class FakeBooking:
    """The interview took place: confirmed, and it started before the outcome is recorded."""

    booking_id: str = "bk_1"
    status: str = "confirmed"
    start: str = "2026-03-31T09:00:00Z"


class FakeStore:
    def __init__(self) -> None:
        self.outcomes: list[str] = []

    def get_request(self, request_id: str) -> FakeRequest:
        return FakeRequest()

    def get_booking(self, booking_id: str) -> FakeBooking:
        return FakeBooking()

    def set_outcome(self, request_id: str, outcome: str, decided_by: str, at: datetime) -> None:
        self.outcomes.append(outcome)

    def clear_outcome(self, *args: Any) -> None:
        raise AssertionError("not cleared here")


class DirectHris:
    """An HRIS client the outcome flow must not call itself (only the dispatcher sends HRIS writes)."""

    create_onboarding_task = unused


def test_a_hire_sends_its_onboarding_task_as_a_fact_through_the_dispatcher() -> None:
    submitted: list[tuple[str, str, str, dict[str, Any], str]] = []

    def submit(system: str, record_id: str, action: Action | str, call: Any, entered_by: str) -> str:
        submitted.append((system, record_id, str(action), dict(call), entered_by))
        return f"fact-{len(submitted)}"

    settings = Settings(stages={}, roles={"R-1": RolePlan("R-1", panel=("iv-1",), hiring_managers=("hm-1",))},
                        templates={}, outcomes={"bullhorn": {"hired": "Placed"}}, onboarding=TEMPLATE)
    deps = Deps(store=FakeStore(), calendar=unused, send=unused, audit=lambda *a: 1, submit_fact=submit,  # type: ignore[arg-type]
                secret=b"k" * 32, base_url="https://x", sender="s@x", settings=settings, hris=DirectHris(),  # type: ignore[arg-type]
                clock=lambda: datetime(2026, 4, 1, tzinfo=UTC))
    result = record_outcome("rq_1", "hired", "hm-1", deps)
    assert [(s, r, a, by) for s, r, a, _c, by in submitted] == [
        ("bullhorn", "42", "update_status", "hm-1"), ("hris", "bullhorn:42", "create_onboarding_task", "hm-1")]
    hris_call = submitted[1][3]
    assert hris_call["body"]["employeeRef"] == "bullhorn:42" and hris_call["idempotency_key"] == "onboarding:rq_1"
    assert result.onboarding_task == "fact-2"


def test_a_fact_whose_hand_over_fails_waits_approved_for_the_retry() -> None:
    world = World()

    def broken(system: str, proposal_id: str) -> bool:
        raise ConnectionError("lambda invoke failed")

    world.fact_deps = replace(world.fact_deps, hand_over=broken)
    write = _hire(world)
    assert world.proposals.get(write).status == "approved"  # type: ignore[union-attr]
    assert world.api.posts == []
