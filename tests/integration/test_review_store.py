"""The review tables' writes that keep nothing stranded, against a real DynamoDB API (a moto server over HTTP,
started here), with the tables created exactly as template.yaml declares them (the sparse ToResume index)."""

from __future__ import annotations

from pathlib import Path

import pytest

from foureyes.store.models import RESUME_DUE, ProposalItem, ReviewTaskItem
from foureyes.store.proposals import DynamoProposals, DynamoReviewTasks, StageDecision
from tests.support.moto import template_tables

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def tables(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    template_tables(endpoint, monkeypatch, {"PROPOSALS_TABLE": "ProposalsTable",
                                            "REVIEW_TASKS_TABLE": "ReviewTasksTable"})


def _task(token: str) -> ReviewTaskItem:
    return ReviewTaskItem("p1", "review", assignee="anna", assignee_email="anna@example.org", task_token=token,
                          link_id="l1", nonce="n1", status="pending", attempt=1, created_at="2026-12-02T09:00:00+00:00",
                          link_expires_at=1)


def test_a_decision_stays_due_to_resume_until_its_execution_heard_it(tables: None) -> None:
    proposals, tasks = DynamoProposals(), DynamoReviewTasks()
    assert proposals.create(ProposalItem("p1", pair_key="a|b", status="pending_review", system="otys",
                                         proposed_at="2026-12-02T09:00:00+00:00", action="tag_duplicate",
                                         refs=["a", "b"], payload={}, confidence=0.9, reasoning="r"))
    assert tasks.open(_task("t1")) and tasks.open(_task("t1-retry"))  # a pending row may be opened again
    assert tasks.to_resume("9999") == []
    assert tasks.decide(StageDecision("p1", "review", "l1", "n1", "anna", "approve", "same_person",
                                      "2026-12-02T09:05:00+00:00", "pending_review", "pending_approval"))
    assert [(t.proposal_id, t.stage, t.task_token) for t in tasks.to_resume("9999")] == [("p1", "review", "t1-retry")]
    assert tasks.to_resume("2026-12-02T09:05:00+00:00") == []  # decided at, not before, the cut-off
    assert tasks.open(_task("t2")) is False  # a new run never reopens a decided stage
    tasks.retoken("p1", "review", "t2")
    row = tasks.get("p1", "review")
    assert row is not None and (row.status, row.task_token, row.resume) == ("decided", "t2", RESUME_DUE)
    tasks.resumed("p1", "review", "2026-12-02T09:06:00+00:00")
    row = tasks.get("p1", "review")
    assert tasks.to_resume("9999") == [] and row is not None and row.resume is None and row.resumed_at


def test_a_status_moves_only_from_the_status_it_was_seen_in(tables: None) -> None:
    proposals = DynamoProposals()
    proposals.create(ProposalItem("p1", pair_key="a|b", status="pending_review", system="otys", action="x",
                                  proposed_at="2026-12-02T09:00:00+00:00", refs=["a", "b"], payload={},
                                  confidence=0.9, reasoning="r"))
    assert proposals.transition("p1", "pending_review", "expired", "no decision") is True
    assert proposals.transition("p1", "pending_review", "failed", "gave up") is False
    assert proposals.transition("nope", "pending_review", "failed", "gave up") is False
    item = proposals.get("p1")
    assert item is not None and (item.status, item.outcome) == ("expired", "no decision")
    assert proposals.get("nope") is None  # a conditional update never creates a proposal
