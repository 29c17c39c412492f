"""The dispatcher with in-memory repositories and a recording ATS client: what it sends, records, parks,
refuses and audits (no moto, nothing patched)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from foureyes import audit
from foureyes.ats.calls import Landed, Receipt
from foureyes.ats.registry import adapter_for
from foureyes.dispatch import dispatcher, retry
from foureyes.errors import AtsUnavailable, AtsWriteFailed, ConfigurationError, DispatchInDoubt, DispatchRefused
from foureyes.model import Candidate
from foureyes.review.people import People
from foureyes.store.models import DispatchItem, ProposalItem
from tests.support.memory import (
    DIRECTORY,
    PEOPLE,
    Clock,
    MemoryAuditRows,
    MemoryCounters,
    MemoryDispatches,
    MemoryProposals,
    MemorySwitches,
    memory_trail,
)

KEY = b"audit-key-for-tests"


class RecordingClient:
    def __init__(self, fail: Exception | None = None) -> None:
        self.sent: list[Mapping[str, Any]] = []
        self.fail = fail

    def execute(self, call: Mapping[str, Any]) -> Receipt:
        if self.fail is not None:
            raise self.fail
        self.sent.append(call)
        return Receipt(dict(call), [{"ok": True}], [None], {"7": {"status": "old"}}, {"undo": True})


class World:
    def __init__(self, *, shadow: bool = False, paused: bool = False, cap: Any = 50,
                 client: RecordingClient | None = None) -> None:
        self.proposals, self.dispatches, self.counters = MemoryProposals(), MemoryDispatches(), MemoryCounters()
        self.switches = MemorySwitches(paused=paused, shadow=shadow, caps={"otys": cap})
        self.trail, self.rows = memory_trail(KEY)
        self.client = client or RecordingClient()
        self.shadowed: list[str] = []
        self.clock = Clock()
        self.deps = dispatcher.Deps(self.proposals, self.dispatches, self.counters, self.switches, self.trail,
                                    client_for=lambda system: self.client,
                                    record_shadowed=lambda item: self.shadowed.append(item.proposal_id),
                                    clock=self.clock, people=lambda: DIRECTORY)

    def approved(self, proposal_id: str = "p1", **extra: Any) -> ProposalItem:
        payload = extra.pop("payload", {"jsonrpc": "2.0", "method": "m", "params": ["7", {}]})
        fields: dict[str, Any] = {"reviewed_by": "anna", "review_decision": "approve", "approved_by": "bram",
                                  "approval_decision": "approve", **extra}
        item = ProposalItem(proposal_id, pair_key=f"otys:1|otys:{proposal_id}", status="approved",
                            proposed_at="2026-12-01T09:00:00+00:00", system="otys", action="tag_duplicate",
                            refs=["otys:1", "otys:2"], payload=payload,
                            confidence=0.9, reasoning="same e-mail", evidence=["email"], **fields)
        self.proposals.create(item)
        return item

    def events(self) -> list[str]:
        return [row.event for row in self.rows.in_order()]

    def status(self, proposal_id: str = "p1") -> str:
        item = self.proposals.get(proposal_id)
        assert item is not None
        return str(item.status)

    def outcome(self, proposal_id: str = "p1") -> str:
        item = self.proposals.get(proposal_id)
        assert item is not None
        return str(item.outcome)


def test_live_write_sends_the_approved_call_once_and_keeps_the_receipt() -> None:
    world = World()
    world.approved()
    outcome = dispatcher.dispatch("p1", "otys", world.deps)
    assert (outcome.status, outcome.attempted) == ("executed", True)
    assert world.client.sent == [{"jsonrpc": "2.0", "method": "m", "params": ["7", {}]}]
    assert world.dispatches.items["p1"].receipt["inverse"] == {"undo": True}
    assert world.status() == "executed"
    again = dispatcher.dispatch("p1", "otys", world.deps)  # the state machine retries the task
    assert again.status == "executed" and len(world.client.sent) == 1
    assert world.events() == ["dispatch.executed"]
    assert world.trail.verify()[1] == []


def test_shadow_mode_records_the_call_and_sends_nothing() -> None:
    world = World(shadow=True)
    world.approved()
    assert dispatcher.dispatch("p1", "otys", world.deps).status == "shadowed"
    assert world.client.sent == [] and world.shadowed == ["p1"]
    assert world.dispatches.items["p1"].mode == "shadow"
    assert world.events() == ["dispatch.shadowed"]


def test_paused_refuses_and_parks_the_write_for_after_the_unpause() -> None:
    world = World(paused=True)
    world.approved()
    assert dispatcher.dispatch("p1", "otys", world.deps).status == "parked"
    assert world.client.sent == [] and world.dispatches.items["p1"].status == "parked"
    assert world.status() == "parked" and world.outcome() == "parked: paused"
    assert world.events() == ["dispatch.refused", "dispatch.parked"]
    assert world.counters.values(("dispatch-cap#",)) == {}  # no slot was taken
    world.switches.is_paused = False  # unpaused: the retry hands it back
    assert dispatcher.dispatch("p1", "otys", world.deps).status == "executed"
    assert len(world.client.sent) == 1


def test_a_write_parked_while_paused_is_shadowed_if_shadow_mode_is_on_by_then() -> None:
    world = World(paused=True)
    world.approved()
    dispatcher.dispatch("p1", "otys", world.deps)
    world.switches.is_paused, world.switches.shadow = False, True
    assert dispatcher.dispatch("p1", "otys", world.deps).status == "shadowed"
    assert world.client.sent == [] and world.dispatches.items["p1"].mode == "shadow" and world.status() == "shadowed"


class TurningSwitches(MemorySwitches):
    """Switches an operator turns while an attempt runs: `paused`/`shadow_mode` answer from the nth read on."""

    def __init__(self, *, paused_from: int | None = None, shadow_from: int | None = None, **kw: Any) -> None:
        super().__init__(shadow=False, **kw)
        self.reads = {"paused": 0, "shadow": 0}
        self.paused_from, self.shadow_from = paused_from, shadow_from

    def paused(self) -> bool:
        self.reads["paused"] += 1
        return self.paused_from is not None and self.reads["paused"] >= self.paused_from

    def shadow_mode(self) -> bool:
        self.reads["shadow"] += 1
        return self.shadow_from is not None and self.reads["shadow"] >= self.shadow_from


def test_a_pause_that_lands_after_the_slot_and_marker_still_stops_the_call() -> None:
    """`ops pause` returns between the dispatcher's first look and its call: nothing is sent, the write is parked
    and the cap slot it took is given back."""
    world = World()
    world.switches = TurningSwitches(paused_from=2, caps={"otys": 50})
    world.deps = replace(world.deps, switches=world.switches)
    world.approved()
    assert dispatcher.dispatch("p1", "otys", world.deps).status == "parked"
    assert world.client.sent == [] and world.status() == "parked" and world.outcome() == "parked: paused"
    assert world.dispatches.items["p1"].status == "parked"
    assert world.counters.values(("dispatch-cap#",)) == {"dispatch-cap#otys#2026-12-02": 0}
    assert world.events() == ["dispatch.refused", "dispatch.parked"]


def test_shadow_mode_turned_on_after_the_first_look_still_keeps_the_call_from_going_out() -> None:
    world = World()
    world.switches = TurningSwitches(shadow_from=2, caps={"otys": 50})
    world.deps = replace(world.deps, switches=world.switches)
    world.approved()
    assert dispatcher.dispatch("p1", "otys", world.deps).status == "shadowed"
    assert world.client.sent == [] and world.dispatches.items["p1"].mode == "shadow"
    assert world.counters.values(("dispatch-cap#",)) == {"dispatch-cap#otys#2026-12-02": 0}


class LosingStarts(MemoryDispatches):
    """Another attempt claims the write between this attempt's read and its marker."""

    def start(self, item: DispatchItem, *, over_status: str) -> bool:
        return False if item.status == "in_progress" else super().start(item, over_status=over_status)


