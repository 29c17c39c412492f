"""The dispatcher ends every attempt in a recorded, counted outcome, never in a kill that records nothing:

- the handler hands the invocation's time left to the domain; every call to the target keeps a deadline that
  much earlier than the kill, less a margin to record the outcome (`foureyes.outbound`);
- a wait before a retry that could not finish before the deadline is not made: `OutOfTime`;
- a write cut short by the deadline is failed in doubt (or parked for a resend when its idempotency key makes
  that harmless) and counted in `DispatchErrors`;
- an attempt Lambda killed anyway (its marker left `in_progress`) is counted as one failed attempt, once, by
  the attempt that settles it.

In-memory repositories and recording clients; the handler runs as Lambda runs it and its EMF lines are read.
The same over real HTTP against the fake ATSes: `integration/test_ats_deadlines.py`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import timedelta
from typing import Any

import pytest

from foureyes import outbound
from foureyes.ats.calls import Landed, Receipt
from foureyes.dispatch import dispatcher
from foureyes.errors import AtsWriteFailed, DispatchInDoubt, OutOfTime
from foureyes.scheduling import hris
from foureyes.store.models import DispatchItem, ProposalItem
from tests.support.handlers import LambdaContext, emf_metrics, load_handler
from tests.support.memory import (
    DIRECTORY,
    Clock,
    MemoryCounters,
    MemoryDispatches,
    MemoryProposals,
    MemorySwitches,
    memory_trail,
)

CALL = {"jsonrpc": "2.0", "method": "m", "params": ["7", {}]}
RESENDABLE = {"hris": "create_onboarding_task", "body": {"employeeRef": "otys:7"}, "idempotency_key": "onboarding:r1"}
STOPPED = "2026-12-02T08:50:00+00:00"  # ten minutes before the world's clock: that attempt is long over


class Client:
    """A target that answers, fails with `fail`, or reports the deadline it was called under (`time_left`)."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.fail = fail
        self.sent: list[Mapping[str, Any]] = []
        self.time_left: list[float | None] = []

    def execute(self, call: Mapping[str, Any]) -> Receipt:
        self.time_left.append(outbound.time_left())
        if self.fail is not None:
            raise self.fail
        self.sent.append(call)
        return Receipt(dict(call), [{"ok": True}], [None], {}, {})


class World:
    def __init__(self, client: Client | None = None) -> None:
        self.proposals, self.dispatches, self.counters = MemoryProposals(), MemoryDispatches(), MemoryCounters()
        self.trail, self.rows = memory_trail()
        self.client = client or Client()
        self.found = Landed.NO
        self.deps = dispatcher.Deps(self.proposals, self.dispatches, self.counters,
                                    MemorySwitches(shadow=False, caps={"otys": 50}), self.trail,
                                    client_for=lambda system: self.client, clock=Clock(), people=lambda: DIRECTORY,
                                    in_doubt_after=timedelta(seconds=185),
                                    read_back=lambda system, client, call: self.found)

    def approved(self, payload: Mapping[str, Any] = CALL, proposal_id: str = "p1") -> ProposalItem:
        item = ProposalItem(proposal_id, pair_key=f"otys:1|otys:{proposal_id}", status="approved",
                            proposed_at="2026-12-01T09:00:00+00:00", system="otys", action="tag_duplicate",
                            refs=["otys:1", "otys:2"], payload=dict(payload), confidence=0.9, reasoning="same e-mail",
                            evidence=["email"], reviewed_by="anna", review_decision="approve", approved_by="bram",
                            approval_decision="approve")
        self.proposals.create(item)
        return item

    def killed_mid_write(self, payload: Mapping[str, Any] = CALL, at: str = STOPPED) -> None:
        """An approved write whose attempt took a slot, wrote its marker and was killed by Lambda's timeout."""
        self.approved(payload)
        self.counters.add("dispatch-cap#otys#2026-12-02", 1)
        self.dispatches.put(DispatchItem("p1", system="otys", mode="live", status="in_progress", call=dict(payload),
                                         at=at))

    def proposal(self, proposal_id: str = "p1") -> ProposalItem:
        item = self.proposals.get(proposal_id)
        assert item is not None
        return item

    def events(self) -> list[str]:
        return [row.event for row in self.rows.in_order()]

    def slots_taken(self) -> int:
        return self.counters.values(("dispatch-cap#",)).get("dispatch-cap#otys#2026-12-02", 0)


# -- the deadline itself --------------------------------------------------------------------------------


