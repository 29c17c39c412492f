"""Until ops fill in the Graph and HRIS connection secrets (the template creates them with placeholders), what
needs them goes on without them, and says so where ops look (never to a candidate):

- scheduling runs without the calendar: slots from the rules alone (every panel member free in working hours),
  holds and bookings without events; nothing raises;
- a hire's onboarding task is entered and parked, waiting for the HRIS (not sent, not lost), and the retry sends
  it once the HRIS is configured;
- one warning (names only) and one `IntegrationUnconfigured` metric per invocation, and `ops status` shows each
  integration's state and the parked onboarding tasks.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from foureyes import integrations
from foureyes.dispatch import controls, dispatcher, facts, retry
from foureyes.errors import IntegrationNotConfigured
from foureyes.integrations import Connection, check
from foureyes.mail import Email
from foureyes.scheduling import booking, hris
from foureyes.scheduling.calendar import CalendarProvider, ConfiguredCalendar
from foureyes.scheduling.cancellation import expire_holds
from foureyes.scheduling.deps import Deps
from foureyes.scheduling.settings import Settings
from foureyes.scheduling.slots import InterviewerCalendar
from foureyes.scheduling.stage import StageChange, on_stage_change
from foureyes.scheduling.views import PageKind
from foureyes.store.models import ProposalItem
from tests.support.handlers import emf_metrics
from tests.support.memory import (
    DIRECTORY,
    Clock,
    MemoryCounters,
    MemoryDispatches,
    MemoryProposals,
    MemorySwitches,
    memory_trail,
)
from tests.support.memory_scheduling import MemorySchedulingStore

GRAPH_PLACEHOLDER = b'{"tenant_id": ""}'  # what template.yaml puts in the secrets
HRIS_PLACEHOLDER = b'{"base_url": ""}'
GRAPH = {"tenant_id": "t", "client_id": "c", "client_secret": "s3cret-value", "organizer": "org@agency.example"}
HRIS = {"base_url": "https://hris.example", "api_key": "k3y-value"}


# -- what counts as configured ---------------------------------------------------------------------------


@pytest.mark.parametrize(("integration", "raw", "why"), [
    ("graph", GRAPH_PLACEHOLDER, "no value for tenant_id, client_id, client_secret, organizer"),
    ("hris", HRIS_PLACEHOLDER, "no value for base_url, api_key"),
    ("hris", b"", "the secret is empty"),
    ("hris", None, "the secret is empty"),
    ("graph", b"{tenant_id: t}", "the secret is not JSON"),
    ("graph", b'["t", "c"]', "the secret is not a JSON object"),
    ("graph", json.dumps({**GRAPH, "organizer": "  "}).encode(), "no value for organizer"),
    ("hris", json.dumps({"base_url": "https://hris.example"}).encode(), "no value for api_key"),
    ("bullhorn", b'{"tenant": ""}', "no value for tenant"),
])
def test_a_placeholder_an_empty_an_unparseable_or_an_incomplete_secret_is_not_configured(
        integration: str, raw: bytes | None, why: str) -> None:
    found = check(integration, raw)
    assert (found.configured, found.why) == (False, why)


def test_a_filled_in_secret_is_configured_and_says_nothing_of_its_values() -> None:
    found = check("graph", json.dumps(GRAPH).encode())
    assert found.configured and found.settings == GRAPH and found.why == ""
    assert "s3cret-value" not in repr(found) and "s3cret-value" not in repr(check("graph", b'{"client_secret": "x"}'))


# -- scheduling without a calendar -------------------------------------------------------------------------

NOW = datetime(2026, 3, 23, 8, tzinfo=UTC)  # a Monday


def scheduling_settings() -> Settings:
    return Settings.from_dict({
        "stages": {"bullhorn": ["Interview Scheduled"]},
        "roles": {"R-1": {"panel": ["iv-1", "iv-2"], "panel_size": 2, "duration_minutes": 60, "window_days": 7,
                          "hiring_managers": ["hm-1"], "recruiters": ["rec-1"]}},
        "templates": {"invite": {"subject": "Plan your interview", "text": "Choose a time: $link (before $deadline)",
                                 "approved_by": "rec-1"}},
        "rules": {"step_minutes": 60, "buffer_minutes": 15, "min_notice_minutes": 60, "max_slots": 40},
        "interviewer_emails": {"iv-1": "iv-1@agency.example", "iv-2": "iv-2@agency.example"},
    })


class EveryoneFree:
    """A calendar in which every interviewer is free in the default working hours (what the rules alone give)."""

    def availability(self, interviewers: Sequence[str], start: datetime,
                     end: datetime) -> dict[str, InterviewerCalendar]:
        return {iv: InterviewerCalendar() for iv in interviewers}


class Graph:
    """A recording stand-in for `GraphCalendar`, built from the connection's settings."""

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self.settings = dict(settings)
        self.holds: list[str] = []

    def availability(self, interviewers: Sequence[str], start: datetime,
                     end: datetime) -> dict[str, InterviewerCalendar]:
        return {iv: InterviewerCalendar() for iv in interviewers}

    def create_hold(self, interviewer: str, start: datetime, end: datetime, subject: str, ref: str) -> str:
        self.holds.append(interviewer)
        return f"ev-{len(self.holds)}"

    def confirm(self, interviewer: str, event_id: str, subject: str) -> None:
        pass

    def delete(self, interviewer: str, event_id: str) -> None:
        pass