def test_an_attempt_that_loses_the_claim_gives_its_cap_slot_back() -> None:
    world = World(cap=1)
    world.dispatches = LosingStarts()
    world.deps = replace(world.deps, dispatches=world.dispatches)
    world.approved()
    with pytest.raises(DispatchInDoubt, match="another attempt"):
        dispatcher.dispatch("p1", "otys", world.deps)
    assert world.counters.values(("dispatch-cap#",)) == {"dispatch-cap#otys#2026-12-02": 0}
    assert world.client.sent == []


def test_an_error_before_the_call_parks_the_write_and_gives_the_slot_back() -> None:
    world = World(cap=1)

    def no_client(system: str) -> RecordingClient:
        raise ConfigurationError("the otys connection secret is not configured yet")

    world.deps = replace(world.deps, client_for=no_client)
    world.approved()
    with pytest.raises(ConfigurationError):
        dispatcher.dispatch("p1", "otys", world.deps)
    assert world.counters.values(("dispatch-cap#",)) == {"dispatch-cap#otys#2026-12-02": 0}
    assert world.status() == "parked" and world.dispatches.items["p1"].status == "parked"
    assert "ConfigurationError" in world.outcome()
    world.deps = replace(world.deps, client_for=lambda system: world.client)  # fixed: the retry sends it
    assert dispatcher.dispatch("p1", "otys", world.deps).status == "executed"
    assert world.counters.values(("dispatch-cap#",)) == {"dispatch-cap#otys#2026-12-02": 1}