class Ticks:
    """A monotonic clock that moves only when something sleeps on it."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_without_a_deadline_every_wait_is_made_as_asked() -> None:
    ticks = Ticks()
    outbound.pause(45.0, ticks.sleep, "a wait")
    assert ticks.slept == [45.0] and outbound.time_left() is None


def test_a_wait_whose_retry_could_not_finish_before_the_deadline_is_not_made() -> None:
    ticks = Ticks()
    with outbound.within(outbound.Deadline.after(5.0, clock=ticks)):
        outbound.pause(2.0, ticks.sleep, "the first retry")  # 2 s wait + 1 s attempt fit in 5 s
        with pytest.raises(OutOfTime, match="the second retry"):
            outbound.pause(2.5, ticks.sleep, "the second retry")  # 2.5 + 1 > the 3 s left: not waited for
    assert ticks.slept == [2.0]


def test_the_rate_limiter_does_not_wait_past_the_deadline() -> None:
    ticks = Ticks()
    limiter = outbound.RateLimiter(1, 60.0, clock=ticks, sleep=ticks.sleep)
    limiter.acquire()
    with outbound.within(outbound.Deadline.after(30.0, clock=ticks)), pytest.raises(OutOfTime):
        limiter.acquire()  # the next slot is 60 s away
    assert ticks.slept == []


class Throttled:
    """The HRIS's API as a `requests.Session` stand-in that answers 429 with `Retry-After: 2`, every time."""

    def __init__(self) -> None:
        self.requests = 0

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        self.requests += 1
        return type("Reply", (), {"status_code": 429, "headers": {"Retry-After": "2"}})()


def test_a_throttling_hris_is_retried_only_while_a_retry_still_fits() -> None:
    ticks, api = Ticks(), Throttled()
    client = hris.HrisClient(base_url="https://hris.example", api_key="k", session=api,  # type: ignore[arg-type]
                             sleep=ticks.sleep, max_attempts=10)
    call = hris.onboarding_call(hris.TaskTemplate("onb-1", "Onboarding"), "otys:7", start=Clock()().date(),
                                idempotency_key="onboarding:r1")
    with outbound.within(outbound.Deadline.after(5.0, clock=ticks)), pytest.raises(OutOfTime):
        client.execute(call)
    assert (api.requests, ticks.slept) == (3, [2.0, 2.0])  # at 4 s the next 2 s wait and attempt no longer fit


# -- the dispatcher: a write cut short by the deadline ---------------------------------------------------


def test_the_dispatch_keeps_a_deadline_a_recording_margin_before_the_invocations_end() -> None:
    world = World()
    world.approved()
    assert dispatcher.dispatch("p1", "otys", world.deps, time_left_ms=40_000).status == "executed"
    (left,) = world.client.time_left
    assert left is not None and 29.0 < left <= 40 - dispatcher.RECORDING_MARGIN.total_seconds()
    assert outbound.time_left() is None  # the deadline ends with the dispatch
    world.approved(proposal_id="p2")
    dispatcher.dispatch("p2", "otys", world.deps)
    assert world.client.time_left[-1] is None  # no time given (a test, a script): no deadline


def test_a_write_cut_short_by_the_deadline_is_failed_in_doubt_and_counted() -> None:
    world = World(Client(fail=OutOfTime("Bullhorn 429 on POST entity/Candidate/7: 2.0 s left")))
    world.approved()
    with pytest.raises(AtsWriteFailed, match="ran out of time") as raised:
        dispatcher.dispatch("p1", "otys", world.deps, time_left_ms=15_000)
    assert raised.value.attempts == 1
    assert world.proposal().status == "failed" and "in doubt" in str(world.proposal().outcome)
    assert world.dispatches.items["p1"].status == "failed"
    assert world.events() == ["dispatch.in_doubt"]
    assert world.slots_taken() == 1  # it may have been written: the slot is not given back
    world.client.fail = None  # a retried task does not send it again blindly: a person checks the ATS first
    again = dispatcher.dispatch("p1", "otys", world.deps, time_left_ms=15_000)
    assert (again.status, again.attempts, world.client.sent) == ("failed", 0, [])


def test_a_resendable_write_cut_short_is_parked_for_the_resend_and_still_counted() -> None:
    world = World(Client(fail=OutOfTime("the HRIS (503): 1.5 s left")))
    world.approved(RESENDABLE)
    outcome = dispatcher.dispatch("p1", "otys", world.deps, time_left_ms=15_000)
    assert (outcome.status, outcome.attempts, outcome.errors) == ("parked", 1, 1)
    assert world.proposal().status == "parked" and world.slots_taken() == 0
    world.client.fail = None  # the retry sends it again, under the same key
    again = dispatcher.dispatch("p1", "otys", world.deps, time_left_ms=15_000)
    assert (again.status, again.attempts, again.errors) == ("executed", 1, 0)
    assert world.client.sent == [RESENDABLE]


# -- an attempt Lambda killed anyway is counted once, when it is settled ---------------------------------