@dataclass
class Secret:
    """A connection secret an operator may fill in at any moment."""

    integration: str
    value: bytes
    reads: int = 0

    def read(self) -> Connection:
        self.reads += 1
        return check(self.integration, self.value)


@dataclass
class SchedulingWorld:
    graph_secret: Secret = field(default_factory=lambda: Secret("graph", GRAPH_PLACEHOLDER))
    store: MemorySchedulingStore = field(default_factory=MemorySchedulingStore)
    sent: list[Email] = field(default_factory=list)
    reported: list[Connection] = field(default_factory=list)
    built: list[Graph] = field(default_factory=list)
    clock: Clock = field(default_factory=lambda: Clock(NOW))

    def __post_init__(self) -> None:
        self.calendar = ConfiguredCalendar(read=self.graph_secret.read, build=self.build, report=self.reported.append)

    def build(self, settings: Mapping[str, Any]) -> CalendarProvider:
        self.built.append(Graph(settings))
        return self.built[-1]

    def deps(self, calendar: Any = None) -> Deps:
        return Deps(store=self.store, calendar=calendar or self.calendar, send=self.sent.append,
                    audit=lambda *a: 1, submit_fact=lambda *a: "p-1", secret=b"unit-test-link-secret-0123456789",
                    base_url="https://book.example", sender="noreply@x", settings=scheduling_settings(),
                    clock=self.clock)

    def invite(self, event: str, record: str = "42") -> str:
        change = StageChange("bullhorn", record, "Interview Scheduled", "R-1", "ats:bullhorn", event,
                             f"cand-{record}@example.org")
        made = on_stage_change(change, self.deps())
        assert made is not None and made.link_sent, made
        return self.sent[-1].text.split("Choose a time: ")[1].split(" ")[0].rsplit("/", 1)[1]

    def slot_ids(self, token: str) -> list[str]:
        return [s.slot_id for _, day in booking.view(token, self.deps()).days for s in day]


def test_without_a_calendar_the_slots_come_from_the_rules_alone_and_booking_makes_no_events() -> None:
    world = SchedulingWorld()
    token = world.invite("e1")
    offered = world.slot_ids(token)
    rules_alone = SchedulingWorld()
    rules_alone.calendar = EveryoneFree()  # type: ignore[assignment]
    assert offered and offered == rules_alone.slot_ids(rules_alone.invite("e1"))
    booking.hold(token, offered[0], world.deps())
    done = booking.confirm(token, offered[0], world.deps())
    assert done.kind is PageKind.BOOKED and "/book/" in done.manage_url
    (booked,) = world.store.bookings.values()
    assert dict(booked.events or {}) == {}  # no event was made, so none is remembered
    assert world.built == [] and world.reported and {c.integration for c in world.reported} == {"graph"}
    assert not [m for m in world.sent if "configur" in (m.subject + m.text).lower()]  # the candidate hears nothing


def test_a_hold_that_expires_without_a_calendar_is_released_quietly() -> None:
    world = SchedulingWorld()
    token = world.invite("e1")
    booking.hold(token, world.slot_ids(token)[0], world.deps())
    world.clock.advance(hours=1)
    assert expire_holds(world.deps()) == 1


def test_a_calendar_ops_fill_in_is_used_from_the_next_call_without_a_cold_start() -> None:
    world = SchedulingWorld()
    world.invite("e1")
    assert world.built == []
    world.graph_secret.value = json.dumps(GRAPH).encode()  # ops fill in the secret
    token = world.invite("e2", record="43")
    booking.hold(token, world.slot_ids(token)[0], world.deps())
    (graph,) = world.built  # built once, from the settings as filled in
    assert graph.settings == GRAPH and graph.holds == ["iv-1", "iv-2"]


# -- an HRIS write waits, parked, for the HRIS -----------------------------------------------------------------


class HrisApi:
    """The HRIS's HTTP API as `HrisClient` talks to it (a `requests.Session` stand-in): one task per key."""

    def __init__(self) -> None:
        self.tasks: dict[str, dict[str, Any]] = {}

    def request(self, method: str, url: str, json: Any = None, headers: Any = None, timeout: Any = None) -> Any:
        task = self.tasks.setdefault(headers["Idempotency-Key"], {"id": f"task-{len(self.tasks) + 1}",
                                                                   "status": "open", **json})
        return type("Reply", (), {"status_code": 201, "headers": {}, "json": lambda self: task})()


