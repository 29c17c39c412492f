"""Deadlines over real HTTP: the dispatch handler against the fake ATSes (no local cloud), a slow or 429-ing ATS
and a short invocation. The clients stop retrying in time, no request outlasts the time left, the write is
recorded failed (in doubt) and `DispatchErrors` reaches the kill switch's metrics; nothing is killed mid-write.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from foureyes import outbound
from foureyes.ats.bullhorn.client import BullhornClient
from foureyes.ats.carerix.client import CarerixClient
from foureyes.ats.registry import adapter_for
from foureyes.dispatch import dispatcher
from foureyes.errors import AtsWriteFailed, OutOfTime
from foureyes.model import Candidate
from foureyes.scheduling import hris
from foureyes_local.fakes import BullhornFake, CarerixFake
from foureyes_local.fakes._server import Served
from tests.support.ats_stores import InMemoryTokenStore
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

MARGIN_MS = int(dispatcher.RECORDING_MARGIN.total_seconds() * 1000)


class Slow:
    """A WSGI app that answers every request after `seconds` (an ATS or HRIS that hangs), counting requests."""

    def __init__(self, seconds: float) -> None:
        self.seconds, self.requests = seconds, 0

    def __call__(self, environ: Any, start_response: Any) -> list[bytes]:
        self.requests += 1
        time.sleep(self.seconds)
        start_response("201 Created", [("Content-Type", "application/json")])
        return [b'{"id": "task-1", "status": "open"}']


@pytest.fixture(scope="module")
def bullhorn() -> Iterator[BullhornFake]:
    fake = BullhornFake().start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture(scope="module")
def carerix() -> Iterator[CarerixFake]:
    fake = CarerixFake().start()
    try:
        yield fake
    finally:
        fake.slow(0)
        fake.stop()


def bullhorn_client(fake: BullhornFake) -> BullhornClient:
    return BullhornClient(tenant="local", auth_url=fake.url, login_url=fake.url, client_id=fake.client_id,
                          client_secret=fake.client_secret, username=fake.username, password=fake.password,
                          token_store=InMemoryTokenStore())


class World:
    """In-memory repositories, live (shadow mode off), sending through `client` over HTTP."""

    def __init__(self, system: str, client: Any) -> None:
        self.system = system
        self.proposals, self.dispatches = MemoryProposals(), MemoryDispatches()
        self.trail, _rows = memory_trail()
        self.deps = dispatcher.Deps(self.proposals, self.dispatches, MemoryCounters(),
                                    MemorySwitches(shadow=False, caps={system: 50}), self.trail,
                                    client_for=lambda name: client, clock=Clock(), people=lambda: DIRECTORY)

    def approved(self, call: dict[str, Any], proposal_id: str = "p1") -> str:
        from foureyes.store.models import ProposalItem

        self.proposals.create(ProposalItem(
            proposal_id, pair_key=f"{self.system}:1|{self.system}:2", status="approved",
            proposed_at="2026-12-01T09:00:00+00:00", system=self.system, action="tag_duplicate",
            refs=[f"{self.system}:1", f"{self.system}:2"], payload=call, confidence=0.9, reasoning="same e-mail",
            evidence=["email"], reviewed_by="anna", review_decision="approve", approved_by="bram",
            approval_decision="approve"))
        return proposal_id

    def status(self, proposal_id: str = "p1") -> tuple[str, str]:
        item, record = self.proposals.get(proposal_id), self.dispatches.get(proposal_id)
        assert item is not None and record is not None
        return str(item.status), str(record.status)


def _run_handler(monkeypatch: pytest.MonkeyPatch, world: World, left_ms: int) -> tuple[float, BaseException | None]:
    """The system's dispatcher handler on `world`, with `left_ms` of invocation time; (seconds taken, raised)."""
    for name, value in {"ATS_SYSTEM": world.system, "POWERTOOLS_SERVICE_NAME": "foureyes",
                        "POWERTOOLS_METRICS_NAMESPACE": "Foureyes", "POWERTOOLS_TRACE_DISABLED": "true"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(dispatcher, "default_deps", lambda: world.deps)
    app = load_handler("dispatch")
    started = time.monotonic()
    try:
        app.handler({"proposal_id": "p1"}, LambdaContext(remaining_ms=left_ms))
    except Exception as exc:  # noqa: BLE001 - the test looks at what was raised
        return time.monotonic() - started, exc
    return time.monotonic() - started, None


def _errors(stdout: str, system: str) -> dict[str, float]:
    return {m["name"]: m["value"] for m in emf_metrics(stdout) if m["dimensions"] == {"system": system,
                                                                                      "service": "foureyes"}}


def test_a_429ing_bullhorn_stops_retrying_in_time_and_the_write_is_failed_and_counted(
        bullhorn: BullhornFake, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    world = World("bullhorn", bullhorn_client(bullhorn))
    world.approved(adapter_for("bullhorn").tag_duplicate(Candidate("bullhorn", "7"), "bullhorn:9"))
    bullhorn.fail_next(429, count=100, retry_after=1)  # every REST call: "wait a second"
    try:
        taken, raised = _run_handler(monkeypatch, world, left_ms=MARGIN_MS + 3_500)
    finally:
        bullhorn.clear_failures()
    assert isinstance(raised, AtsWriteFailed) and isinstance(raised.__cause__, OutOfTime), raised
    assert taken < 3.5  # it stopped before the deadline (the client alone would wait out 8 x 429)
    assert bullhorn.counters["status_429"] >= 2  # it did retry while a retry still fitted
    assert world.status() == ("failed", "failed")
    assert _errors(capsys.readouterr().out, "bullhorn") == {"DispatchAttempts": 1, "DispatchErrors": 1}


def test_a_wait_that_cannot_fit_before_the_deadline_is_not_made(bullhorn: BullhornFake) -> None:
    client = bullhorn_client(bullhorn)
    before = bullhorn.counters["status_429"]
    bullhorn.fail_next(429, count=5, retry_after=30)
    try:
        started = time.monotonic()
        with outbound.within(outbound.Deadline.after(10.0)), pytest.raises(OutOfTime, match="429"):
            client.get_record("7")
        assert time.monotonic() - started < 2.0  # no 30 s sleep that would end past the deadline
        assert bullhorn.counters["status_429"] - before == 1
    finally:
        bullhorn.clear_failures()


def test_a_slow_carerix_is_cut_at_the_deadline_and_the_write_is_failed_and_counted(
        carerix: CarerixFake, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    client = CarerixClient(tenant="local", wsdl_url=carerix.wsdl_url, username=carerix.username,
                           password=carerix.password)
    world = World("carerix", client)
    world.approved(adapter_for("carerix").tag_duplicate(Candidate("carerix", "c-1"), "carerix:9"))
    carerix.slow(6.0)  # every SOAP call hangs 6 s; the client allows 60 s a call
    try:
        taken, raised = _run_handler(monkeypatch, world, left_ms=MARGIN_MS + 2_500)
    finally:
        carerix.slow(0)
    assert isinstance(raised, AtsWriteFailed) and isinstance(raised.__cause__, OutOfTime), raised
    assert 1.5 < taken < 3.5  # the 60 s call was cut at the deadline, not at its own timeout
    assert world.status() == ("failed", "failed")
    assert _errors(capsys.readouterr().out, "carerix") == {"DispatchAttempts": 1, "DispatchErrors": 1}


def test_no_request_outlasts_the_time_left() -> None:
    """A POST (never retried) and a GET (which urllib3 retries on a read timeout) against a server that hangs:
    each read timeout is capped by the time left, and no retry starts after it."""
    slow = Slow(5.0)
    served = Served(slow, "slow")
    try:
        hris_client = hris.HrisClient(base_url=served.url, api_key="k", timeout=(5.0, 30.0), sleep=time.sleep)
        call = hris.onboarding_call(hris.TaskTemplate("onb-1", "Onboarding"), "otys:7", start=Clock()().date(),
                                    idempotency_key="onboarding:r1")
        for send in (lambda: hris_client.execute(call),
                     lambda: outbound.http_session().get(f"{served.url}/v1/onboarding-tasks/1", timeout=(5.0, 30.0))):
            before, started = slow.requests, time.monotonic()
            with outbound.within(outbound.Deadline.after(2.0)), pytest.raises(OutOfTime):
                send()
            assert 1.5 < time.monotonic() - started < 3.0  # cut at the deadline, not after 30 s
            assert slow.requests - before == 1  # and not tried again
    finally:
        served.stop()