@pytest.mark.parametrize(("found", "status", "attempts", "errors", "sent"), [
    (Landed.YES, "executed", 1, 1, 0),  # it went through: only the killed attempt counts (as failed)
    (Landed.NO, "executed", 2, 1, 1),  # nothing landed: sent again, and that send counts too
    (Landed.UNKNOWN, "failed", 1, 1, 0),  # for a person to check
])
def test_a_killed_attempt_counts_as_one_failed_attempt_when_it_is_settled(
        found: Landed, status: str, attempts: int, errors: int, sent: int) -> None:
    world = World()
    world.found = found
    world.killed_mid_write()
    outcome = dispatcher.dispatch("p1", "otys", world.deps)
    assert (outcome.status, outcome.attempts, outcome.errors, len(world.client.sent)) == (status, attempts, errors,
                                                                                          sent)
    again = dispatcher.dispatch("p1", "otys", world.deps)  # settled: counted once, never again
    assert (again.status, again.attempts, again.errors) == (status, 0, 0)


def test_a_killed_attempt_still_within_its_time_is_neither_settled_nor_counted() -> None:
    world = World()
    world.killed_mid_write(at="2026-12-02T08:59:00+00:00")  # a minute ago: it may still be running
    with pytest.raises(DispatchInDoubt):
        dispatcher.dispatch("p1", "otys", world.deps)
    assert world.dispatches.items["p1"].status == "in_progress"


def test_a_failed_resend_of_a_killed_attempt_counts_both() -> None:
    world = World(Client(fail=ValueError("enum changed")))
    world.killed_mid_write()
    with pytest.raises(AtsWriteFailed) as raised:
        dispatcher.dispatch("p1", "otys", world.deps)
    assert raised.value.attempts == 2
    assert world.events() == ["dispatch.resolved", "dispatch.failed"]


# -- the handler: the time it hands down, and the metrics the kill switch's alarm reads --------------------


@pytest.fixture
def handler(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, World]]:
    """The otys dispatcher's handler, its domain on an in-memory world (its one seam: `default_deps`)."""
    for name, value in {"ATS_SYSTEM": "otys", "POWERTOOLS_SERVICE_NAME": "foureyes",
                        "POWERTOOLS_METRICS_NAMESPACE": "Foureyes", "POWERTOOLS_TRACE_DISABLED": "true"}.items():
        monkeypatch.setenv(name, value)
    world = World()
    monkeypatch.setattr(dispatcher, "default_deps", lambda: world.deps)
    yield load_handler("dispatch"), world


def _dispatch_counts(stdout: str) -> dict[str, float]:
    counts: dict[str, float] = {}
    for metric in emf_metrics(stdout):
        if metric["name"] in ("DispatchAttempts", "DispatchErrors"):
            # the kill-switch alarm reads exactly these dimensions (template.yaml, <System>ErrorRateAlarm)
            assert (metric["namespace"], metric["dimensions"]) == ("Foureyes", {"system": "otys",
                                                                                "service": "foureyes"})
            counts[metric["name"]] = counts.get(metric["name"], 0) + metric["value"]
    return counts


def test_the_handler_counts_a_write_that_ran_out_of_time_as_a_dispatch_error(
        handler: tuple[Any, World], capsys: pytest.CaptureFixture[str]) -> None:
    app, world = handler
    world.client.fail = OutOfTime("Otys m (rate exceeded): 0.8 s left")
    world.approved()
    with pytest.raises(AtsWriteFailed):
        app.handler({"proposal_id": "p1"}, LambdaContext(remaining_ms=25_000))
    assert _dispatch_counts(capsys.readouterr().out) == {"DispatchAttempts": 1, "DispatchErrors": 1}
    (left,) = world.client.time_left
    assert left is not None and 10 < left <= 15  # the context's 25 s less the 10 s recording margin
    assert world.proposal().status == "failed"


def test_the_handler_counts_a_killed_attempt_when_it_settles_it(
        handler: tuple[Any, World], capsys: pytest.CaptureFixture[str]) -> None:
    app, world = handler
    world.killed_mid_write()
    assert app.handler({"proposal_id": "p1"}, LambdaContext(remaining_ms=25_000))["status"] == "executed"
    assert _dispatch_counts(capsys.readouterr().out) == {"DispatchAttempts": 2, "DispatchErrors": 1}


def test_the_handler_counts_a_good_write_as_an_attempt_without_error(
        handler: tuple[Any, World], capsys: pytest.CaptureFixture[str]) -> None:
    app, world = handler
    world.approved()
    assert app.handler({"proposal_id": "p1"}, LambdaContext(remaining_ms=25_000))["status"] == "executed"
    assert _dispatch_counts(capsys.readouterr().out) == {"DispatchAttempts": 1, "DispatchErrors": 0}