def test_the_daily_cap_parks_what_is_over_it() -> None:
    world = World(cap=2)
    for n in range(4):
        world.approved(f"p{n}")
    outcomes = [dispatcher.dispatch(f"p{n}", "otys", world.deps).status for n in range(4)]
    assert outcomes == ["executed", "executed", "parked", "parked"]
    assert len(world.client.sent) == 2
    assert world.counters.values(("dispatch-cap#otys#",)) == {"dispatch-cap#otys#2026-12-02": 2}
    world.clock.advance(days=1)  # the nightly retry the next day: a new day's cap
    assert dispatcher.dispatch("p2", "otys", world.deps).status == "executed"


def test_an_unavailable_ats_parks_the_write_and_gives_the_cap_slot_back() -> None:
    world = World(cap=1, client=RecordingClient(fail=AtsUnavailable("timed out")))
    world.approved()
    outcome = dispatcher.dispatch("p1", "otys", world.deps)
    assert (outcome.status, outcome.attempted) == ("parked", True)
    assert world.status() == "parked" and world.dispatches.items["p1"].status == "parked"
    assert world.counters.values(("dispatch-cap#",)) == {"dispatch-cap#otys#2026-12-02": 0}
    world.client.fail = None  # back up: the retry sends it
    assert dispatcher.dispatch("p1", "otys", world.deps).status == "executed"


def test_an_ats_refusal_fails_the_proposal_and_counts_as_an_error() -> None:
    world = World(client=RecordingClient(fail=ValueError("enum changed")))
    world.approved()
    with pytest.raises(AtsWriteFailed):
        dispatcher.dispatch("p1", "otys", world.deps)
    assert world.status() == "failed" and world.dispatches.items["p1"].status == "failed"
    assert world.events() == ["dispatch.failed"]


def test_a_write_left_in_progress_is_never_sent_again_blindly() -> None:
    world = World()
    world.approved()
    world.dispatches.put(DispatchItem("p1", system="otys", mode="live", status="in_progress", call={}, at="x"))
    with pytest.raises(DispatchInDoubt):
        dispatcher.dispatch("p1", "otys", world.deps)
    assert world.client.sent == []


TIMEOUT = timedelta(seconds=35)  # the dispatcher's timeout (30 s in the template) and the margin
STOPPED = "2026-12-02T08:58:00+00:00"  # two minutes before the world's clock: that attempt is over


class ReadBack:
    def __init__(self, found: Landed) -> None:
        self.found, self.calls = found, 0

    def __call__(self, system: str, client: Any, call: Mapping[str, Any]) -> Landed:
        self.calls += 1
        return self.found


def _stopped_mid_write(world: World, found: Landed, at: str = STOPPED, **item: Any) -> ReadBack:
    """An approved write whose attempt took a slot, wrote its marker and stopped (a timeout, a crash)."""
    read = ReadBack(found)
    world.deps = replace(world.deps, in_doubt_after=TIMEOUT, read_back=read)
    approved = world.approved(**item)
    world.counters.add("dispatch-cap#otys#2026-12-02", 1)
    world.dispatches.put(DispatchItem("p1", system="otys", mode="live", status="in_progress",
                                      call=approved.payload, at=at))
    return read


def test_an_attempt_still_within_the_timeout_is_left_alone() -> None:
    world = World()
    read = _stopped_mid_write(world, Landed.NO, at="2026-12-02T08:59:40+00:00")  # 20 s ago: may still be running
    with pytest.raises(DispatchInDoubt, match="time is up"):
        dispatcher.dispatch("p1", "otys", world.deps)
    assert read.calls == 0 and world.client.sent == [] and world.dispatches.items["p1"].status == "in_progress"


def test_a_stopped_attempt_whose_write_shows_in_the_ats_is_marked_executed() -> None:
    world = World()
    _stopped_mid_write(world, Landed.YES)
    outcome = dispatcher.dispatch("p1", "otys", world.deps)
    assert (outcome.status, outcome.attempted) == ("executed", False)
    assert world.client.sent == [] and world.status() == "executed"
    record = world.dispatches.items["p1"]
    assert record.status == "executed" and record.receipt["call"] == record.call and "resolved" in record.receipt
    assert world.events() == ["dispatch.resolved"]
    assert world.counters.values(("dispatch-cap#",)) == {"dispatch-cap#otys#2026-12-02": 1}  # it was written
    assert dispatcher.dispatch("p1", "otys", world.deps).status == "executed"  # settled for good