class HrisWorld:
    def __init__(self) -> None:
        self.secret = Secret("hris", HRIS_PLACEHOLDER)
        self.api = HrisApi()
        self.reported: list[Connection] = []
        self.proposals, self.dispatches, self.counters = MemoryProposals(), MemoryDispatches(), MemoryCounters()
        self.trail, self.rows = memory_trail()
        self.dispatch_deps = dispatcher.Deps(self.proposals, self.dispatches, self.counters,
                                             MemorySwitches(shadow=False, caps={"hris": 5}), self.trail,
                                             client_for=self.client_for, clock=Clock(), people=lambda: DIRECTORY)
        self.fact_deps = facts.Deps(self.proposals, self.trail, self.hand_over, clock=Clock(), people=lambda: DIRECTORY)

    def client_for(self, system: str) -> hris.HrisClient:
        """As in AWS (`hris.connected`), with the secret as it is now, and the HRIS's API in memory."""
        client = hris.connected(read=lambda integration: self.secret.read(), report=self.reported.append)
        client.session = self.api  # type: ignore[assignment]
        return client

    def hand_over(self, system: str, proposal_id: str) -> bool:
        dispatcher.dispatch(proposal_id, system, self.dispatch_deps)
        return True

    def hire(self) -> str:
        call = hris.onboarding_call(hris.TaskTemplate("onb-1", "Onboarding"), "bullhorn:42",
                                    start=datetime(2026, 4, 1).date(), idempotency_key="onboarding:rq_1")
        return facts.submit_fact(hris.SYSTEM, "bullhorn:42", hris.CREATE_ONBOARDING_TASK, call, "hm-1", self.fact_deps)


def test_an_onboarding_task_waits_parked_for_the_hris_and_the_retry_sends_it_once_configured(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISPATCH_FUNCTIONS", '{"hris": "dispatch-hris"}')
    world = HrisWorld()
    write = world.hire()  # the dispatcher is handed the fact at once: nothing raises
    item = world.proposals.get(write)
    assert item is not None and item.status == "parked"
    assert item.outcome == "parked: waiting for the hris connection to be configured"
    assert world.api.tasks == {} and world.dispatches.items[write].status == "parked"
    assert world.counters.values(("dispatch-cap#",)) == {"dispatch-cap#hris#2026-12-02": 0}  # no slot kept
    assert [c.why for c in world.reported] == ["no value for base_url, api_key"]
    assert retry.retry_parked(world.proposals, world.hand_over) == {"hris": 1}  # still unconfigured: parked again
    assert world.proposals.get(write).status == "parked" and world.api.tasks == {}  # type: ignore[union-attr]

    world.secret.value = json.dumps(HRIS).encode()  # ops fill in the secret; the nightly retry runs
    retry.retry_parked(world.proposals, world.hand_over)
    assert world.proposals.get(write).status == "executed"  # type: ignore[union-attr]
    assert [t["employeeRef"] for t in world.api.tasks.values()] == ["bullhorn:42"]


def test_connected_names_what_is_missing_never_a_value() -> None:
    reported: list[Connection] = []
    partial = json.dumps({"base_url": "", "api_key": "k3y-value"}).encode()
    with pytest.raises(IntegrationNotConfigured, match="no value for base_url") as raised:
        hris.connected(read=lambda integration: check(integration, partial), report=reported.append)
    assert "k3y-value" not in str(raised.value) and raised.value.integration == "hris"
    assert len(reported) == 1


def test_a_hire_enters_its_onboarding_task_even_before_the_hris_is_configured() -> None:
    """`ConnectedHris` is what the Lambdas' deps hold: it reads the secret only when used, so the outcome flow
    (which never calls the HRIS itself) enters the fact whatever the secret holds."""
    from foureyes.scheduling.outcome import record_outcome

    submitted: list[str] = []

    @dataclass
    class Request:
        request_id: str = "rq_1"
        role_id: str = "R-1"
        system: str = "bullhorn"
        candidate_ref: str = "bullhorn:42"
        status: str = "booked"
        booking_id: str = "bk_1"
        outcome: str | None = None

    class Store:
        def get_request(self, request_id: str) -> Request:
            return Request()

        def get_booking(self, booking_id: str) -> Any:
            return type("Booking", (), {"booking_id": "bk_1", "status": "confirmed", "start": "2026-03-31T09:00:00Z"})

        def set_outcome(self, *args: Any) -> None:
            pass

    settings = Settings.from_dict({"roles": {"R-1": {"panel": ["iv-1"], "hiring_managers": ["hm-1"]}},
                                   "outcomes": {"bullhorn": {"hired": "Placed"}},
                                   "onboarding_template": {"template_id": "onb-1", "title": "Onboarding"}})
    deps = Deps(store=Store(), calendar=EveryoneFree(), send=print, audit=lambda *a: 1,  # type: ignore[arg-type]
                submit_fact=lambda system, *a: submitted.append(system) or f"p-{len(submitted)}",
                secret=b"k" * 32, base_url="https://x", sender="s@x", settings=settings, hris=hris.ConnectedHris(),
                clock=lambda: datetime(2026, 4, 1, tzinfo=UTC))
    assert record_outcome("rq_1", "hired", "hm-1", deps).onboarding_task == "p-2"
    assert submitted == ["bullhorn", "hris"]


# -- reported once per invocation, where ops look ----------------------------------------------------------


def test_an_unconfigured_integration_is_reported_once_per_invocation(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "foureyes")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "Foureyes")
    monkeypatch.setattr(integrations, "_reported", {})
    graph = check("graph", json.dumps({**GRAPH, "tenant_id": ""}).encode())
    caplog.set_level(logging.WARNING, logger="foureyes.integrations")
    for invocation in ("Root=1-aaa;Parent=1;Sampled=1", "Root=1-bbb;Parent=2;Sampled=1"):
        monkeypatch.setenv("_X_AMZN_TRACE_ID", invocation)  # Lambda sets it afresh for every invocation
        for _ in range(3):  # e.g. every record of a stream batch asks for the calendar
            integrations.report(graph)
        integrations.report(check("hris", HRIS_PLACEHOLDER))
    metrics = [m for m in emf_metrics(capsys.readouterr().out) if m["name"] == "IntegrationUnconfigured"]
    assert [(m["namespace"], m["dimensions"], m["value"]) for m in metrics] == [
        ("Foureyes", {"integration": name, "service": "foureyes"}, 1.0) for name in ("graph", "hris") * 2]
    warnings = [r for r in caplog.records if r.name == "foureyes.integrations"]
    assert [(r.integration, r.why) for r in warnings] == [  # type: ignore[attr-defined]
        ("graph", "no value for tenant_id"), ("hris", "no value for base_url, api_key")] * 2
    assert not [r for r in warnings if "s3cret-value" in r.getMessage() or "s3cret-value" in str(r.__dict__)]


