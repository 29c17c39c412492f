"""The dispatcher with in-memory repositories and a recording ATS client: what it sends, records, parks,
refuses and audits (no moto, nothing patched)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import pytest

from foureyes import audit
from foureyes.ats.calls import Receipt
from foureyes.dispatch import dispatcher
from foureyes.errors import AtsUnavailable, AtsWriteFailed, DispatchInDoubt, DispatchRefused
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
        fields: dict[str, Any] = {"reviewed_by": "anna", "review_decision": "approve", "approved_by": "bram",
                                  "approval_decision": "approve", **extra}
        item = ProposalItem(proposal_id, pair_key=f"otys:1|otys:{proposal_id}", status="approved",
                            proposed_at="2026-12-01T09:00:00+00:00", system="otys", action="tag_duplicate",
                            refs=["otys:1", "otys:2"], payload={"jsonrpc": "2.0", "method": "m", "params": ["7", {}]},
                            confidence=0.9, reasoning="same e-mail", evidence=["email"], **fields)
        self.proposals.create(item)
        return item

    def events(self) -> list[str]:
        return [row.event for row in self.rows.rows(audit.CHAIN)]

    def status(self, proposal_id: str = "p1") -> str:
        item = self.proposals.get(proposal_id)
        assert item is not None
        return str(item.status)


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
    assert audit.verify_rows(world.trail.rows(), KEY) == []


def test_shadow_mode_records_the_call_and_sends_nothing() -> None:
    world = World(shadow=True)
    world.approved()
    assert dispatcher.dispatch("p1", "otys", world.deps).status == "shadowed"
    assert world.client.sent == [] and world.shadowed == ["p1"]
    assert world.dispatches.items["p1"].mode == "shadow"
    assert world.events() == ["dispatch.shadowed"]


def test_paused_refuses_before_anything_is_recorded() -> None:
    world = World(paused=True)
    world.approved()
    with pytest.raises(DispatchRefused, match="paused"):
        dispatcher.dispatch("p1", "otys", world.deps)
    assert world.client.sent == [] and world.dispatches.items == {} and world.status() == "approved"
    assert world.events() == ["dispatch.refused"]


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
    rows.items[audit.CHAIN][1].subject = "edited"
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