def test_a_stopped_attempt_that_wrote_nothing_is_sent_again_and_its_slot_given_back() -> None:
    world = World(cap=1)
    _stopped_mid_write(world, Landed.NO)
    assert dispatcher.dispatch("p1", "otys", world.deps).status == "executed"
    assert len(world.client.sent) == 1  # the cap of one holds: the stopped attempt's slot came back first
    assert world.counters.values(("dispatch-cap#",)) == {"dispatch-cap#otys#2026-12-02": 1}
    assert world.events() == ["dispatch.resolved", "dispatch.executed"]


def test_a_stopped_attempt_the_records_cannot_settle_goes_to_a_person() -> None:
    world = World()
    _stopped_mid_write(world, Landed.UNKNOWN)
    assert dispatcher.dispatch("p1", "otys", world.deps).status == "failed"
    assert world.client.sent == [] and world.status() == "failed" and "check the records" in world.outcome()
    assert world.events() == ["dispatch.in_doubt"]


def test_a_stopped_idempotent_write_is_sent_again_with_its_key() -> None:
    world = World()
    hris_call = {"hris": "create_onboarding_task", "body": {"employeeRef": "otys:7"},
                 "idempotency_key": "onboarding:r1"}
    _stopped_mid_write(world, Landed.UNKNOWN, payload=hris_call)
    assert dispatcher.dispatch("p1", "otys", world.deps).status == "executed"
    assert world.client.sent == [hris_call]


def test_the_records_are_read_through_the_systems_client() -> None:
    """The default read-back: the target record, as the client reads it, shows the status the call sets."""
    call = adapter_for("otys").update_status(Candidate("otys", "7"), "Placed")

    class Otys(RecordingClient):
        def get_record(self, record_id: str) -> dict[str, Any]:
            return {"uid": record_id, "status": "Placed", "tags": [], "externalIds": [], "Person": {}}

    world = World(client=Otys())
    world.deps = replace(world.deps, in_doubt_after=TIMEOUT)
    world.approved(payload=call)
    world.dispatches.put(DispatchItem("p1", system="otys", mode="live", status="in_progress", call=call, at=STOPPED))
    assert dispatcher.dispatch("p1", "otys", world.deps).status == "executed"
    assert world.client.sent == []


class SettledFirst(MemoryDispatches):
    """Another attempt settles the stopped record between this attempt's read and its transition."""

    def transition(self, proposal_id: str, *, from_status: str, at: str, to_status: str,
                   receipt: dict[str, Any] | None = None) -> bool:
        self.items[proposal_id].status = "executed"
        return super().transition(proposal_id, from_status=from_status, at=at, to_status=to_status, receipt=receipt)


def test_two_attempts_settling_the_same_stopped_write_do_not_both_act() -> None:
    world = World()
    world.dispatches = SettledFirst()
    world.deps = replace(world.deps, dispatches=world.dispatches)
    _stopped_mid_write(world, Landed.NO)
    assert dispatcher.dispatch("p1", "otys", world.deps).status == "executed"
    assert world.client.sent == [] and world.events() == []


def test_a_settled_record_brings_a_waiting_proposal_along() -> None:
    """The dispatch record says executed, the proposal still approved (a stop between the two writes)."""
    world = World()
    world.approved()
    world.dispatches.put(DispatchItem("p1", system="otys", mode="live", status="executed", call={}, at=STOPPED))
    assert dispatcher.dispatch("p1", "otys", world.deps).status == "executed"
    assert world.status() == "executed" and world.client.sent == []


@pytest.mark.parametrize("status", ["pending_review", "pending_approval", "rejected", "expired", "shadowed"])
def test_only_approved_or_parked_proposals_are_dispatched(status: str) -> None:
    world = World()
    item = world.approved()
    world.proposals.set_status(item.proposal_id, status, "")
    with pytest.raises(DispatchRefused):
        dispatcher.dispatch("p1", "otys", world.deps)
    assert world.client.sent == []


def test_a_proposal_for_another_system_is_refused() -> None:
    world = World()
    world.approved()
    with pytest.raises(DispatchRefused, match="is for otys"):
        dispatcher.dispatch("p1", "bullhorn", world.deps)


def test_an_executed_rollback_marks_its_original_rolled_back() -> None:
    world = World()
    world.approved("orig")
    world.proposals.set_status("orig", "executed", "executed")
    world.approved("undo", rollback_of="orig")
    assert dispatcher.dispatch("undo", "otys", world.deps).status == "executed"
    assert world.status("orig") == "rolled_back"


