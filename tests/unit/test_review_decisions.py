"""Proposal submission and the human stages, with in-memory repositories, a recording workflow and outbox:
who gets assigned, what the link does, and which decisions the write accepts (no moto, nothing patched)."""

from __future__ import annotations

import re

import pytest

from foureyes import audit
from foureyes.errors import BadRequest, Conflict, Forbidden, LinkExpired
from foureyes.model import Action
from foureyes.review import decide, proposals
from foureyes.review.proposals import NewProposal
from foureyes.store.models import CandidateItem
from tests.support.memory import (
    PEOPLE,
    SETTINGS,
    Clock,
    MemoryCandidates,
    MemoryCounters,
    MemoryProposals,
    MemoryReviewTasks,
    Outbox,
    RecordingWorkflow,
    memory_trail,
)

KEY = b"audit-key-for-tests"


class Review:
    def __init__(self) -> None:
        self.proposals = MemoryProposals()
        self.tasks = MemoryReviewTasks(self.proposals)
        self.counters = MemoryCounters()
        self.workflow = RecordingWorkflow()
        self.outbox = Outbox()
        self.clock = Clock()
        self.trail, self.rows = memory_trail(KEY)
        candidates = MemoryCandidates({"otys:1": CandidateItem("otys:1", system="otys", record_id="1",
                                                               first_name="Anouk", last_name="de Vries",
                                                               updated_at="x")})
        self.deps = decide.Deps(self.proposals, self.tasks, self.counters, candidates, self.workflow, self.trail,
                                lambda: PEOPLE, self.outbox, lambda: b"link-secret", SETTINGS, self.clock)
        self.submit_deps = proposals.Deps(self.proposals, self.workflow, self.trail, self.clock)

    def submit(self, proposal_id: str = "p1", evidence_hash: str = "h1", **extra: object) -> bool:
        new = NewProposal(proposal_id, "otys:1|otys:2", "otys", Action.TAG_DUPLICATE, ("otys:1", "otys:2"),
                          {"jsonrpc": "2.0"}, {"target": "otys:1"}, 0.8, "same e-mail", ("email",), evidence_hash)
        return proposals.submit(new, self.submit_deps, **extra)  # type: ignore[arg-type]

    def open(self, stage: str, proposal_id: str = "p1", attempt: int = 1) -> tuple[str, str]:
        """Open the stage's `attempt`-th run (as the execution counts them); (the assignee, the e-mailed link)."""
        assignment = decide.open_stage(proposal_id, stage, f"token-{stage}-{attempt}", self.deps, attempt=attempt)
        url = re.search(r"https://foureyes\.example/review/(\S+)", self.outbox.sent[-1].text)
        assert url is not None
        return assignment.person.id, url.group(1)

    def decide(self, token: str, decision: str, reason: str = "same_person") -> decide.Decided:
        nonce = decide.view(token, self.deps).task.nonce
        return decide.decide(token, decision, reason, nonce, self.deps)

    def events(self) -> list[str]:
        return [row.event for row in self.rows.rows(audit.CHAIN)]


def test_submission_stores_once_audits_and_starts_one_execution() -> None:
    review = Review()
    assert review.submit() is True
    assert review.submit() is False  # the same proposal again: nothing new
    assert list(review.workflow.started) == ["p1"]
    stored = review.proposals.get("p1")
    assert stored is not None and stored.status == "pending_review" and stored.execution_arn.endswith(":p1")
    assert review.events() == ["proposal.created"]


def test_an_open_pair_or_a_rejection_on_the_same_evidence_blocks_a_new_proposal() -> None:
    review = Review()
    review.submit("p1", "h1")
    assert review.submit("p2", "h2") is False  # p1 is still open for this pair
    review.proposals.set_status("p1", "rejected", "")
    assert review.submit("p3", "h1") is False  # rejected on the same evidence
    assert review.submit("p4", "h2") is True  # new evidence: a new proposal


