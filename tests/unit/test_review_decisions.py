"""Proposal submission and the human stages, with in-memory repositories, a recording workflow and outbox:
who gets assigned, what the link does, and which decisions the write accepts (no moto, nothing patched)."""

from __future__ import annotations

import dataclasses
import html as html_module
import re
from typing import Any

import pytest

from foureyes import links
from foureyes.errors import BadRequest, Conflict, Forbidden, LinkExpired
from foureyes.model import Action
from foureyes.review import decide, page, proposals, rollback
from foureyes.review.proposals import NewProposal
from foureyes.store.models import CandidateItem, DispatchItem, ProposalItem
from foureyes.store.proposals import StageDecision
from tests.support.memory import (
    PEOPLE,
    SETTINGS,
    Clock,
    MemoryCandidates,
    MemoryCounters,
    MemoryDispatches,
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

    def decide(self, token: str, decision: str, reason: str = "", note: str = "") -> decide.Decided:
        nonce = decide.view(token, self.deps).task.nonce
        reason = reason or ("same_person" if decision == "approve" else "different_people")
        return decide.decide(token, decision, reason, nonce, self.deps, note=note)

    def forge(self, proposal_id: str, stage: str, person: str) -> tuple[str, str]:
        """Hand an open stage to `person` (as a tampered task would) and sign them a link; (link, nonce)."""
        task = self.tasks.items[(proposal_id, stage)]
        task.assignee = person
        token = links.sign({"p": proposal_id, "s": stage, "a": person, "l": task.link_id}, b"link-secret", 3600,
                           now_ms=int(self.clock().timestamp() * 1000))
        return token, str(task.nonce)

    def events(self) -> list[str]:
        return [row.event for row in self.rows.in_order()]


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


# -- four eyes at every stage: nobody excluded is assigned or may decide (issue 11, finding 1) -----------------


def _executed_original(review: Review, approvers: tuple[str, str] = ("anna", "carla")) -> MemoryDispatches:
    """An original write approved by `approvers` and executed live (its receipt holds the inverse call)."""
    review.proposals.create(ProposalItem(
        "orig", pair_key="otys:1|otys:2", status="executed", proposed_at="2026-12-01T09:00:00+00:00", system="otys",
        action="tag_duplicate", refs=["otys:1", "otys:2"], payload={"jsonrpc": "2.0"},
        diff={"target": "otys:1", "before": [], "after": ["duplicate"]}, confidence=0.9, reasoning="same e-mail",
        evidence=["email"], reviewed_by=approvers[0], review_decision="approve", review_reason="same_person",
        approved_by=approvers[1], approval_decision="approve", approval_reason="same_person"))
    dispatches = MemoryDispatches()
    dispatches.put(DispatchItem("orig", system="otys", mode="live", status="executed", call={"jsonrpc": "2.0"},
                                at="2026-12-01T10:00:00+00:00", receipt={"inverse": {"jsonrpc": "2.0", "undo": 1}}))
    return dispatches


def test_a_rollback_asked_by_an_original_approver_is_decided_by_neither_original_approver() -> None:
    """Original approved by anna + carla; anna proposes the rollback: its review goes to neither of them (on main
    it went to carla), nor does its approval."""
    review = Review()
    dispatches = _executed_original(review)
    rollback_id = rollback.propose_rollback("orig", "anna", "wrong person tagged", review.submit_deps, dispatches)
    reviewer, link = review.open("review", rollback_id)
    assert reviewer not in {"anna", "carla"}
    review.decide(link, "approve")
    approver, link2 = review.open("approve", rollback_id)
    assert approver not in {"anna", "carla", reviewer}
    assert review.decide(link2, "approve").status.value == "approved"
    done = review.proposals.get(rollback_id)
    assert done is not None and {done.reviewed_by, done.approved_by}.isdisjoint({"anna", "carla"})


def test_no_stage_is_ever_assigned_to_an_excluded_person_or_the_proposer() -> None:
    review = Review()
    for n in range(6):  # every turn of the round robin
        pid = f"p{n}"
        review.submit(pid, f"h{n}", proposed_by="bram", excluded_approvers=["anna"])
        review.proposals.items[pid].pair_key = f"pair-{n}"  # independent proposals
        reviewer, link = review.open("review", pid)
        review.decide(link, "approve")
        approver, link2 = review.open("approve", pid)
        review.decide(link2, "reject")
        lead, _ = review.open("tiebreak", pid)
        assert {reviewer, approver, lead}.isdisjoint({"anna", "bram"})


@pytest.mark.parametrize("stage", ["review", "approve"])
@pytest.mark.parametrize(("person", "why"), [("carla", "original action"), ("bram", "you proposed this")])
def test_an_excluded_person_or_the_proposer_is_refused_at_decision_time_at_every_stage(
        stage: str, person: str, why: str) -> None:
    review = Review()
    dispatches = _executed_original(review)
    rollback_id = rollback.propose_rollback("orig", "bram", "wrong person tagged", review.submit_deps, dispatches)
    _, link = review.open("review", rollback_id)
    if stage == "approve":
        review.decide(link, "approve")
        review.open("approve", rollback_id)
    status = review.proposals.get(rollback_id).status  # type: ignore[union-attr]
    forged, nonce = review.forge(rollback_id, stage, person)
    with pytest.raises(Forbidden, match=why):
        decide.decide(forged, "approve", "same_person", nonce, review.deps)
    assert review.proposals.get(rollback_id).status == status  # type: ignore[union-attr]


def test_someone_not_in_the_people_directory_is_refused_at_decision_time() -> None:
    review = Review()
    review.submit()
    review.open("review")
    forged, nonce = review.forge("p1", "review", "zoe")
    with pytest.raises(Forbidden, match="people directory"):
        decide.decide(forged, "approve", "same_person", nonce, review.deps)


class RecordingTasks:
    """The review-tasks repository, recording the conditions each decision write carries."""

    def __init__(self, tasks: MemoryReviewTasks) -> None:
        self.inner = tasks
        self.written: list[StageDecision] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)  # every other method as the memory repository has it

    def decide(self, decision: StageDecision) -> bool:
        self.written.append(decision)
        return self.inner.decide(decision)