class Ssm:
    def get_parameter(self, Name: str) -> dict[str, Any]:  # noqa: N803 - boto3's spelling
        return {"Parameter": {"Value": "false"}}


class Secrets:
    def __init__(self, values: Mapping[str, str]) -> None:
        self.values = values

    def get_secret_value(self, SecretId: str) -> dict[str, Any]:  # noqa: N803 - boto3's spelling
        if SecretId not in self.values:
            raise RuntimeError("ResourceNotFoundException")
        return {"SecretString": self.values[SecretId]}


def test_ops_status_shows_each_integration_and_the_onboarding_tasks_parked_for_the_hris(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from foureyes_cli.ops_cmd import _print_status

    monkeypatch.setenv("KILL_SWITCH_PARAMETER", "/foureyes/test/kill")
    monkeypatch.setenv("SHADOW_MODE_PARAMETER", "/foureyes/test/shadow")
    proposals = MemoryProposals()
    for pid, system, action, status in (("a", "hris", "create_onboarding_task", "parked"),
                                        ("b", "hris", "create_onboarding_task", "parked"),
                                        ("c", "hris", "create_onboarding_task", "executed"),
                                        ("d", "otys", "tag_duplicate", "parked")):
        proposals.create(ProposalItem(pid, pair_key=f"x|{pid}", status=status, system=system, action=action,
                                      proposed_at="2026-12-01T09:00:00+00:00", refs=["x", "y"], payload={},
                                      confidence=1.0, reasoning="r"))
    secrets = Secrets({"arn:graph": GRAPH_PLACEHOLDER.decode(), "arn:hris": json.dumps(HRIS),
                       "arn:otys": '{"tenant": "acme"}'})
    state = controls.status(Ssm(), proposals, secrets=secrets, connections={
        "graph": "arn:graph", "hris": "arn:hris", "otys": "arn:otys", "carerix": "arn:gone"})
    assert {name: (c.configured, c.why) for name, c in state.integrations.items()} == {
        "graph": (False, "no value for tenant_id, client_id, client_secret, organizer"), "hris": (True, ""),
        "otys": (True, ""), "carerix": (False, "the secret could not be read (RuntimeError)")}
    assert state.parked_onboarding == 2
    _print_status(state)
    printed = capsys.readouterr().out
    assert "graph              NOT CONFIGURED (no value for tenant_id" in printed
    assert "hris               configured" in printed and "onboarding tasks parked for the HRIS: 2" in printed
    assert "k3y-value" not in printed