def test_audit_rows_chain_and_verify() -> None:
    rows = MemoryAuditRows()
    trail = audit.Trail(rows, lambda: KEY, sleep=lambda _s: None)
    for n in range(3):
        trail.record("test.event", "system", f"s{n}", {"n": n})
    count, problems = trail.verify()
    assert (count, problems) == (3, [])
    next(row for chain in rows.items.values() for row in chain if row.subject == "s1").subject = "edited"
    assert trail.verify()[1]


def test_a_rollback_approved_by_an_approver_of_the_original_is_never_written() -> None:
    """Finding 1 at the write path: anna + carla approved the original; carla approving its rollback (as its
    reviewer) and bram approving it is not four eyes, whatever the review flow let through."""
    world = World()
    world.approved("orig", reviewed_by="anna", approved_by="carla")
    world.proposals.set_status("orig", "executed", "executed")
    world.approved("undo", rollback_of="orig", proposed_by="anna", excluded_approvers=["anna", "carla"],
                   reviewed_by="carla", approved_by="bram")
    with pytest.raises(DispatchRefused, match="may not decide it"):
        dispatcher.dispatch("undo", "otys", world.deps)
    assert world.client.sent == [] and world.dispatches.items == {}
    assert world.status("undo") == "approved" and world.status("orig") == "executed"
    assert world.events() == ["dispatch.refused"]


@pytest.mark.parametrize(("reviewer", "approver", "extra"), [
    ("anna", "bram", {"proposed_by": "anna"}),  # the proposer approved their own proposal
    ("anna", "tess", {"excluded_approvers": ["tess"]}),  # an excluded team lead
    ("system", "bram", {}),  # the pipeline is nobody
    ("kill-switch", "bram", {}),
    ("matcher", "bram", {}),
    ("ats:otys", "bram", {}),  # what an ATS claims is no person
    ("zoe", "bram", {}),  # not in the people directory
    ("hm-1", "bram", {}),  # a hiring manager enters facts, but does not decide proposals
])
def test_live_dispatch_refuses_decisions_by_anyone_who_is_not_an_eligible_person(
        reviewer: str, approver: str, extra: dict[str, Any]) -> None:
    world = World()
    world.approved(reviewed_by=reviewer, approved_by=approver, **extra)
    with pytest.raises(DispatchRefused):
        dispatcher.dispatch("p1", "otys", world.deps)
    assert world.client.sent == [] and world.dispatches.items == {} and world.status() == "approved"


def test_a_rejection_by_an_excluded_person_taints_the_proposal_too() -> None:
    """Every recorded decision must come from an eligible person, not only the two approvals."""
    world = World()
    world.approved(reviewed_by="carla", review_decision="reject", approved_by="bram", tiebreak_by="tess",
                   tiebreak_decision="approve", excluded_approvers=["carla"])
    with pytest.raises(DispatchRefused):
        dispatcher.dispatch("p1", "otys", world.deps)
    assert world.client.sent == []


def test_the_directory_is_asked_at_dispatch_time() -> None:
    """Someone removed from the people directory after approving no longer counts as a person."""
    world = World()
    world.approved()
    leavers = dataclasses.replace(DIRECTORY, reviewers=People(
        {"*": tuple(p for p in PEOPLE.recruiters["*"] if p.id != "bram")}, PEOPLE.team_leads))
    deps = dataclasses.replace(world.deps, people=lambda: leavers)
    with pytest.raises(DispatchRefused):
        dispatcher.dispatch("p1", "otys", deps)
    assert dispatcher.dispatch("p1", "otys", world.deps).status == "executed"


def test_the_retry_hands_back_parked_and_stranded_approved_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Writes refused while paused, capped or stopped mid-write, and approved ones whose hand-over never happened,
    all go back to their dispatcher; settled ones do not."""
    monkeypatch.setenv("DISPATCH_FUNCTIONS", '{"otys": "dispatch-otys", "hris": "dispatch-hris"}')
    world = World()
    for pid, status in (("parked", "parked"), ("never-handed", "approved"), ("done", "executed"),
                        ("waiting", "pending_approval")):
        world.approved(pid)
        world.proposals.set_status(pid, status, "")
    handed: list[tuple[str, str]] = []
    counts = retry.retry_parked(world.proposals, lambda system, pid: handed.append((system, pid)) or True)
    assert sorted(handed) == [("otys", "never-handed"), ("otys", "parked")]
    assert counts == {"otys": 2, "hris": 0}