def test_the_decision_write_itself_refuses_excluded_people_and_the_proposer_at_every_stage() -> None:
    """The store's conditional (not only the check before it) keeps excluded people out, the first stage too."""
    review = Review()
    recording = RecordingTasks(review.tasks)
    review.deps = dataclasses.replace(review.deps, tasks=recording)
    review.submit(excluded_approvers=["anna"])
    _, link = review.open("review")
    review.decide(link, "approve")
    _, link2 = review.open("approve")
    review.decide(link2, "reject")
    _, link3 = review.open("tiebreak")
    review.decide(link3, "approve")
    assert [d.stage for d in recording.written] == ["review", "approve", "tiebreak"]
    assert all(d.not_excluded and "proposed_by" in d.differs_from for d in recording.written)
    # and the write refuses an excluded person even when handed one directly
    review2 = Review()
    review2.submit(excluded_approvers=["carla"])
    review2.open("review")
    task = review2.tasks.items[("p1", "review")]
    refused = StageDecision("p1", "review", task.link_id, task.nonce, "carla", "approve", "same_person", "now",
                            "pending_review", "pending_approval", ("proposed_by",), not_excluded=True)
    assert review2.tasks.decide(refused) is False


# -- a blind second look (finding 7) ----------------------------------------------------------------------------


def test_no_stage_sees_another_stages_decision_before_deciding() -> None:
    review = Review()
    review.submit()
    reviewer, link = review.open("review")
    review.decide(link, "reject", "different_people")
    approver, link2 = review.open("approve")
    before = decide.view(link2, review.deps)
    assert before.history == () and before.blind
    html = page.review_page(before)
    assert "review: " not in html and reviewer not in html and "hidden until you decide" in html
    review.decide(link2, "approve")
    lead, link3 = review.open("tiebreak")
    lead_view = decide.view(link3, review.deps)
    lead_html = page.review_page(lead_view)
    assert lead_view.history == () and reviewer not in lead_html and approver not in lead_html
    assert "approve: " not in lead_html and "review: " not in lead_html
    after = decide.view(link2, review.deps)  # once decided, the history is the approver's to see
    assert [h["stage"] for h in after.history] == ["review", "approve"]
    assert f"Review: {reviewer} — rejected" in html_module.unescape(page.review_page(after))