def test_two_people_approve_and_the_workflow_routes_on_the_computed_status() -> None:
    review = Review()
    review.submit()
    reviewer, link = review.open("review")
    view = decide.view(link, review.deps)
    assert view.blind and view.records[0]["last_name"] == "de Vries"
    assert review.decide(link, "approve").status.value == "pending_approval"
    approver, link2 = review.open("approve")
    assert approver != reviewer
    assert review.decide(link2, "approve").status.value == "approved"
    assert [output["status"] for _token, output in review.workflow.resumed] == ["pending_approval", "approved"]
    assert review.counters.values(("decisions#",)) == {f"decisions#{reviewer}": 1, f"decisions#{approver}": 1}
    assert review.events().count("proposal.viewed") == 3 and review.events().count("proposal.decided") == 2


def test_disagreement_goes_to_a_team_lead_who_decided_nothing_yet() -> None:
    review = Review()
    review.submit()
    _, link = review.open("review")
    review.decide(link, "approve")
    _, link2 = review.open("approve")
    assert review.decide(link2, "reject", "different_people").status.value == "pending_tiebreak"
    lead, link3 = review.open("tiebreak")
    assert lead in {"tess", "theo"}
    assert review.decide(link3, "approve").status.value == "approved"


def test_the_reviewer_can_never_approve_even_with_a_forged_assignment() -> None:
    review = Review()
    review.submit()
    reviewer, link = review.open("review")
    review.decide(link, "approve")
    _, link2 = review.open("approve")
    task = review.tasks.items[("p1", "approve")]
    task.assignee = reviewer  # as if the approval had been assigned to the reviewer
    from foureyes import links

    forged = links.sign({"p": "p1", "s": "approve", "a": reviewer, "l": task.link_id}, b"link-secret", 3600,
                        now_ms=int(review.clock().timestamp() * 1000))
    with pytest.raises(Forbidden):
        decide.decide(forged, "approve", "same_person", task.nonce, review.deps)
    assert review.proposals.get("p1").status == "pending_approval"  # type: ignore[union-attr]


def test_a_second_post_or_a_stale_nonce_decides_nothing() -> None:
    review = Review()
    review.submit()
    _, link = review.open("review")
    nonce = decide.view(link, review.deps).task.nonce
    with pytest.raises(Conflict):
        decide.decide(link, "approve", "same_person", "not-the-nonce", review.deps)
    decide.decide(link, "approve", "same_person", nonce, review.deps)
    with pytest.raises(Conflict):
        decide.decide(link, "reject", "different_people", nonce, review.deps)
    assert len(review.workflow.resumed) == 1


def test_a_decision_needs_a_known_reason_and_a_real_decision() -> None:
    review = Review()
    review.submit()
    _, link = review.open("review")
    nonce = decide.view(link, review.deps).task.nonce
    with pytest.raises(BadRequest, match="reason"):
        decide.decide(link, "approve", "", nonce, review.deps)
    with pytest.raises(BadRequest, match="approve"):
        decide.decide(link, "maybe", "same_person", nonce, review.deps)


def test_an_expired_link_shows_nothing() -> None:
    review = Review()
    review.submit()
    _, link = review.open("review")
    review.clock.advance(hours=73)
    with pytest.raises(LinkExpired):
        decide.view(link, review.deps)


def test_a_rollbacks_approval_is_never_assigned_to_nor_decided_by_the_original_approvers() -> None:
    review = Review()
    review.submit(excluded_approvers=["anna", "bram"])
    _, link = review.open("review")
    review.decide(link, "approve")
    approver, _ = review.open("approve")
    assert approver not in {"anna", "bram"}
    task = review.tasks.items[("p1", "approve")]
    task.assignee = "anna"  # as if it had been handed to an original approver
    from foureyes import links

    forged = links.sign({"p": "p1", "s": "approve", "a": "anna", "l": task.link_id}, b"link-secret", 3600,
                        now_ms=int(review.clock().timestamp() * 1000))
    with pytest.raises(Forbidden, match="original"):
        decide.decide(forged, "approve", "same_person", task.nonce, review.deps)


def test_a_timed_out_stage_reminds_the_same_person_then_escalates_to_a_lead() -> None:
    review = Review()
    review.submit()
    first, _ = review.open("review")
    again, _ = review.open("review", attempt=2)
    assert again == first and review.outbox.sent[-1].subject.startswith("Reminder:")
    third, _ = review.open("review", attempt=3)
    assert third in {"tess", "theo"} and review.outbox.sent[-1].subject.startswith("Escalated:")