# -- reason codes fit the decision; "other" is explained (finding 7) ---------------------------------------------


@pytest.mark.parametrize(("decision", "reason"), [
    ("reject", "same_person"), ("approve", "different_people"), ("approve", "insufficient_evidence"),
    ("approve", "data_error")])
def test_a_reason_that_does_not_fit_the_decision_is_refused(decision: str, reason: str) -> None:
    review = Review()
    review.submit()
    _, link = review.open("review")
    nonce = decide.view(link, review.deps).task.nonce
    with pytest.raises(BadRequest, match="does not fit"):
        decide.decide(link, decision, reason, nonce, review.deps)
    assert review.tasks.items[("p1", "review")].status == "pending" and review.workflow.resumed == []


@pytest.mark.parametrize(("decision", "reason"), [
    ("approve", "same_person"), ("reject", "different_people"), ("reject", "insufficient_evidence"),
    ("reject", "data_error")])
def test_a_fitting_reason_is_accepted(decision: str, reason: str) -> None:
    review = Review()
    review.submit()
    _, link = review.open("review")
    assert review.decide(link, decision, reason).status.value == "pending_approval"


def test_other_needs_a_short_note_that_the_audit_keeps() -> None:
    review = Review()
    review.submit()
    _, link = review.open("review")
    nonce = decide.view(link, review.deps).task.nonce
    for note in ("", "   ", "x" * (decide.MAX_NOTE_LENGTH + 1)):
        with pytest.raises(BadRequest, match="note"):
            decide.decide(link, "reject", "other", nonce, review.deps, note=note)
    assert review.workflow.resumed == []
    decide.decide(link, "reject", "other", nonce, review.deps, note=" Records belong to a father and son. ")
    decided = [row for row in review.rows.in_order() if row.event == "proposal.decided"]
    assert decided[0].details["reason"] == "other"
    assert decided[0].details["note"] == "Records belong to a father and son."


def test_the_page_offers_the_reasons_by_decision_and_a_note() -> None:
    review = Review()
    review.submit()
    _, link = review.open("review")
    html = page.review_page(decide.view(link, review.deps))
    assert 'name="note"' in html and f'maxlength="{decide.MAX_NOTE_LENGTH}"' in html
    forms = {f.split('name="decision" value="')[1].split('"')[0]: f for f in html.split("<form")[1:]}
    assert set(forms) == {"approve", "reject"}
    assert 'value="same_person"' in forms["approve"] and 'value="same_person"' not in forms["reject"]
    assert 'value="different_people"' in forms["reject"] and 'value="different_people"' not in forms["approve"]
    assert all('value="other"' in f and 'name="note"' in f for f in forms.values())


# -- a rejected or expired rollback can be proposed again (finding 9) --------------------------------------------


@pytest.mark.parametrize("ended", ["rejected", "expired"])
def test_a_rollback_that_ended_without_effect_can_be_proposed_again(ended: str) -> None:
    review = Review()
    dispatches = _executed_original(review)
    first = rollback.propose_rollback("orig", "bram", "wrong person tagged", review.submit_deps, dispatches)
    assert rollback.propose_rollback("orig", "bram", "double click", review.submit_deps, dispatches) == first
    with pytest.raises(Conflict, match="already proposed"):
        rollback.propose_rollback("orig", "tess", "me too", review.submit_deps, dispatches)
    review.proposals.set_status(first, ended, ended)
    second = rollback.propose_rollback("orig", "tess", "still wrong", review.submit_deps, dispatches)
    assert second != first and list(review.workflow.started) == [first, second]
    again = review.proposals.get(second)
    assert again is not None and again.status == "pending_review" and again.rollback_of == "orig"
    assert sorted(again.excluded_approvers) == ["anna", "carla"] and again.proposed_by == "tess"
    with pytest.raises(Conflict, match="already proposed"):
        rollback.propose_rollback("orig", "bram", "and again", review.submit_deps, dispatches)
